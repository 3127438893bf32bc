package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"ser/core/cfg"
	"ser/core/corecmd"
	"ser/core/dbfifo"
	"ser/core/module"
	"ser/core/rpc"
	"ser/core/script"
	"ser/core/store"
)

// Instance is a loaded configuration: the server, its modules and the
// compiled script.
type Instance struct {
	Server  *Server
	Modules *module.Modules
	Program *script.Program
	File    *cfg.File
	cancel  context.CancelFunc

	// reload and reloadMu serve Reload (reload.go); Program and File are
	// then the reloaded ones (read them only while no reload runs).
	reload   reloadState
	reloadMu sync.Mutex
}

// LoadOptions are the inputs of Load besides the config text.
type LoadOptions struct {
	// Base holds the command-line options; config options override them
	// (SER's rule: "configuration file options take precedence").
	Base *Options
	// Override runs after the config's options were applied (tests use it
	// to move a config onto free ports).
	Override func(*Options)
	// Log, when nil, is built from the debug, log_stderror, log_facility
	// and log_format options.
	Log *slog.Logger
	// Check loads the configuration only to check it (ser -c): options,
	// modules, modparams, module initialisation and the script's fixups
	// run, but no database is opened (db_urls are only parsed), nothing
	// is migrated, no file, FIFO or socket is created and nothing is
	// sent. The instance must not be started.
	Check bool
	// LogWriter, when set, replaces stderr for that logger (tests).
	LogWriter io.Writer
	// Source, when set, reads the configuration again for a reload
	// (cfg_reload, SIGHUP); by default the file called name is read.
	Source func() ([]byte, error)
}

// errCheckDB is what Env.DB answers during a config check: modules
// honour Env.Check and never ask, so reaching it is a bug that fails the
// check rather than touching a database.
var errCheckDB = errors.New("a config check (-c) opens no database")

// Load parses, checks and compiles a configuration: global options, module
// instances with their modparams, module initialisation and the routing
// script. Every error found is returned (a cfg.ErrorList of
// "file:line:col: message" entries, plus initialisation failures). Nothing
// is bound to the network; Start does that. With LoadOptions.Check
// nothing is opened at all (ser -c).
func Load(name string, src []byte, lo LoadOptions) (*Instance, error) {
	f, errs := cfg.Parse(name, src)
	opts := lo.Base
	if opts == nil {
		opts = DefaultOptions()
	}
	for _, o := range f.Options {
		for _, v := range o.Values {
			if err := opts.Set(o.Name, optValue(v)); err != nil {
				errs = append(errs, cfg.Errorf(o.Pos, "%v", err))
			}
		}
	}
	if lo.Override != nil {
		lo.Override(opts)
	}
	log := lo.Log
	if log == nil {
		// A config check writes to stderr: no syslog socket.
		log = NewLogger(LogConfig{Debug: opts.Debug, Stderr: opts.LogStderr || lo.Check, Facility: opts.LogFacility,
			Format: opts.LogFormat, Stderror: lo.LogWriter})
	}
	mods, merrs := module.Load(f)
	errs = append(errs, merrs...)
	srv, err := New(Config{Options: opts, Log: log, RPC: rpc.NewRegistry()})
	if err != nil {
		errs = append(errs, cfg.Errorf(f.Position(), "%v", err))
		return nil, sorted(errs)
	}
	// Core commands first: which lists the newest registration first, so
	// module commands come before the core's, as in SER.
	if err := corecmd.Register(srv.rpc, srv); err != nil {
		errs = append(errs, cfg.Errorf(f.Position(), "%v", err))
	}
	if err := srv.registerStats(srv.rpc); err != nil {
		errs = append(errs, cfg.Errorf(f.Position(), "%v", err))
	}
	if opts.FIFODBURL != "" {
		// SER's init_db_fifo: the DB command exists only with fifo_db_url.
		pos := f.Position()
		for _, o := range f.Options {
			if o.Name == "fifo_db_url" {
				pos = o.Pos
			}
		}
		if lo.Check {
			if _, err := store.ParseURL(opts.FIFODBURL); err != nil {
				errs = append(errs, cfg.Errorf(pos, "fifo_db_url: %v", err))
			}
		} else if st, err := srv.DB(opts.FIFODBURL); err != nil {
			errs = append(errs, cfg.Errorf(pos, "fifo_db_url: %v", err))
		} else if err := srv.rpc.Register(dbfifo.Command(st)); err != nil {
			errs = append(errs, cfg.Errorf(pos, "%v", err))
		}
	}
	db := srv.DB
	if lo.Check {
		db = func(string) (*store.Store, error) { return nil, errCheckDB }
	}
	newEnv := func(mod string) *module.Env {
		return &module.Env{Log: log.With("module", mod), RPC: srv.rpc, Core: srv, Instance: mods.Instance, DB: db, Check: lo.Check, ConfigFile: name}
	}
	// Modules are initialised and the script compiled even when options or
	// modparams had errors, so that one run reports every error.
	if err := mods.Init(newEnv); err != nil {
		errs = append(errs, cfg.Errorf(cfg.Pos{File: name}, "%v", err))
		srv.closeDBs()
		return nil, sorted(errs)
	}
	prog, cerrs := script.Compile(f, mods, srv, newEnv)
	errs = append(errs, cerrs...)
	if len(errs) > 0 {
		srv.closeDBs()
		return nil, sorted(errs)
	}
	srv.SetRouter(prog)
	for _, h := range mods.RequestHooks() {
		srv.AddRequestHook(h)
	}
	for _, h := range mods.ReplyHooks() {
		srv.AddReplyHook(h)
	}
	for _, ign := range opts.Ignored {
		log.Info("option accepted but has no effect", "module", "core", "option", ign)
	}
	in := &Instance{Server: srv, Modules: mods, Program: prog, File: f,
		reload: reloadState{name: name, source: lo.Source, newEnv: newEnv}}
	if err := in.registerReload(); err != nil {
		srv.closeDBs()
		return nil, sorted(cfg.ErrorList{cfg.Errorf(f.Position(), "%v", err)})
	}
	return in, nil
}

func sorted(errs cfg.ErrorList) error {
	errs.Sort()
	return errs
}

// optValue converts a config value to an option value.
func optValue(v cfg.Value) OptValue {
	return OptValue{Text: v.Text, N: v.N, IsNum: v.IsNumber(), Quoted: v.Kind == cfg.StringValue}
}

// Start binds the sockets, starts the modules' background work and the
// server's workers. The management frontends (FIFO, unix socket, HTTP)
// are not the engine's: the daemon (internal/daemon) starts them beside
// it.
func (in *Instance) Start() error {
	srv := in.Server
	if err := srv.Bind(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	in.cancel = cancel
	if err := in.Modules.Start(ctx); err != nil {
		in.Stop()
		return fmt.Errorf("core: start modules: %w", err)
	}
	if err := srv.Start(); err != nil {
		in.Stop()
		return err
	}
	return nil
}

// Stop shuts the instance down: sockets and workers first, then the
// modules (which flush their state).
func (in *Instance) Stop() {
	in.Server.Stop()
	if in.cancel != nil {
		in.cancel()
	}
	in.Modules.Stop()
	in.Server.closeDBs()
}

// Done is closed when a graceful shutdown was requested (kill command).
func (in *Instance) Done() <-chan struct{} { return in.Server.Done() }

// IsConfigError reports whether err came from the configuration.
func IsConfigError(err error) bool {
	var el cfg.ErrorList
	return errors.As(err, &el)
}
