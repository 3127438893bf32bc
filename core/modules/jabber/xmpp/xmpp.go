// Package xmpp is the small XMPP client (RFC 6120/6121) the jabber gateway
// logs its users in with: a client stream over TCP, STARTTLS when the
// server offers it (required by the server, or on any address that is not
// loopback), SASL SCRAM-SHA-1 or PLAIN, resource binding, and then
// stanzas: messages, presence and the roster. It is what SER 0.9's jabber
// module did with its own XML stream code, with the authentication of
// today's servers (SER used jabber:iq:auth, which current servers no
// longer offer).
package xmpp

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Namespaces.
const (
	nsStream  = "http://etherx.jabber.org/streams"
	nsTLS     = "urn:ietf:params:xml:ns:xmpp-tls"
	nsSASL    = "urn:ietf:params:xml:ns:xmpp-sasl"
	nsBind    = "urn:ietf:params:xml:ns:xmpp-bind"
	nsSession = "urn:ietf:params:xml:ns:xmpp-session"
	nsRoster  = "jabber:iq:roster"
)

// Config says where and as whom to log in.
type Config struct {
	// Addr is the server's host:port to connect to.
	Addr string
	// Domain is the XMPP domain (the stream's "to", the JID's domain).
	Domain string
	// User is the local part of the JID; Password its password.
	User, Password string
	// Resource is the resource to bind ("" lets the server pick).
	Resource string
	// Timeout bounds the connection and the whole login (default 10 s).
	Timeout time.Duration
	// TLS, when set, is used for STARTTLS (ServerName defaults to Domain).
	TLS *tls.Config
}

// ErrAuth is returned by Dial when the server refused the credentials.
var ErrAuth = errors.New("xmpp: authentication failed")

// Element is a parsed XML element of the stream: a stanza or a part of one.
type Element struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Children []Element  `xml:",any"`
	Text     string     `xml:",chardata"`
}

// Attr returns the attribute called name ("" when absent).
func (e *Element) Attr(name string) string {
	for _, a := range e.Attrs {
		if a.Name.Local == name && (a.Name.Space == "" || a.Name.Space == "xmlns") {
			return a.Value
		}
	}
	return ""
}

// Child returns the first child element called name, or nil.
func (e *Element) Child(name string) *Element {
	for i := range e.Children {
		if e.Children[i].XMLName.Local == name {
			return &e.Children[i]
		}
	}
	return nil
}

// ChildText returns the text of the first child called name ("" when absent).
func (e *Element) ChildText(name string) string {
	if c := e.Child(name); c != nil {
		return c.Text
	}
	return ""
}

// Conn is a logged-in client stream. Next is called from one goroutine;
// the Send methods may be called from any.
type Conn struct {
	c    net.Conn
	dec  *xml.Decoder
	wmu  sync.Mutex
	jid  string
	seq  int
	smu  sync.Mutex
	once sync.Once
}

// JID returns the full JID the server bound.
func (c *Conn) JID() string { return c.jid }

// Dial connects, secures (when required or not on loopback), authenticates
// and binds a resource. ctx and cfg.Timeout bound the whole login.
func Dial(ctx context.Context, cfg Config) (*Conn, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("xmpp: connect %s: %w", cfg.Addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	c := &Conn{c: nc}
	// Cancelling ctx (a shutdown) interrupts a login the server stalls.
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Now()) })
	defer stop()
	if err := c.login(cfg); err != nil {
		nc.Close()
		return nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	return c, nil
}

