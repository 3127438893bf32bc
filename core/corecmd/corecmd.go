// Package corecmd registers SER's core management commands — print,
// uptime, version, pwd, arg, which, ps and kill — into a command registry,
// with SER 0.9's exact reply texts for the FIFO and the unix socket
// flavors (K09 fifo_server.c and unixsock_server.c).
package corecmd

import (
	"fmt"
	"time"

	"ser/core/rpc"
)

// Process is one entry of the process table printed by ps.
type Process struct {
	PID  int
	Desc string
}

// Info is what the server tells the core commands about itself.
type Info interface {
	// Version is the version printed by the version command, e.g.
	// "0.9.6-go".
	Version() string
	// Arch and OS complete the version line: "(<version> (<arch>/<os>))".
	Arch() string
	OS() string
	// StartTime is the "Up Since" of uptime.
	StartTime() time.Time
	// Processes is the table ps prints, in order (the index is the
	// position). SER listed one line per process: "attendant",
	// "receiver child=0 sock= 127.0.0.1:5060", "fifo server", "timer",
	// "tcp main process", "tcp receiver", "unix domain socket server".
	Processes() []Process
	// Args is the command line printed by arg (argv[0] included).
	Args() []string
	// Shutdown asks for a graceful shutdown (the kill command). It may
	// return before the shutdown is done; corecmd calls it on its own
	// goroutine, after the reply is built.
	Shutdown()
}

// Clock is an optional interface of Info: when the Info implements it,
// uptime reads "Now" from it instead of time.Now (tests use it).
type Clock interface {
	Now() time.Time
}

// Names of the core commands, in SER's registration order (which lists
// them newest first: kill, ps, which, arg, pwd, version, uptime, print).
const (
	CmdPrint   = "print"
	CmdUptime  = "uptime"
	CmdVersion = "version"
	CmdPwd     = "pwd"
	CmdArg     = "arg"
	CmdWhich   = "which"
	CmdPS      = "ps"
	CmdKill    = "kill"
)

// MaxPrintText is the longest text print accepts over the FIFO: SER read it
// with fgets into a 256-byte buffer (MAX_PRINT_TEXT), so the line and its
// line feed had to fit in 255 bytes.
const MaxPrintText = 254

// Register adds the core commands to r in SER's order. It fails if one of
// the names is already registered.
func Register(r *rpc.Registry, info Info) error {
	if info == nil {
		return fmt.Errorf("corecmd: register: nil Info")
	}
	c := &cmds{info: info, reg: r}
	for _, cmd := range c.table() {
		if err := r.Register(cmd); err != nil {
			return fmt.Errorf("corecmd: %w", err)
		}
	}
	return nil
}

// table is the command table, in registration order.
func (c *cmds) table() []rpc.Command {
	return []rpc.Command{
		{Name: CmdPrint, Params: []string{"text"}, Handler: c.print,
			Help: "Echoes one line of text (a diagnostic hello-world command)."},
		{Name: CmdUptime, Handler: c.uptime,
			Help: "Prints the current time, the start time and the uptime in seconds."},
		{Name: CmdVersion, Handler: c.version,
			Help: "Prints the server's version line."},
		{Name: CmdPwd, Handler: c.pwd,
			Help: "Prints the server's working directory."},
		{Name: CmdArg, Handler: c.arg,
			Help: "Prints the server's command line, one argument per line."},
		{Name: CmdWhich, Handler: c.which,
			Help: "Lists the available commands, newest registration first."},
		{Name: CmdPS, Handler: c.ps,
			Help: "Prints the process table: index, pid and description."},
		{Name: CmdKill, Handler: c.kill,
			Help: "Shuts the server down."},
	}
}
