package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/sipmsg"
	"ser/core/store"
)

func fixupAuthorize(k kind) func(any, *module.Env, []module.Value) (module.Handler, error) {
	name := "www_authorize"
	if k == proxy {
		name = "proxy_authorize"
	}
	return module.FixupOf(func(a *Module, env *module.Env, args []module.Value) (module.Handler, error) {
		realm, table := args[0].String(), args[1].String()
		if table == "" {
			table = DefaultTable
		}
		if !store.ValidIdent(table) {
			return nil, fmt.Errorf("%s: %q is not a valid table name", name, table)
		}
		if !a.tables[table] {
			a.tables[table] = true
			if err := a.recheck(name); err != nil {
				delete(a.tables, table)
				return nil, err
			}
		}
		return func(m *sipmsg.Msg) (int, error) {
			return a.authorize(m, realm, table, k), nil
		}, nil
	})
}

// Authorize runs www_authorize (proxy false) or proxy_authorize (proxy
// true) for m: 1 when m carries correct credentials for realm ("" = the
// To host of a REGISTER for www, else the From host) of a user of table;
// -1 when it carries none, a wrong password, an unknown user, a nonce not
// made with the secret, or a stale nonce (the next challenge then says
// stale=true); 0 after answering 400 (malformed credentials) or 500
// (database failure) itself. ACK and CANCEL are always authorized: they
// cannot be challenged.
func (a *Module) Authorize(m *sipmsg.Msg, realm, table string, proxyAuth bool) int {
	k := www
	if proxyAuth {
		k = proxy
	}
	return a.authorize(m, realm, table, k)
}

func (a *Module) authorize(m *sipmsg.Msg, realm, table string, k kind) int {
	if !m.IsRequest() {
		return -1
	}
	if m.Req.IsAck() || m.Req.IsCancel() {
		return 1
	}
	st := state(m)
	st.stale[k] = false
	if realm == "" {
		r, err := defaultRealm(m, k)
		if err != nil {
			a.log.ErrorContext(module.MsgCtx(m), "auth: cannot take the realm from the request", "err", err)
			a.reply(m, 400, "Bad Request", "")
			return 0
		}
		realm = a.stripRealm(r)
	}
	c, err := findCredentials(m, k, realm)
	if err == nil && c != nil {
		err = c.Check()
	}
	if err != nil {
		a.log.ErrorContext(module.MsgCtx(m), "auth: credentials are not filled properly", "err", err, "src", m.Rcv.Src.String())
		a.reply(m, 400, "Bad Request", "")
		return 0
	}
	if c == nil {
		a.log.DebugContext(module.MsgCtx(m), "auth: no credentials for realm", "realm", realm, "header", k.header())
		return -1
	}
	log := a.log.With("username", c.Username, "realm", c.Realm, "src", m.Rcv.Src.String())
	if a.cfg.CheckDigestURI {
		if ruri := receivedURI(m); !digestURIMatches(c.URI, ruri) {
			log.WarnContext(module.MsgCtx(m), "auth: digest uri does not match the Request-URI", "uri", c.URI, "ruri", ruri)
			a.reply(m, 400, "Bad Request", "")
			return 0
		}
	}
	if !c.SupportedAlgorithm() {
		log.InfoContext(module.MsgCtx(m), "auth: unsupported digest algorithm", "algorithm", c.Algorithm)
		return -1
	}
	expires, err := CheckNonce(a.secret, c.Nonce)
	if err != nil {
		log.InfoContext(module.MsgCtx(m), "auth: invalid nonce value received")
		return -1
	}
	now := a.now()
	var keys throttleKeys
	if a.guard != nil {
		keys = keysOf(c, m.Rcv.Src, a.cfg.UseDomain)
		if ok, why := a.guard.allow(keys, now); !ok {
			log.DebugContext(module.MsgCtx(m), "auth: refused without checking the response", "why", why)
			return -1
		}
		defer a.guard.done(keys)
	}
	ha1s, rpid, avps, err := a.ha1s(c, table)
	switch {
	case errors.Is(err, store.ErrNotFound):
		log.InfoContext(module.MsgCtx(m), "auth: user not found", "table", table)
		a.failed(keys, now, log)
		return -1
	case errors.Is(err, errStoredHA1), errors.Is(err, errNoPlaintext):
		log.ErrorContext(module.MsgCtx(m), "auth: refusing credentials", "err", err)
		return -1
	case err != nil:
		log.ErrorContext(module.MsgCtx(m), "auth: credentials lookup failed", "err", err)
		a.reply(m, 500, "Server Internal Error", "")
		return 0
	}
	matched := false
	for _, h := range ha1s {
		if ResponseMatches(h, c, string(m.Req.Method), m.Req.Body()) {
			matched = true
		}
	}
	if !matched {
		log.InfoContext(module.MsgCtx(m), "auth: invalid password")
		a.failed(keys, now, log)
		return -1
	}
	if now.After(expires) {
		log.DebugContext(module.MsgCtx(m), "auth: response is OK, but nonce is stale")
		st.stale[k] = true
		return -1
	}
	switch {
	case c.QOP != "":
		nc, _ := strconv.ParseUint(c.NC, 16, 32) // Check made sure it is 8 hex digits
		if !a.nc.use(c.Nonce, uint32(nc), requestKey(m), expires, now) {
			log.InfoContext(module.MsgCtx(m), "auth: nonce count replayed", "nc", c.NC)
			st.stale[k] = true
			return -1
		}
	case a.cfg.OneTimeNonce:
		// Without qop nothing but the nonce changes between requests:
		// each nonce answers one request (and its retransmissions).
		if !a.nc.use(c.Nonce, 0, requestKey(m), expires, now) {
			log.InfoContext(module.MsgCtx(m), "auth: nonce already used by another request (no qop)")
			st.stale[k] = true
			return -1
		}
	}
	if a.guard != nil {
		a.guard.succeed(keys)
	}
	st.cred, st.rpid = c, rpid
	a.addAVPs(m, avps)
	log.DebugContext(module.MsgCtx(m), "auth: authorized")
	return 1
}

