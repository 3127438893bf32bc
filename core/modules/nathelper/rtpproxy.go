package nathelper

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The rtpproxy control protocol: a command is one line of text, over a
// unix stream socket (one connection per command, no cookie) or over UDP
// (a cookie before the command, echoed before the answer, so that a late
// answer to a retransmission is not taken for another command's).
//
//	V                                   → "20040107" (protocol version)
//	VF 20050322                         → "1" when the capability is there
//	U[opts] callid addr port ftag;n [ttag;n] → "port [addr [6]]" (offer)
//	L[opts] callid addr port ftag;n ttag;n   → "port [addr [6]]" (answer)
//	D callid ftag [ttag]                → "0" (delete)
//
// Errors are "E<code>".
const (
	// protoVersion is the base protocol version SER's nathelper speaks.
	protoVersion = "20040107"
	// protoCapability is the capability it needs on top: several media
	// streams per call ("tag;medianum").
	protoCapability = "20050322"
	// defaultUDPPort is the control port when an udp: address has none.
	defaultUDPPort = "22222"
	// maxReply bounds an answer.
	maxReply = 256
)

// rtpNode is one RTP proxy of the rtpproxy_sock list.
type rtpNode struct {
	url     string // as configured, without the weight
	network string // "unix", "udp" or "udp6"
	addr    string // socket path or host:port
	weight  int

	mu       sync.Mutex
	disabled bool
	recheck  time.Time // when a disabled node may be tested again
	manual   bool      // disabled by nh_enable_rtpp: never rechecked
}

// isManual reports whether nh_enable_rtpp switched the node off.
func (n *rtpNode) isManual() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.manual
}

// rtpProxies is the rtpproxy client of a nathelper instance.
type rtpProxies struct {
	nodes       []*rtpNode
	retr        int           // rtpproxy_retr: UDP sends per command
	tout        time.Duration // rtpproxy_tout: wait for an answer per send
	disableTout time.Duration // rtpproxy_disable_tout; <0: never recheck
	cookies     atomic.Uint64
	now         func() time.Time
	// test runs the version check; the default one sends V and VF.
	test func(*rtpNode) error
}

// parseRTPProxySock parses rtpproxy_sock: addresses separated by spaces,
// each "unix:/path", "udp:host[:port]", "udp6:host[:port]" or a bare
// path, optionally followed by "=weight" (default 1).
func parseRTPProxySock(s string) ([]*rtpNode, error) {
	var nodes []*rtpNode
	for _, f := range strings.Fields(s) {
		n := &rtpNode{url: f, weight: 1}
		if u, w, ok := strings.Cut(f, "="); ok {
			v, err := strconv.Atoi(w)
			if err != nil || v < 0 {
				return nil, fmt.Errorf("nathelper: rtpproxy_sock %q: weight %q is not a number", f, w)
			}
			n.url, n.weight = u, v
		}
		switch {
		case strings.HasPrefix(n.url, "udp:"):
			n.network, n.addr = "udp", n.url[4:]
		case strings.HasPrefix(n.url, "udp6:"):
			n.network, n.addr = "udp6", n.url[5:]
		case strings.HasPrefix(n.url, "unix:"):
			n.network, n.addr = "unix", n.url[5:]
		default:
			n.network, n.addr = "unix", n.url
		}
		if n.network != "unix" {
			host, port := n.addr, defaultUDPPort
			if i := strings.LastIndexByte(n.addr, ':'); i >= 0 && !strings.HasSuffix(n.addr, "]") {
				host, port = n.addr[:i], n.addr[i+1:]
				if port == "" {
					port = defaultUDPPort
				}
			}
			if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
				return nil, fmt.Errorf("nathelper: rtpproxy_sock %q: bad port %q", f, port)
			}
			host = strings.Trim(host, "[]")
			if host == "" {
				return nil, fmt.Errorf("nathelper: rtpproxy_sock %q: no host", f)
			}
			n.addr = net.JoinHostPort(host, port)
		} else if n.addr == "" {
			return nil, fmt.Errorf("nathelper: rtpproxy_sock %q: no socket path", f)
		}
		nodes = append(nodes, n)
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("nathelper: rtpproxy_sock %q names no RTP proxy", s)
	}
	return nodes, nil
}

// errNoAnswer is a command that got no (valid) answer.
var errNoAnswer = errors.New("no answer from the RTP proxy")

// send sends one command to node and returns its answer without the
// cookie and the line end. Over UDP it sends up to retr times and waits
// tout after each; over a unix socket connecting, writing and reading
// together take at most retr×tout. A failure disables the node for
// rtpproxy_disable_tout.
func (p *rtpProxies) send(node *rtpNode, cmd string) (string, error) {
	ans, err := p.exchange(node, cmd)
	if err != nil {
		p.disable(node)
		return "", fmt.Errorf("RTP proxy %s: %w", node.url, err)
	}
	return ans, nil
}

