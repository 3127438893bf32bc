package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Fake ser binaries: each takes SER's "-P <pid file> [-f <cfg>]".
const (
	// fakeDaemon forks like ser with fork=yes: the background process
	// writes the pid file, the foreground one returns 0.
	fakeDaemon = `#!/bin/sh
[ "$1" = "-P" ] || { echo "ser: want -P first" >&2; exit 1; }
echo "$@" > "$2.args"
sleep 60 &
echo $! > "$2"
echo "ser: running in the background, pid $!" >&2
exit 0
`
	// fakeForeground stays in the foreground like ser with fork=no.
	fakeForeground = `#!/bin/sh
echo $$ > "$2"
exec sleep 60
`
	// fakeBroken fails at start-up.
	fakeBroken = `#!/bin/sh
echo "ser: test.cfg:3:1: unknown command 'foo'" >&2
exit 1
`
)

// controlRun runs serctl with a pid file and ser binary in dir.
func controlRun(t *testing.T, dir, script string, args ...string) (string, string, int) {
	t.Helper()
	bin := filepath.Join(dir, "ser")
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SER_BIN": bin, "SER_PID_FILE": filepath.Join(dir, "ser.pid"), "SER_CFG": filepath.Join(dir, "ser.cfg")}
	var out, errb bytes.Buffer
	a := &app{argv0: "serctl", stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] }}
	code := a.run(context.Background(), args)
	return out.String(), errb.String(), code
}

// pidOf reads the pid file and makes sure its process is stopped when
// the test ends.
func pidOf(t *testing.T, dir string) int {
	t.Helper()
	pid, ok, err := readPID(filepath.Join(dir, "ser.pid"))
	if err != nil || !ok {
		t.Fatalf("pid file: %v %v", ok, err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	return pid
}

var startedRE = regexp.MustCompile(`^\nStarting SER : started pid\((\d+)\)\n$`)

func TestStartStop(t *testing.T) {
	for _, tc := range []struct{ name, script string }{
		{"daemon", fakeDaemon},
		{"foreground", fakeForeground},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out, errs, code := controlRun(t, dir, tc.script, "start")
			m := startedRE.FindStringSubmatch(out)
			if code != 0 || m == nil {
				t.Fatalf("start: exit %d\n%s%s", code, out, errs)
			}
			pid := pidOf(t, dir)
			if m[1] != strconv.Itoa(pid) || !alive(pid) {
				t.Fatalf("started pid(%s), pid file %d, alive %v", m[1], pid, alive(pid))
			}
			if tc.script == fakeDaemon {
				args, _ := os.ReadFile(filepath.Join(dir, "ser.pid.args"))
				if want := "-P " + filepath.Join(dir, "ser.pid") + " -f " + filepath.Join(dir, "ser.cfg") + "\n"; string(args) != want {
					t.Errorf("ser arguments %q, want %q", args, want)
				}
			} else if _, logf, ok := strings.Cut(strings.TrimSpace(errs), "its output goes to "); !ok {
				t.Errorf("no foreground warning: %q", errs)
			} else {
				t.Cleanup(func() { os.Remove(logf) })
			}
			// A second start finds it running.
			_, errs, code = controlRun(t, dir, tc.script, "start")
			if code != 1 || !strings.Contains(errs, "ERROR: PID file exists! ("+filepath.Join(dir, "ser.pid")+") already running?") {
				t.Errorf("second start: exit %d %q", code, errs)
			}
			out, errs, code = controlRun(t, dir, tc.script, "stop")
			if code != 0 || out != "Stopping SER : stopped\n" {
				t.Fatalf("stop: exit %d %q %q", code, out, errs)
			}
			if alive(pid) {
				t.Errorf("process %d still alive after stop", pid)
			}
		})
	}
}

func TestStartStopErrors(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "ser.pid")

	_, errs, code := controlRun(t, dir, fakeBroken, "start")
	if code != 1 || !strings.Contains(errs, "ERROR: ser did not start: ser: test.cfg:3:1: unknown command 'foo'") {
		t.Errorf("broken start: exit %d %q", code, errs)
	}

	_, errs, code = controlRun(t, dir, fakeDaemon, "stop")
	if code != 1 || !strings.Contains(errs, "ERROR: No PID file found! ("+pidFile+")") {
		t.Errorf("stop without pid file: exit %d %q", code, errs)
	}

	// A stale pid file: stop removes it and fails; start replaces it.
	dead := deadPID(t)
	os.WriteFile(pidFile, []byte(fmt.Sprintf("%d\n", dead)), 0o644)
	_, errs, code = controlRun(t, dir, fakeDaemon, "stop")
	if code != 1 || !strings.Contains(errs, fmt.Sprintf("ser is not running (no process %d)", dead)) {
		t.Errorf("stale stop: exit %d %q", code, errs)
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Errorf("stale pid file left: %v", err)
	}
	os.WriteFile(pidFile, []byte(fmt.Sprintf("%d\n", dead)), 0o644)
	out, errs, code := controlRun(t, dir, fakeDaemon, "restart")
	if code != 1 || out != "Stopping SER : \n" {
		t.Errorf("restart with stale pid file: exit %d %q %q", code, out, errs)
	}
	os.WriteFile(pidFile, []byte(fmt.Sprintf("%d\n", dead)), 0o644)
	out, errs, code = controlRun(t, dir, fakeDaemon, "start")
	if code != 0 || !strings.Contains(errs, "WARNING: removing stale PID file") {
		t.Errorf("start over a stale pid file: exit %d %q %q", code, out, errs)
	}
	pid := pidOf(t, dir)
	out, errs, code = controlRun(t, dir, fakeDaemon, "restart")
	if code != 0 || !strings.HasPrefix(out, "Stopping SER : stopped\n\nStarting SER : started pid(") {
		t.Errorf("restart: exit %d %q %q", code, out, errs)
	}
	if alive(pid) {
		t.Errorf("old server %d alive after restart", pid)
	}
	pidOf(t, dir)
	controlRun(t, dir, fakeDaemon, "stop")

	os.WriteFile(pidFile, []byte("garbage\n"), 0o644)
	if _, errs, code = controlRun(t, dir, fakeDaemon, "stop"); code != 1 || !strings.Contains(errs, "does not hold a process id") {
		t.Errorf("garbage pid file: exit %d %q", code, errs)
	}
	if _, errs, code = controlRun(t, dir, fakeDaemon, "start", "now"); code != 1 || !strings.Contains(errs, "start takes no parameters") {
		t.Errorf("start now: exit %d %q", code, errs)
	}
}

// deadPID returns the pid of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	p, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	p.Wait()
	deadline := time.Now().Add(time.Second)
	for alive(p.Pid) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return p.Pid
}

// TestAlive: a running process is alive; an exited one is not, still a
// zombie or reaped.
func TestAlive(t *testing.T) {
	p, err := os.StartProcess("/bin/sleep", []string{"sleep", "60"}, &os.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	if !alive(p.Pid) {
		t.Fatal("running process not alive")
	}
	p.Signal(syscall.SIGTERM)
	deadline := time.Now().Add(5 * time.Second)
	for alive(p.Pid) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if alive(p.Pid) {
		t.Fatal("zombie counted as alive")
	}
	p.Wait()
	if alive(p.Pid) {
		t.Fatal("reaped process counted as alive")
	}
}
