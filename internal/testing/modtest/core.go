// Package modtest helps module unit tests: Core is a fake module.Core that
// records what a module sends (replies, forwarded requests, raw packets,
// script log lines) instead of touching the network; Request builds RFC 3261
// style requests and Parse turns message text into a *sipmsg.Msg; Load and
// Bind run a module's export table the way the server does (New, modparams,
// Init, Fixup).
//
// A typical test:
//
//	core := modtest.NewCore()
//	inst, env := modtest.Load(t, sl.Exports, core, nil)
//	h := modtest.Bind(t, sl.Exports, inst, env, "sl_send_reply", 404, "Not Found")
//	m := modtest.Request{}.Msg(t)
//	if ret, _ := h(m); ret != 1 { … }
//	resp := core.LastReply(t).Resp
package modtest

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/sipmsg"
)

// DefaultServer is the Server header value the fake core reports.
const DefaultServer = "Sip EXpress router (0.9.6 (i386/linux))"

// Sockets of the fake core made by NewCore: UDP and TCP on 127.0.0.1:5060.
var (
	UDPSocket = &sipmsg.Socket{Proto: sipmsg.ProtoUDP, IP: netip.MustParseAddr("127.0.0.1"), Port: 5060, Name: "127.0.0.1", Index: 0}
	TCPSocket = &sipmsg.Socket{Proto: sipmsg.ProtoTCP, IP: netip.MustParseAddr("127.0.0.1"), Port: 5060, Name: "127.0.0.1", Index: 1}
)

// ErrInjected is a convenient error to put in Core.Err.
var ErrInjected = errors.New("modtest: injected send failure")

// RouteFunc is a fake script block.
type RouteFunc func(m *sipmsg.Msg) int

// RouteKey names a script block: its kind and number.
type RouteKey struct {
	Kind module.Route
	N    int
}

// Core is a fake module.Core. The exported fields configure it before the
// test starts; the recorded traffic is read through the methods, which are
// safe for concurrent use.
type Core struct {
	// Socks are the listening sockets (Sockets, IsMyself, SocketFor).
	Socks []*sipmsg.Socket
	// Aliases are extra names of this server: "host" (any port) or
	// "host:port", as SER's alias= option.
	Aliases []string
	// Myself, when set, replaces the built-in IsMyself logic.
	Myself func(host string, port int, proto sipmsg.Proto) bool
	// Hosts resolves names for Resolve and ResolveHost (IP literals
	// resolve by themselves).
	Hosts map[string]netip.Addr
	// Routes are the script blocks HasRoute and RunRoute know.
	Routes map[RouteKey]RouteFunc
	// Server is the Server header value; Signature turns adding it to
	// built replies on.
	Server    string
	Signature bool
	// Err, when set, makes SendReply, Forward, SendAsIs and Send fail with
	// it (nothing is recorded then).
	Err error

	mu       sync.Mutex
	replies  []SentReply
	forwards []Forwarded
	packets  []Packet
	logs     []LogLine
}

var _ module.Core = (*Core)(nil)

// NewCore returns a fake core listening on UDPSocket and TCPSocket, with
// the Server signature on.
func NewCore() *Core {
	return &Core{
		Socks:     []*sipmsg.Socket{UDPSocket, TCPSocket},
		Server:    DefaultServer,
		Signature: true,
		Hosts:     map[string]netip.Addr{},
		Routes:    map[RouteKey]RouteFunc{},
	}
}

// Sockets returns Socks.
func (c *Core) Sockets() []*sipmsg.Socket { return c.Socks }

// defaultPort is the port a URI without one means for proto.
func defaultPort(proto sipmsg.Proto) int {
	if proto == sipmsg.ProtoTLS {
		return 5061
	}
	return 5060
}