func (p *rtpProxies) exchange(node *rtpNode, cmd string) (string, error) {
	retr := max(p.retr, 1)
	if node.network == "unix" {
		deadline := time.Now().Add(time.Duration(retr) * p.tout)
		c, err := net.DialTimeout("unix", node.addr, p.tout)
		if err != nil {
			return "", err
		}
		defer c.Close()
		_ = c.SetDeadline(deadline)
		if _, err := c.Write([]byte(cmd + "\n")); err != nil {
			return "", err
		}
		buf := make([]byte, maxReply)
		n, err := c.Read(buf)
		if n == 0 {
			if err == nil {
				err = errNoAnswer
			}
			return "", err
		}
		return strings.TrimSpace(string(buf[:n])), nil
	}
	c, err := net.Dial(node.network, node.addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	cookie := fmt.Sprintf("%d_%d", time.Now().UnixNano()%1e9, p.cookies.Add(1))
	pkt := []byte(cookie + " " + cmd)
	buf := make([]byte, maxReply)
	for i := 0; i < retr; i++ {
		if _, err := c.Write(pkt); err != nil {
			return "", err
		}
		_ = c.SetReadDeadline(time.Now().Add(p.tout))
		for {
			n, err := c.Read(buf)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					break // retransmit
				}
				// ICMP port unreachable: nobody listens there.
				return "", err
			}
			ans, ok := bytes.CutPrefix(buf[:n], []byte(cookie))
			if ok && (len(ans) == 0 || ans[0] == ' ' || ans[0] == '\n') {
				return strings.TrimSpace(string(ans)), nil
			}
			// An answer to an earlier command: keep waiting.
		}
	}
	return "", errNoAnswer
}

// disable takes node out of service until rtpproxy_disable_tout passed.
func (p *rtpProxies) disable(node *rtpNode) {
	node.mu.Lock()
	node.disabled = true
	node.recheck = p.now().Add(p.disableTout)
	node.mu.Unlock()
}

// versionTest is SER's check of an RTP proxy: V must answer the base
// protocol version and VF the multi-stream capability.
func (p *rtpProxies) versionTest(node *rtpNode) error {
	ans, err := p.send(node, "V")
	if err != nil {
		return err
	}
	if ans != protoVersion {
		return fmt.Errorf("RTP proxy %s: unsupported protocol version %q (want %s)", node.url, ans, protoVersion)
	}
	ans, err = p.send(node, "VF "+protoCapability)
	if err != nil {
		return err
	}
	if ans != "1" {
		return fmt.Errorf("RTP proxy %s: capability %s missing (answer %q)", node.url, protoCapability, ans)
	}
	return nil
}

// check tests node when it is disabled and its recheck time has come (or
// always, with force); it reports whether the node is usable.
func (p *rtpProxies) check(node *rtpNode, force bool) (bool, error) {
	node.mu.Lock()
	if !force && (!node.disabled || node.manual || p.disableTout < 0 || p.now().Before(node.recheck)) {
		ok := !node.disabled
		node.mu.Unlock()
		return ok, nil
	}
	node.mu.Unlock()
	test := p.test
	if test == nil {
		test = p.versionTest
	}
	err := test(node)
	if err != nil {
		p.disable(node)
		return false, err
	}
	node.mu.Lock()
	node.disabled = false
	node.mu.Unlock()
	return true, nil
}

// errNoProxy is returned when no RTP proxy is available.
var errNoProxy = errors.New("no RTP proxy available")

// selectNode picks the RTP proxy for a call: the idx-th of the list when
// idx >= 0, otherwise by the weights, from a hash of the Call-ID (the sum
// of its bytes modulo 256), so that the offer and the answer of a call
// reach the same proxy. Disabled nodes due for a recheck are tested
// first; when every node is disabled, all are tested once more.
func (p *rtpProxies) selectNode(callID string, idx int) (*rtpNode, error) {
	if len(p.nodes) == 0 {
		return nil, errNoProxy
	}
	if idx >= 0 || len(p.nodes) == 1 {
		if idx >= len(p.nodes) {
			return nil, fmt.Errorf("RTP proxy index %d out of range (%d configured)", idx, len(p.nodes))
		}
		node := p.nodes[max(idx, 0)]
		if ok, err := p.check(node, false); !ok {
			if err == nil {
				err = fmt.Errorf("RTP proxy %s is disabled", node.url)
			}
			return nil, err
		}
		return node, nil
	}
	sum := 0
	for i := 0; i < len(callID); i++ {
		sum += int(callID[i])
	}
	sum &= 0xff
	for forced := false; ; forced = true {
		total := 0
		var live []*rtpNode
		for _, n := range p.nodes {
			if ok, _ := p.check(n, forced && !n.isManual()); ok && n.weight > 0 {
				live = append(live, n)
				total += n.weight
			}
		}
		if total > 0 {
			cut := sum % total
			for _, n := range live {
				if cut < n.weight {
					return n, nil
				}
				cut -= n.weight
			}
		}
		if forced {
			return nil, errNoProxy
		}
	}
}

// start tests every node once (SER's child_init); a node that fails is
// disabled until its recheck time. It never fails: SER starts without
// its RTP proxies and retries them later.
func (p *rtpProxies) start(ctx context.Context, warn func(string, ...any)) {
	for _, n := range p.nodes {
		if ctx.Err() != nil {
			return
		}
		if _, err := p.check(n, true); err != nil {
			when := fmt.Sprintf("retried after %v", p.disableTout)
			if p.disableTout < 0 {
				when = "not retried (rtpproxy_disable_tout -1)"
			}
			warn("nathelper: RTP proxy disabled", "proxy", n.url, "err", err, "retry", when)
		}
	}
}
