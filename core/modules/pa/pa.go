// Package pa is SER 0.9's presence agent: it answers SUBSCRIBE for the
// "presence" event (RFC 3856) and sends the watchers NOTIFYs with PIDF
// documents (RFC 3863) through tm, accepts PUBLISH (RFC 3903), and derives
// a user's presence from usrloc when the user publishes nothing (registered
// → open, no contacts → closed). Subscriptions and publications are kept
// in the database (use_db) and survive a restart.
//
// Other modules set a presentity's state from an external source (the
// jabber gateway) with SetExternalStatus; Status reads the state (the web
// console).
package pa

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"ser/core/module"
	"ser/core/modules/tm"
	"ser/core/modules/usrloc"
	"ser/core/store"
)

// dbTimeout bounds one database call.
const dbTimeout = 5 * time.Second

// UAC sends the NOTIFYs: tm's local UAC ((*tm.TM).Originate).
type UAC interface {
	Originate(r tm.UACRequest, done func(tm.UACResult)) (string, error)
}

// Basic is a PIDF basic status.
type Basic string

// The two basic states of RFC 3863.
const (
	Open   Basic = "open"
	Closed Basic = "closed"
)

// Module is one server's pa instance.
type Module struct {
	dbURL            string
	useDB            bool
	defaultExpires   int
	maxExpires       int
	timerInterval    int
	maxPerPresentity int
	maxTotal         int
	maxPublications  int
	tables           store.PATables

	log   *slog.Logger
	core  module.Core
	tm    *tm.TM
	uac   UAC
	ul    *usrloc.Module
	st    *store.Store
	now   func() time.Time
	timer module.Periodic

	mu      sync.Mutex
	domains map[string]*pdomain
	names   map[string]bool // the domains the script names
	total   int             // subscriptions in all domains
	// pubTotal counts the publications in all domains, bounded by
	// max_total_subscriptions too.
	pubTotal int
}

// pdomain is a presence domain (the argument of the script functions):
// its presentities by URI.
type pdomain struct {
	name    string
	loaded  bool
	pres    map[string]*presentity
	byDlg   map[string]*watcher // callid/fromtag/totag
	ulTable string              // the usrloc table registrations come from
}

// presentity is one user's presence: the publications, the external
// state and the subscriptions.
type presentity struct {
	uri      string // sip:user@host
	user     string
	host     string
	pubs     map[string]*publication // by entity tag
	ext      *publication            // SetExternalStatus
	watchers map[string]*watcher     // by s_id
	last     string                  // the document last notified
}

// publication is one published tuple.
type publication struct {
	etag    string
	tupleID string
	basic   Basic
	note    string
	contact string
	expires time.Time
	seq     int64 // order of arrival: the newest note wins
}

// watcher is one subscription.
type watcher struct {
	store.Watcher
	pres *presentity
}

// New returns an instance with SER 0.9's defaults.
func New() *Module {
	return &Module{
		defaultExpires:   DefaultExpires,
		maxExpires:       DefaultMaxExpires,
		timerInterval:    DefaultTimerInterval,
		maxPerPresentity: DefaultMaxSubscriptions,
		maxTotal:         DefaultMaxTotal,
		maxPublications:  DefaultMaxPublications,
		log:              slog.Default().With("module", "pa"),
		now:              time.Now,
		domains:          map[string]*pdomain{},
		names:            map[string]bool{},
	}
}

// SetClock replaces the clock (tests).
func (m *Module) SetClock(now func() time.Time) { m.now = now }

// SetUAC replaces the client that sends the NOTIFYs (tests).
func (m *Module) SetUAC(u UAC) { m.uac = u }

// SetUsrloc sets the usrloc instance registrations are read from (tests).
func (m *Module) SetUsrloc(u *usrloc.Module) { m.ul = u }

