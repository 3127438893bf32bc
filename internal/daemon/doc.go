// Package daemon assembles ser from its parts: it loads a configuration
// into the engine (package core, with every built-in module of
// core/modules), starts the engine and then every management frontend
// the options ask for — the FIFO and the unix socket (package fifo), the
// HTTP listener with the XML-RPC bridge (internal/frontend, package
// xmlrpc) and the web console on it (package web) — and stops them in
// the reverse order. It also holds the ser command line (Main): SER's
// options, daemonising, privilege dropping, the pid file, systemd
// readiness, and the stand-alone `ser xmlrpc` and `ser web`.
//
// The engine is a library: core and the packages below it import no
// frontend (TestEngineImportsNoFrontend), so another program can embed it
// with frontends of its own.
package daemon

import _ "ser/core/modules" // every built-in module registers itself
