// Package jabber is SER 0.9's SIP–XMPP (Jabber) gateway. A SIP user whose
// XMPP account is in the jusers table chats with XMPP users: a MESSAGE to
// user*server@jdomain, handed to jab_send_message, goes out as an XMPP
// message over the user's own XMPP connection (logged in on first use or
// by jab_go_online, kept while used, closed after cache_time idle or by
// jab_go_offline), and an XMPP message to that account comes back as a
// SIP MESSAGE through tm, from user*server@jdomain to the SIP user.
// jab_join_jconf/jab_exit_jconf enter and leave multi-user chat rooms
// (nick*room*server@jdomain).
//
// The SIP side never waits for the XMPP server: the functions only check
// what is known (the account, the capacity, the server's state) and hand
// the work to the user's connection; a server that is down makes them
// false at once. Connections lost when the server restarts are
// re-established with backoff.
package jabber

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/modules/pa"
	"ser/core/modules/tm"
	"ser/core/sipmsg"
	"ser/core/store"
)

// dbTimeout bounds the account look-up on the message path.
const dbTimeout = 3 * time.Second

// UAC sends the SIP MESSAGEs: tm's local UAC.
type UAC interface {
	Originate(r tm.UACRequest, done func(tm.UACResult)) (string, error)
}

// Presence is where the roster presence of the gateway's users goes: the
// pa module's external status of the gateway address
// (sip:bob*server@jdomain), which pa notifies to its SIP watchers.
type Presence interface {
	SetExternalStatus(uri string, basic pa.Basic, note string) error
	ClearExternalStatus(uri string)
}

// Module is one server's gateway.
type Module struct {
	dbURL        string
	jaddress     string
	jport        int
	jdomainRaw   string
	aliasesRaw   string
	proxyRaw     string
	registrarRaw string
	workers      int
	maxJobs      int
	cacheTime    int
	delayTime    int
	sleepTime    int
	checkTime    int

	addr      addressing
	proxy     string // next hop URI of the SIP requests ("" = routed)
	registrar string // "sip:jabber_gateway@127.0.0.1"

	log  *slog.Logger
	core module.Core
	st   *store.Store
	uac  UAC
	pres Presence // pa, when loaded: roster presence for SIP watchers

	mu       sync.Mutex
	sessions map[string]*session // by sip_id
	load     []int               // sessions per worker
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	down     atomic.Bool // the XMPP server refused or dropped us
	probing  atomic.Bool
}

// New returns an instance with SER 0.9's defaults.
func New() *Module {
	return &Module{
		jaddress: DefaultJAddress, jport: DefaultJPort, workers: DefaultWorkers, maxJobs: DefaultMaxJobs,
		cacheTime: DefaultCacheTime, delayTime: DefaultDelayTime, sleepTime: DefaultSleepTime, checkTime: DefaultCheckTime,
		log:      slog.Default().With("module", "jabber"),
		sessions: map[string]*session{},
	}
}

func positive(name string, set func(*Module, int)) func(*Module, int) error {
	return func(m *Module, n int) error {
		if n <= 0 {
			return fmt.Errorf("jabber: %s must be positive, not %d", name, n)
		}
		set(m, n)
		return nil
	}
}

func port(m *Module, n int) error {
	if n <= 0 || n > 65535 {
		return fmt.Errorf("jabber: jport %d is not a port", n)
	}
	m.jport = n
	return nil
}

// SetUAC replaces the client that sends the SIP requests (tests).
func (m *Module) SetUAC(u UAC) { m.uac = u }

func initModule(m *Module, env *module.Env) error {
	if env.Log != nil {
		m.log = env.Log
	}
	m.core = env.Core
	if strings.TrimSpace(m.jdomainRaw) == "" {
		return errors.New("jabber: jdomain is not set (SER refused to start without it too): modparam(\"jabber\", \"jdomain\", \"jabber.example.com=*\")")
	}
	var err error
	if m.addr.jdomain, m.addr.delim, err = parseJDomain(m.jdomainRaw); err != nil {
		return fmt.Errorf("jabber: %w", err)
	}
	if m.addr.aliases, err = parseAliases(m.aliasesRaw); err != nil {
		return fmt.Errorf("jabber: %w", err)
	}
	if p := strings.TrimSpace(m.proxyRaw); p != "" {
		if !strings.HasPrefix(strings.ToLower(p), "sip:") {
			p = "sip:" + p
		}
		var u sip.Uri
		if err := sip.ParseUri(p, &u); err != nil || u.Host == "" {
			return fmt.Errorf("jabber: proxy %q is not host[:port] or a SIP URI", m.proxyRaw)
		}
		m.proxy = p
	}
	m.registrar = DefaultRegistrar
	if r := strings.TrimSpace(m.registrarRaw); r != "" {
		m.registrar = r
	}
	if !strings.HasPrefix(strings.ToLower(m.registrar), "sip:") {
		m.registrar = "sip:" + m.registrar
	}
	if strings.TrimSpace(m.jaddress) == "" {
		return errors.New("jabber: jaddress is empty")
	}
	t, ok := module.Get[*tm.TM](env, "tm")
	if !ok {
		return errors.New("jabber: needs the tm module to send the SIP messages")
	}
	m.uac = t
	if p, ok := module.Get[*pa.Module](env, "pa"); ok {
		m.pres = p
	}
	m.load = make([]int, m.workers)
	if env.Check {
		return env.CheckDBURL(m.dbURL)
	}
	st, err := env.OpenDB("jabber", m.dbURL)
	if err != nil {
		return err
	}
	m.st = st
	return nil
}

