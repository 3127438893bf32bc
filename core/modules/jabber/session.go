package jabber

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"ser/core/modules/jabber/xmpp"
	"ser/core/modules/pa"
	"ser/core/store"
)

type state int

const (
	connecting state = iota
	online
	waiting // connection lost, next attempt after a backoff
)

// room is a conference the user joined.
type room struct {
	uri   string // the SIP address the user joined with (nick*room*server@jdomain)
	nick  string
	ready bool
}

// session is one SIP user's XMPP connection and what waits for it.
type session struct {
	m      *Module
	acct   store.JabberAccount
	sipID  string
	worker int
	jobs   chan job
	quit   chan struct{} // jab_go_offline, or the SIP user is unreachable

	mu       sync.Mutex
	st       state
	lastUsed time.Time
	rooms    map[string]*room  // by room JID
	presence map[string]string // roster contact (bare JID) → "open"/"closed"
	quitOnce sync.Once
}

func newSession(m *Module, acct store.JabberAccount, worker int) *session {
	return &session{
		m: m, acct: acct, sipID: acct.SIPID, worker: worker,
		jobs: make(chan job, queueSize), quit: make(chan struct{}),
		lastUsed: time.Now(), rooms: map[string]*room{}, presence: map[string]string{},
	}
}

func (s *session) online() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st == online
}

func (s *session) inRoom(jid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rooms[jid] != nil
}

func (s *session) end() { s.quitOnce.Do(func() { close(s.quit) }) }

// submit queues a job without waiting: refused while the connection is
// lost (the server is down) or when queueSize jobs wait already.
func (s *session) submit(j job) error {
	if j.op == opOffline {
		s.end()
		return nil
	}
	s.mu.Lock()
	st := s.st
	if j.op != opExit {
		s.lastUsed = time.Now()
	}
	s.mu.Unlock()
	if st == waiting {
		return fmt.Errorf("the connection of %s to the XMPP server %s is lost; reconnecting", s.sipID, s.m.server())
	}
	select {
	case s.jobs <- j:
		return nil
	default:
		return fmt.Errorf("%d messages of %s wait for the XMPP server already", queueSize, s.sipID)
	}
}

// config is the login of the session's account: jab_id is the user name
// on jaddress (SER) or a full JID.
func (s *session) config() xmpp.Config {
	user, domain := s.acct.JabID, s.m.jaddress
	if u, d, ok := strings.Cut(s.acct.JabID, "@"); ok {
		user, domain = u, d
	}
	return xmpp.Config{Addr: s.m.server(), Domain: domain, User: user, Password: s.acct.Password,
		Resource: resource, Timeout: 10 * time.Second}
}

// run logs in, serves the connection and logs in again after a loss, until
// the user goes offline, is idle for cache_time, or the server stops.
func (s *session) run(ctx context.Context) {
	m := s.m
	defer m.wg.Done()
	defer m.drop(s)
	defer s.forgetPresence()
	log := m.log.With("sip_id", s.sipID, "jid", s.acct.JabID)
	connected := false
	wait := time.Second
	for {
		s.setState(connecting)
		conn, err := xmpp.Dial(ctx, s.config())
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, xmpp.ErrAuth) {
				log.Warn("jabber: XMPP login refused", "err", err)
				s.failQueued(msgJAuth)
				return
			}
			m.down.Store(true)
			if !connected {
				log.Warn("jabber: cannot connect to the XMPP server", "server", m.server(), "err", err)
				s.failQueued(msgNoJSrv)
				m.probe()
				return
			}
			log.Info("jabber: reconnecting failed", "retry_in", wait, "err", err)
			s.setState(waiting)
			s.failQueued(msgSendIM)
			if s.idle() {
				m.sendSIP(s.sipID, m.registrar, msgJOffline, nil)
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-s.quit:
				m.sendSIP(s.sipID, m.registrar, msgJOffline, nil)
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, time.Duration(m.checkTime)*time.Second)
			continue
		}
		m.down.Store(false)
		wait = time.Second
		if connected {
			log.Info("jabber: logged in again after the connection was lost")
		} else {
			log.Info("jabber: logged in", "bound", conn.JID())
		}
		connected = true
		_ = conn.RequestRoster()
		_ = conn.SendPresence("", "", "Online", "9") // SER's initial presence
		s.mu.Lock()
		for jid, r := range s.rooms { // back into the rooms after a reconnect
			r.ready = false
			_ = conn.JoinRoom(jid, r.nick, false)
		}
		s.mu.Unlock()
		s.setState(online)
		why := s.serve(ctx, conn)
		switch why {
		case "lost":
			conn.Abort()
			log.Warn("jabber: connection to the XMPP server lost; reconnecting")
			continue
		case "stop":
			conn.Close()
			return
		default: // offline, idle
			conn.Close()
			log.Info("jabber: logged out", "why", why)
			m.sendSIP(s.sipID, m.registrar, msgJOffline, nil)
			return
		}
	}
}

