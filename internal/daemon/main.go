package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"

	"ser/core"
	"ser/core/store"
	"ser/internal/sdnotify"
)

// Main is the ser command: it runs the daemon (or, as `ser xmlrpc` and
// `ser web`, a frontend alone) with the command-line arguments args and
// returns the exit status.
func Main(args []string) int {
	if len(args) > 0 {
		switch args[0] {
		case "xmlrpc":
			return runXMLRPC(args[1:])
		case "web":
			return runWeb(args[1:])
		}
	}
	c, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ser: %v\n", err)
		return 1
	}
	if c.help {
		fmt.Printf(usage, core.Version)
		return 0
	}
	if c.version {
		fmt.Printf("version: ser %s (%s/%s)\n", core.Version, runtime.GOARCH, runtime.GOOS)
		fmt.Printf("flags: USE_IPV6, USE_TCP, DISABLE_NAGLE, %s\n", runtime.Version())
		fmt.Printf("MAX_RECV_BUFFER_SIZE 262144, MAX_URI_SIZE 1024, BUF_SIZE 65535\n")
		return 0
	}
	if len(c.extra) > 0 {
		fmt.Fprintf(os.Stderr, "ser: unexpected argument %q (try -h)\n", c.extra[0])
		return 1
	}
	name, src, err := readConfig(c.cfgFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ser: %v\n", err)
		return 1
	}
	// -c: SER exited right after parsing; ser also initialises the
	// modules and binds the script's calls, but opens nothing (no
	// database, migration, file, FIFO or socket).
	inst, err := core.Load(name, src, core.LoadOptions{Base: c.options(), Check: c.check, Source: configSource(name)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		fmt.Fprintln(os.Stderr, "ERROR: bad config file (see the errors above)")
		return 1
	}
	for _, o := range c.overridden(inst.Server.Options()) {
		inst.Server.Logger().Warn(fmt.Sprintf("command line %s %v overridden by the config file's %s = %v (options in the config file take precedence)",
			o.flag, o.cmdline, o.option, o.cfg), "module", "core", "flag", o.flag, "command_line", o.cmdline, "option", o.option, "config", o.cfg)
	}
	if c.check {
		fmt.Fprintln(os.Stderr, "config file ok, exiting...")
		return 0
	}
	if name == defaultConfigName {
		d := store.DefaultDomain()
		inst.Server.Logger().Info("built-in default config: SIP domain "+d+"; add users with serctl add or the web console, "+
			"phones register as user@"+d+" with their password", "module", "core", "domain", d)
	}
	return serve(c, inst)
}

// defaultConfigName names the built-in config in messages.
const defaultConfigName = "<built-in default config>"

// readConfig reads -f, or ./ser.cfg, or falls back to the built-in default
// configuration when ./ser.cfg does not exist.
func readConfig(path string) (string, []byte, error) {
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", nil, fmt.Errorf("cannot read config file: %w", err)
		}
		return path, b, nil
	}
	b, err := os.ReadFile("ser.cfg")
	if errors.Is(err, fs.ErrNotExist) {
		return defaultConfigName, []byte(core.DefaultConfig(store.DefaultDomain())), nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("cannot read config file: %w", err)
	}
	return "ser.cfg", b, nil
}

// configSource returns how a reload (cfg_reload, SIGHUP) reads the
// configuration again: the same file, by its absolute path (ser may have
// changed its working directory since), or the built-in default.
func configSource(name string) func() ([]byte, error) {
	if name == defaultConfigName {
		return func() ([]byte, error) { return []byte(core.DefaultConfig(store.DefaultDomain())), nil }
	}
	path, err := filepath.Abs(name)
	if err != nil {
		path = name
	}
	return func() ([]byte, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("cannot read config file: %w", err)
		}
		return b, nil
	}
}

// serve runs the loaded instance until SIGINT/SIGTERM (or the kill FIFO
// command).
func serve(c *cmdline, inst *core.Instance) int {
	opts := inst.Server.Options()
	log := inst.Server.Logger()
	ready, daemon, err := daemonize(opts.Fork && !c.foreground)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ser: %v\n", err)
		return 1
	}
	if !daemon && ready == nil && opts.Fork && !c.foreground {
		return 0 // the parent of a daemon: the child reported success
	}
	startPprof(log)
	fail := func(err error) int {
		log.Error("start-up failed", "module", "core", "err", err)
		if ready != nil {
			fmt.Fprintf(ready, "ser: %v\n", err)
			ready.Close()
		}
		return 1
	}
	if opts.WorkDir != "" {
		if err := os.Chdir(opts.WorkDir); err != nil {
			return fail(fmt.Errorf("working directory: %w", err))
		}
	}
	if opts.Chroot != "" {
		if err := syscall.Chroot(opts.Chroot); err != nil {
			return fail(fmt.Errorf("chroot %s: %w", opts.Chroot, err))
		}
		_ = os.Chdir("/")
	}
	d, err := Start(inst)
	if err != nil {
		return fail(err)
	}
	defer d.Stop()
	if err := dropPrivileges(opts.User, opts.Group); err != nil {
		return fail(err)
	}
	if c.pidFile != "" {
		if err := os.WriteFile(c.pidFile, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644); err != nil {
			return fail(fmt.Errorf("pid file: %w", err))
		}
		defer os.Remove(c.pidFile)
	}
	if ready != nil {
		fmt.Fprintln(ready, "ok")
		ready.Close()
	}
	// systemd (Type=notify): the sockets, FIFO and HTTP listener are up.
	if _, err := sdnotify.Notify(fmt.Sprintf("READY=1\nMAINPID=%d\nSTATUS=serving", os.Getpid())); err != nil {
		log.Warn("cannot notify systemd", "module", "core", "err", err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	for {
		select {
		case s := <-sig:
			if s == syscall.SIGHUP {
				reload(inst)
				continue
			}
			log.Info("shutting down", "module", "core", "signal", s.String())
		case <-inst.Done():
			log.Info("shutting down", "module", "core", "reason", "kill command")
		}
		_, _ = sdnotify.Notify("STOPPING=1")
		return 0
	}
}

// reload is SIGHUP: the configuration file is read again and its routing
// script installed when it passes the checks (the outcome, with every
// error, goes to the log: core.Instance.ReloadConfig). systemd hears
// RELOADING=1 before and READY=1 after.
func reload(inst *core.Instance) {
	inst.Server.Logger().Info("SIGHUP: reloading the configuration", "module", "core")
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	_, _ = sdnotify.Notify(fmt.Sprintf("RELOADING=1\nMONOTONIC_USEC=%d", ts.Nano()/1000))
	inst.ReloadConfig()
	_, _ = sdnotify.Notify("READY=1")
}
