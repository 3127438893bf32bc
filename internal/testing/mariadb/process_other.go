//go:build !linux

package mariadb

import (
	"os/exec"
	"time"
)

// setDeathSignal does nothing where there is no parent death signal: the
// servers are stopped by the tests' cleanups only.
func setDeathSignal(*exec.Cmd) {}

// waitStopped gives SIGSTOP a moment where /proc cannot tell.
func waitStopped(pid int, d time.Duration) { time.Sleep(10 * time.Millisecond) }