// Start lets the gateway open connections; ctx ends them.
func (m *Module) Start(ctx context.Context) error {
	m.mu.Lock()
	m.ctx, m.cancel = context.WithCancel(ctx)
	m.mu.Unlock()
	return nil
}

// Stop logs every user out and waits for the connections to close.
func (m *Module) Stop() {
	m.mu.Lock()
	if m.cancel != nil {
		m.cancel()
	}
	m.mu.Unlock()
	m.wg.Wait()
}

// server is the XMPP server's address (jaddress:jport).
func (m *Module) server() string { return net.JoinHostPort(m.jaddress, strconv.Itoa(m.jport)) }

// Sessions returns the SIP users with an XMPP session, and whether each is
// online (tests, logs).
func (m *Module) Sessions() map[string]bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]bool{}
	for id, s := range m.sessions {
		out[id] = s.online()
	}
	return out
}

type op int

const (
	opSend op = iota
	opJoin
	opExit
	opOnline
	opOffline
)

func (o op) String() string {
	return [...]string{"jab_send_message", "jab_join_jconf", "jab_exit_jconf", "jab_go_online", "jab_go_offline"}[o]
}

func fixup(o op) func(any, *module.Env, []module.Value) (module.Handler, error) {
	return module.FixupOf(func(m *Module, _ *module.Env, _ []module.Value) (module.Handler, error) {
		return func(msg *sipmsg.Msg) (int, error) {
			if err := m.handle(msg, o); err != nil {
				m.log.InfoContext(module.MsgCtx(msg), "jabber: "+o.String()+" failed", "err", err)
				return -1, nil
			}
			return 1, nil
		}, nil
	})
}

// job is what a SIP request asks of a user's connection.
type job struct {
	op      op
	to      string // gateway address the SIP user wrote to (user@host, no sip:)
	jid     string // its JID (room JID for conferences)
	nick    string // conference nickname
	body    string
	groupch bool
	at      time.Time
}

// handle checks the request and hands the job to the user's session.
func (m *Module) handle(msg *sipmsg.Msg, o op) error {
	req := msg.Req
	if req == nil || m.st == nil {
		return errors.New("not a request")
	}
	m.mu.Lock()
	started := m.ctx != nil
	m.mu.Unlock()
	if !started {
		return errors.New("the gateway is not running")
	}
	from := req.From()
	if from == nil || from.Address.User == "" || from.Address.Host == "" {
		return errors.New("no From header with a user")
	}
	sipID := "sip:" + from.Address.User + "@" + from.Address.Host // SER's AoR of the From URI
	j := job{op: o, at: time.Now()}
	if o == opSend {
		body, err := textBody(msg)
		if err != nil {
			return err
		}
		j.body = body
	}
	if o == opSend || o == opJoin || o == opExit {
		user, host, err := m.destination(msg)
		if err != nil {
			return err
		}
		j.to = user + "@" + host
		if m.addr.isConference(user) && strings.EqualFold(host, m.addr.jdomain) {
			j.jid, j.nick, err = m.addr.room(user, from.Address.User)
			j.groupch = true
		} else if o != opSend {
			err = fmt.Errorf("%s is not a conference address (nick%croom%cserver@%s)", j.to, m.addr.delim, m.addr.delim, m.addr.jdomain)
		} else {
			j.jid, err = m.addr.toJID(user, host)
		}
		if err != nil {
			return err
		}
	}
	if o == opOffline || o == opExit {
		m.mu.Lock()
		s := m.sessions[sipID]
		m.mu.Unlock()
		if s == nil {
			return fmt.Errorf("no open XMPP session for %s", sipID)
		}
		return s.submit(j)
	}
	s, err := m.session(sipID)
	if err != nil {
		return err
	}
	if o == opSend && j.groupch && !s.inRoom(j.jid) {
		return fmt.Errorf("%s has not joined %s", sipID, j.jid)
	}
	return s.submit(j)
}

// destination is the gateway address the request is for: the R-URI as
// rewritten, as received, or the To URI — the first on jdomain or an
// alias (SER's order).
func (m *Module) destination(msg *sipmsg.Msg) (string, string, error) {
	cands := []*sip.Uri{msg.URI(), msg.OrigURI()}
	if to := msg.Req.To(); to != nil {
		cands = append(cands, &to.Address)
	}
	for _, u := range cands {
		if u != nil && u.User != "" && m.addr.ours(u.Host) {
			return u.User, strings.ToLower(u.Host), nil
		}
	}
	return "", "", fmt.Errorf("neither the R-URI nor To is an address of %s or an alias", m.addr.jdomain)
}