func initModule(m *Module, env *module.Env) error {
	if env.Log != nil {
		m.log = env.Log
	}
	m.core = env.Core
	t, ok := module.Get[*tm.TM](env, "tm")
	if !ok {
		return fmt.Errorf("pa: needs the tm module to send NOTIFYs")
	}
	m.tm, m.uac = t, t
	if ul, ok := module.Get[*usrloc.Module](env, "usrloc"); ok {
		m.ul = ul
	}
	if m.maxExpires < m.defaultExpires {
		m.maxExpires = m.defaultExpires
	}
	if !m.useDB {
		return nil
	}
	if env.Check {
		return env.CheckDBURL(m.dbURL)
	}
	st, err := env.OpenDB("pa", m.dbURL)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	if err := st.CheckPATables(ctx, m.tables); err != nil {
		return fmt.Errorf("pa: %w", err)
	}
	m.st = st
	return nil
}

// Start runs the timer (SER's timer_interval): it ends expired
// subscriptions and publications and notices registrations that expired.
func (m *Module) Start(ctx context.Context) error {
	m.mu.Lock()
	for name := range m.names {
		m.domainLocked(name) // subscriptions stored by the last run
	}
	m.mu.Unlock()
	return m.timer.Start(ctx, time.Duration(m.timerInterval)*time.Second, m.Tick)
}

// Stop ends the timer. Subscriptions stay in the database (use_db) for the
// next start.
func (m *Module) Stop() { m.timer.Stop() }

// domain returns the presence domain called name, loading its state from
// the database the first time.
func (m *Module) domain(name string) *pdomain {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.domainLocked(name)
}

func (m *Module) domainLocked(name string) *pdomain {
	d := m.domains[name]
	if d == nil {
		d = &pdomain{name: name, pres: map[string]*presentity{}, byDlg: map[string]*watcher{}}
		m.domains[name] = d
	}
	if !d.loaded && m.st != nil {
		m.loadLocked(d)
	}
	d.loaded = true
	return d
}

// loadLocked reads a domain's publications and subscriptions.
func (m *Module) loadLocked(d *pdomain) {
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	now := m.now()
	tps, err := m.st.PublishedTuples(ctx, m.tables, d.name)
	if err != nil {
		m.log.Error("pa: loading publications failed", "domain", d.name, "err", err)
	}
	for i, tp := range tps {
		if !tp.Expires.After(now) {
			continue
		}
		p := d.presentityLocked(tp.URI)
		m.pubTotal++
		p.pubs[tp.ETag] = &publication{etag: tp.ETag, tupleID: tp.TupleID, basic: Basic(tp.Basic), note: tp.Note,
			contact: tp.Contact, expires: tp.Expires, seq: int64(i)}
	}
	ws, err := m.st.Watchers(ctx, m.tables, d.name)
	if err != nil {
		m.log.Error("pa: loading subscriptions failed", "domain", d.name, "err", err)
	}
	for _, sw := range ws {
		if !sw.Expires.After(now) {
			continue
		}
		p := d.presentityLocked(sw.RURI)
		w := &watcher{Watcher: sw, pres: p}
		p.watchers[w.SID] = w
		d.byDlg[dlgKey(w.CallID, w.FromTag, w.ToTag)] = w
		m.total++
	}
	for _, p := range d.pres {
		p.last = m.documentLocked(d, p)
	}
	if len(tps)+len(ws) > 0 {
		m.log.Info("pa: state loaded", "domain", d.name, "publications", len(tps), "subscriptions", len(ws))
	}
}

// presentityLocked returns (creating) the presentity of uri.
func (d *pdomain) presentityLocked(uri string) *presentity {
	p := d.pres[uri]
	if p == nil {
		user, host := splitURI(uri)
		p = &presentity{uri: uri, user: user, host: host, pubs: map[string]*publication{}, watchers: map[string]*watcher{}}
		d.pres[uri] = p
	}
	return p
}

// dropIfIdleLocked forgets a presentity nobody watches or publishes.
func (d *pdomain) dropIfIdleLocked(p *presentity) {
	if len(p.pubs) == 0 && len(p.watchers) == 0 && p.ext == nil {
		delete(d.pres, p.uri)
	}
}

func dlgKey(callID, fromTag, toTag string) string {
	return callID + "\x00" + fromTag + "\x00" + toTag
}

