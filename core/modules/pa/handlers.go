package pa

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/sipmsg"
	"ser/core/store"
)

// domainArg validates a presence domain argument and records the name,
// so that Start loads the domain's stored state before any request.
func (m *Module) domainArg(args []module.Value) (string, error) {
	d := strings.TrimSpace(args[0].String())
	if d == "" {
		return "", errNoDomain
	}
	m.mu.Lock()
	m.names[d] = true
	m.mu.Unlock()
	return d, nil
}

func fixupSubscription(m *Module, _ *module.Env, args []module.Value) (module.Handler, error) {
	name, err := m.domainArg(args)
	if err != nil {
		return nil, err
	}
	return func(msg *sipmsg.Msg) (int, error) { return m.HandleSubscription(msg, name), nil }, nil
}

func fixupPublish(m *Module, _ *module.Env, args []module.Value) (module.Handler, error) {
	name, err := m.domainArg(args)
	if err != nil {
		return nil, err
	}
	return func(msg *sipmsg.Msg) (int, error) { return m.HandlePublish(msg, name), nil }, nil
}

func fixupRegistration(m *Module, _ *module.Env, args []module.Value) (module.Handler, error) {
	name, err := m.domainArg(args)
	if err != nil {
		return nil, err
	}
	return func(msg *sipmsg.Msg) (int, error) { return m.HandleRegistration(msg, name), nil }, nil
}

func fixupExisting(m *Module, _ *module.Env, args []module.Value) (module.Handler, error) {
	name, err := m.domainArg(args)
	if err != nil {
		return nil, err
	}
	return func(msg *sipmsg.Msg) (int, error) { return m.ExistingSubscription(msg, name), nil }, nil
}

func fixupPUAExists(m *Module, _ *module.Env, args []module.Value) (module.Handler, error) {
	name, err := m.domainArg(args)
	if err != nil {
		return nil, err
	}
	return func(msg *sipmsg.Msg) (int, error) { return m.PUAExists(msg, name), nil }, nil
}

// reply answers the request statefully through tm.
func (m *Module) reply(msg *sipmsg.Msg, code int, reason string, o module.ReplyOpts) int {
	if err := m.tm.ReplyWith(msg, code, reason, o); err != nil {
		m.log.WarnContext(module.MsgCtx(msg), "pa: reply not sent", "code", code, "err", err)
		return -1
	}
	if code >= 300 {
		return -1
	}
	return 1
}

// presentityURI is the resource a SUBSCRIBE or PUBLISH is for: the
// Request-URI as received when it names a user, else the To URI.
func presentityURI(msg *sipmsg.Msg) string {
	if u := msg.OrigURI(); u != nil && u.User != "" && u.Host != "" {
		return canonURI("sip:" + u.User + "@" + u.Host)
	}
	if to := msg.Req.To(); to != nil && to.Address.Host != "" {
		return canonURI("sip:" + to.Address.User + "@" + to.Address.Host)
	}
	return ""
}

// expiresOf is the Expires header (def when absent), capped at max.
func expiresOf(msg *sipmsg.Msg, def, max int) (int, bool) {
	v := strings.TrimSpace(msg.Header("Expires"))
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false
	}
	if n > max {
		n = max
	}
	return n, true
}

// eventOf is the Event header's package without parameters.
func eventOf(msg *sipmsg.Msg) string {
	v := strings.TrimSpace(msg.Header("Event"))
	if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	return strings.ToLower(strings.TrimSpace(v))
}

func tagOf(p sip.HeaderParams) string {
	t, _ := p.Get("tag")
	return t
}

// routeSet is the dialog's route set from the SUBSCRIBE's Record-Route
// headers, in order, comma-separated.
func routeSet(req *sip.Request) string {
	var rs []string
	for _, h := range req.GetHeaders("Record-Route") {
		for _, v := range splitComma(h.Value()) {
			if v = strings.TrimSpace(v); v != "" {
				rs = append(rs, v)
			}
		}
	}
	return strings.Join(rs, ", ")
}

