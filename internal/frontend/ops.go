package frontend

import (
	"context"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"

	"ser/xmlrpc"
)

// The operations endpoints of the listener, for Prometheus, load balancers
// and systemd:
//
//   - /health answers 200 "ok" while the process serves HTTP (liveness);
//   - /ready answers 200 "ready" when Options.Ready finds nothing wrong
//     (the SIP sockets are receiving, every database answers a ping),
//     else 503 with the reason as plain text;
//   - /metrics serves Options.Metrics (Prometheus' text format).
//
// Who may read them follows the listener's rules (see the README's
// Security section): the client address must be on the allow-list
// (xmlrpc_allow, loopback by default) or on metrics_allow, and the Host
// header must name the listener (DNS rebinding). /health and /ready need
// no credentials — load balancers rarely send any, and they tell nothing
// but "up" and a reason. /metrics needs the XML-RPC credentials when
// xmlrpc_user is set, except from metrics_allow networks: a Prometheus
// server there reads the figures without holding the credentials that
// run every management command.

// readyTimeout bounds the checks of one /ready request.
const readyTimeout = 3 * time.Second

// mountOps adds /health, /ready and /metrics to r.
func mountOps(r chi.Router, x *xmlrpc.Server, o Options) error {
	metricsAllow, err := xmlrpc.ParseAllow(o.MetricsAllow)
	if err != nil {
		return err
	}
	log := o.Log.With("module", "frontend")
	var lastReady atomic.Pointer[string] // the last /ready answer's reason ("" = ready)
	// open admits a read-only request without credentials: the client is
	// on the allow-list or metrics_allow, and the Host header names us.
	open := func(r *http.Request) (bool, string) {
		ap, err := netip.ParseAddrPort(r.RemoteAddr)
		if err != nil {
			return false, "forbidden: unknown client address"
		}
		a := ap.Addr().Unmap()
		allowed := contains(metricsAllow, a) || contains(x.Options().Allow, a)
		if !allowed {
			return false, "forbidden: client address not allowed"
		}
		if !x.HostAllowed(r) {
			return false, "forbidden: Host header does not name this server (xmlrpc_host)"
		}
		return true, ""
	}
	readOnly := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				w.Header().Set("Allow", "GET, HEAD")
				http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	unauthenticated := func(next http.Handler) http.Handler {
		return readOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if ok, why := open(r); !ok {
				log.Warn("request refused", "remote", r.RemoteAddr, "path", r.URL.Path, "status", http.StatusForbidden, "reason", why)
				http.Error(w, "403 "+why, http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r)
		}))
	}
	r.Handle("/health", unauthenticated(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		plain(w, http.StatusOK, "ok")
	})))
	r.Handle("/ready", unauthenticated(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o.Ready == nil {
			plain(w, http.StatusOK, "ready")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		err := o.Ready(ctx)
		why := ""
		if err != nil {
			why = err.Error()
		}
		// Load balancers probe every few seconds: log changes only.
		if prev := lastReady.Swap(&why); prev == nil || *prev != why {
			if why != "" {
				log.Warn("not ready", "reason", why)
			} else if prev != nil {
				log.Info("ready again")
			}
		}
		if err != nil {
			plain(w, http.StatusServiceUnavailable, "not ready: "+why)
			return
		}
		plain(w, http.StatusOK, "ready")
	})))
	if o.Metrics != nil {
		guarded := x.Guard(o.Metrics)
		r.Handle("/metrics", readOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil && contains(metricsAllow, ap.Addr().Unmap()) {
				if !x.HostAllowed(r) {
					http.Error(w, "403 forbidden: Host header does not name this server (xmlrpc_host)", http.StatusForbidden)
					return
				}
				o.Metrics.ServeHTTP(w, r)
				return
			}
			guarded.ServeHTTP(w, r)
		})))
	}
	return nil
}

func contains(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// plain writes a one-line text answer.
func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}
