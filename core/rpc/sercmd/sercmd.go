// Package sercmd holds the structured results of ser's management
// commands (ul_dump, ul_show_contact, t_stats, sl_stats, ul_stats,
// core_stats, uptime, version) with their SER text in both directions, and
// the typed client of those commands and of ul_add, ul_rm, ul_rm_contact
// and t_uac_dlg over any rpc.Executor.
//
// The commands return their result as rpc.Reply.Value (rpc.Typed), and the
// value writes the reply text the FIFO sends (text.go). The client takes
// the value when the command ran in process and parses the text otherwise
// (a FIFO or unix-socket client has text only); it is the one place where
// reply text is parsed, used by the web console and serctl. It builds the
// parameter lines the way serctl and serweb did.
package sercmd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"ser/core/rpc"
)

// Client runs the commands the console needs.
type Client struct {
	// Exec runs the commands: rpc.NewLocal in the ser process, a FIFO
	// client stand-alone.
	Exec rpc.Executor
}

// Error is a FIFO reply whose status is not 2xx (serweb: "any status
// starting with 2 counts as success").
type Error struct {
	Cmd    string
	Code   int
	Reason string
}

// Error returns "ser: <cmd>: <code> <reason>".
func (e *Error) Error() string {
	return fmt.Sprintf("ser: %s: %d %s", e.Cmd, e.Code, e.Reason)
}

// ErrUnavailable wraps transport failures: the server could not be asked.
var ErrUnavailable = errors.New("server unavailable")

// Code returns the FIFO status of err when it is an *Error, else 0.
func Code(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

// IsNotAvailable reports whether err is ser's answer to an unknown command
// ("500 command 'x' not available"): the module is not loaded.
func IsNotAvailable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == 500 &&
		(strings.HasSuffix(e.Reason, "not available") || strings.HasSuffix(e.Reason, "not found"))
}

// IsNoTable reports whether err is usrloc's answer for a table the script
// never names ("400 table (x) not found", "400 Table 'x' not found in
// memory …").
func IsNoTable(err error) bool {
	var e *Error
	if !errors.As(err, &e) || e.Code != 400 {
		return false
	}
	r := strings.ToLower(e.Reason)
	return strings.HasPrefix(r, "table") && strings.Contains(r, "not found")
}

// Run executes cmd and returns its reply when the status is 2xx, an
// *Error for other statuses, and an error wrapping ErrUnavailable when the
// command could not be run.
func (c *Client) Run(ctx context.Context, cmd string, params ...string) (*rpc.Reply, error) {
	if c == nil || c.Exec == nil {
		return nil, fmt.Errorf("ser: %s: %w: no command executor configured", cmd, ErrUnavailable)
	}
	rep, err := c.Exec.Execute(ctx, cmd, params)
	if err != nil {
		return nil, fmt.Errorf("ser: %s: %w: %w", cmd, ErrUnavailable, err)
	}
	if rep == nil {
		return nil, fmt.Errorf("ser: %s: %w: empty reply", cmd, ErrUnavailable)
	}
	if rep.Code < 200 || rep.Code >= 300 {
		return rep, &Error{Cmd: cmd, Code: rep.Code, Reason: strings.TrimSpace(rep.Reason())}
	}
	return rep, nil
}
