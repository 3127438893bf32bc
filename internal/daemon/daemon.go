package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"ser/core"
	"ser/fifo"
	"ser/internal/frontend"
	"ser/web"
)

// Daemon is a running ser: the engine (a loaded core.Instance) and every
// management frontend its options ask for — the FIFO (fifo), the unix
// socket (unix_sock), the HTTP listener with XML-RPC (http_listen) and
// the web console on it (web). It is the one place that starts them; the
// engine in core imports none of them.
type Daemon struct {
	Inst *core.Instance
	fifo *fifo.Server
	unix *fifo.UnixServer
	app  *web.App
	http *frontend.Frontend
}

// Start starts the instance, then its frontends. On an error everything
// already started is stopped again.
func Start(inst *core.Instance) (*Daemon, error) {
	if err := inst.Start(); err != nil {
		return nil, err
	}
	d := &Daemon{Inst: inst}
	if err := d.startFrontends(); err != nil {
		d.Stop()
		return nil, err
	}
	return d, nil
}

func (d *Daemon) startFrontends() error {
	srv := d.Inst.Server
	opts := srv.Options()
	log := srv.Logger()
	if opts.FIFO != "" {
		fs, err := fifo.Listen(fifo.Config{
			Path: opts.FIFO, Dir: opts.FIFODir, Mode: os.FileMode(opts.FIFOMode),
			User: opts.FIFOUser, Group: opts.FIFOGroup, Logger: log,
		}, srv.RPC())
		if err != nil {
			return fmt.Errorf("core: fifo: %w", err)
		}
		d.fifo = fs
		srv.AddFrontend(core.Frontend{Procs: fs.Processes, Stats: func(line func(string, uint64)) {
			st := fs.Stats()
			line("fifo_requests", st.Requests)
			line("fifo_incomplete", st.Incomplete)
			line("fifo_replies_dropped", st.RepliesDropped)
		}})
	}
	if opts.UnixSock != "" {
		us, err := fifo.ListenUnix(fifo.UnixConfig{
			Path: opts.UnixSock, Children: opts.UnixSockCh,
			TxTimeout: time.Duration(opts.UnixTxTO) * time.Millisecond,
			Mode:      os.FileMode(opts.FIFOMode), User: opts.FIFOUser, Group: opts.FIFOGroup,
			Logger: log,
		}, srv.RPC())
		if err != nil {
			return fmt.Errorf("core: unix socket: %w", err)
		}
		d.unix = us
		srv.AddFrontend(core.Frontend{Procs: us.Processes})
	}
	fo := httpOptions(opts, log)
	if !fo.Enabled() {
		return nil
	}
	if opts.Web {
		app, err := webConsole(d.Inst)
		if err != nil {
			return err
		}
		if err := app.Start(context.Background()); err != nil {
			return err
		}
		d.app = app
		fo.Mount = mountWeb(app)
	}
	fo.Metrics = metricsHandler(srv)
	fo.Ready = srv.Ready
	fe, err := frontend.Start(frontend.Local(srv.RPC()), fo)
	if err != nil {
		return err
	}
	d.http = fe
	return nil
}

// HTTPAddr returns the HTTP listener's address, "" without one.
func (d *Daemon) HTTPAddr() string {
	if d.http == nil {
		return ""
	}
	return d.http.Addr()
}

// Stop stops the frontends, then the engine (sockets and workers, then
// the modules, which flush their state).
func (d *Daemon) Stop() {
	if d.http != nil {
		d.http.Close()
	}
	if d.app != nil {
		d.app.Stop()
	}
	if d.fifo != nil {
		d.fifo.Close()
	}
	if d.unix != nil {
		d.unix.Close()
	}
	d.Inst.Stop()
}

// httpOptions maps the global options onto the HTTP listener's.
func httpOptions(o *core.Options, log *slog.Logger) frontend.Options {
	return frontend.Options{
		Listen: o.HTTP, User: o.HTTPUser, Password: o.HTTPPassword, Allow: o.HTTPAllow,
		Hosts: o.HTTPHosts, CertFile: o.HTTPCert, KeyFile: o.HTTPKey, Log: log,
		MetricsAllow: o.MetricsAllow,
	}
}
