package daemon

import (
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
)

// startPprof serves Go's profiler on the address in SER_PPROF (e.g.
// SER_PPROF=127.0.0.1:6060), for measuring ser under load:
//
//	go tool pprof http://127.0.0.1:6060/debug/pprof/profile?seconds=10
func startPprof(log *slog.Logger) {
	addr := os.Getenv("SER_PPROF")
	if addr == "" {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go func() {
		log.Info("profiler listening", "module", "core", "addr", addr)
		if err := http.ListenAndServe(addr, mux); err != nil {
			log.Error("profiler stopped", "module", "core", "err", err)
		}
	}()
}
