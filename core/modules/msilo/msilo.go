// Package msilo is SER's store for undelivered instant messages. In the
// classic configuration a MESSAGE for a user who is not registered is kept
// by m_store in the silo table (and the sender is told so by a MESSAGE from
// the registrar address); when the user registers, m_dump sends every
// stored message to the user through tm, and each is deleted once the
// user's phone answered it with a 2xx. A timer removes the messages whose
// expiry passed. The messages are in the database, so they survive a
// restart.
package msilo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/modules/tm"
	"ser/core/sipmsg"
	"ser/core/store"
)

// dbTimeout bounds one database call from the message path or the timer.
const dbTimeout = 5 * time.Second

// offlineText follows the destination's URI in the notice to the sender
// (SER's OFFLINE_MESSAGE).
const offlineText = "] is offline. The message will be delivered when user goes online."

// UAC sends the notices and the stored messages: tm's local UAC
// ((*tm.TM).Originate).
type UAC interface {
	Originate(r tm.UACRequest, done func(tm.UACResult)) (string, error)
}

// Module is one server's msilo instance.
type Module struct {
	dbURL       string
	table       string
	registrar   string
	expireTime  int
	checkTime   int
	cleanPeriod int
	useContact  bool
	maxMessages int

	log  *slog.Logger
	core module.Core
	st   *store.Store
	uac  UAC
	now  func() time.Time

	// sent holds the mids of messages m_dump handed to tm: false while
	// the reply is awaited, true once a 2xx came and until the row is
	// deleted. m_dump skips them, so a message is not sent twice at once.
	mu    sync.Mutex
	sent  map[int]bool
	flush chan struct{}
	timer module.Periodic
	ticks int
	bg    sync.WaitGroup
	stop  context.CancelFunc
}

// New returns an instance with SER 0.9's defaults.
func New() *Module {
	return &Module{
		table:       defaultTable,
		expireTime:  DefaultExpireTime,
		checkTime:   DefaultCheckTime,
		cleanPeriod: DefaultCleanPeriod,
		useContact:  true,
		maxMessages: DefaultMaxMessages,
		log:         slog.Default().With("module", "msilo"),
		now:         time.Now,
		sent:        map[int]bool{},
		flush:       make(chan struct{}, 1),
	}
}

func positive(name string, set func(*Module, int)) func(*Module, int) error {
	return func(m *Module, n int) error {
		if n <= 0 {
			return fmt.Errorf("msilo: %s must be positive, not %d", name, n)
		}
		set(m, n)
		return nil
	}
}

func setMaxMessages(m *Module, n int) error {
	if n < 0 {
		return fmt.Errorf("msilo: max_messages must not be negative, not %d", n)
	}
	m.maxMessages = n
	return nil
}

// setRegistrar takes the address the notices come from; "" sends none.
func setRegistrar(m *Module, v module.Value) error {
	s := strings.TrimSpace(v.String())
	if s != "" {
		if _, err := parseSIPURI(s); err != nil {
			return fmt.Errorf("msilo: registrar %q is not a SIP URI", s)
		}
	}
	m.registrar = s
	return nil
}

// SetClock replaces the clock (tests).
func (m *Module) SetClock(now func() time.Time) { m.now = now }

// SetUAC replaces the client that sends the requests (tests).
func (m *Module) SetUAC(u UAC) { m.uac = u }

// DB returns the database the module uses (nil in a config check).
func (m *Module) DB() *store.Store { return m.st }

func initModule(m *Module, env *module.Env) error {
	if env.Log != nil {
		m.log = env.Log
	}
	m.core = env.Core
	t, ok := module.Get[*tm.TM](env, "tm")
	if !ok {
		return fmt.Errorf("msilo: needs the tm module to send the messages")
	}
	m.uac = t
	if env.Check {
		return env.CheckDBURL(m.dbURL)
	}
	st, err := env.OpenDB("msilo", m.dbURL)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	if err := st.CheckSiloTable(ctx, m.table); err != nil {
		return fmt.Errorf("msilo: %w", err)
	}
	m.st = st
	return nil
}

// Start runs the timer: every check_time seconds the rows of delivered
// messages are deleted, every clean_period-th time also the expired ones.
// A 2xx for a dumped message also deletes it at once.
func (m *Module) Start(ctx context.Context) error {
	ctx, m.stop = context.WithCancel(ctx)
	m.bg.Add(1)
	go func() {
		defer m.bg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case <-m.flush:
				m.deleteDelivered()
			}
		}
	}()
	return m.timer.Start(ctx, time.Duration(m.checkTime)*time.Second, m.Tick)
}