// splitURI returns the user and host of "sip:user@host".
func splitURI(uri string) (string, string) {
	s := strings.TrimPrefix(strings.TrimPrefix(uri, "sips:"), "sip:")
	user, host, ok := strings.Cut(s, "@")
	if !ok {
		return "", user
	}
	return user, host
}

// newID returns a random hex id (entity tags, tags, subscription ids).
func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// registered reports whether the presentity has a registered contact in
// the usrloc table of the domain (excluding the contacts in skip, which a
// REGISTER being processed removes).
func (m *Module) registered(d *pdomain, p *presentity) bool {
	if m.ul == nil {
		return false
	}
	table := d.ulTable
	if table == "" {
		table = d.name
	}
	ud, ok := m.ul.Domain(table)
	if !ok {
		if ud, ok = m.ul.Domain("location"); !ok {
			return false
		}
	}
	key := strings.ToLower(p.user)
	if m.ul.Config().UseDomain {
		key += "@" + strings.ToLower(p.host)
	}
	cs, found := ud.Get(key)
	return found && len(cs) > 0
}

// state is a presentity's current presence: the publications (and the
// external state) when there are any, else the registration.
func (m *Module) stateLocked(d *pdomain, p *presentity) []publication {
	var out []publication
	for _, pb := range p.pubs {
		out = append(out, *pb)
	}
	if p.ext != nil {
		out = append(out, *p.ext)
	}
	if len(out) > 0 {
		return out
	}
	b := Closed
	if m.registered(d, p) {
		b = Open
	}
	return []publication{{tupleID: "reg", basic: b}}
}

// documentLocked is the PIDF document of the presentity's state.
func (m *Module) documentLocked(d *pdomain, p *presentity) string {
	return pidfDocument(p.uri, m.stateLocked(d, p))
}

// Status is a presentity's basic state and note: the published state when
// there is one, else open when the user is registered. domain "" means any
// domain the script used (the first with a publication), uri is
// "sip:user@host".
func (m *Module) Status(domain, uri string) (Basic, string) {
	uri = canonURI(uri)
	m.mu.Lock()
	defer m.mu.Unlock()
	var ds []*pdomain
	if domain != "" {
		ds = []*pdomain{m.domainLocked(domain)}
	} else {
		for _, d := range m.domains {
			ds = append(ds, d)
		}
	}
	best, note := Closed, ""
	for _, d := range ds {
		p := d.pres[uri]
		tmp := p
		if tmp == nil {
			user, host := splitURI(uri)
			tmp = &presentity{uri: uri, user: user, host: host}
		}
		for _, pb := range m.stateLocked(d, tmp) {
			if pb.basic == Open {
				best = Open
			}
			if pb.note != "" {
				note = pb.note
			}
		}
	}
	if len(ds) == 0 && m.ul != nil {
		tmp := &pdomain{name: "location"}
		user, host := splitURI(uri)
		if m.registered(tmp, &presentity{uri: uri, user: user, host: host}) {
			best = Open
		}
	}
	return best, note
}

// SetExternalStatus sets the state of the presentity uri
// ("sip:user@host") from a source outside SIP (the jabber gateway: an XMPP
// contact's presence) in every presence domain the script uses, or in
// "registrar" when it used none yet. The state counts as a publication:
// it overrides the registration and is notified to the watchers at once.
// It is not stored in the database; the source sets it again after a
// restart. ClearExternalStatus removes it.
func (m *Module) SetExternalStatus(uri string, basic Basic, note string) error {
	if basic != Open && basic != Closed {
		return fmt.Errorf("pa: basic state must be open or closed, not %q", basic)
	}
	uri = canonURI(uri)
	if _, host := splitURI(uri); host == "" {
		return fmt.Errorf("pa: %q is not a SIP URI", uri)
	}
	m.each(func(d *pdomain) {
		p := d.presentityLocked(uri)
		p.ext = &publication{tupleID: "ext", basic: basic, note: note, expires: time.Time{}, seq: time.Now().UnixNano()}
		m.changedLocked(d, p)
	})
	return nil
}

