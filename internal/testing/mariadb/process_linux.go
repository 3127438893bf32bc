package mariadb

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// setDeathSignal makes the kernel send SIGKILL to the child when the
// test process exits, however it exits (a panic, a timeout, os.Exit), so
// that no mariadbd outlives its tests.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// waitStopped waits up to d until every thread of process pid is stopped
// (state T in /proc/<pid>/task/*/stat): SIGSTOP takes effect
// asynchronously, and a query sent at once could still be answered.
func waitStopped(pid int, d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		stats, _ := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "stat"))
		stopped := len(stats) > 0
		for _, f := range stats {
			b, err := os.ReadFile(f)
			if err != nil {
				continue // the thread is gone
			}
			// pid (comm) state …: comm may contain spaces, state follows the last ')'.
			i := strings.LastIndexByte(string(b), ')')
			if i < 0 || i+2 >= len(b) || (b[i+2] != 'T' && b[i+2] != 't') {
				stopped = false
				break
			}
		}
		if stopped {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