func (s *session) setState(st state) {
	s.mu.Lock()
	s.st = st
	s.mu.Unlock()
}

func (s *session) idle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Since(s.lastUsed) > time.Duration(s.m.cacheTime)*time.Second
}

// failQueued answers every waiting message with the notice text.
func (s *session) failQueued(text string) {
	for {
		select {
		case j := <-s.jobs:
			if j.op == opSend {
				s.m.sendSIP(s.sipID, j.to, text, nil)
			}
		default:
			return
		}
	}
}

// serve runs an online connection: jobs out, stanzas in, the idle check
// every sleep_time. It says why it returned: lost, stop, offline, idle.
func (s *session) serve(ctx context.Context, conn *xmpp.Conn) string {
	in := make(chan *xmpp.Element, 16)
	lost := make(chan struct{})
	go func() {
		defer close(lost)
		for {
			e, err := conn.Next()
			if err != nil {
				return
			}
			select {
			case in <- e:
			case <-ctx.Done():
				return
			}
		}
	}()
	tick := time.NewTicker(time.Duration(s.m.sleepTime) * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return "stop"
		case <-s.quit:
			return "offline"
		case <-lost:
			return "lost"
		case e := <-in:
			s.stanza(conn, e)
		case <-tick.C:
			if s.idle() {
				return "idle"
			}
		case j := <-s.jobs:
			if s.do(conn, j) != nil {
				return "lost"
			}
		}
	}
}

// do carries out a job on the connection; an error is a lost connection.
func (s *session) do(conn *xmpp.Conn, j job) error {
	m := s.m
	if j.op == opSend && time.Since(j.at) > time.Duration(m.delayTime)*time.Second {
		m.sendSIP(s.sipID, j.to, msgSendIM, nil)
		return nil
	}
	switch j.op {
	case opSend:
		typ := "chat"
		if j.groupch {
			typ = "groupchat"
		}
		if err := conn.SendMessage(j.jid, typ, j.body); err != nil {
			m.sendSIP(s.sipID, j.to, msgSendJMsg, nil)
			return err
		}
	case opJoin:
		s.mu.Lock()
		s.rooms[j.jid] = &room{uri: j.to, nick: j.nick}
		s.mu.Unlock()
		return conn.JoinRoom(j.jid, j.nick, false)
	case opExit:
		s.mu.Lock()
		r := s.rooms[j.jid]
		delete(s.rooms, j.jid)
		s.mu.Unlock()
		if r != nil {
			if err := conn.JoinRoom(j.jid, r.nick, true); err != nil {
				return err
			}
		}
		m.sendSIP(s.sipID, j.to, msgJConfExit, nil)
	}
	return nil
}