// splitComma splits a header value at commas outside <> and quotes.
func splitComma(s string) []string {
	var out []string
	depth, quote, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			quote = !quote
		case quote:
		case c == '<':
			depth++
		case c == '>':
			depth--
		case c == ',' && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// HandleSubscription is handle_subscription(domain): it answers a
// SUBSCRIBE for the presence event, creates, refreshes or ends the
// subscription and sends the watcher a NOTIFY with the current state.
func (m *Module) HandleSubscription(msg *sipmsg.Msg, name string) int {
	req := msg.Req
	ctx := module.MsgCtx(msg)
	if req == nil || req.Method != sip.SUBSCRIBE {
		m.log.WarnContext(ctx, "pa: handle_subscription called for a request that is not SUBSCRIBE")
		return -1
	}
	ev := eventOf(msg)
	ct := ctPIDF
	switch ev {
	case pkgPresence:
	case pkgWinfo:
		ct = ctWinfo
	default:
		return m.reply(msg, 489, "Bad Event", module.ReplyOpts{Headers: []string{"Allow-Events: presence, presence.winfo"}})
	}
	if acc := msg.Header("Accept"); acc != "" && !strings.Contains(strings.ToLower(acc), ct) && !strings.Contains(acc, "*/*") {
		return m.reply(msg, 415, "Unsupported Media Type", module.ReplyOpts{Headers: []string{"Accept: " + ct}})
	}
	expires, ok := expiresOf(msg, m.defaultExpires, m.maxExpires)
	if !ok {
		return m.reply(msg, 400, "Bad Expires", module.ReplyOpts{})
	}
	from, to, cid := req.From(), req.To(), req.CallID()
	contact := req.Contact()
	if from == nil || to == nil || cid == nil || tagOf(from.Params) == "" {
		return m.reply(msg, 400, "Bad Request", module.ReplyOpts{})
	}
	d := m.domain(name)
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if toTag := tagOf(to.Params); toTag != "" {
		// A refresh or an unsubscribe in an existing dialog.
		w := d.byDlg[dlgKey(cid.Value(), tagOf(from.Params), toTag)]
		if w == nil {
			return m.reply(msg, 481, "Subscription does not exist", module.ReplyOpts{})
		}
		if w.Package != ev {
			return m.reply(msg, 489, "Bad Event", module.ReplyOpts{Headers: []string{"Allow-Events: " + w.Package}})
		}
		if contact != nil && !contact.Address.Wildcard {
			w.Contact = contact.Address.String()
		}
		w.Expires = now.Add(time.Duration(expires) * time.Second)
		ret := m.reply(msg, 200, "OK", m.subscribeReply(w, expires))
		if expires == 0 {
			m.notifyLocked(d, w, "-", w.pres.last)
			m.removeWatcherLocked(d, w)
			d.dropIfIdleLocked(w.pres)
			m.log.InfoContext(ctx, "pa: unsubscribed", "presentity", w.RURI, "watcher", w.WURI)
			return ret
		}
		m.notifyLocked(d, w, "", w.pres.last)
		return ret
	}
	if contact == nil || contact.Address.Wildcard || contact.Address.Host == "" {
		return m.reply(msg, 400, "Missing Contact", module.ReplyOpts{})
	}
	rURI := presentityURI(msg)
	wURI := canonURI(from.Address.String())
	if rURI == "" {
		return m.reply(msg, 400, "Bad Request-URI", module.ReplyOpts{})
	}
	deny, err := m.denied(rURI, wURI)
	if err != nil {
		m.log.ErrorContext(ctx, "pa: watcher authorisation failed", "err", err)
		return m.reply(msg, 500, "Server Internal Error", module.ReplyOpts{})
	}
	if ev == pkgWinfo && wURI != rURI {
		deny = true // only the presentity sees its watchers
	}
	if deny {
		m.log.InfoContext(ctx, "pa: watcher rejected", "presentity", rURI, "watcher", wURI, "event", ev)
		return m.reply(msg, 403, "Forbidden", module.ReplyOpts{})
	}
	p := d.presentityLocked(rURI)
	if expires == 0 {
		// A fetch: one NOTIFY with the state, no subscription kept.
		toTag := newID()
		w := &watcher{Watcher: m.newWatcher(d, req, rURI, wURI, toTag, ev, now), pres: p}
		ret := m.reply(msg, 200, "OK", m.subscribeReply(w, 0))
		m.notifyLocked(d, w, "timeout", m.documentLocked(d, p))
		d.dropIfIdleLocked(p)
		return ret
	}
	if len(p.watchers) >= m.maxPerPresentity || m.total >= m.maxTotal {
		d.dropIfIdleLocked(p)
		m.log.WarnContext(ctx, "pa: subscription refused: limit reached", "presentity", rURI, "per_presentity", len(p.watchers), "total", m.total)
		return m.reply(msg, 503, "Too Many Subscriptions", module.ReplyOpts{Headers: []string{"Retry-After: 60"}})
	}
	w := &watcher{Watcher: m.newWatcher(d, req, rURI, wURI, newID(), ev, now), pres: p}
	w.Expires = now.Add(time.Duration(expires) * time.Second)
	if err := m.saveWatcherLocked(w); err != nil {
		d.dropIfIdleLocked(p)
		m.log.ErrorContext(ctx, "pa: saving a subscription failed", "err", err)
		return m.reply(msg, 500, "Server Internal Error", module.ReplyOpts{})
	}
	p.watchers[w.SID] = w
	d.byDlg[dlgKey(w.CallID, w.FromTag, w.ToTag)] = w
	m.total++
	ret := m.reply(msg, 200, "OK", m.subscribeReply(w, expires))
	p.last = m.documentLocked(d, p)
	m.notifyLocked(d, w, "", p.last)
	if ev == pkgPresence {
		m.winfoChangedLocked(d, p)
	}
	m.log.InfoContext(ctx, "pa: subscribed", "presentity", rURI, "watcher", wURI, "expires", expires)
	return ret
}

// newWatcher fills a subscription from an initial SUBSCRIBE.
func (m *Module) newWatcher(d *pdomain, req *sip.Request, rURI, wURI, toTag, pkg string, now time.Time) store.Watcher {
	from := req.From()
	accepts := ctPIDF
	if pkg == pkgWinfo {
		accepts = ctWinfo
	}
	return store.Watcher{
		// Strings of a parsed message point into its bytes (sipmsg.Parse):
		// cloned, the subscription does not keep the SUBSCRIBE alive.
		SID: newID(), PDomain: d.name, RURI: strings.Clone(rURI), WURI: strings.Clone(wURI), DisplayName: strings.Clone(from.DisplayName),
		Package: pkg, Status: "active", Accepts: accepts, Expires: now,
		CallID: strings.Clone(req.CallID().Value()), FromTag: strings.Clone(tagOf(from.Params)), ToTag: toTag,
		Contact: req.Contact().Address.String(), Route: routeSet(req),
	}
}

// subscribeReply is the 200's parts: our tag, Expires and Contact.
func (m *Module) subscribeReply(w *watcher, expires int) module.ReplyOpts {
	hdrs := []string{"Expires: " + strconv.Itoa(expires)}
	if c := m.contactFor(w.Contact); c != "" {
		hdrs = append(hdrs, "Contact: <"+c+">")
	}
	return module.ReplyOpts{ToTag: w.ToTag, Headers: hdrs}
}

// HandlePublish is handle_publish(domain): RFC 3903's PUBLISH for the
// presence event. A publication is created with a PIDF body, refreshed
// with SIP-If-Match and no body, modified with SIP-If-Match and a body,
// removed with SIP-If-Match and Expires: 0.
func (m *Module) HandlePublish(msg *sipmsg.Msg, name string) int {
	req := msg.Req
	ctx := module.MsgCtx(msg)
	if req == nil || req.Method != sip.PUBLISH {
		m.log.WarnContext(ctx, "pa: handle_publish called for a request that is not PUBLISH")
		return -1
	}
	if ev := eventOf(msg); ev != "presence" {
		return m.reply(msg, 489, "Bad Event", module.ReplyOpts{Headers: []string{"Allow-Events: presence"}})
	}
	expires, ok := expiresOf(msg, m.defaultExpires, m.maxExpires)
	if !ok {
		return m.reply(msg, 400, "Bad Expires", module.ReplyOpts{})
	}
	body := req.Body()
	var st pidfState
	if len(body) > 0 {
		ctype := strings.ToLower(strings.TrimSpace(msg.Header("Content-Type")))
		if i := strings.IndexByte(ctype, ';'); i >= 0 {
			ctype = strings.TrimSpace(ctype[:i])
		}
		if ctype != "application/pidf+xml" && ctype != "application/cpim-pidf+xml" {
			return m.reply(msg, 415, "Unsupported Media Type", module.ReplyOpts{Headers: []string{"Accept: application/pidf+xml"}})
		}
		var err error
		if st, err = parsePIDF(body); err != nil {
			m.log.InfoContext(ctx, "pa: bad PIDF document", "err", err)
			return m.reply(msg, 400, "Bad PIDF Document", module.ReplyOpts{})
		}
	}
	rURI := presentityURI(msg)
	if rURI == "" {
		return m.reply(msg, 400, "Bad Request-URI", module.ReplyOpts{})
	}
	match := strings.TrimSpace(msg.Header("SIP-If-Match"))
	if match == "" && len(body) == 0 {
		return m.reply(msg, 400, "Missing Body", module.ReplyOpts{})
	}
	d := m.domain(name)
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	p := d.presentityLocked(rURI)
	var pb *publication
	if match != "" {
		if pb = p.pubs[match]; pb == nil {
			d.dropIfIdleLocked(p)
			return m.reply(msg, 412, "Conditional Request Failed", module.ReplyOpts{})
		}
		if expires == 0 {
			delete(p.pubs, match)
			m.pubTotal--
			m.dbDeletePublished(d, p, match)
			ret := m.reply(msg, 200, "OK", module.ReplyOpts{Headers: []string{"SIP-ETag: " + match, "Expires: 0"}})
			m.changedLocked(d, p)
			d.dropIfIdleLocked(p)
			return ret
		}
	} else {
		if expires == 0 {
			d.dropIfIdleLocked(p)
			return m.reply(msg, 200, "OK", module.ReplyOpts{Headers: []string{"Expires: 0"}})
		}
		if len(p.pubs) >= m.maxPublications || m.pubTotal >= m.maxTotal {
			d.dropIfIdleLocked(p)
			return m.reply(msg, 503, "Too Many Publications", module.ReplyOpts{Headers: []string{"Retry-After: 60"}})
		}
		pb = &publication{}
	}
	next := *pb
	next.etag = newID()
	next.expires = now.Add(time.Duration(expires) * time.Second)
	if len(body) > 0 {
		next.basic, next.note, next.contact, next.tupleID = st.basic, st.note, st.contact, st.tupleID
		next.seq = now.UnixNano()
	}
	if m.st != nil {
		c, cancel := context.WithTimeout(context.Background(), dbTimeout)
		err := m.st.PutPublished(c, m.tables, match, store.PublishedTuple{
			PDomain: d.name, URI: rURI, ETag: next.etag, TupleID: next.tupleID, Basic: string(next.basic),
			Note: next.note, Contact: next.contact, Expires: next.expires,
		})
		cancel()
		if err != nil {
			d.dropIfIdleLocked(p)
			m.log.ErrorContext(ctx, "pa: saving a publication failed", "err", err)
			return m.reply(msg, 500, "Server Internal Error", module.ReplyOpts{})
		}
	}
	if match != "" {
		delete(p.pubs, match)
	} else {
		m.pubTotal++
	}
	p.pubs[next.etag] = &next
	ret := m.reply(msg, 200, "OK", module.ReplyOpts{Headers: []string{"SIP-ETag: " + next.etag, "Expires: " + strconv.Itoa(expires)}})
	m.changedLocked(d, p)
	m.log.InfoContext(ctx, "pa: published", "presentity", rURI, "basic", next.basic, "etag", next.etag, "expires", expires)
	return ret
}

// HandleRegistration is pa_handle_registration(domain): called for a
// REGISTER (before or after save), it notifies the watchers of the
// registering user when the user's registration-derived state changes.
// The REGISTER itself decides: one that removes its contacts (Expires: 0,
// every contact expires=0, Contact: *) closes the state unless other
// contacts stay registered; any other opens it.
func (m *Module) HandleRegistration(msg *sipmsg.Msg, name string) int {
	req := msg.Req
	if req == nil || req.Method != sip.REGISTER {
		return -1
	}
	to := req.To()
	if to == nil || to.Address.Host == "" {
		return -1
	}
	uri := canonURI("sip:" + to.Address.User + "@" + to.Address.Host)
	removing := goesOffline(req)
	d := m.domain(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if d.ulTable == "" {
		d.ulTable = "location"
	}
	p := d.pres[uri]
	if p == nil {
		return 1 // nobody watches: nothing to tell
	}
	doc := m.documentLocked(d, p)
	if len(p.pubs) == 0 && p.ext == nil {
		b := Open
		if removing && !m.othersRegistered(d, p, req) {
			b = Closed
		}
		doc = pidfDocument(p.uri, []publication{{tupleID: "reg", basic: b}})
	}
	if doc != p.last {
		p.last = doc
		for _, w := range p.watchers {
			if w.Package == pkgPresence {
				m.notifyLocked(d, w, "", doc)
			}
		}
	}
	m.log.DebugContext(module.MsgCtx(msg), "pa: registration handled", "presentity", uri, "removing", removing)
	return 1
}

// othersRegistered reports whether the presentity has registered contacts
// other than those the REGISTER names.
func (m *Module) othersRegistered(d *pdomain, p *presentity, req *sip.Request) bool {
	if m.ul == nil {
		return false
	}
	table := d.ulTable
	ud, ok := m.ul.Domain(table)
	if !ok {
		return false
	}
	key := strings.ToLower(p.user)
	if m.ul.Config().UseDomain {
		key += "@" + strings.ToLower(p.host)
	}
	cs, _ := ud.Get(key)
	named := map[string]bool{}
	wild := false
	for _, h := range req.GetHeaders("Contact") {
		if c, ok := h.(*sip.ContactHeader); ok {
			if c.Address.Wildcard {
				wild = true
			}
			named[c.Address.String()] = true
		}
	}
	if wild {
		return false
	}
	for _, c := range cs {
		if !named[c.URI] {
			return true
		}
	}
	return false
}

// goesOffline reports whether a REGISTER removes the contacts it names.
func goesOffline(req *sip.Request) bool {
	hdrExp := -1
	if h := req.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil {
			hdrExp = n
		}
	}
	cs := req.GetHeaders("Contact")
	if len(cs) == 0 {
		return false // a query
	}
	for _, h := range cs {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			return false
		}
		if c.Address.Wildcard {
			continue
		}
		if e, ok := c.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(e)); err == nil && n == 0 {
				continue
			}
			return false
		}
		if hdrExp != 0 {
			return false
		}
	}
	return true
}

// ExistingSubscription is existing_subscription(domain): true when the
// SUBSCRIBE belongs to a subscription pa holds (a refresh).
func (m *Module) ExistingSubscription(msg *sipmsg.Msg, name string) int {
	req := msg.Req
	if req == nil {
		return -1
	}
	from, to, cid := req.From(), req.To(), req.CallID()
	if from == nil || to == nil || cid == nil || tagOf(to.Params) == "" {
		return -1
	}
	d := m.domain(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if d.byDlg[dlgKey(cid.Value(), tagOf(from.Params), tagOf(to.Params))] != nil {
		return 1
	}
	return -1
}

// PUAExists is pua_exists(domain): true when the presentity the request
// is for has published state (a presence user agent publishes for it).
func (m *Module) PUAExists(msg *sipmsg.Msg, name string) int {
	if msg.Req == nil {
		return -1
	}
	uri := presentityURI(msg)
	d := m.domain(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if p := d.pres[uri]; p != nil && len(p.pubs) > 0 {
		return 1
	}
	return -1
}