func loopback(c net.Conn) bool {
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

func (c *Conn) login(cfg Config) error {
	feats, err := c.open(cfg.Domain)
	if err != nil {
		return err
	}
	if st := feats.Child("starttls"); st != nil && (st.Child("required") != nil || !loopback(c.c)) {
		if err := c.write("<starttls xmlns='" + nsTLS + "'/>"); err != nil {
			return err
		}
		e, err := c.Next()
		if err != nil {
			return err
		}
		if e.XMLName.Local != "proceed" {
			return fmt.Errorf("xmpp: server refused STARTTLS (%s)", e.XMLName.Local)
		}
		tc := cfg.TLS
		if tc == nil {
			tc = &tls.Config{}
		} else {
			tc = tc.Clone()
		}
		if tc.ServerName == "" {
			tc.ServerName = cfg.Domain
		}
		t := tls.Client(c.c, tc)
		if err := t.Handshake(); err != nil {
			return fmt.Errorf("xmpp: TLS: %w", err)
		}
		c.c = t
		if feats, err = c.open(cfg.Domain); err != nil {
			return err
		}
	}
	mechs := map[string]bool{}
	if m := feats.Child("mechanisms"); m != nil {
		for _, x := range m.Children {
			if x.XMLName.Local == "mechanism" {
				mechs[strings.TrimSpace(x.Text)] = true
			}
		}
	}
	switch {
	case mechs["SCRAM-SHA-1"]:
		err = c.scram(cfg.User, cfg.Password)
	case mechs["PLAIN"]:
		if _, isTLS := c.c.(*tls.Conn); !isTLS && !loopback(c.c) {
			return errors.New("xmpp: the server offers only PLAIN without TLS; refusing to send the password in clear")
		}
		err = c.plain(cfg.User, cfg.Password)
	default:
		return fmt.Errorf("xmpp: no supported SASL mechanism (server offers %v)", keys(mechs))
	}
	if err != nil {
		return err
	}
	if feats, err = c.open(cfg.Domain); err != nil {
		return err
	}
	if feats.Child("bind") == nil {
		return errors.New("xmpp: server offers no resource binding")
	}
	res := ""
	if cfg.Resource != "" {
		res = "<resource>" + Escape(cfg.Resource) + "</resource>"
	}
	r, err := c.iq("set", "<bind xmlns='"+nsBind+"'>"+res+"</bind>")
	if err != nil {
		return fmt.Errorf("xmpp: bind: %w", err)
	}
	if b := r.Child("bind"); b != nil {
		c.jid = strings.TrimSpace(b.ChildText("jid"))
	}
	if s := feats.Child("session"); s != nil && s.Child("optional") == nil {
		if _, err := c.iq("set", "<session xmlns='"+nsSession+"'/>"); err != nil {
			return fmt.Errorf("xmpp: session: %w", err)
		}
	}
	return nil
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// open sends a stream header, reads the server's and returns its features.
func (c *Conn) open(domain string) (*Element, error) {
	c.dec = xml.NewDecoder(c.c)
	c.dec.Strict = true
	if err := c.write("<?xml version='1.0'?><stream:stream to='" + Escape(domain) +
		"' xmlns='jabber:client' xmlns:stream='" + nsStream + "' version='1.0'>"); err != nil {
		return nil, err
	}
	for {
		t, err := c.dec.Token()
		if err != nil {
			return nil, fmt.Errorf("xmpp: reading the stream header: %w", err)
		}
		if se, ok := t.(xml.StartElement); ok {
			if se.Name.Local != "stream" || se.Name.Space != nsStream {
				return nil, fmt.Errorf("xmpp: expected a stream, got <%s>", se.Name.Local)
			}
			break
		}
	}
	e, err := c.Next()
	if err != nil {
		return nil, err
	}
	if e.XMLName.Local != "features" {
		return nil, fmt.Errorf("xmpp: expected stream features, got <%s>", e.XMLName.Local)
	}
	return e, nil
}

// Next reads the next top-level element of the stream. A stream error or
// the end of the stream is an error (io.EOF for a clean close).
func (c *Conn) Next() (*Element, error) {
	for {
		t, err := c.dec.Token()
		if err != nil {
			return nil, err
		}
		switch se := t.(type) {
		case xml.StartElement:
			var e Element
			if err := c.dec.DecodeElement(&e, &se); err != nil {
				return nil, err
			}
			if e.XMLName.Local == "error" && e.XMLName.Space == nsStream {
				cond := ""
				if len(e.Children) > 0 {
					cond = e.Children[0].XMLName.Local
				}
				return nil, fmt.Errorf("xmpp: stream error: %s", cond)
			}
			return &e, nil
		case xml.EndElement:
			return nil, io.EOF // </stream:stream>
		}
	}
}

func (c *Conn) write(s string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := io.WriteString(c.c, s)
	if err != nil {
		return fmt.Errorf("xmpp: write: %w", err)
	}
	return nil
}

func (c *Conn) nextID() string {
	c.smu.Lock()
	defer c.smu.Unlock()
	c.seq++
	return fmt.Sprintf("ser%08X", c.seq)
}

// iq sends an iq during the login and waits for its answer.
func (c *Conn) iq(typ, payload string) (*Element, error) {
	id := c.nextID()
	if err := c.write("<iq type='" + typ + "' id='" + id + "'>" + payload + "</iq>"); err != nil {
		return nil, err
	}
	for {
		e, err := c.Next()
		if err != nil {
			return nil, err
		}
		if e.XMLName.Local != "iq" || e.Attr("id") != id {
			continue
		}
		if e.Attr("type") == "error" {
			return nil, fmt.Errorf("xmpp: iq refused: %s", errorText(e))
		}
		return e, nil
	}
}

func errorText(e *Element) string {
	er := e.Child("error")
	if er == nil {
		return "error"
	}
	parts := []string{}
	if code := er.Attr("code"); code != "" {
		parts = append(parts, code)
	}
	for _, ch := range er.Children {
		if ch.XMLName.Local == "text" {
			parts = append(parts, strings.TrimSpace(ch.Text))
		} else {
			parts = append(parts, ch.XMLName.Local)
		}
	}
	if t := strings.TrimSpace(er.Text); t != "" {
		parts = append(parts, t)
	}
	return strings.Join(parts, " - ")
}

// ErrorText describes the <error/> child of a stanza of type error (SER
// put the code and the text in the notice it sent the SIP user).
func ErrorText(e *Element) string { return errorText(e) }

func (c *Conn) plain(user, pass string) error {
	auth := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
	if err := c.write("<auth xmlns='" + nsSASL + "' mechanism='PLAIN'>" + auth + "</auth>"); err != nil {
		return err
	}
	return c.saslOutcome(nil)
}

// saslOutcome reads <success/> or <failure/>; check verifies success data.
func (c *Conn) saslOutcome(check func([]byte) error) error {
	e, err := c.Next()
	if err != nil {
		return err
	}
	switch e.XMLName.Local {
	case "success":
		if check != nil {
			data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(e.Text))
			if err != nil {
				return fmt.Errorf("xmpp: bad SASL success data: %w", err)
			}
			return check(data)
		}
		return nil
	case "failure":
		cond := ""
		if len(e.Children) > 0 {
			cond = e.Children[0].XMLName.Local
		}
		return fmt.Errorf("%w (%s)", ErrAuth, cond)
	}
	return fmt.Errorf("xmpp: unexpected <%s> during authentication", e.XMLName.Local)
}

// Send writes raw XML (one or more complete stanzas).
func (c *Conn) Send(raw string) error { return c.write(raw) }

// SendMessage sends a message stanza of type typ ("chat", "groupchat",
// "normal") with body to the JID to.
func (c *Conn) SendMessage(to, typ, body string) error {
	return c.write("<message to='" + Escape(to) + "' type='" + Escape(typ) + "'><body>" + Escape(body) + "</body></message>")
}

// SendPresence sends a presence stanza; every argument may be empty (to:
// broadcast, typ: available).
func (c *Conn) SendPresence(to, typ, status, priority string) error {
	var b strings.Builder
	b.WriteString("<presence")
	if to != "" {
		b.WriteString(" to='" + Escape(to) + "'")
	}
	if typ != "" {
		b.WriteString(" type='" + Escape(typ) + "'")
	}
	b.WriteString(">")
	if status != "" {
		b.WriteString("<status>" + Escape(status) + "</status>")
	}
	if priority != "" {
		b.WriteString("<priority>" + Escape(priority) + "</priority>")
	}
	b.WriteString("</presence>")
	return c.write(b.String())
}

// JoinRoom sends the presence that enters a multi-user chat room
// (room@service/nick), or leaves it with leave set.
func (c *Conn) JoinRoom(roomJID, nick string, leave bool) error {
	if leave {
		return c.SendPresence(roomJID+"/"+nick, "unavailable", "", "")
	}
	return c.write("<presence to='" + Escape(roomJID+"/"+nick) + "'><x xmlns='http://jabber.org/protocol/muc'/></presence>")
}

// RequestRoster asks for the roster; the answer arrives through Next as an
// iq result with a jabber:iq:roster query.
func (c *Conn) RequestRoster() error {
	return c.write("<iq type='get' id='" + c.nextID() + "'><query xmlns='" + nsRoster + "'/></iq>")
}

// Close ends the stream (unavailable presence, </stream:stream>) and the
// connection. It is safe to call more than once.
func (c *Conn) Close() error {
	var err error
	c.once.Do(func() {
		_ = c.write("<presence type='unavailable'/></stream:stream>")
		err = c.c.Close()
	})
	return err
}

// Abort closes the connection without a goodbye (a lost server).
func (c *Conn) Abort() { c.once.Do(func() { c.c.Close() }) }

// Escape escapes text for XML character data and attribute values.
func Escape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return strings.ReplaceAll(b.String(), "'", "&#39;")
}

// Bare returns the JID without its resource.
func Bare(jid string) string {
	if i := strings.IndexByte(jid, '/'); i >= 0 {
		return jid[:i]
	}
	return jid
}