// textBody returns the MESSAGE's text: text/plain, or message/cpim
// carrying text/plain (SER accepted both types).
func textBody(msg *sipmsg.Msg) (string, error) {
	if msg.Req.ContentLength() == nil {
		return "", errors.New("no Content-Length header")
	}
	ct := strings.TrimSpace(msg.Header("Content-Type"))
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", fmt.Errorf("bad Content-Type %q", ct)
	}
	body := string(msg.Req.Body())
	switch mt {
	case "text/plain":
	case "message/cpim":
		// CPIM: message headers, a blank line, MIME headers, a blank line, content.
		parts := strings.SplitN(strings.ReplaceAll(body, "\r\n", "\n"), "\n\n", 3)
		if len(parts) != 3 || !strings.Contains(strings.ToLower(parts[1]), "text/plain") {
			return "", errors.New("message/cpim without a text/plain content")
		}
		body = parts[2]
	default:
		return "", fmt.Errorf("content type %s is neither text/plain nor message/cpim", mt)
	}
	if body == "" {
		return "", errors.New("empty message")
	}
	return body, nil
}

// session returns sipID's session, creating it (and starting its login)
// when there is room and the user has an enabled account.
func (m *Module) session(sipID string) (*session, error) {
	m.mu.Lock()
	if s := m.sessions[sipID]; s != nil {
		m.mu.Unlock()
		return s, nil
	}
	m.mu.Unlock()
	if m.down.Load() {
		m.probe()
		return nil, fmt.Errorf("the XMPP server %s is down", m.server())
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	acct, err := m.st.EnabledJabberAccount(ctx, sipID)
	cancel()
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.sessions[sipID]; s != nil {
		return s, nil
	}
	w := 0
	for i, n := range m.load {
		if n < m.load[w] {
			w = i
		}
	}
	if m.load[w] >= m.maxJobs {
		return nil, fmt.Errorf("the gateway is full (%d workers × %d users)", m.workers, m.maxJobs)
	}
	if m.ctx == nil || m.ctx.Err() != nil {
		return nil, errors.New("the gateway is stopping")
	}
	s := newSession(m, acct, w)
	m.sessions[sipID] = s
	m.load[w]++
	m.wg.Add(1)
	go s.run(m.ctx)
	return s, nil
}

// drop forgets a session that ended.
func (m *Module) drop(s *session) {
	m.mu.Lock()
	if m.sessions[s.sipID] == s {
		delete(m.sessions, s.sipID)
		m.load[s.worker]--
	}
	m.mu.Unlock()
}

// probe checks in the background, with backoff up to check_time, whether
// a server that is down accepts connections again.
func (m *Module) probe() {
	if !m.probing.CompareAndSwap(false, true) {
		return
	}
	m.mu.Lock()
	ctx := m.ctx
	if ctx == nil || ctx.Err() != nil { // stopping: Stop waits for wg
		m.mu.Unlock()
		m.probing.Store(false)
		return
	}
	m.wg.Add(1)
	m.mu.Unlock()
	go func() {
		defer m.wg.Done()
		defer m.probing.Store(false)
		wait := time.Second
		for m.down.Load() {
			c, err := net.DialTimeout("tcp", m.server(), 3*time.Second)
			if err == nil {
				c.Close()
				m.down.Store(false)
				m.log.Info("jabber: the XMPP server accepts connections again", "server", m.server())
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, time.Duration(m.checkTime)*time.Second)
		}
	}()
}

// sendSIP sends the SIP user sipID a MESSAGE from the gateway address
// from (user@host, no scheme); failed says what to do when it is not
// answered with a 2xx.
func (m *Module) sendSIP(sipID, from, text string, failed func(code int)) {
	fromURI := from
	if !strings.HasPrefix(strings.ToLower(fromURI), "sip:") {
		fromURI = "sip:" + fromURI
	}
	next := m.proxy
	if next == "" {
		next = tm.LocalNextHop(m.core, sipID)
	}
	_, err := m.uac.Originate(tm.UACRequest{
		Method: "MESSAGE", RURI: sipID, To: "<" + sipID + ">", From: "<" + fromURI + ">",
		Headers: []string{"Content-Type: text/plain", "Contact: <" + fromURI + ">"},
		Body:    []byte(text), NextHop: next,
	}, func(res tm.UACResult) {
		if res.Code >= 300 && failed != nil {
			failed(res.Code)
		}
	})
	if err != nil {
		m.log.Warn("jabber: SIP MESSAGE not sent", "to", sipID, "from", fromURI, "err", err)
		if failed != nil {
			failed(500)
		}
	}
}
