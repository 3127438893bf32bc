package nathelper

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode"

	"ser/core/module"
	"ser/core/sipmsg"
)

// noRTPProxy is the SDP attribute force_rtp_proxy appends so that a
// second proxy on the path leaves the session alone.
const noRTPProxy = "a=nortpproxy:yes"

// forceOpts are force_rtp_proxy's options, parsed at load time.
type forceOpts struct {
	proxyFlags string // A, I, E as sent to the proxy
	asymmetric bool   // a: the UA does not send from where it receives
	lookup     bool   // l: only update an existing session (re-INVITE)
	force      bool   // f: ignore a=nortpproxy:yes
	real       bool   // r: trust the SDP's address
	node       int    // N<idx>: the RTP proxy to use; -1: by weight
}

// parseForceOpts parses force_rtp_proxy's option string.
func parseForceOpts(s string) (forceOpts, error) {
	o := forceOpts{node: -1}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t':
		case 'a', 'A':
			o.proxyFlags += "A"
			o.asymmetric, o.real = true, true
		case 'i', 'I':
			o.proxyFlags += "I"
		case 'e', 'E':
			o.proxyFlags += "E"
		case 'l', 'L':
			o.lookup = true
		case 'f', 'F':
			o.force = true
		case 'r', 'R':
			o.real = true
		case 'n', 'N':
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j == i+1 {
				return o, fmt.Errorf("a number must follow option N")
			}
			o.node, _ = strconv.Atoi(s[i+1 : j])
			i = j - 1
		default:
			return o, fmt.Errorf("unknown option %q", c)
		}
	}
	return o, nil
}

// fixupForce binds force_rtp_proxy([options[, ip]]).
func fixupForce(n *NATHelper, _ *module.Env, args []module.Value) (module.Handler, error) {
	var o forceOpts
	var err error
	if len(args) > 0 {
		if o, err = parseForceOpts(args[0].String()); err != nil {
			return nil, fmt.Errorf("force_rtp_proxy: %w", err)
		}
	} else {
		o.node = -1
	}
	if err := n.checkNodeIndex(o.node); err != nil {
		return nil, fmt.Errorf("force_rtp_proxy: %w", err)
	}
	ip := ""
	if len(args) > 1 {
		ip = args[1].String()
		if _, err := netip.ParseAddr(ip); err != nil {
			return nil, fmt.Errorf("force_rtp_proxy: %q is not an IP address", ip)
		}
	}
	n.rtpUsed = true
	return func(m *sipmsg.Msg) (int, error) {
		if err := n.ForceRTPProxy(m, o, ip); err != nil {
			n.log.WarnContext(module.MsgCtx(m), "force_rtp_proxy: "+err.Error())
			return -1, nil
		}
		return 1, nil
	}, nil
}

// fixupUnforce binds unforce_rtp_proxy([index]).
func fixupUnforce(n *NATHelper, _ *module.Env, args []module.Value) (module.Handler, error) {
	idx := -1
	if len(args) > 0 {
		v, err := args[0].Int()
		if err != nil || v < 0 {
			return nil, fmt.Errorf("unforce_rtp_proxy: index %q is not a non-negative number", args[0].String())
		}
		idx = v
	}
	if err := n.checkNodeIndex(idx); err != nil {
		return nil, fmt.Errorf("unforce_rtp_proxy: %w", err)
	}
	n.rtpUsed = true
	return func(m *sipmsg.Msg) (int, error) {
		if err := n.UnforceRTPProxy(m, idx); err != nil {
			n.log.WarnContext(module.MsgCtx(m), "unforce_rtp_proxy: "+err.Error())
			return -1, nil
		}
		return 1, nil
	}, nil
}

// checkNodeIndex checks an N<idx> option against rtpproxy_sock.
func (n *NATHelper) checkNodeIndex(idx int) error {
	if idx >= 0 && !n.rtpDisable && idx >= len(n.rtp.nodes) {
		return fmt.Errorf("RTP proxy index %d out of range: rtpproxy_sock names %d", idx, len(n.rtp.nodes))
	}
	return nil
}

// tags returns the message's Call-ID, From tag and To tag; the From tag
// must be there.
func tags(m *sipmsg.Msg) (callID, from, to string, err error) {
	msg := m.Message()
	callID = m.CallID()
	if callID == "" {
		return "", "", "", fmt.Errorf("no Call-ID")
	}
	if h := msg.From(); h != nil {
		from, _ = h.Params.Get("tag")
	}
	if from == "" {
		return "", "", "", fmt.Errorf("no From tag")
	}
	if h := msg.To(); h != nil {
		to, _ = h.Params.Get("tag")
	}
	return callID, from, to, nil
}

