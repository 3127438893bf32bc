// Package auth is SER's digest authentication, loaded as SER 0.9's auth
// and auth_db and as SER 0.8's auth (module.go): www_authorize and
// proxy_authorize check RFC 2617 credentials against the subscriber table,
// www_challenge and proxy_challenge answer 401/407 with a fresh nonce, and
// consume_credentials removes the credentials that were accepted
// (Authorized gives them to the group and uri modules' checks).
//
// Nonces are stateless: the expiry time, a random salt and an HMAC with
// the secret modparam. Every server configured with the same secret (and
// synchronised clocks) accepts the nonces of the others, which is what
// the admin guide's replication script and Granig's load-balanced SERs
// need; nothing is replicated.
package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync/atomic"
	"time"

	"ser/core/module"
	"ser/core/modules/sl"
	"ser/core/sipmsg"
	"ser/core/store"
)

// Defaults of the module parameters (SER 0.9's auth and auth_db).
const (
	DefaultNonceExpire     = 300 // seconds
	DefaultPasswordColumn  = "ha1"
	DefaultPasswordColumn2 = "ha1b"
	DefaultPlainColumn     = "password" // password_column's default with calculate_ha1
	DefaultUserColumn      = "username"
	DefaultDomainColumn    = "domain"
	DefaultTable           = "subscriber"
)

// Config holds the module parameters.
type Config struct {
	// DBURL is db_url ("" = the server's default database).
	DBURL string
	// RealmPrefix is realm_prefix: stripped from a realm taken from the
	// request (realm "").
	RealmPrefix string
	// RPIDPrefix and RPIDSuffix are rpid_prefix and rpid_suffix, put
	// around the rpid by append_rpid_hf().
	RPIDPrefix, RPIDSuffix string
	// Secret is secret: the key nonces are signed with. Empty: a random
	// one is generated at start-up (nonces are then only valid here).
	Secret string
	// NonceExpire is nonce_expire in seconds.
	NonceExpire int
	// CalculateHA1 is calculate_ha1: PasswordColumn holds plain-text
	// passwords and HA1 is computed per request.
	CalculateHA1 bool
	// PasswordColumn is password_column; when it is not set it is "ha1",
	// or "password" with calculate_ha1.
	PasswordColumn    string
	passwordColumnSet bool
	// PasswordColumn2 is password_column_2: the HA1 of "user@domain"
	// (used for usernames with a domain when HA1 is not calculated).
	PasswordColumn2 string
	// UserColumn and DomainColumn are user_column and domain_column.
	UserColumn, DomainColumn string
	// UseDomain is use_domain: the user is looked up by username and
	// domain (the username's domain part, else the realm), not only by
	// username.
	UseDomain bool
	// CheckDigestURI is check_digest_uri: the digest uri must name the
	// Request-URI as received (else 400).
	CheckDigestURI bool
	// OneTimeNonce is one_time_nonce: an answer without qop is accepted
	// for one request per nonce (the next one gets a stale challenge).
	OneTimeNonce bool
	// Throttle are the guessing limits (throttle_*).
	Throttle ThrottleConfig
	// AVPColumnsInt and AVPColumnsStr are auth_db's avps_column_int and
	// avps_column_str: subscriber columns loaded, on a successful
	// authorization, into integer / string AVPs named after the column.
	AVPColumnsInt, AVPColumnsStr []string
}

// Module is one server's auth instance.
type Module struct {
	cfg    Config
	log    *slog.Logger
	core   module.Core
	sl     *sl.Module
	openDB func(string) (*store.Store, error)
	db     *store.Store
	// tables are the tables named by www_authorize/proxy_authorize calls;
	// Start checks them.
	tables map[string]bool
	// needRPID: the script calls append_rpid_hf or is_rpid_user_e164, so
	// the authorize functions read the rpid column too.
	needRPID atomic.Bool
	// started is set once Start ran: a script reloaded later that names
	// a new table or reads the rpid column for the first time has it
	// checked at once (recheck).
	started atomic.Bool
	secret  []byte
	nc      *ncTracker
	guard   *guard // nil with throttle off
	now     func() time.Time
	// dbTimeout bounds one credentials lookup.
	dbTimeout time.Duration
}

// New returns an auth instance with SER's defaults.
func New() *Module {
	return &Module{
		cfg: Config{
			NonceExpire:     DefaultNonceExpire,
			PasswordColumn:  DefaultPasswordColumn,
			PasswordColumn2: DefaultPasswordColumn2,
			UserColumn:      DefaultUserColumn,
			DomainColumn:    DefaultDomainColumn,
			RPIDSuffix:      DefaultRPIDSuffix,
			CheckDigestURI:  true,
			OneTimeNonce:    true,
			Throttle:        defaultThrottle(),
		},
		log:       slog.Default(),
		tables:    map[string]bool{},
		nc:        newNCTracker(DefaultNCEntries),
		now:       time.Now,
		dbTimeout: 5 * time.Second,
	}
}

// Config returns the module's parameters as configured.
func (a *Module) Config() Config { return a.cfg }