// IsMyself reports whether host:port names a socket (by name or IP) or an
// alias. Port 0 means the default port of proto; ProtoNone matches any
// protocol.
func (c *Core) IsMyself(host string, port int, proto sipmsg.Proto) bool {
	if c.Myself != nil {
		return c.Myself(host, port, proto)
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	if port == 0 {
		port = defaultPort(proto)
	}
	for _, s := range c.Socks {
		if proto != sipmsg.ProtoNone && s.Proto != proto {
			continue
		}
		if s.Port != port {
			continue
		}
		if host == strings.ToLower(strings.Trim(s.Name, "[]")) || host == s.IP.String() {
			return true
		}
	}
	for _, a := range c.Aliases {
		ah, ap, hasPort := strings.Cut(strings.ToLower(a), ":")
		if ah != host {
			continue
		}
		if !hasPort {
			return true
		}
		if n, err := strconv.Atoi(ap); err == nil && n == port {
			return true
		}
	}
	return false
}

// IsMyselfIP reports whether ip is a socket address.
func (c *Core) IsMyselfIP(ip netip.Addr) bool {
	for _, s := range c.Socks {
		if s.IP == ip.Unmap() {
			return true
		}
	}
	return false
}

// BuildReply builds a reply the way the real core does, deterministically:
// all Vias, From, To (with o.ToTag, or a hash of the Call-ID when empty,
// except for 100 and when the request's To has a tag), Call-ID, CSeq, then
// o.Headers, then m.ReplyHeaders (append_to_reply), the Server header when
// Signature is on, and the body.
func (c *Core) BuildReply(m *sipmsg.Msg, code int, reason string, o module.ReplyOpts) *sip.Response {
	req := m.Req
	resp := sip.NewResponse(code, reason)
	for _, h := range req.GetHeaders("Via") {
		resp.AppendHeader(sip.HeaderClone(h))
	}
	if f := req.From(); f != nil {
		resp.AppendHeader(sip.HeaderClone(f))
	}
	if t := req.To(); t != nil {
		to := sip.HeaderClone(t).(*sip.ToHeader)
		if _, has := to.Params.Get("tag"); !has && code > 100 {
			tag := o.ToTag
			if tag == "" {
				sum := md5.Sum([]byte(m.CallID()))
				tag = "fake-" + hex.EncodeToString(sum[:4])
			}
			if to.Params == nil {
				to.Params = sip.NewParams()
			}
			to.Params.Add("tag", tag)
		}
		resp.AppendHeader(to)
	}
	if h := req.CallID(); h != nil {
		resp.AppendHeader(sip.HeaderClone(h))
	}
	if h := req.CSeq(); h != nil {
		resp.AppendHeader(sip.HeaderClone(h))
	}
	for _, l := range o.Headers {
		AppendHeaderLine(resp, l)
	}
	for _, l := range m.ReplyHeaders {
		AppendHeaderLine(resp, l)
	}
	if c.Signature {
		resp.AppendHeader(sip.NewHeader("Server", c.Server))
	}
	if o.ContentType != "" {
		ct := sip.ContentTypeHeader(o.ContentType)
		resp.AppendHeader(&ct)
	}
	resp.SetBody(o.Body)
	return resp
}

// Reply builds the reply with BuildReply and sends it with SendReply
// (recorded as such).
func (c *Core) Reply(m *sipmsg.Msg, code int, reason string, o module.ReplyOpts) error {
	return c.SendReply(m.Rcv, c.BuildReply(m, code, reason, o))
}

// ReplyWire serialises BuildReply's reply and computes its destination
// with ReplyDest.
func (c *Core) ReplyWire(m *sipmsg.Msg, code int, reason string, o module.ReplyOpts) ([]byte, sipmsg.Dest, error) {
	resp := c.BuildReply(m, code, reason, o)
	via := resp.Via()
	if via == nil {
		return nil, sipmsg.Dest{}, errors.New("modtest: reply without Via")
	}
	dst, err := c.ReplyDest(m.Rcv, via)
	if err != nil {
		return nil, dst, err
	}
	return sipmsg.AppendResponse(nil, resp), dst, nil
}

// AppendHeaderLine parses "Name: value" (a trailing CRLF is allowed;
// several CRLF-separated lines are taken one by one, as the core does)
// with sipgo's header parsers and appends the result to msg.
func AppendHeaderLine(msg sip.Message, line string) {
	line = strings.TrimRight(line, "\r\n")
	if first, rest, ok := strings.Cut(line, "\r\n"); ok {
		AppendHeaderLine(msg, first)
		AppendHeaderLine(msg, rest)
		return
	}
	hs, err := sip.HeadersParser(sip.DefaultHeadersParser()).ParseHeader(nil, []byte(line))
	if err != nil || len(hs) == 0 {
		name, val, _ := strings.Cut(line, ":")
		msg.AppendHeader(sip.NewHeader(strings.TrimSpace(name), strings.TrimSpace(val)))
		return
	}
	for _, h := range hs {
		msg.AppendHeader(h)
	}
}

// SendReply records the reply (or fails with Err).
func (c *Core) SendReply(rcv sipmsg.RcvInfo, resp *sip.Response) error {
	if c.Err != nil {
		return c.Err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.replies = append(c.replies, SentReply{Rcv: rcv, Resp: resp, Bytes: []byte(resp.String())})
	return nil
}

// ReplyDest returns the Via's received/rport address (or sent-by) over the
// Via's transport, from the socket the request arrived on.
func (c *Core) ReplyDest(rcv sipmsg.RcvInfo, via *sip.ViaHeader) (sipmsg.Dest, error) {
	proto, ok := sipmsg.ParseProto(via.Transport)
	if !ok {
		return sipmsg.Dest{}, fmt.Errorf("modtest: reply dest: transport %q", via.Transport)
	}
	host := via.Host
	if r, ok := via.Params.Get("received"); ok && r != "" {
		host = r
	}
	port := via.Port
	if rp, ok := via.Params.Get("rport"); ok && rp != "" {
		if n, err := strconv.Atoi(rp); err == nil {
			port = n
		}
	}
	d, err := c.ResolveHost(host, port, proto)
	if err != nil {
		return d, err
	}
	d.Sock = rcv.Sock
	if proto != sipmsg.ProtoUDP {
		d.ConnID = rcv.ConnID
	}
	return d, nil
}

// Resolve resolves a next-hop URI: host from Hosts or an IP literal, port
// (default by transport) and the transport parameter.
func (c *Core) Resolve(uri *sip.Uri) (sipmsg.Dest, error) {
	proto := sipmsg.ProtoUDP
	if uri.IsEncrypted() {
		proto = sipmsg.ProtoTLS
	}
	for _, kv := range uri.UriParams {
		if strings.EqualFold(kv.K, "transport") {
			p, ok := sipmsg.ParseProto(kv.V)
			if !ok {
				return sipmsg.Dest{}, fmt.Errorf("modtest: resolve %s: transport %q", uri.String(), kv.V)
			}
			proto = p
		}
	}
	return c.ResolveHost(uri.Host, uri.Port, proto)
}

// ResolveHost resolves host from Hosts or as an IP literal.
func (c *Core) ResolveHost(host string, port int, proto sipmsg.Proto) (sipmsg.Dest, error) {
	if port == 0 {
		port = defaultPort(proto)
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		var ok bool
		if ip, ok = c.Hosts[strings.ToLower(host)]; !ok {
			return sipmsg.Dest{}, fmt.Errorf("modtest: resolve %q: unknown host", host)
		}
	}
	return sipmsg.Dest{Proto: proto, Addr: netip.AddrPortFrom(ip, uint16(port))}, nil
}

// Send records data (or fails with Err).
func (c *Core) Send(dst sipmsg.Dest, data []byte) error {
	if c.Err != nil {
		return c.Err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.packets = append(c.packets, Packet{Dst: dst, Data: append([]byte(nil), data...)})
	return nil
}

// SocketFor returns the first socket of dst's protocol, else the first
// socket.
func (c *Core) SocketFor(dst sipmsg.Dest) *sipmsg.Socket {
	if dst.Sock != nil {
		return dst.Sock
	}
	for _, s := range c.Socks {
		if s.Proto == dst.Proto {
			return s
		}
	}
	if len(c.Socks) > 0 {
		return c.Socks[0]
	}
	return nil
}

// Forward records the request and its current text (or fails with Err).
func (c *Core) Forward(m *sipmsg.Msg, dst sipmsg.Dest) error {
	return c.forward(m, dst, false)
}

// RequestBytes returns the request as the real core would forward it from
// sock: a copy with our Via ("SIP/2.0/<PROTO> name:port;branch=<branch>")
// on top; m is left unchanged. (The fake does not add received/rport to
// the previous hop's Via.)
func (c *Core) RequestBytes(m *sipmsg.Msg, sock *sipmsg.Socket, branch string) []byte {
	req := m.Req.Clone()
	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: sock.Proto.ViaName(),
		Host: sock.Name, Port: sock.ViaPort(), Params: sip.NewParams()}
	via.Params.Add("branch", branch)
	req.PrependHeader(via)
	cp := *m
	cp.Req = req
	return sipmsg.AppendRequestFrom(nil, &cp, sock)
}

// SendAsIs records the request like Forward, with AsIs set.
func (c *Core) SendAsIs(m *sipmsg.Msg, dst sipmsg.Dest) error {
	return c.forward(m, dst, true)
}

func (c *Core) forward(m *sipmsg.Msg, dst sipmsg.Dest, asIs bool) error {
	if c.Err != nil {
		return c.Err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forwards = append(c.forwards, Forwarded{Msg: m, Dst: dst, Bytes: m.Bytes(), AsIs: asIs})
	return nil
}

// Log records a script log line.
func (c *Core) Log(_ *sipmsg.Msg, level int, text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.logs = append(c.logs, LogLine{Level: level, Text: text})
}

// HasRoute reports whether Routes has the block.
func (c *Core) HasRoute(kind module.Route, n int) bool {
	_, ok := c.Routes[RouteKey{kind, n}]
	return ok
}

// RunRoute runs the block from Routes; a missing block returns 1.
func (c *Core) RunRoute(kind module.Route, n int, m *sipmsg.Msg) int {
	if f, ok := c.Routes[RouteKey{kind, n}]; ok {
		return f(m)
	}
	return 1
}

// ServerHeader returns Server.
func (c *Core) ServerHeader() string { return c.Server }

// ServerSignature returns Signature.
func (c *Core) ServerSignature() bool { return c.Signature }
