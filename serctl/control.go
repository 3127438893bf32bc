package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Timeouts of start and stop.
var (
	startTimeout = 30 * time.Second
	stopTimeout  = 15 * time.Second
	pollInterval = 50 * time.Millisecond
)

// cmdStart is "start": ser -P <pid file> [-f <cfg>], as SER's serctl.
func (a *app) cmdStart(ctx context.Context, args []string) error {
	if len(args) != 0 {
		return usagef("start takes no parameters")
	}
	fmt.Fprint(a.stdout, "\nStarting SER : ")
	pid, err := a.startSer(ctx)
	if err != nil {
		fmt.Fprintln(a.stdout)
		return err
	}
	fmt.Fprintf(a.stdout, "started pid(%d)\n", pid)
	return nil
}

// cmdStop is "stop": SIGTERM to the pid in the pid file, then wait until
// the process is gone.
func (a *app) cmdStop(ctx context.Context, args []string) error {
	if len(args) != 0 {
		return usagef("stop takes no parameters")
	}
	fmt.Fprint(a.stdout, "Stopping SER : ")
	if err := a.stopSer(ctx); err != nil {
		fmt.Fprintln(a.stdout)
		return err
	}
	fmt.Fprintln(a.stdout, "stopped")
	return nil
}

// cmdRestart is "restart": stop, then start.
func (a *app) cmdRestart(ctx context.Context, args []string) error {
	if len(args) != 0 {
		return usagef("restart takes no parameters")
	}
	if err := a.cmdStop(ctx, nil); err != nil {
		return err
	}
	return a.cmdStart(ctx, nil)
}

// cmdReload is "reload" (not in SER, which could not reload its script):
// the server's cfg_reload command over the FIFO. The server re-reads its
// configuration file and installs the new routing script, or keeps the
// running one and answers why: the errors (file:line:col) go to stderr and
// the exit status is 1.
func (a *app) cmdReload(ctx context.Context, args []string) error {
	if len(args) != 0 {
		return usagef("reload takes no parameters")
	}
	rep, err := a.fifoCmd(ctx, "cfg_reload")
	if err != nil {
		return err
	}
	if rep.Code >= 300 {
		a.errorf("%s", rep.Reason())
		for _, l := range rep.Lines() {
			fmt.Fprintln(a.stderr, l)
		}
		return &statusError{code: rep.Code}
	}
	io.WriteString(a.stdout, "configuration reloaded: "+filterFL(rep.Text))
	return nil
}

// readPID reads the pid file; ok is false when it does not exist.
func readPID(path string) (pid int, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, true, fmt.Errorf("PID file %s does not hold a process id", path)
	}
	return pid, true, nil
}

// alive reports whether a process exists (signal 0; EPERM means it does,
// owned by another user). A zombie — exited, not yet reaped by a parent
// that does not reap, as PID 1 in some containers — counts as gone.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		// Reaped between the two looks (or no /proc): ask the kernel again.
		err := syscall.Kill(pid, 0)
		return err == nil || errors.Is(err, syscall.EPERM)
	}
	// "pid (comm) state …": comm may hold spaces and parentheses.
	if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) && b[i+2] == 'Z' {
		return false
	}
	return true
}

// serBinary finds ser: SER_BIN, else "ser" next to serctl, else in PATH
// (SER: SERBIN=$(dirname $0)/ser).
func (a *app) serBinary() (string, error) {
	if a.cfg.serBin != "" {
		return a.cfg.serBin, nil
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "ser")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	if p := a.lookPath("ser"); p != "" {
		return p, nil
	}
	return "", errors.New("ser binary not found next to serctl or in PATH: set SER_BIN")
}

// startSer runs ser with -P and waits until the pid file names the
// server. A ser that forks (fork=yes, the default) returns once its
// background process runs; with fork=no it stays in the foreground and
// serctl leaves it running, detached, its output in a log file.
func (a *app) startSer(ctx context.Context) (int, error) {
	pidFile := a.cfg.pidFile
	if pid, ok, err := readPID(pidFile); err != nil {
		return 0, err
	} else if ok {
		if alive(pid) {
			return 0, fmt.Errorf("PID file exists! (%s) already running? (pid %d)", pidFile, pid)
		}
		a.warnf("removing stale PID file %s (no process %d)", pidFile, pid)
		if err := os.Remove(pidFile); err != nil {
			return 0, err
		}
	}
	bin, err := a.serBinary()
	if err != nil {
		return 0, err
	}
	args := []string{"-P", pidFile}
	if a.cfg.serCfg != "" {
		args = append(args, "-f", a.cfg.serCfg)
	}
	logf, err := os.CreateTemp("", "serctl-ser-*.log")
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // not killed by the terminal's ^C
	if err := cmd.Start(); err != nil {
		os.Remove(logf.Name())
		return 0, fmt.Errorf("cannot run %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	output := func() string {
		b, _ := os.ReadFile(logf.Name())
		return string(bytes.TrimSpace(b))
	}
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case err := <-exited:
			out := output()
			os.Remove(logf.Name())
			if err != nil {
				if out == "" {
					out = err.Error()
				}
				return 0, fmt.Errorf("ser did not start: %s", out)
			}
			// The parent of a daemon: its child wrote the pid file.
			pid, ok, perr := readPID(pidFile)
			if perr != nil || !ok {
				return 0, fmt.Errorf("ser exited without writing its PID file %s: %s", pidFile, out)
			}
			return pid, nil
		case <-time.After(pollInterval):
		case <-ctx.Done():
			cmd.Process.Kill()
			os.Remove(logf.Name())
			return 0, errors.New("interrupted")
		}
		if pid, ok, _ := readPID(pidFile); ok && pid == cmd.Process.Pid {
			// fork=no: ser runs in the foreground, detached from serctl.
			a.warnf("ser runs in the foreground (fork=no); its output goes to %s", logf.Name())
			cmd.Process.Release()
			return pid, nil
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			out := output()
			os.Remove(logf.Name())
			return 0, fmt.Errorf("ser wrote no PID file %s within %s: %s", pidFile, startTimeout, out)
		}
	}
}

// stopSer sends SIGTERM to the pid of the pid file and waits until the
// process is gone.
func (a *app) stopSer(ctx context.Context) error {
	pidFile := a.cfg.pidFile
	pid, ok, err := readPID(pidFile)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("No PID file found! (%s) ser probably not running", pidFile)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			os.Remove(pidFile)
			return fmt.Errorf("ser is not running (no process %d); stale PID file %s removed", pid, pidFile)
		}
		return fmt.Errorf("kill %d: %w", pid, err)
	}
	deadline := time.Now().Add(stopTimeout)
	for alive(pid) {
		if time.Now().After(deadline) {
			return fmt.Errorf("ser (pid %d) did not stop within %s", pid, stopTimeout)
		}
		select {
		case <-time.After(pollInterval):
		case <-ctx.Done():
			return errors.New("interrupted")
		}
	}
	return nil
}