func initModule(a *Module, env *module.Env) error {
	if env.Log != nil {
		a.log = env.Log
	}
	a.core = env.Core
	a.openDB = env.DB
	a.sl, _ = module.Get[*sl.Module](env, "sl")
	if a.cfg.CalculateHA1 && !a.cfg.passwordColumnSet {
		a.cfg.PasswordColumn = DefaultPlainColumn
	}
	if a.cfg.Throttle.On {
		a.guard = newGuard(a.cfg.Throttle)
	}
	if a.cfg.Secret != "" {
		a.secret = []byte(a.cfg.Secret)
	} else {
		a.secret = make([]byte, 32)
		if _, err := rand.Read(a.secret); err != nil {
			return fmt.Errorf("auth: random secret: %w", err)
		}
		a.log.Warn("auth: no secret set, generated a random one: other servers will not accept this server's nonces")
	}
	return nil
}

// Start opens the database when the script calls www_authorize or
// proxy_authorize, and checks that every table they name has the user,
// domain and password columns (a bad name stops start-up, as SER's
// auth_db did at child_init).
func (a *Module) Start(ctx context.Context) error {
	a.started.Store(true)
	return a.open(ctx)
}

// recheck is what Start does, for a fixup that runs after start-up (a
// configuration reload) and needs a table or column Start did not check;
// an error refuses the reload.
func (a *Module) recheck(fn string) error {
	if !a.started.Load() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.dbTimeout)
	defer cancel()
	if err := a.open(ctx); err != nil {
		return fmt.Errorf("%s: %w", fn, err)
	}
	return nil
}

// open opens the database (once) when the script names credentials
// tables, and checks them.
func (a *Module) open(ctx context.Context) error {
	if len(a.tables) == 0 {
		return nil
	}
	if a.db != nil {
		return a.useStore(ctx, a.db)
	}
	if a.openDB == nil {
		return fmt.Errorf("auth: no database available (db_url %q)", a.cfg.DBURL)
	}
	db, err := a.openDB(a.cfg.DBURL)
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	return a.useStore(ctx, db)
}

// UseStore makes the module read credentials from st (tests, and servers
// that open the database themselves) after checking the tables named by
// the script, as Start does.
func (a *Module) UseStore(ctx context.Context, st *store.Store) error { return a.useStore(ctx, st) }

func (a *Module) useStore(ctx context.Context, st *store.Store) error {
	names := make([]string, 0, len(a.tables))
	for t := range a.tables {
		names = append(names, t)
	}
	sort.Strings(names)
	for _, t := range names {
		q := a.query(t, "", "", a.needRPID.Load())
		cols := append([]string{q.UserColumn, q.DomainColumn}, q.Columns...)
		if err := st.CheckColumns(ctx, t, cols...); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
		if _, err := st.Credentials(ctx, q); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("auth: table %s: %w", t, err)
		}
	}
	if a.db != st {
		a.db = st
	}
	return nil
}

// query is the credentials lookup of user@domain in table.
func (a *Module) query(table, user, domain string, rpid bool) store.CredentialsQuery {
	cols := []string{a.cfg.PasswordColumn}
	if !a.cfg.CalculateHA1 {
		cols = append(cols, a.cfg.PasswordColumn2)
	}
	cols = append(cols, a.cfg.AVPColumnsInt...)
	cols = append(cols, a.cfg.AVPColumnsStr...)
	if rpid {
		cols = append(cols, rpidColumn) // last: ha1s takes it from there
	}
	return store.CredentialsQuery{
		Table: table, UserColumn: a.cfg.UserColumn, DomainColumn: a.cfg.DomainColumn,
		UseDomain: a.cfg.UseDomain, Username: user, Domain: domain, Columns: cols,
	}
}

// Authorized returns the credentials that www_authorize or
// proxy_authorize accepted for m, or nil (the group module's "Credentials"
// and is_in_group use it).
func Authorized(m *sipmsg.Msg) *Credentials {
	if st, ok := m.Get(stateKey).(*msgState); ok {
		return st.cred
	}
	return nil
}

// stateKey is the per-message slot of the module.
var stateKey = sipmsg.NewKey()

// msgState is what the module remembers about a message.
type msgState struct {
	// cred are the credentials accepted by the last successful
	// authorize call.
	cred *Credentials
	// stale[kind]: the last authorize of that kind saw a correct response
	// with an expired nonce (or a replayed nonce count), so the next
	// challenge of that kind says stale=true.
	stale [2]bool
	// rpid is the authorized user's rpid column (append_rpid_hf).
	rpid string
}

func state(m *sipmsg.Msg) *msgState {
	if st, ok := m.Get(stateKey).(*msgState); ok {
		return st
	}
	st := &msgState{}
	m.Set(stateKey, st)
	return st
}

// kind is www (Authorization, 401) or proxy (Proxy-Authorization, 407).
type kind int

const (
	www kind = iota
	proxy
)

func (k kind) header() string {
	if k == proxy {
		return "Proxy-Authorization"
	}
	return "Authorization"
}

func (k kind) challengeHeader() string {
	if k == proxy {
		return "Proxy-Authenticate"
	}
	return "WWW-Authenticate"
}

func (k kind) code() (int, string) {
	if k == proxy {
		return 407, "Proxy Authentication Required"
	}
	return 401, "Unauthorized"
}