// defaultRealm is SER's get_realm: the To host for a REGISTER checked
// with www_authorize, the From host otherwise.
func defaultRealm(m *sipmsg.Msg, k kind) (string, error) {
	if k == www && m.Req.Method == sip.REGISTER {
		if to := m.Req.To(); to != nil && to.Address.Host != "" {
			return to.Address.Host, nil
		}
		return "", errors.New("no To URI host")
	}
	if from := m.Req.From(); from != nil && from.Address.Host != "" {
		return from.Address.Host, nil
	}
	return "", errors.New("no From URI host")
}

// findCredentials returns the first digest credentials of kind k whose
// realm is realm (case-insensitive), nil when there are none. Headers of
// other schemes are skipped; a malformed digest header is an error.
func findCredentials(m *sipmsg.Msg, k kind, realm string) (*Credentials, error) {
	for h := range sipmsg.HeadersNamed(m.Req, k.header()) {
		c, err := ParseCredentials(h.Value())
		if errors.Is(err, ErrNotDigest) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !strings.EqualFold(c.Realm, realm) {
			continue
		}
		c.Proxy = k == proxy
		c.header = h
		return c, nil
	}
	return nil, nil
}

// ha1s returns the HA1 values the response of c may be computed from:
// with calculate_ha1 the HA1 of the username as sent (for a trailing '@'
// also of the bare user), else the ha1 column (ha1b for "user@domain").
func (a *Module) ha1s(c *Credentials, table string) (ha1s []string, rpid string, avps []string, err error) {
	if a.db == nil {
		return nil, "", nil, errors.New("auth: database not open")
	}
	domain := c.Domain
	if domain == "" {
		domain = c.Realm
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.dbTimeout)
	defer cancel()
	needRPID := a.needRPID.Load()
	vals, err := a.db.Credentials(ctx, a.query(table, c.User, domain, needRPID))
	if err != nil {
		return nil, "", nil, err
	}
	if needRPID {
		rpid = vals[len(vals)-1]
	}
	if n := len(a.cfg.AVPColumnsInt) + len(a.cfg.AVPColumnsStr); n > 0 {
		first := 1
		if !a.cfg.CalculateHA1 {
			first = 2
		}
		avps = vals[first : first+n]
	}
	if a.cfg.CalculateHA1 {
		pw := vals[0]
		// serctl and the console store no plain-text password unless asked
		// to (store_plaintext_passwords): an empty one is "not set", never
		// the password "" that anyone could answer with.
		if pw == "" {
			return nil, "", nil, fmt.Errorf("column %s of user %s: %w", a.cfg.PasswordColumn, c.User, errNoPlaintext)
		}
		if c.TrailingAt {
			return []string{HA1(c.Username, c.Realm, pw), HA1(c.User, c.Realm, pw)}, rpid, avps, nil
		}
		return []string{HA1(c.Username, c.Realm, pw)}, rpid, avps, nil
	}
	col, ha1 := a.cfg.PasswordColumn, vals[0]
	if c.Domain != "" {
		col, ha1 = a.cfg.PasswordColumn2, vals[1]
	}
	// An empty or non-MD5 value must never be used: the response over an
	// empty HA1 is computable by anyone.
	if len(ha1) != 32 || !isHex(ha1) {
		return nil, "", nil, fmt.Errorf("column %s of user %s: %w", col, c.User, errStoredHA1)
	}
	return []string{ha1}, rpid, avps, nil
}

// errNoPlaintext: calculate_ha1 found no plain-text password.
var errNoPlaintext = errors.New("no plain-text password stored (calculate_ha1 needs the store_plaintext_passwords option, or drop calculate_ha1 to use the ha1 column)")

// errStoredHA1: the hash column of a user does not hold an MD5 hash.
var errStoredHA1 = errors.New("stored HA1 is not 32 hex digits")

// failed counts a wrong answer for the guessing limits.
func (a *Module) failed(k throttleKeys, now time.Time, log *slog.Logger) {
	if a.guard != nil {
		a.guard.fail(k, now, log)
	}
}

// reply sends a reply to m through sl (so that sl_stats count it and the
// To-tag is sl's) or, without sl, through the core; hdr is an extra
// header line for this reply only.
func (a *Module) reply(m *sipmsg.Msg, code int, reason, hdr string) error {
	if hdr != "" {
		saved := m.ReplyHeaders
		m.ReplyHeaders = append(saved[:len(saved):len(saved)], hdr)
		defer func() { m.ReplyHeaders = saved }()
	}
	var err error
	if a.sl != nil {
		err = a.sl.Reply(m, code, reason)
	} else if a.core != nil {
		err = a.core.Reply(m, code, reason, module.ReplyOpts{})
	} else {
		err = errors.New("module not initialised")
	}
	if err != nil {
		a.log.ErrorContext(module.MsgCtx(m), "auth: cannot send reply", "code", code, "err", err)
	}
	return err
}