// stanza handles what the XMPP server sent.
func (s *session) stanza(conn *xmpp.Conn, e *xmpp.Element) {
	m := s.m
	from := e.Attr("from")
	switch e.XMLName.Local {
	case "message":
		body := e.ChildText("body")
		if body == "" || from == "" {
			return
		}
		s.mu.Lock()
		s.lastUsed = time.Now() // a conversation keeps the connection (SER's xj_jcon_update)
		s.mu.Unlock()
		text := body
		if e.Attr("type") == "error" {
			text = "{Error (" + xmpp.ErrorText(e) + ") when trying to send following message}" + body
		}
		bare, res, _ := strings.Cut(from, "/")
		s.mu.Lock()
		r := s.rooms[bare]
		s.mu.Unlock()
		if r != nil {
			if res == r.nick && e.Attr("type") != "error" {
				return // our own message reflected by the room
			}
			if res != "" && e.Attr("type") != "error" {
				text = "[" + res + "] " + body
			}
			m.sendSIP(s.sipID, r.uri, text, nil)
			return
		}
		m.sendSIP(s.sipID, m.addr.toSIP(from), text, s.unreachable)
	case "presence":
		if from == "" {
			return
		}
		bare, _, _ := strings.Cut(from, "/")
		typ := e.Attr("type")
		s.mu.Lock()
		r := s.rooms[bare]
		if r != nil && (typ == "" || typ == "available") {
			r.ready = true
		}
		s.mu.Unlock()
		if r != nil {
			if typ == "error" {
				text := msgJConfRefused
				if er := e.Child("error"); er != nil && (er.Attr("code") == "409" || er.Child("conflict") != nil) {
					text = msgJConfNick
				}
				s.mu.Lock()
				delete(s.rooms, bare)
				s.mu.Unlock()
				m.sendSIP(s.sipID, r.uri, text, nil)
			}
			return
		}
		switch typ {
		case "subscribe":
			// SER accepted every subscription request; the gateway also
			// asks for the contact's presence in return (once), so it can
			// tell the SIP watchers.
			_ = conn.SendPresence(bare, "subscribed", "", "")
			s.mu.Lock()
			_, known := s.presence[bare]
			if !known {
				s.presence[bare] = ""
			}
			s.mu.Unlock()
			if !known {
				_ = conn.SendPresence(bare, "subscribe", "", "")
			}
		case "", "available":
			note := e.ChildText("status")
			if note == "" {
				note = e.ChildText("show")
			}
			s.setPresence(bare, "open", note)
		case "unavailable", "unsubscribed":
			s.setPresence(bare, "closed", e.ChildText("status"))
		}
	case "iq":
		// Answer what the server asks (XMPP ping); results are ignored.
		if t := e.Attr("type"); t == "get" || t == "set" {
			id := xmpp.Escape(e.Attr("id"))
			to := xmpp.Escape(from)
			if e.Child("ping") != nil {
				_ = conn.Send("<iq type='result' id='" + id + "' to='" + to + "'/>")
			} else {
				_ = conn.Send("<iq type='error' id='" + id + "' to='" + to + "'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
			}
		}
	}
}

// setPresence records a roster contact's presence and hands it to pa as
// the state of the contact's gateway address.
func (s *session) setPresence(jid, st, note string) {
	if !strings.Contains(jid, "@") || strings.EqualFold(jid, s.ownJID()) {
		return // transports and our own resources
	}
	s.mu.Lock()
	s.presence[jid] = st
	s.mu.Unlock()
	s.m.log.Debug("jabber: roster presence", "sip_id", s.sipID, "contact", jid, "state", st)
	if s.m.pres == nil {
		return
	}
	uri := "sip:" + s.m.addr.toSIP(jid)
	if err := s.m.pres.SetExternalStatus(uri, pa.Basic(st), note); err != nil {
		s.m.log.Warn("jabber: presence not passed to pa", "presentity", uri, "err", err)
	}
}

// ownJID is the bare JID the session logs in as.
func (s *session) ownJID() string {
	c := s.config()
	return c.User + "@" + c.Domain
}

// forgetPresence clears what the session told pa (the session ended, so
// the gateway no longer knows the contacts' presence).
func (s *session) forgetPresence() {
	s.mu.Lock()
	jids := make([]string, 0, len(s.presence))
	for jid, st := range s.presence {
		if st != "" {
			jids = append(jids, jid)
		}
	}
	s.presence = map[string]string{}
	s.mu.Unlock()
	if s.m.pres == nil {
		return
	}
	for _, jid := range jids {
		s.m.pres.ClearExternalStatus("sip:" + s.m.addr.toSIP(jid))
	}
}

// unreachable is SER's reaction to a MESSAGE the SIP user did not accept:
// the user is gone, so the XMPP session is closed.
func (s *session) unreachable(code int) {
	s.m.log.Info("jabber: the SIP user did not accept a message; closing the XMPP session", "sip_id", s.sipID, "code", code)
	s.end()
}
