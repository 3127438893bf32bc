// Package web is ser's web console, in the manner of serweb: an admin app
// (subscribers, ACL groups, aliases, online users, server status with
// charts, accounting, LCR, admin privileges) and a user app (account,
// devices, phonebook with online status, missed calls and call history,
// instant messages). Data lives in the store (core/store); in-memory
// state (contacts, aliases) and SIP requests go through ser's FIFO
// commands, over an rpc.Executor — the command registry in the ser process, or
// a FIFO client beside a running server. Handlers never build SQL and
// never parse FIFO text themselves (core/rpc/sercmd gives typed results).
package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"strings"
	"sync"
	"time"

	"ser/core/rpc"
	"ser/core/rpc/sercmd"
	"ser/core/store"
	"ser/internal/throttle"
)

// DefaultGroups are SER's ACL groups (serctl's ACL_GROUPS).
var DefaultGroups = []string{"local", "ld", "int", "voicemail", "free-pstn", "prepaid"}

// DefaultAddr is the console's default listener (the ser HTTP listener,
// shared with the XML-RPC bridge at /xmlrpc).
const DefaultAddr = "127.0.0.1:5080"

// Options configure the console.
type Options struct {
	// Store is the database (required).
	Store *store.Store
	// Exec runs FIFO commands (required): rpc.NewLocal(registry) in the
	// ser process, or a *fifo.Client stand-alone.
	Exec rpc.Executor
	// Domain is the SIP domain of new users and of logins without
	// "@domain" (default: store.DefaultDomain, the host name in lower
	// case — serctl's and the built-in default config's too).
	Domain string
	// Groups are the ACL groups offered (default DefaultGroups).
	Groups []string
	// Logger receives the console's log (default slog.Default), with
	// module=web.
	Logger *slog.Logger
	// Clock returns the current time (default time.Now).
	Clock func() time.Time
	// SampleInterval is how often the status sampler asks for t_stats,
	// sl_stats and ul_stats (default 1 minute).
	SampleInterval time.Duration
	// History is how long samples are kept in memory (default 24 hours).
	History time.Duration
	// LocationTable and AliasTable are usrloc's tables (default
	// "location" and "aliases").
	LocationTable, AliasTable string
	// OutboundProxy is the next hop of instant messages, a SIP URI such
	// as "sip:127.0.0.1:5060" (default none: t_uac_dlg sends to the
	// Request-URI's host, as serweb did).
	OutboundProxy string
	// SessionIdle ends a session not used for this long (default 30
	// minutes); SessionMax ends any session this long after login
	// (default 12 hours).
	SessionIdle, SessionMax time.Duration
	// SecureCookies marks cookies Secure even on plain HTTP requests (set
	// it behind a TLS-terminating proxy). Requests over TLS always get
	// Secure cookies.
	SecureCookies bool
	// LocalHosts are the other names of Domain: the server's addresses
	// and aliases. Accounting rows whose domain is one of them (a phone
	// that dialled the server's IP) are shown and counted under Domain.
	LocalHosts []string
	// AdminName is the user name of the administrator created on first
	// start (default "admin").
	AdminName string
	// Hosts are more names the Host header may carry when Run serves the
	// console (`ser web -host`): "name" (any port) or "name:port"; "*"
	// turns the check off. Run always accepts the listener's own names
	// (internal/hostcheck). On ser's HTTP listener the frontend applies
	// xmlrpc_host instead.
	Hosts []string
}

// App is the web console. Create it with New, route it with Mount, and
// run its background work (statistics sampling, session expiry) between
// Start and Stop.
type App struct {
	opts    Options
	st      *store.Store
	ser     *sercmd.Client
	log     *slog.Logger
	now     func() time.Time
	pages   map[string]*template.Template
	limiter *throttle.Logins
	stats   *history

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// New checks the options, parses the templates and, when no administrator
// exists, creates one and logs its one-time password.
func New(opts Options) (*App, error) {
	if opts.Store == nil {
		return nil, errors.New("web: no store")
	}
	if opts.Exec == nil {
		return nil, errors.New("web: no command executor")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Domain == "" {
		opts.Domain = store.DefaultDomain()
	}
	opts.Domain = strings.ToLower(opts.Domain)
	if err := validDomain(opts.Domain); err != nil {
		return nil, fmt.Errorf("web: domain %q: %w", opts.Domain, err)
	}
	if len(opts.Groups) == 0 {
		opts.Groups = DefaultGroups
	}
	for _, g := range opts.Groups {
		if err := validGroup(g); err != nil {
			return nil, fmt.Errorf("web: ACL group %q: %w", g, err)
		}
	}
	if opts.SampleInterval <= 0 {
		opts.SampleInterval = time.Minute
	}
	if opts.History <= 0 {
		opts.History = 24 * time.Hour
	}
	if opts.LocationTable == "" {
		opts.LocationTable = "location"
	}
	if opts.AliasTable == "" {
		opts.AliasTable = "aliases"
	}
	if opts.OutboundProxy != "" {
		if err := validSIPURI(opts.OutboundProxy, 255); err != nil {
			return nil, fmt.Errorf("web: outbound proxy %q: %w", opts.OutboundProxy, err)
		}
	}
	if opts.SessionIdle <= 0 {
		opts.SessionIdle = 30 * time.Minute
	}
	if opts.SessionMax <= 0 {
		opts.SessionMax = 12 * time.Hour
	}
	if opts.AdminName == "" {
		opts.AdminName = "admin"
	}
	if err := validUsername(opts.AdminName); err != nil {
		return nil, fmt.Errorf("web: admin name %q: %w", opts.AdminName, err)
	}
	a := &App{
		opts:    opts,
		st:      opts.Store,
		ser:     &sercmd.Client{Exec: opts.Exec},
		log:     opts.Logger.With("module", "web"),
		now:     opts.Clock,
		limiter: newLimiter(opts.Clock),
		stats:   newHistory(opts.History, opts.SampleInterval),
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	a.pages = pages
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.bootstrap(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// Start starts the background work: a statistics sample at once and every
// SampleInterval, and the removal of expired sessions. It returns at once;
// the work ends with Stop or when ctx ends.
func (a *App) Start(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cancel != nil {
		return errors.New("web: already started")
	}
	ctx, cancel := context.WithCancel(ctx)
	a.cancel, a.done = cancel, make(chan struct{})
	go a.background(ctx, a.done)
	return nil
}

// Stop ends the background work and waits for it.
func (a *App) Stop() {
	a.mu.Lock()
	cancel, done := a.cancel, a.done
	a.cancel, a.done = nil, nil
	a.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// background samples statistics and expires sessions until ctx ends.
func (a *App) background(ctx context.Context, done chan struct{}) {
	defer close(done)
	a.sample(ctx)
	a.expireSessions(ctx)
	tick := time.NewTicker(a.opts.SampleInterval)
	defer tick.Stop()
	lastExpire := a.now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			a.sample(ctx)
			if a.now().Sub(lastExpire) >= 5*time.Minute {
				a.expireSessions(ctx)
				lastExpire = a.now()
			}
		}
	}
}