// UnforceRTPProxy is unforce_rtp_proxy: it asks the RTP proxy to delete
// the call's session ("D callid fromtag [totag]"). idx selects the proxy
// as force_rtp_proxy's N option does (-1: by weight).
func (n *NATHelper) UnforceRTPProxy(m *sipmsg.Msg, idx int) error {
	if n.rtpDisable {
		return fmt.Errorf("support for RTP proxy is disabled (rtpproxy_disable)")
	}
	callID, from, to, err := tags(m)
	if err != nil {
		return err
	}
	node, err := n.rtp.selectNode(callID, idx)
	if err != nil {
		return err
	}
	cmd := "D " + callID + " " + from
	if to != "" {
		cmd += " " + to
	}
	ans, err := n.rtp.send(node, cmd)
	if err != nil {
		return err
	}
	if strings.HasPrefix(ans, "E") {
		// The proxy knows no such session (deleted already, or never
		// created): nothing is relayed for the call any more.
		n.log.DebugContext(module.MsgCtx(m), "unforce_rtp_proxy: proxy answered "+ans)
	}
	return nil
}

// ForceRTPProxy is force_rtp_proxy: for an INVITE it creates (for a
// reply it looks up) the call's session in the RTP proxy, one per media
// stream, and rewrites the SDP body so that the media goes through the
// proxy: each m= port becomes the proxy's port, each c= address the
// proxy's address, and a=nortpproxy:yes is appended. ip is the address
// written when the proxy does not name one ("" means the address the
// message was received on).
func (n *NATHelper) ForceRTPProxy(m *sipmsg.Msg, o forceOpts, ip string) error {
	if n.rtpDisable {
		return fmt.Errorf("support for RTP proxy is disabled (rtpproxy_disable)")
	}
	create := false
	switch {
	case m.IsRequest() && m.Method() == "INVITE":
		create = true
	case m.IsRequest():
		return fmt.Errorf("%s: only INVITEs and replies carry the SDP to relay", m.Method())
	}
	body := sdpBody(m)
	if body == nil {
		return fmt.Errorf("no SDP body")
	}
	callID, from, to, err := tags(m)
	if err != nil {
		return err
	}
	if o.lookup {
		if !create || to == "" {
			return fmt.Errorf("option l needs an INVITE within a dialog (with a To tag)")
		}
		create = false
		from, to = to, from
	}
	if ip == "" && m.Rcv.Sock != nil {
		ip = m.Rcv.Sock.IP.String()
	}
	s := parseSDP(body)
	proxied := s.has(noRTPProxy)
	if proxied && !o.force {
		return fmt.Errorf("the session goes through an RTP proxy already (a=nortpproxy:yes)")
	}
	sessions, err := s.sessions()
	if err != nil {
		return err
	}
	medianum := 0
	for _, sess := range sessions {
		sessionCDone := false
		for _, med := range sess.media {
			medianum++
			cl := med.c
			if cl < 0 {
				cl = sess.c
			}
			if cl < 0 {
				return fmt.Errorf("media stream %d has no c= line", medianum)
			}
			atype, oldAddr, ok := connection([]byte(s.lines[cl].text))
			if !ok || (atype != "IP4" && atype != "IP6") {
				return fmt.Errorf("bad c= line %q", s.lines[cl].text)
			}
			port, err := mediaPort(s.lines[med.m].text)
			if err != nil {
				return fmt.Errorf("media stream %d: %w", medianum, err)
			}
			addr := oldAddr
			if !o.real && m.Rcv.Src.IsValid() {
				addr = m.Rcv.Src.Addr().Unmap().String()
			}
			opts := o.proxyFlags
			if atype == "IP6" {
				opts += "6"
			}
			cmd := "U"
			if !create {
				cmd = "L"
			}
			num := strconv.Itoa(medianum)
			line := cmd + opts + " " + callID + " " + addr + " " + port + " " + from + ";" + num
			if to != "" {
				line += " " + to + ";" + num
			}
			node, err := n.rtp.selectNode(callID, o.node)
			if err != nil {
				return err
			}
			ans, err := n.rtp.send(node, line)
			if err != nil {
				return err
			}
			f := strings.Fields(ans)
			if len(f) == 0 {
				return fmt.Errorf("RTP proxy %s: empty answer", node.url)
			}
			newPort, err := strconv.Atoi(f[0])
			if err != nil || newPort <= 0 || newPort > 65535 {
				return fmt.Errorf("RTP proxy %s answered %q", node.url, ans)
			}
			newType := "IP4"
			if len(f) >= 3 && strings.HasPrefix(f[2], "6") {
				newType = "IP6"
			}
			newAddr := ip
			switch {
			case isNullAddr(oldAddr):
				newAddr = "0.0.0.0"
				if newType == "IP6" {
					newAddr = "::"
				}
			case len(f) >= 2:
				newAddr = f[1]
			}
			s.lines[med.m].text = setMediaPort(s.lines[med.m].text, newPort)
			if med.c >= 0 || !sessionCDone {
				if !(atype == newType && isNullAddr(oldAddr)) && !(atype == newType && oldAddr == newAddr) {
					s.lines[cl].text = "c=IN " + newType + " " + newAddr
				}
				if med.c < 0 {
					sessionCDone = true
				}
			}
		}
	}
	if !proxied {
		s.appendLine(noRTPProxy)
	}
	m.Message().SetBody(s.bytes())
	return nil
}

