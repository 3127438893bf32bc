package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"ser/core/rpc"
	"ser/fifo"
)

// executor returns the FIFO client: fifo.Client on SER_FIFO, with its
// reply FIFOs in SER_FIFO_DIR (the server's fifo_dir).
func (a *app) executor() rpc.Executor {
	if a.exec == nil {
		c := fifo.NewClient(a.cfg.fifo)
		c.ReplyDir = a.cfg.fifoDir
		c.Timeout = a.cfg.fifoTimeout
		a.exec = c
	}
	return a.exec
}

// fifoCmd is SER's fifo_cmd: it sends cmd with one line per parameter and
// returns the reply. As in SER, the parameters end at the first empty one.
func (a *app) fifoCmd(ctx context.Context, cmd string, params ...string) (*rpc.Reply, error) {
	for i, p := range params {
		if p == "" {
			params = params[:i]
			break
		}
	}
	rep, err := a.executor().Execute(ctx, cmd, params)
	if err != nil {
		return nil, a.fifoError(err)
	}
	return rep, nil
}

// errFIFOUnavailable matches (errors.Is) the errors of a FIFO that does
// not exist or that no server reads: ser is not running.
var errFIFOUnavailable = errors.New("ser's FIFO is not available")

// fifoErr is a FIFO client error with serctl's wording.
type fifoErr struct {
	msg         string
	unavailable bool
	err         error
}

func (e *fifoErr) Error() string        { return e.msg }
func (e *fifoErr) Unwrap() error        { return e.err }
func (e *fifoErr) Is(target error) bool { return target == errFIFOUnavailable && e.unavailable }

// fifoError turns a client error into the message SER's serctl gave
// (SER: "Error opening ser's FIFO …", "Make sure you have line fifo=…").
func (a *app) fifoError(err error) error {
	path := a.cfg.fifo
	switch {
	case errors.Is(err, fifo.ErrNoFIFO):
		return &fifoErr{msg: fmt.Sprintf("cannot open ser's FIFO %s: no such FIFO — is ser running?\n"+
			"Make sure you have line fifo=\"%s\" in your config", path, path), unavailable: true, err: err}
	case errors.Is(err, fifo.ErrNoServer):
		return &fifoErr{msg: fmt.Sprintf("cannot open ser's FIFO %s: no server is reading it — is ser running?", path),
			unavailable: true, err: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &fifoErr{msg: fmt.Sprintf("no reply from ser's FIFO %s within %s (is SER_FIFO_DIR=%s the server's fifo_dir?)",
			path, a.cfg.fifoTimeout, a.cfg.fifoDir), err: err}
	case errors.Is(err, context.Canceled):
		return &fifoErr{msg: "interrupted", err: err}
	}
	return err
}

// fifoPrint runs a command and prints its reply through filter_fl. A
// reply with an error status (300 and up) makes the exit status 1.
func (a *app) fifoPrint(ctx context.Context, cmd string, params ...string) error {
	rep, err := a.fifoCmd(ctx, cmd, params...)
	if err != nil {
		return err
	}
	io.WriteString(a.stdout, filterFL(rep.Text))
	return replyStatus(rep)
}

// replyStatus maps a reply's status to the exit status.
func replyStatus(rep *rpc.Reply) error {
	if rep.Code >= 300 {
		return &statusError{code: rep.Code}
	}
	return nil
}

// okLine is filter_fl's pattern: awk with IGNORECASE, /^200 ok/.
var okLine = regexp.MustCompile(`(?i)^200 ok`)

// filterFL is SER's filter_fl: it drops the first line when it starts
// with "200 ok" (in any case) and passes every other line through. Like
// awk, it ends every line it prints with a newline.
func filterFL(text string) string {
	if text == "" {
		return ""
	}
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	first, rest, _ := strings.Cut(text, "\n")
	if okLine.MatchString(first) {
		return rest
	}
	return text
}

// statusLine matches the first line print_status passes on.
var statusLine = regexp.MustCompile(`^[1-6][0-9][0-9]`)

// printStatus is SER's print_status for ping and cisco_restart: the first
// line of the filtered reply if it is a status line, else "200 OK" (the
// 200 line itself was filtered away).
func (a *app) printStatus(rep *rpc.Reply) error {
	first, _, _ := strings.Cut(filterFL(rep.Text), "\n")
	if statusLine.MatchString(first) {
		fmt.Fprintln(a.stdout, first)
	} else {
		fmt.Fprintln(a.stdout, "200 OK")
	}
	return replyStatus(rep)
}

// sipURI is check_uri's pattern (SER 0.9 scripts/sc).
var sipURI = regexp.MustCompile(`^sip(s)?:([a-zA-Z0-9_]+@)?.*\..*`)

// checkURI is SER's check_uri: grep prints the URI when it is valid.
func (a *app) checkURI(uri string) error {
	if strings.ContainsAny(uri, "\r\n") || !sipURI.MatchString(uri) {
		return fmt.Errorf("%s is not a valid URI", uri)
	}
	fmt.Fprintln(a.stdout, uri)
	return nil
}
