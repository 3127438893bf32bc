package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Terminal control for monitor on a terminal: SER ran clear once, then
// tput cup 0 0 before each cycle. The Go version also clears what is left
// below the cycle's output.
const (
	ttyClear  = "\033[H\033[2J"
	ttyHome   = "\033[H"
	ttyClrEnd = "\033[J"
)

// cmdMonitor is "monitor|console|moni|con [loops]": version, uptime,
// t_stats, sl_stats and ul_stats every WATCH_PERIOD seconds, loops times
// or until interrupted.
func (a *app) cmdMonitor(ctx context.Context, args []string) error {
	loops := 0
	switch len(args) {
	case 0:
	case 1:
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 1 {
			return usagef("monitor: loops must be a positive number, not %q", args[0])
		}
		loops = n
	default:
		return usagef("monitor: [<loops>] expected")
	}
	if a.isTTY {
		io.WriteString(a.stdout, ttyClear)
	}
	failed := false
	for attempt := 1; ; attempt++ {
		if a.isTTY {
			io.WriteString(a.stdout, ttyHome)
		}
		err := a.printStats(ctx, attempt)
		if a.isTTY {
			io.WriteString(a.stdout, ttyClrEnd)
		}
		if ctx.Err() != nil {
			return a.monitorInterrupted()
		}
		if err != nil {
			if attempt == 1 && errors.Is(err, errFIFOUnavailable) {
				return err
			}
			a.errorf("%v", err)
			failed = true
		}
		if loops > 0 && attempt >= loops {
			break
		}
		if err := a.wait(ctx, a.cfg.watchPeriod); err != nil {
			return a.monitorInterrupted()
		}
	}
	if failed {
		return &statusError{}
	}
	return nil
}

// monitorInterrupted is SER's ^C trap: "sc monitor ^C-ed", exit 1.
func (a *app) monitorInterrupted() error {
	if a.isTTY {
		io.WriteString(a.stdout, ttyClear)
	}
	fmt.Fprintf(a.stdout, "%s monitor ^C-ed\n", filepath.Base(a.argv0))
	return &statusError{}
}

// printStats is SER's print_stats: one monitor cycle.
func (a *app) printStats(ctx context.Context, attempt int) error {
	fmt.Fprintf(a.stdout, "[cycle #: %d; if constant make sure server lives and fifo is on]\n", attempt)
	steps := []struct{ heading, cmd string }{
		{"", "version"},
		{"", "uptime"},
		{"Transaction Statistics", "t_stats"},
		{"Stateless Server Statistics", "sl_stats"},
		{"UsrLoc Stats", "ul_stats"},
	}
	for _, s := range steps {
		if s.heading != "" {
			fmt.Fprintln(a.stdout, s.heading)
		}
		rep, err := a.fifoCmd(ctx, s.cmd)
		if err != nil {
			return err
		}
		io.WriteString(a.stdout, filterFL(rep.Text))
		if s.cmd != "version" && s.cmd != "ul_stats" {
			fmt.Fprintln(a.stdout) // SER's echo after uptime, t_stats, sl_stats
		}
	}
	return nil
}

// wait sleeps d or until ctx ends.
func (a *app) wait(ctx context.Context, d time.Duration) error {
	if a.sleep != nil {
		return a.sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// cmdFIFO is "fifo <cmd> [params]": a raw FIFO command, its reply
// through filter_fl.
func (a *app) cmdFIFO(ctx context.Context, args []string) error {
	if len(args) < 1 {
		return usagef("fifo: command name expected")
	}
	if args[0] == "" || strings.ContainsAny(args[0], ":\r\n") {
		return usagef("fifo: invalid command name %q", args[0])
	}
	return a.fifoPrint(ctx, args[0], args[1:]...)
}

// myHost is the host of ping's and cisco_restart's From: SIP_DOMAIN, else
// the host name.
func (a *app) myHost() string {
	if a.cfg.domain != "" {
		return a.cfg.domain
	}
	hostname := a.hostname
	if hostname == nil {
		hostname = os.Hostname
	}
	if h, err := hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}

// cmdPing is "ping <uri>": OPTIONS through t_uac_dlg, then print_status.
func (a *app) cmdPing(ctx context.Context, args []string) error {
	if len(args) != 1 || args[0] == "" {
		return usagef("ping: <uri> expected")
	}
	return a.uacStatus(ctx, "OPTIONS", args[0])
}

// cmdCiscoRestart is "cisco_restart <uri>": NOTIFY with Event:
// check-sync, which makes Cisco phones reload their configuration.
func (a *app) cmdCiscoRestart(ctx context.Context, args []string) error {
	if len(args) != 1 || args[0] == "" {
		return usagef("cisco_restart: <uri> expected")
	}
	return a.uacStatus(ctx, "NOTIFY", args[0], "Event: check-sync")
}

// uacStatus sends a request with t_uac_dlg (no next hop, no body) and
// prints its final status.
func (a *app) uacStatus(ctx context.Context, method, uri string, extra ...string) error {
	if strings.ContainsAny(uri, "\r\n") {
		return fmt.Errorf("invalid URI %q", uri)
	}
	host := a.myHost()
	params := []string{method, uri, ".",
		"From: sip:daemon@" + host,
		"To: <" + uri + ">",
	}
	params = append(params, extra...)
	params = append(params, "Contact: <sip:daemon@!!>", ".", ".")
	rep, err := a.fifoCmd(ctx, "t_uac_dlg", params...)
	if err != nil {
		return err
	}
	return a.printStatus(rep)
}