// Stop ends the timer and deletes the rows of messages delivered so far.
func (m *Module) Stop() {
	m.timer.Stop()
	if m.stop != nil {
		m.stop()
	}
	m.bg.Wait()
	if m.st != nil {
		m.deleteDelivered()
	}
}

// Tick is one run of the timer (SER's m_clean_silo).
func (m *Module) Tick() {
	m.deleteDelivered()
	m.mu.Lock()
	m.ticks++
	clean := m.ticks%m.cleanPeriod == 0
	m.mu.Unlock()
	if clean {
		m.CleanExpired()
	}
}

// CleanExpired deletes the messages whose expiry time has passed.
func (m *Module) CleanExpired() {
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	n, err := m.st.DeleteExpiredSilo(ctx, m.table, m.now())
	if err != nil {
		m.log.Error("msilo: cleaning expired messages failed", "err", err)
		return
	}
	if n > 0 {
		m.log.Info("msilo: expired messages deleted", "count", n)
	}
}

// deleteDelivered deletes the rows of the messages answered with a 2xx.
func (m *Module) deleteDelivered() {
	m.mu.Lock()
	var mids []int
	for mid, ok := range m.sent {
		if ok {
			mids = append(mids, mid)
		}
	}
	m.mu.Unlock()
	if len(mids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	if _, err := m.st.DeleteSiloMessages(ctx, m.table, mids...); err != nil {
		// Kept marked: the next tick tries again, m_dump does not resend.
		m.log.Error("msilo: deleting delivered messages failed", "count", len(mids), "err", err)
		return
	}
	m.mu.Lock()
	for _, mid := range mids {
		delete(m.sent, mid)
	}
	m.mu.Unlock()
}

// delivered records the outcome of a dumped message.
func (m *Module) delivered(mid int, res tm.UACResult) {
	m.mu.Lock()
	if res.Code >= 200 && res.Code < 300 {
		m.sent[mid] = true
	} else {
		// Not delivered: the next m_dump for the user sends it again.
		delete(m.sent, mid)
	}
	m.mu.Unlock()
	if res.Code >= 200 && res.Code < 300 {
		select {
		case m.flush <- struct{}{}:
		default:
		}
		m.log.Info("msilo: stored message delivered", "mid", mid, "code", res.Code)
		return
	}
	m.log.Info("msilo: stored message not delivered, kept", "mid", mid, "code", res.Code, "reason", res.Reason)
}

// StoreMode is m_store's first argument: where the recipient is taken
// from.
type StoreMode int

const (
	// ModeNewURI: the rewritten R-URI when it is an address of record,
	// else as ModeRURI.
	ModeNewURI StoreMode = iota
	// ModeRURI: the R-URI as received when it is an address of record,
	// else the To URI.
	ModeRURI
	// ModeTo: the To URI.
	ModeTo
)

func fixupStore(m *Module, _ *module.Env, args []module.Value) (module.Handler, error) {
	s := strings.TrimSpace(args[0].String())
	if s != "0" && s != "1" && s != "2" {
		return nil, fmt.Errorf("msilo: m_store mode must be 0, 1 or 2, not %q", args[0].String())
	}
	mode := StoreMode(s[0] - '0')
	nextHop, err := nextHopArg("m_store", args[1:])
	if err != nil {
		return nil, err
	}
	return func(msg *sipmsg.Msg) (int, error) {
		if err := m.Store(msg, mode, nextHop); err != nil {
			m.log.InfoContext(module.MsgCtx(msg), "msilo: message not stored", "err", err)
			return -1, nil
		}
		return 1, nil
	}, nil
}

func fixupDump(m *Module, _ *module.Env, args []module.Value) (module.Handler, error) {
	nextHop, err := nextHopArg("m_dump", args)
	if err != nil {
		return nil, err
	}
	return func(msg *sipmsg.Msg) (int, error) {
		n, err := m.Dump(msg, nextHop)
		if err != nil {
			m.log.InfoContext(module.MsgCtx(msg), "msilo: messages not dumped", "err", err)
			return -1, nil
		}
		if n > 0 {
			m.log.InfoContext(module.MsgCtx(msg), "msilo: dumping stored messages", "count", n)
		}
		return 1, nil
	}, nil
}

// nextHopArg is the optional next_hop argument of the later SER line's
// m_store(mode, next_hop) and m_dump(next_hop): the URI of an outbound
// proxy the requests are sent through.
func nextHopArg(fn string, args []module.Value) (string, error) {
	if len(args) == 0 || args[0].String() == "" {
		return "", nil
	}
	s := args[0].String()
	if _, err := parseSIPURI(s); err != nil {
		return "", fmt.Errorf("msilo: %s: next hop %q is not a SIP URI", fn, s)
	}
	return s, nil
}

// Store keeps the MESSAGE in msg for its recipient (m_store) and, when
// registrar is set, tells the sender so.
func (m *Module) Store(msg *sipmsg.Msg, mode StoreMode, nextHop string) error {
	req := msg.Req
	if req == nil || m.st == nil {
		return errors.New("not a request")
	}
	if req.ContentLength() == nil {
		return errors.New("no Content-Length header")
	}
	body := req.Body()
	if len(body) == 0 {
		return errors.New("the message has no body")
	}
	to := req.To()
	if to == nil {
		return errors.New("no To header")
	}
	from := req.From()
	if from == nil {
		return errors.New("no From header")
	}
	toURI, fromURI := uriText(&to.Address), uriText(&from.Address)
	if m.registrar != "" && strings.EqualFold(toURI, m.registrar) {
		return errors.New("message to the registrar address")
	}
	if m.registrar != "" && strings.EqualFold(fromURI, m.registrar) {
		return errors.New("message from the registrar address")
	}
	user, host := m.recipient(msg, mode, &to.Address)
	host = strings.ToLower(host) // host names are case-insensitive
	if user == "" || host == "" {
		return fmt.Errorf("bad recipient URI %s", toURI)
	}
	ctype, err := contentType(msg)
	if err != nil {
		return err
	}
	lifetime := m.expireTime
	if v := strings.TrimSpace(msg.Header("Expires")); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 && n < lifetime {
			lifetime = n
		}
	}
	now := m.now()
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	mid, err := m.st.StoreSiloMessage(ctx, m.table, store.SiloMessage{
		From: fromURI, To: toURI, Username: user, Domain: host,
		Received: now, Expires: now.Add(time.Duration(lifetime) * time.Second),
		ContentType: ctype, Body: body,
	}, m.maxMessages)
	if err != nil {
		return err
	}
	m.log.InfoContext(module.MsgCtx(msg), "msilo: message stored", "mid", mid, "to", toURI, "from", fromURI, "expires", lifetime)
	if m.registrar != "" {
		m.notify(msg, fromURI, toURI, nextHop)
	}
	return nil
}

