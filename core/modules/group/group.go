// Package group is SER's group membership module: is_user_in(source,
// group) checks whether the user named by the Request-URI, the To or From
// header, or the digest credentials the auth module accepted is a member
// of a group in the grp table; is_in_group(group) is the same check for
// the authenticated user (SER 0.8's auth function). The admin guide's
// gateway access-control script uses them for its "local", "ld", "int"
// and "free-pstn" groups.
package group

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/modules/auth"
	"ser/core/sipmsg"
	"ser/core/store"
)

// Config holds the module parameters (SER 0.9's group defaults, with the
// server's default database instead of a MySQL URL).
type Config struct {
	// DBURL is db_url ("" = the server's default database).
	DBURL string
	// Table, UserColumn, DomainColumn and GroupColumn name the group
	// table: "grp", "username", "domain", "grp".
	Table, UserColumn, DomainColumn, GroupColumn string
	// UseDomain is use_domain: compare the domain column too.
	UseDomain bool
}

// Source is where is_user_in takes the user from.
type Source int

// The sources of is_user_in's first argument.
const (
	RequestURI  Source = iota + 1 // "Request-URI": the current Request-URI
	To                            // "To": the To header's URI
	From                          // "From": the From header's URI
	Credentials                   // "Credentials": the authorized digest username

	// digestUsername is SER 0.8's "Credentials": the whole digest
	// username as sent ("alice" or "alice@example.com"), no domain.
	digestUsername
)

// ParseSource converts is_user_in's first argument (any case).
func ParseSource(s string) (Source, error) {
	switch strings.ToLower(s) {
	case "request-uri":
		return RequestURI, nil
	case "to":
		return To, nil
	case "from":
		return From, nil
	case "credentials":
		return Credentials, nil
	}
	return 0, fmt.Errorf("unknown user source %q (Request-URI, To, From or Credentials)", s)
}

// String returns the source as written in scripts.
func (s Source) String() string {
	switch s {
	case RequestURI:
		return "Request-URI"
	case To:
		return "To"
	case From:
		return "From"
	case Credentials, digestUsername:
		return "Credentials"
	}
	return fmt.Sprintf("Source(%d)", int(s))
}

// Module is one server's group instance.
type Module struct {
	cfg    Config
	log    *slog.Logger
	openDB func(string) (*store.Store, error)
	db     *store.Store
	// used is set when the script calls a group function (Start opens
	// the database only then); started once Start ran, so that a script
	// reloaded later that calls one for the first time opens it itself.
	used, started atomic.Bool
	dbTimeout     time.Duration
}

// New returns a group instance with SER's defaults.
func New() *Module {
	return &Module{
		cfg:       Config{Table: "grp", UserColumn: "username", DomainColumn: "domain", GroupColumn: "grp"},
		log:       slog.Default(),
		dbTimeout: 5 * time.Second,
	}
}

// Config returns the module's parameters.
func (g *Module) Config() Config { return g.cfg }

func setDBURL(m *Module, v module.Value) error {
	m.cfg.DBURL = v.String()
	return nil
}

func initModule(g *Module, env *module.Env) error {
	if env.Log != nil {
		g.log = env.Log
	}
	g.openDB = env.DB
	return nil
}

// Start opens the database when the script uses a group function and
// checks that the group table and its columns exist.
func (g *Module) Start(ctx context.Context) error {
	g.started.Store(true)
	if !g.used.Load() {
		return nil
	}
	return g.open(ctx)
}

// open opens the database and checks the group table.
func (g *Module) open(ctx context.Context) error {
	if g.openDB == nil {
		return fmt.Errorf("group: no database available (db_url %q)", g.cfg.DBURL)
	}
	st, err := g.openDB(g.cfg.DBURL)
	if err != nil {
		return fmt.Errorf("group: %w", err)
	}
	return g.UseStore(ctx, st)
}

// UseStore makes the module check memberships in st, after verifying the
// group table (tests; Start does it with the configured database).
func (g *Module) UseStore(ctx context.Context, st *store.Store) error {
	c := g.cfg
	if err := st.CheckColumns(ctx, c.Table, c.UserColumn, c.DomainColumn, c.GroupColumn); err != nil {
		return fmt.Errorf("group: %w", err)
	}
	if _, err := st.InGroup(ctx, g.schema(), "", "", ""); err != nil {
		return fmt.Errorf("group: table %s: %w", g.cfg.Table, err)
	}
	g.db = st
	return nil
}

