// Command serctl is SER's command line tool: it manages subscribers, group
// membership (ACLs), aliases, domains and in-memory contacts, watches the
// server and starts and stops it, the way SER 0.9's scripts/sc ("serctl")
// did. Users, groups and domains go to SQL through the store; contacts and
// aliases only through the server's FIFO, so the running server sees every
// change. Run `serctl help` for the commands and the environment.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"ser/core/rpc"
	"ser/core/store"
)

// Version is serctl's version, the same as the server's (core.Version).
const Version = "0.9.6-go"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	a := &app{
		argv0:  os.Args[0],
		stdin:  os.Stdin,
		stdout: os.Stdout,
		stderr: os.Stderr,
		getenv: os.Getenv,
		isTTY:  isTerminal(os.Stdout),
	}
	code := a.run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// app is one serctl invocation: its streams, environment and the clients
// it builds (FIFO, store). Tests replace the fields to run commands in
// process against a fake FIFO and a temporary database.
type app struct {
	argv0          string
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	isTTY          bool

	// exec runs FIFO commands; nil means a fifo.Client for cfg.FIFO.
	exec rpc.Executor
	// openStore opens the database; nil means store.Open.
	openStore func(ctx context.Context, url string, opts ...store.Option) (*store.Store, error)
	// sleep waits between monitor cycles; nil means a timer.
	sleep func(ctx context.Context, d time.Duration) error
	// now is the clock of ping's Call-ID and monitor; nil means time.Now.
	now func() time.Time
	// hostname is the host name for From headers; nil means os.Hostname.
	hostname func() (string, error)

	cfg config
	st  *store.Store
}

// run executes one command line and returns the exit status: 0 on
// success, 1 on any error (SER's serctl convention).
func (a *app) run(ctx context.Context, args []string) int {
	defer a.closeStore()
	cfg, rest, err := parseConfig(args, a.getenv)
	if err != nil {
		a.errorf("%v", err)
		return 1
	}
	a.cfg = cfg
	if cfg.help {
		a.usage(a.stdout)
		return 0
	}
	if len(rest) == 0 {
		a.usage(a.stdout)
		return 1
	}
	err = a.dispatch(ctx, rest)
	return a.exitCode(err)
}

// exitCode reports err on stderr and maps it to the exit status.
func (a *app) exitCode(err error) int {
	var ue *usageError
	var se *statusError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &se):
		return 1 // the reply was printed already
	case errors.As(err, &ue):
		if ue.msg != "" {
			a.errorf("%s", ue.msg)
		}
		if !a.commandUsage(a.stderr, ue.cmd) {
			a.usage(a.stderr)
		}
		return 1
	default:
		a.errorf("%v", err)
		return 1
	}
}

// errorf prints "ERROR: <message>" on stderr, as SER's scripts did.
func (a *app) errorf(format string, args ...any) {
	fmt.Fprintf(a.stderr, "ERROR: "+format+"\n", args...)
}

// warnf prints "WARNING: <message>" on stderr.
func (a *app) warnf(format string, args ...any) {
	fmt.Fprintf(a.stderr, "WARNING: "+format+"\n", args...)
}

// usageError asks for the usage text after an optional message: the
// lines of command cmd, or all of it.
type usageError struct{ cmd, msg string }

func (e *usageError) Error() string {
	if e.msg == "" {
		return "bad usage"
	}
	return e.msg
}

// usagef returns a usageError; the command is the message's first word.
func usagef(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	cmd, _, _ := strings.Cut(msg, " ")
	return &usageError{cmd: strings.TrimSuffix(cmd, ":"), msg: msg}
}

// statusError is a failure whose explanation (a FIFO reply with an error
// status) was printed on stdout already: only the exit status is left.
type statusError struct{ code int }

func (e *statusError) Error() string { return fmt.Sprintf("status %d", e.code) }

// dispatch runs the command named by args[0] (SER 0.9's case labels).
func (a *app) dispatch(ctx context.Context, args []string) error {
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "help", "-h", "--help":
		a.usage(a.stdout)
		return nil
	case "add":
		return a.cmdAdd(ctx, rest)
	case "passwd":
		return a.cmdPasswd(ctx, rest)
	case "rm":
		return a.cmdRm(ctx, rest)
	case "mail":
		return a.cmdMail(ctx, rest)
	case "rpid":
		return a.cmdRPID(ctx, rest)
	case "alias":
		return a.cmdUsrloc(ctx, a.cfg.aliasTable, true, rest)
	case "ul":
		return a.cmdUsrloc(ctx, a.cfg.ulTable, false, rest)
	case "acl":
		return a.cmdACL(ctx, rest)
	case "domain":
		return a.cmdDomain(ctx, rest)
	case "showdb", "userdb":
		return a.cmdShowDB(ctx, rest)
	case "online":
		return a.cmdOnline(ctx, rest)
	case "monitor", "console", "moni", "con":
		return a.cmdMonitor(ctx, rest)
	case "ps":
		if len(rest) != 0 {
			return usagef("ps takes no parameters")
		}
		return a.fifoPrint(ctx, "ps")
	case "fifo":
		return a.cmdFIFO(ctx, rest)
	case "ping":
		return a.cmdPing(ctx, rest)
	case "cisco_restart":
		return a.cmdCiscoRestart(ctx, rest)
	case "start":
		return a.cmdStart(ctx, rest)
	case "stop":
		return a.cmdStop(ctx, rest)
	case "restart":
		return a.cmdRestart(ctx, rest)
	case "reload":
		return a.cmdReload(ctx, rest)
	case "version":
		fmt.Fprintf(a.stdout, "%s %s\n", a.argv0, Version)
		return nil
	default:
		return &usageError{msg: fmt.Sprintf("unknown command %q", cmd)}
	}
}

// store opens the database on first use.
func (a *app) store(ctx context.Context) (*store.Store, error) {
	if a.st != nil {
		return a.st, nil
	}
	open := a.openStore
	if open == nil {
		open = store.Open
	}
	st, err := open(ctx, a.cfg.dbURL, store.WithPlaintextPasswords(a.cfg.plaintext), store.WithFileMode(a.cfg.dbFileMode))
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", redactURL(a.cfg.dbURL), err)
	}
	a.st = st
	return st, nil
}

func (a *app) closeStore() {
	if a.st != nil {
		a.st.Close()
		a.st = nil
	}
}

func (a *app) clock() time.Time {
	if a.now != nil {
		return a.now()
	}
	return time.Now()
}

// isTerminal reports whether f is a terminal (monitor then redraws the
// screen in place, as SER's clear / tput cup 0 0).
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