// notify sends the sender the registrar's MESSAGE saying the recipient is
// offline: to the sender's Contact when use_contact is on and it is a
// sip: URI, else to the From URI. Its outcome is not awaited.
func (m *Module) notify(msg *sipmsg.Msg, fromURI, toURI, nextHop string) {
	ruri := fromURI
	if m.useContact {
		if c := firstContact(msg); c != "" {
			ruri = c
		}
	}
	r := tm.UACRequest{
		Method: "MESSAGE", RURI: ruri, To: "<" + fromURI + ">", From: "<" + m.registrar + ">",
		Headers: []string{"Content-Type: text/plain", "Contact: <" + m.registrar + ">;msilo=yes"},
		Body:    []byte("User [" + toURI + offlineText),
		NextHop: m.nextHop(ruri, nextHop),
	}
	ctx := module.MsgCtx(msg)
	if _, err := m.uac.Originate(r, func(res tm.UACResult) {
		m.log.DebugContext(ctx, "msilo: notice answered", "to", fromURI, "code", res.Code)
	}); err != nil {
		m.log.WarnContext(ctx, "msilo: notice to the sender not sent", "to", ruri, "err", err)
	}
}

// Dump sends the stored messages of the user the REGISTER in msg is for
// (m_dump) and returns how many it handed to tm. A REGISTER that removes
// the user's bindings (Expires: 0) dumps nothing and is an error, as in
// SER.
func (m *Module) Dump(msg *sipmsg.Msg, nextHop string) (int, error) {
	req := msg.Req
	if req == nil || m.st == nil {
		return 0, errors.New("not a request")
	}
	to := req.To()
	if to == nil {
		return 0, errors.New("no To header")
	}
	if goesOffline(req) {
		return 0, fmt.Errorf("user %s goes offline", uriText(&to.Address))
	}
	user, host := to.Address.User, strings.ToLower(to.Address.Host)
	if user == "" || host == "" {
		return 0, fmt.Errorf("bad URI in To header: %s", uriText(&to.Address))
	}
	aor := uriText(&to.Address)
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	msgs, err := m.st.SiloMessages(ctx, m.table, user, host, m.now(), m.maxMessages)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range msgs {
		m.mu.Lock()
		_, busy := m.sent[s.MID]
		if !busy {
			m.sent[s.MID] = false
		}
		m.mu.Unlock()
		if busy {
			continue
		}
		var hdrs []string
		if s.ContentType != "" {
			hdrs = append(hdrs, "Content-Type: "+s.ContentType)
		}
		if s.From != "" {
			hdrs = append(hdrs, "Contact: <"+s.From+">;msilo=yes")
		}
		mid := s.MID
		_, err := m.uac.Originate(tm.UACRequest{
			Method: "MESSAGE", RURI: aor, To: "<" + s.To + ">", From: "<" + s.From + ">",
			Headers: hdrs, Body: dumpBody(s), NextHop: m.nextHop(aor, nextHop),
		}, func(res tm.UACResult) { m.delivered(mid, res) })
		if err != nil {
			m.mu.Lock()
			delete(m.sent, mid)
			m.mu.Unlock()
			m.log.WarnContext(module.MsgCtx(msg), "msilo: stored message not sent", "mid", mid, "to", aor, "err", err)
			continue
		}
		n++
	}
	return n, nil
}