// ClearExternalStatus removes the state SetExternalStatus set.
func (m *Module) ClearExternalStatus(uri string) {
	uri = canonURI(uri)
	m.each(func(d *pdomain) {
		if p := d.pres[uri]; p != nil && p.ext != nil {
			p.ext = nil
			m.changedLocked(d, p)
			d.dropIfIdleLocked(p)
		}
	})
}

func (m *Module) each(fn func(d *pdomain)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.domains) == 0 {
		m.domainLocked("registrar")
	}
	for _, d := range m.domains {
		fn(d)
	}
}

// canonURI lower-cases a sip: URI and drops parameters and headers: the
// key of a presentity.
func canonURI(uri string) string {
	uri = strings.TrimSpace(uri)
	if i := strings.IndexAny(uri, ";?>"); i >= 0 {
		uri = uri[:i]
	}
	uri = strings.TrimPrefix(uri, "<")
	low := strings.ToLower(uri)
	if !strings.HasPrefix(low, "sip:") && !strings.HasPrefix(low, "sips:") {
		uri = "sip:" + uri
	}
	// Lower case as a whole, as usrloc keys users (registrar's default).
	user, host := splitURI(strings.ToLower(uri))
	if user == "" {
		return "sip:" + host
	}
	return "sip:" + user + "@" + host
}

// changedLocked notifies the watchers of p when its document changed.
func (m *Module) changedLocked(d *pdomain, p *presentity) {
	doc := m.documentLocked(d, p)
	if doc == p.last {
		return
	}
	p.last = doc
	for _, w := range p.watchers {
		if w.Package == pkgPresence {
			m.notifyLocked(d, w, "", doc)
		}
	}
}

// winfoChangedLocked notifies the presence.winfo subscribers of p after
// its list of watchers changed.
func (m *Module) winfoChangedLocked(d *pdomain, p *presentity) {
	for _, w := range p.watchers {
		if w.Package == pkgWinfo {
			m.notifyLocked(d, w, "", "")
		}
	}
}

// Tick is one run of the timer.
func (m *Module) Tick() {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range m.domains {
		for _, p := range d.pres {
			for _, w := range p.watchers {
				if !w.Expires.After(now) {
					m.notifyLocked(d, w, "timeout", p.last)
					m.removeWatcherLocked(d, w)
				}
			}
			for tag, pb := range p.pubs {
				if !pb.expires.After(now) {
					delete(p.pubs, tag)
					m.pubTotal--
					m.dbDeletePublished(d, p, tag)
				}
			}
			if len(p.watchers) > 0 {
				m.changedLocked(d, p)
			}
			d.dropIfIdleLocked(p)
		}
	}
}

// removeWatcherLocked forgets a subscription.
func (m *Module) removeWatcherLocked(d *pdomain, w *watcher) {
	if _, ok := w.pres.watchers[w.SID]; !ok {
		return
	}
	delete(w.pres.watchers, w.SID)
	delete(d.byDlg, dlgKey(w.CallID, w.FromTag, w.ToTag))
	m.total--
	if w.Package == pkgPresence {
		defer m.winfoChangedLocked(d, w.pres)
	}
	if m.st != nil {
		ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
		defer cancel()
		if err := m.st.DeleteWatcher(ctx, m.tables, w.SID); err != nil {
			m.log.Error("pa: deleting a subscription failed", "sid", w.SID, "err", err)
		}
	}
}

// saveWatcherLocked writes a subscription to the database.
func (m *Module) saveWatcherLocked(w *watcher) error {
	if m.st == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	return m.st.PutWatcher(ctx, m.tables, w.Watcher)
}

func (m *Module) dbDeletePublished(d *pdomain, p *presentity, etag string) {
	if m.st == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	if err := m.st.DeletePublished(ctx, m.tables, d.name, p.uri, etag); err != nil {
		m.log.Error("pa: deleting a publication failed", "uri", p.uri, "err", err)
	}
}

