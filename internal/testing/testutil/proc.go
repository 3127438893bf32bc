package testutil

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// Proc is an external process started by a test; it is killed when the
// test ends if it is still running.
type Proc struct {
	Cmd  *exec.Cmd
	out  *LockedBuffer
	done chan struct{}
	err  error
}

// LockedBuffer is a bytes.Buffer safe for concurrent writers (a server's
// log sink, a process's output).
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Start runs name with args in dir (empty: current) and returns at once.
func Start(t testing.TB, dir, name string, args ...string) *Proc {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	p := &Proc{Cmd: cmd, out: &LockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.Kill() })
	return p
}

// Wait waits up to d for the process to exit and returns its exit code
// (-1 when it had to be killed).
func (p *Proc) Wait(d time.Duration) int {
	select {
	case <-p.done:
	case <-time.After(d):
		p.Kill()
		return -1
	}
	if p.Cmd.ProcessState == nil {
		return -1
	}
	return p.Cmd.ProcessState.ExitCode()
}

// Kill stops the process (SIGKILL) and waits for it.
func (p *Proc) Kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.Cmd.Process.Kill()
	<-p.done
}

// Output returns what the process printed so far.
func (p *Proc) Output() string { return p.out.String() }

// Run runs a command to completion within timeout and returns its output
// and exit code.
func Run(t testing.TB, timeout time.Duration, dir, name string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s timed out after %v:\n%s", name, timeout, out)
	}
	code := 0
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			t.Fatalf("run %s: %v", name, err)
		}
	}
	return string(out), code
}

// FreePort returns a UDP port that was free on 127.0.0.1 a moment ago (and
// whose TCP twin was free too), for tools that cannot listen on port 0.
func FreePort(t testing.TB) int {
	t.Helper()
	for i := 0; i < 50; i++ {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		u.Close()
		if err != nil {
			continue
		}
		l.Close()
		return port
	}
	t.Fatal("no free port")
	return 0
}

// FreeLowPort returns a free port below 10000 (UDP and TCP), for tools
// that mishandle five-digit ports in URIs (sipsak 0.9.8 truncates them).
func FreeLowPort(t testing.TB) int {
	t.Helper()
	for i := 0; i < 200; i++ {
		port := 2000 + int(time.Now().UnixNano()%8000)
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		u.Close()
		if err != nil {
			continue
		}
		l.Close()
		return port
	}
	t.Fatal("no free port below 10000")
	return 0
}