// dumpBody is the delivered body: for text/plain SER's "[Offline message
// - <ctime of arrival>] " before the text, other types as stored.
func dumpBody(s store.SiloMessage) []byte {
	if !strings.EqualFold(s.ContentType, "text/plain") {
		return s.Body
	}
	prefix := "[Offline message - " + s.Received.Local().Format("Mon Jan _2 15:04:05 2006") + "]"
	if len(s.Body) == 0 {
		return []byte(prefix)
	}
	return append([]byte(prefix+" "), s.Body...)
}

// nextHop is where a request to ruri goes: the explicit next hop when
// given, else this server when ruri's domain is served here
// (tm.LocalNextHop).
func (m *Module) nextHop(ruri, explicit string) string {
	if explicit != "" {
		return explicit
	}
	return tm.LocalNextHop(m.core, ruri)
}

// recipient picks the user and host the message is stored for (SER's
// m_store modes): a rewritten R-URI (mode 0) or the received R-URI (modes
// 0 and 1) when it has a user and a host that is not an IP address, else
// the To URI.
func (m *Module) recipient(msg *sipmsg.Msg, mode StoreMode, to *sip.Uri) (string, string) {
	aor := func(u *sip.Uri) bool {
		if u == nil || u.User == "" || u.Host == "" {
			return false
		}
		_, err := netip.ParseAddr(strings.Trim(u.Host, "[]"))
		return err != nil
	}
	if mode == ModeNewURI && msg.URIString() != msg.OrigURI().String() && aor(msg.URI()) {
		return msg.URI().User, msg.URI().Host
	}
	if mode <= ModeRURI && aor(msg.OrigURI()) {
		return msg.OrigURI().User, msg.OrigURI().Host
	}
	return to.User, to.Host
}

// contentType returns the MESSAGE's media type without parameters; a
// MESSAGE without a Content-Type is refused, as SER did.
func contentType(msg *sipmsg.Msg) (string, error) {
	v := strings.TrimSpace(msg.Header("Content-Type"))
	if v == "" {
		return "", errors.New("no Content-Type header")
	}
	t, _, _ := strings.Cut(v, ";")
	t = strings.TrimSpace(t)
	if !strings.Contains(t, "/") || strings.ContainsAny(t, " \t") {
		return "", fmt.Errorf("bad Content-Type %q", v)
	}
	if len(t) > 32 {
		return "", fmt.Errorf("Content-Type %q longer than the ctype column (32)", t)
	}
	return t, nil
}

// firstContact returns the first Contact URI of msg when it is a sip: URI
// (SER's check for the notice), else "".
func firstContact(msg *sipmsg.Msg) string {
	for _, h := range msg.Req.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok || c.Address.Wildcard {
			return ""
		}
		if c.Address.Scheme != "sip" || c.Address.Host == "" {
			return ""
		}
		return uriText(&c.Address)
	}
	return ""
}

// goesOffline reports whether a REGISTER removes the user's bindings: an
// Expires header of 0 (SER's check), or every Contact with expires=0 or
// Contact: *.
func goesOffline(req *sip.Request) bool {
	if h := req.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n <= 0 {
			return true
		}
	}
	cs := req.GetHeaders("Contact")
	if len(cs) == 0 {
		return false
	}
	for _, h := range cs {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			return false
		}
		if c.Address.Wildcard {
			continue
		}
		e, ok := c.Params.Get("expires")
		if !ok {
			return false
		}
		if n, err := strconv.Atoi(strings.TrimSpace(e)); err != nil || n > 0 {
			return false
		}
	}
	return true
}

// uriText prints a URI as SER took it from a header.
func uriText(u *sip.Uri) string { return u.String() }

// parseSIPURI parses a sip:/sips: URI with a host.
func parseSIPURI(s string) (*sip.Uri, error) {
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil {
		return nil, err
	}
	if u.Host == "" || (u.Scheme != "sip" && u.Scheme != "sips") {
		return nil, fmt.Errorf("not a SIP URI: %q", s)
	}
	return &u, nil
}