// denied reports whether a rule denies watcher wURI the presentity.
func (m *Module) denied(rURI, wURI string) (bool, error) {
	if m.st == nil {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	return m.st.WatcherRejectedFor(ctx, m.tables, rURI, wURI)
}

// notifyLocked sends w a NOTIFY with doc; reason "" means the subscription
// goes on (active), else it is terminated with that reason ("-" for none).
func (m *Module) notifyLocked(d *pdomain, w *watcher, reason, doc string) {
	state := "active"
	if reason != "" {
		state = "terminated"
		if reason != "-" {
			state += ";reason=" + reason
		}
	} else {
		left := int(w.Expires.Sub(m.now()).Round(time.Second) / time.Second)
		if left < 0 {
			left = 0
		}
		state += fmt.Sprintf(";expires=%d", left)
	}
	w.CSeq++
	if err := m.saveWatcherLocked(w); err != nil {
		m.log.Error("pa: saving a subscription failed", "sid", w.SID, "err", err)
	}
	hdrs := []string{"Event: " + w.Package, "Subscription-State: " + state, "Max-Forwards: 70"}
	if c := m.contactFor(w.Contact); c != "" {
		hdrs = append(hdrs, "Contact: <"+c+">")
	}
	next := ""
	if w.Route != "" {
		hdrs = append(hdrs, "Route: "+w.Route)
		first := w.Route
		if i := strings.Index(first, ","); i >= 0 {
			first = first[:i]
		}
		next = strings.Trim(strings.TrimSpace(first), "<>")
		if i := strings.Index(next, ">"); i >= 0 {
			next = next[:i]
		}
	}
	var body []byte
	if w.Package == pkgWinfo {
		hdrs = append(hdrs, "Content-Type: "+ctWinfo)
		body = []byte(winfoDocument(w.pres, w.CSeq))
	} else if doc != "" {
		hdrs = append(hdrs, "Content-Type: "+ctPIDF)
		body = []byte(doc)
	}
	r := tm.UACRequest{
		Method: "NOTIFY", RURI: w.Contact, NextHop: next,
		From:   "<" + w.RURI + ">;tag=" + w.ToTag,
		To:     "<" + w.WURI + ">;tag=" + w.FromTag,
		CallID: w.CallID, CSeq: w.CSeq, Headers: hdrs, Body: body,
	}
	sid, pd := w.SID, d
	if _, err := m.uac.Originate(r, func(res tm.UACResult) { m.notified(pd, sid, res) }); err != nil {
		m.log.Warn("pa: NOTIFY not sent", "to", w.Contact, "sid", w.SID, "err", err)
	}
}

// notified ends a subscription whose watcher answered a NOTIFY with 481
// (no such subscription) or did not answer (408), as RFC 6665 says.
func (m *Module) notified(d *pdomain, sid string, res tm.UACResult) {
	m.log.Debug("pa: NOTIFY answered", "sid", sid, "code", res.Code, "reason", res.Reason)
	if res.Code != 481 && res.Code != 408 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range d.pres {
		if w := p.watchers[sid]; w != nil {
			m.log.Info("pa: subscription ended by the watcher's answer", "sid", sid, "code", res.Code)
			m.removeWatcherLocked(d, w)
			d.dropIfIdleLocked(p)
			return
		}
	}
}

// contactFor is this server's Contact for a dialog with target: the first
// listening socket of the target's transport.
func (m *Module) contactFor(target string) string {
	if m.core == nil {
		return ""
	}
	proto := "udp"
	if i := strings.Index(strings.ToLower(target), "transport="); i >= 0 {
		proto = strings.ToLower(target[i+len("transport="):])
		if j := strings.IndexAny(proto, ";>?"); j >= 0 {
			proto = proto[:j]
		}
	}
	for _, s := range m.core.Sockets() {
		if strings.EqualFold(s.Proto.String(), proto) {
			host := s.IP.String()
			if s.Name != "" {
				host = s.Name
			} else if s.IP.Is6() {
				host = "[" + host + "]"
			}
			port := s.Port
			if s.AdvPort != 0 {
				port = s.AdvPort
			}
			u := fmt.Sprintf("sip:%s:%d", host, port)
			if proto != "udp" {
				u += ";transport=" + proto
			}
			return u
		}
	}
	return ""
}

var errNoDomain = errors.New("pa: empty domain name")

// DB returns the database the module uses (nil without use_db).
func (m *Module) DB() *store.Store { return m.st }
