// Package exec is SER's exec module: script functions that run shell
// commands — exec_msg feeds the request to a command's standard input,
// exec_uri / exec_user pass the Request-URI (or its user part) as an
// argument and turn the command's output into the destination set.
package exec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	osexec "os/exec"
	"strings"
	"syscall"
	"time"

	"ser/core/module"
)

// DefaultTimeToKill is how long a command may run unless time_to_kill
// says otherwise. SER's default (0) let a command run forever and block
// the SIP process with it; here every command has a limit.
const DefaultTimeToKill = 10 * time.Second

// Limits on what a command may print to exec_uri / exec_user.
const (
	maxOutput  = 64 << 10 // bytes read from standard output
	maxURILine = 1023     // SER's MAX_URI_SIZE-1
	maxStderr  = 2 << 10  // bytes of standard error kept for the log
)

// shell runs the commands, as popen(3) did.
const shell = "/bin/sh"

// Exec is one exec module instance.
type Exec struct {
	timeout time.Duration
	setvars bool
	log     *slog.Logger
}

// New returns an instance with time_to_kill 10 s and setvars on.
func New() *Exec {
	return &Exec{timeout: DefaultTimeToKill, setvars: true, log: slog.Default().With("module", "exec")}
}

// SetTimeout changes the time limit of commands (tests use sub-second
// limits; the modparam counts seconds).
func (e *Exec) SetTimeout(d time.Duration) {
	if d > 0 {
		e.timeout = d
	}
}

func initModule(e *Exec, env *module.Env) error {
	if env.Log != nil {
		e.log = env.Log
	}
	return nil
}

// setTimeToKill sets time_to_kill in seconds; it must be positive.
func setTimeToKill(e *Exec, v module.Value) error {
	n, err := v.Int()
	if err != nil {
		return fmt.Errorf("exec: time_to_kill: %w", err)
	}
	if n <= 0 || n > 3600 {
		return fmt.Errorf("exec: time_to_kill %d out of range 1..3600 seconds (a command always has a time limit)", n)
	}
	e.timeout = time.Duration(n) * time.Second
	return nil
}

// setSetvars turns the SIP_* environment variables on (1) or off (0).
func setSetvars(e *Exec, v module.Value) error {
	n, err := v.Int()
	if err != nil {
		return fmt.Errorf("exec: setvars: %w", err)
	}
	e.setvars = n != 0
	return nil
}

// capBuffer keeps the first max bytes written and counts the rest, so a
// chatty command never blocks on a full pipe and never fills memory.
type capBuffer struct {
	b        bytes.Buffer
	max      int
	overflow bool
}

func (c *capBuffer) Write(p []byte) (int, error) {
	if room := c.max - c.b.Len(); room < len(p) {
		c.overflow = true
		if room > 0 {
			c.b.Write(p[:room])
		}
		return len(p), nil
	}
	return c.b.Write(p)
}

// errTimeout marks a command killed after time_to_kill.
var errTimeout = errors.New("killed after time_to_kill")

// run executes cmdline with /bin/sh -c in its own process group, with env
// added to the server's environment and stdin (nil: none) on standard
// input. When out is set, standard output is collected there. The whole
// process group is killed when the time limit passes; run returns at most
// a second after that even if a grandchild keeps the pipes open.
func (e *Exec) run(cmdline string, env []string, stdin []byte, out *capBuffer) error {
	ctx, cancel := context.WithTimeout(context.Background(), e.timeout)
	defer cancel()
	cmd := osexec.CommandContext(ctx, shell, "-c", cmdline)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	if out != nil {
		cmd.Stdout = out
	}
	stderr := &capBuffer{max: maxStderr}
	cmd.Stderr = stderr
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("%w (%v)", errTimeout, e.timeout)
	}
	if err != nil {
		if msg := strings.TrimSpace(stderr.b.String()); msg != "" {
			return fmt.Errorf("%w; stderr: %s", err, msg)
		}
		return err
	}
	return nil
}

// shellQuote makes s one single-quoted shell word.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