func (g *Module) schema() store.GroupSchema {
	c := g.cfg
	return store.GroupSchema{Table: c.Table, UserColumn: c.UserColumn, DomainColumn: c.DomainColumn,
		GroupColumn: c.GroupColumn, UseDomain: c.UseDomain}
}

// fixupIsUserIn binds is_user_in; v08 is SER 0.8's auth version, whose
// "Credentials" is the whole digest username.
func fixupIsUserIn(v08 bool) func(any, *module.Env, []module.Value) (module.Handler, error) {
	return module.FixupOf(func(g *Module, env *module.Env, args []module.Value) (module.Handler, error) {
		src, err := ParseSource(args[0].String())
		if err != nil {
			return nil, fmt.Errorf("is_user_in: %w", err)
		}
		if v08 && src == Credentials {
			src = digestUsername
		}
		return g.bind("is_user_in", env, src, args[1].String())
	})
}

// fixupIsInGroup binds SER 0.8's is_in_group(group): is the whole digest
// username of the authorized credentials in the group.
func fixupIsInGroup(m *Module, env *module.Env, args []module.Value) (module.Handler, error) {
	return m.bind("is_in_group", env, digestUsername, args[0].String())
}

func (g *Module) bind(fn string, env *module.Env, src Source, grp string) (module.Handler, error) {
	if grp == "" {
		return nil, fmt.Errorf("%s: empty group name", fn)
	}
	if (src == Credentials || src == digestUsername) && (env.Instance == nil || env.Instance("auth") == nil) {
		return nil, fmt.Errorf("%s: the authenticated user needs the auth module (loadmodule \"auth.so\")", fn)
	}
	if !g.used.Swap(true) && g.started.Load() {
		// A configuration reload brings the first group function after
		// start-up: open the database now, as Start would have (a failure
		// refuses the reload).
		ctx, cancel := context.WithTimeout(context.Background(), g.dbTimeout)
		defer cancel()
		if err := g.open(ctx); err != nil {
			g.used.Store(false)
			return nil, fmt.Errorf("%s: %w", fn, err)
		}
	}
	return func(m *sipmsg.Msg) (int, error) { return g.IsUserIn(m, src, grp), nil }, nil
}

// IsUserIn is is_user_in: 1 when the user taken from src is a member of
// grp, -1 when not, when there is no such user (no authorized credentials
// for Credentials: a script error, logged), or on a database error
// (logged).
func (g *Module) IsUserIn(m *sipmsg.Msg, src Source, grp string) int {
	if src == digestUsername && g.cfg.UseDomain {
		// use_domain only exists in the group module's table: with
		// it, SER 0.9's rule (user part, domain or realm).
		src = Credentials
	}
	user, domain, err := userOf(m, src)
	if err != nil {
		g.log.ErrorContext(module.MsgCtx(m), "group: cannot get the user", "source", src.String(), "err", err)
		return -1
	}
	if user == "" {
		g.log.DebugContext(module.MsgCtx(m), "group: no user part", "source", src.String())
		return -1
	}
	if g.db == nil {
		g.log.ErrorContext(module.MsgCtx(m), "group: database not open")
		return -1
	}
	ctx, cancel := context.WithTimeout(context.Background(), g.dbTimeout)
	defer cancel()
	ok, err := g.db.InGroup(ctx, g.schema(), user, domain, grp)
	if err != nil {
		g.log.ErrorContext(module.MsgCtx(m), "group: membership check failed", "err", err)
		return -1
	}
	if !ok {
		g.log.DebugContext(module.MsgCtx(m), "group: not a member", "user", user, "domain", domain, "group", grp)
		return -1
	}
	return 1
}

// userOf returns the user and domain src names in m. For Credentials the
// domain is the username's domain part, else the digest realm (SER's
// rule).
func userOf(m *sipmsg.Msg, src Source) (string, string, error) {
	if !m.IsRequest() {
		return "", "", errors.New("not a request")
	}
	var uri *sip.Uri
	switch src {
	case RequestURI:
		uri = m.URI()
	case To:
		if h := m.Req.To(); h != nil {
			uri = &h.Address
		}
	case From:
		if h := m.Req.From(); h != nil {
			uri = &h.Address
		}
	case Credentials, digestUsername:
		c := auth.Authorized(m)
		if c == nil {
			return "", "", errors.New("no authorized credentials found (error in script): call www_authorize or proxy_authorize first")
		}
		if src == digestUsername {
			return c.Username, "", nil
		}
		if c.Domain != "" {
			return c.User, c.Domain, nil
		}
		return c.User, c.Realm, nil
	}
	if uri == nil {
		return "", "", fmt.Errorf("no %s URI", src)
	}
	return uri.User, uri.Host, nil
}
