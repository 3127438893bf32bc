package daemon

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"

	"ser/core"
	"ser/core/rpc"
	"ser/core/store"
	"ser/fifo"
	"ser/web"
)

// webConsole creates the web console of a running server, mounted on the
// HTTP listener beside XML-RPC.
func webConsole(inst *core.Instance) (*web.App, error) {
	srv := inst.Server
	st, err := srv.DB("")
	if err != nil {
		return nil, fmt.Errorf("web console: %w", err)
	}
	o := srv.Options()
	proxy := ""
	for _, sk := range srv.Sockets() {
		// Instant messages go through the script (lookup of the callee).
		proxy = "sip:" + sk.HostPort()
		break
	}
	var hosts []string
	for _, sk := range srv.Sockets() {
		hosts = append(hosts, sk.IP.String(), sk.Name)
	}
	for _, a := range o.Aliases {
		hosts = append(hosts, a.Host)
	}
	return web.New(web.Options{
		Store: st, Exec: rpc.NewLocal(srv.RPC()).For("web"), Domain: sipDomain(o), LocalHosts: hosts,
		Logger: srv.Logger(), OutboundProxy: proxy, SecureCookies: o.HTTPCert != "",
	})
}

// sipDomain is the web console's SIP domain: sip_domain, else the first
// alias, else the host name in lower case (store.DefaultDomain, serctl's
// default too).
func sipDomain(o *core.Options) string {
	if o.SIPDomain != "" {
		return o.SIPDomain
	}
	if len(o.Aliases) > 0 {
		return o.Aliases[0].Host
	}
	return store.DefaultDomain()
}

// runWeb runs the web console stand-alone, against a running ser's FIFO
// and its database:
//
//	ser web -fifo /tmp/ser_fifo -db sqlite://ser.db -listen 127.0.0.1:5080
func runWeb(args []string) int {
	fs := flag.NewFlagSet("ser web", flag.ContinueOnError)
	fifoPath := fs.String("fifo", "/tmp/ser_fifo", "ser's FIFO")
	replyDir := fs.String("fifo-dir", "/tmp/", "reply directory (ser's fifo_dir)")
	dbURL := fs.String("db", core.DefaultDBURL, "ser's database")
	listen := fs.String("listen", "127.0.0.1:5080", "HTTP listen address")
	domain := fs.String("domain", "", "SIP domain of the users (default: the host name)")
	proxy := fs.String("proxy", "", "next hop of instant messages (e.g. sip:127.0.0.1:5060: ser itself)")
	hosts := fs.String("host", "", "more names the Host header may carry, comma-separated (\"*\": no Host check)")
	local := fs.String("local-hosts", "", "ser's addresses and aliases, comma-separated: accounting rows with one of them as domain count under -domain")
	plaintext := fs.Bool("store-plaintext-passwords", false, "also store plain-text passwords (SER's password column)")
	fileMode := fs.String("db-file-mode", "0600", "mode of a new SQLite database file")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 1
	}
	log := core.NewLogger(core.LogConfig{Debug: 2, Stderr: true})
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	openCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	mode, err := strconv.ParseUint(*fileMode, 8, 32)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ser web: -db-file-mode %q: an octal mode expected\n", *fileMode)
		cancel()
		return 1
	}
	st, err := store.Open(openCtx, *dbURL, store.WithLogger(log.With("module", "store")),
		store.WithPlaintextPasswords(*plaintext), store.WithFileMode(os.FileMode(mode)))
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "ser web: %v\n", err)
		return 1
	}
	defer st.Close()
	c := fifo.NewClient(*fifoPath)
	c.ReplyDir = *replyDir
	if *domain == "" {
		*domain = sipDomain(&core.Options{})
	}
	var hostList []string
	if *hosts != "" {
		hostList = strings.Split(*hosts, ",")
	}
	var localHosts []string
	for _, h := range strings.Split(*local, ",") {
		if h = strings.TrimSpace(h); h != "" {
			localHosts = append(localHosts, h)
		}
	}
	if err := web.Run(ctx, *listen, web.Options{Store: st, Exec: c, Domain: *domain, Logger: log, OutboundProxy: *proxy,
		Hosts: hostList, LocalHosts: localHosts}); err != nil {
		fmt.Fprintf(os.Stderr, "ser web: %v\n", err)
		return 1
	}
	return 0
}

// mountWeb is the frontend hook that routes the web console.
func mountWeb(app *web.App) func(chi.Router) {
	return func(r chi.Router) { app.Mount(r) }
}
