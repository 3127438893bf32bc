package daemon

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// daemonEnv tells a re-executed ser that it is the background child and
// which descriptor reports readiness to the parent.
const daemonEnv = "SER_DAEMON_READY_FD"

// daemonize puts ser in the background the way a Go program can: it
// re-executes itself in a new session and waits until the child reports
// that it started (or why it did not). In the child it returns the
// readiness pipe. In the parent it returns (nil, false, nil) after the
// child started, or the child's error.
func daemonize(want bool) (ready *os.File, child bool, err error) {
	if os.Getenv(daemonEnv) != "" {
		return os.NewFile(3, "ready"), true, nil
	}
	if !want {
		return nil, false, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, false, fmt.Errorf("daemonize: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, false, fmt.Errorf("daemonize: %w", err)
	}
	defer r.Close()
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Env = append(os.Environ(), daemonEnv+"=3")
	cmd.ExtraFiles = []*os.File{w}
	cmd.Stdout, cmd.Stderr = nil, nil
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, false, fmt.Errorf("daemonize: %w", err)
	}
	w.Close()
	pid := cmd.Process.Pid
	cmd.Process.Release()
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case s := <-line:
		if s == "ok" {
			fmt.Fprintf(os.Stderr, "ser: running in the background, pid %d\n", pid)
			return nil, false, nil
		}
		if s == "" {
			s = "the background process exited during start-up"
		}
		return nil, false, fmt.Errorf("%s", s)
	case <-time.After(30 * time.Second):
		return nil, false, fmt.Errorf("daemonize: no start-up report from pid %d after 30s", pid)
	}
}

// dropPrivileges switches to the configured group and user (-g, -u,
// group=, user=) after the sockets are bound. Names or numeric ids.
func dropPrivileges(userName, groupName string) error {
	if groupName != "" {
		gid, err := lookupID(groupName, func(n string) (string, error) {
			g, err := user.LookupGroup(n)
			if err != nil {
				return "", err
			}
			return g.Gid, nil
		})
		if err != nil {
			return fmt.Errorf("group %q: %w", groupName, err)
		}
		if err := syscall.Setgroups([]int{gid}); err != nil {
			return fmt.Errorf("setgroups: %w", err)
		}
		if err := syscall.Setgid(gid); err != nil {
			return fmt.Errorf("setgid %d: %w", gid, err)
		}
	}
	if userName != "" {
		uid, err := lookupID(userName, func(n string) (string, error) {
			u, err := user.Lookup(n)
			if err != nil {
				return "", err
			}
			return u.Uid, nil
		})
		if err != nil {
			return fmt.Errorf("user %q: %w", userName, err)
		}
		if err := syscall.Setuid(uid); err != nil {
			return fmt.Errorf("setuid %d: %w", uid, err)
		}
	}
	return nil
}

func lookupID(s string, byName func(string) (string, error)) (int, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return n, nil
	}
	id, err := byName(s)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(id)
}
