package corecmd

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"ser/core/rpc"
	"ser/core/rpc/sercmd"
)

// getwd is os.Getwd; tests replace it to reach the error reply.
var getwd = os.Getwd

// cmds holds what the handlers need.
type cmds struct {
	info Info
	reg  *rpc.Registry
}

// ctime formats t as C's ctime() did, without its newline: "Fri Dec  6
// 17:56:10 2002". The time is printed in its own location (time.Now is
// local time, as ctime's localtime was).
func ctime(t time.Time) string { return t.Format(time.ANSIC) }

func (c *cmds) now() time.Time {
	if cl, ok := c.info.(Clock); ok {
		return cl.Now()
	}
	return time.Now()
}

// print echoes one parameter line. FIFO: "200 ok\n%s\n", or
// "500 print_fifo_cmd: too big text" (no newline) when the line did not fit
// SER's buffer. Unix socket: "200 OK\n%s\n". A missing line prints as an
// empty one (SER read the request's terminating empty line).
func (c *cmds) print(_ context.Context, req *rpc.Request) *rpc.Reply {
	text, _ := req.Params.Line()
	if req.Flavor == rpc.FIFO && len(text) > MaxPrintText {
		return rpc.Raw("500 print_fifo_cmd: too big text")
	}
	return rpc.Raw(req.OK() + "\n" + text + "\n")
}

// uptime prints "Now: %sUp Since: %sUp time: %.0f [sec]\n" with ctime()
// strings, which end in a newline themselves (sercmd.Uptime's text).
func (c *cmds) uptime(_ context.Context, req *rpc.Request) *rpc.Reply {
	now, since := c.now(), c.info.StartTime()
	up := now.Unix() - since.Unix() // difftime of two time_t values
	return rpc.Typed(req.OK(), sercmd.Uptime{Now: ctime(now), Since: ctime(since), Seconds: up})
}

// version prints SER's Server header line, ended by CRLF:
// "Server: Sip EXpress router (0.9.6 (i386/linux))\r\n".
func (c *cmds) version(_ context.Context, req *rpc.Request) *rpc.Reply {
	return rpc.Typed(req.OK(), sercmd.Version{
		Server: fmt.Sprintf("Sip EXpress router (%s (%s/%s))", c.info.Version(), c.info.Arch(), c.info.OS())})
}

// pwd prints the working directory.
func (c *cmds) pwd(_ context.Context, req *rpc.Request) *rpc.Reply {
	dir, err := getwd()
	if err != nil {
		if req.Flavor == rpc.UnixSock {
			return rpc.Raw("500 getcwd Failed\n")
		}
		return rpc.Raw("500 getcwd failed\n")
	}
	return rpc.Raw(req.OK() + "\n" + dir + "\n")
}

// arg prints argv, one entry per line.
func (c *cmds) arg(_ context.Context, req *rpc.Request) *rpc.Reply {
	return rpc.Raw(req.OK() + "\n" + lines(c.info.Args()))
}

// which lists the registered commands, newest registration first.
func (c *cmds) which(_ context.Context, req *rpc.Request) *rpc.Reply {
	return rpc.Typed(req.OK(), sercmd.Commands(c.reg.Names()))
}

// ps prints "%d\t%d\t%s\n" (index, pid, description) per process.
func (c *cmds) ps(_ context.Context, req *rpc.Request) *rpc.Reply {
	var out sercmd.Processes
	for i, p := range c.info.Processes() {
		out = append(out, sercmd.Process{Index: i, PID: p.PID, Desc: p.Desc})
	}
	return rpc.Typed(req.OK(), out)
}

// kill answers "200 killing now..." (FIFO, no newline) or
// "200 Killing now\n" (unix socket) and starts a graceful shutdown.
func (c *cmds) kill(_ context.Context, req *rpc.Request) *rpc.Reply {
	go c.info.Shutdown()
	if req.Flavor == rpc.UnixSock {
		return rpc.Raw("200 Killing now\n")
	}
	return rpc.Raw("200 killing now...")
}

// lines joins ss with a newline after each entry.
func lines(ss []string) string {
	var b strings.Builder
	for _, s := range ss {
		b.WriteString(s)
		b.WriteByte('\n')
	}
	return b.String()
}