// isNullAddr reports whether a c= address puts the stream on hold
// (0.0.0.0, or :: for IPv6).
func isNullAddr(a string) bool {
	ip, err := netip.ParseAddr(a)
	return err == nil && ip.IsUnspecified()
}

// relayable are the m= transports an RTP proxy relays (SER's udp, udptl,
// RTP/AVP, and the RTP profiles that came after it).
var relayable = map[string]bool{"udp": true, "udptl": true, "rtp/avp": true, "rtp/avpf": true, "rtp/savp": true, "rtp/savpf": true}

// mediaPort returns the port of an m= line ("m=audio 4000 RTP/AVP 0").
func mediaPort(line string) (string, error) {
	f := strings.Fields(strings.TrimPrefix(line, "m="))
	if len(f) < 3 {
		return "", fmt.Errorf("bad m= line %q", line)
	}
	port, _, _ := strings.Cut(f[1], "/")
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return "", fmt.Errorf("bad port in m= line %q", line)
	}
	if !relayable[strings.ToLower(f[2])] {
		return "", fmt.Errorf("transport %s of m= line %q cannot be relayed", f[2], line)
	}
	return port, nil
}

// setMediaPort replaces the port of an m= line (a "/count" goes too: the
// proxy gives one port).
func setMediaPort(line string, port int) string {
	rest := strings.TrimPrefix(line, "m=")
	i := strings.IndexFunc(rest, unicode.IsSpace)
	media, rest := rest[:i], strings.TrimLeftFunc(rest[i:], unicode.IsSpace)
	j := strings.IndexFunc(rest, unicode.IsSpace)
	return "m=" + media + " " + strconv.Itoa(port) + rest[j:]
}

// sdpText is an SDP body as lines, each with its own line end.
type sdpText struct {
	lines []sdpLine
	eol   string // the body's line end, for appended lines
}

type sdpLine struct{ text, eol string }

// sdpSession is one session description: the index of its session-level
// c= line (-1: none) and its media descriptions.
type sdpSession struct {
	c     int
	media []sdpMedia
}

// sdpMedia is one media description: its m= line and its own c= line
// (-1: none, the session's applies).
type sdpMedia struct{ m, c int }

func parseSDP(body []byte) *sdpText {
	s := &sdpText{eol: "\r\n"}
	if !bytes.Contains(body, []byte("\r\n")) && bytes.Contains(body, []byte("\n")) {
		s.eol = "\n"
	}
	for _, l := range strings.SplitAfter(string(body), "\n") {
		if l == "" {
			continue
		}
		text := strings.TrimRight(l, "\r\n")
		s.lines = append(s.lines, sdpLine{text: text, eol: l[len(text):]})
	}
	return s
}

// has reports whether a line is exactly text.
func (s *sdpText) has(text string) bool {
	for _, l := range s.lines {
		if strings.TrimSpace(l.text) == text {
			return true
		}
	}
	return false
}

// sessions splits the body at its v= lines and each session at its m=
// lines.
func (s *sdpText) sessions() ([]sdpSession, error) {
	var out []sdpSession
	for i, l := range s.lines {
		switch {
		case strings.HasPrefix(l.text, "v="):
			out = append(out, sdpSession{c: -1})
		case len(out) == 0:
		case strings.HasPrefix(l.text, "m="):
			cur := &out[len(out)-1]
			cur.media = append(cur.media, sdpMedia{m: i, c: -1})
		case strings.HasPrefix(l.text, "c="):
			cur := &out[len(out)-1]
			if len(cur.media) == 0 {
				if cur.c < 0 {
					cur.c = i
				}
			} else if md := &cur.media[len(cur.media)-1]; md.c < 0 {
				md.c = i
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no session (v=) in the SDP body")
	}
	for _, sess := range out {
		if len(sess.media) == 0 {
			return nil, fmt.Errorf("a session of the SDP body has no m= line")
		}
	}
	return out, nil
}

// appendLine adds a line at the end of the body.
func (s *sdpText) appendLine(text string) {
	if n := len(s.lines); n > 0 && s.lines[n-1].eol == "" {
		s.lines[n-1].eol = s.eol
	}
	s.lines = append(s.lines, sdpLine{text: text, eol: s.eol})
}

func (s *sdpText) bytes() []byte {
	var b strings.Builder
	for _, l := range s.lines {
		b.WriteString(l.text)
		b.WriteString(l.eol)
	}
	return []byte(b.String())
}
