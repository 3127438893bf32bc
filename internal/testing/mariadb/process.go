package mariadb

import (
	"os/exec"
	"syscall"
	"time"

	"ser/internal/testing/testutil"
)

// strict reports whether a missing MariaDB fails the tests (CI,
// SER_REQUIRE_TOOLS) instead of skipping them.
func strict() bool { return testutil.Strict() }

// process is a started mariadbd.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startProcess starts bin with args. On Linux the child gets SIGKILL when
// the test process dies (see setDeathSignal).
func startProcess(bin string, args []string) (*process, error) {
	cmd := exec.Command(bin, args...)
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// running reports whether the process has not exited.
func (p *process) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL and waits for the process to exit.
func (p *process) kill() {
	if p.running() {
		p.cmd.Process.Kill()
	}
	<-p.done
}

// stop sends SIGTERM (mariadbd shuts down cleanly) and waits up to
// timeout before killing it.
func (p *process) stop(timeout time.Duration) {
	if !p.running() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGCONT) // a paused server cannot shut down
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.kill()
	}
}
