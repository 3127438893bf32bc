package e2e

import (
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ser/internal/testing/rtpengine"
	"ser/internal/testing/testutil"
)

// natBox relays a phone's SIP to ser the way a NAT does: ser sees the
// phone's packets come from the box (127.0.0.2:port) while the phone's
// Via, Contact and SDP name its own address (127.0.0.1), and what ser
// sends to the box reaches the phone. Media does not go through the box:
// the phones' RTP reaches the relay from their own address, as from a
// NAT's mapping. The box keeps the SIP messages it passed to the phone.
// The phone sends its requests to the box as its outbound proxy.
type natBox struct {
	conn  *net.UDPConn
	ser   *net.UDPAddr
	mu    sync.Mutex
	phone *net.UDPAddr
	toUA  []string
}

func newNATBox(t *testing.T, ser *net.UDPAddr) *natBox {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Fatalf("NAT box on 127.0.0.2: %v", err)
	}
	b := &natBox{conn: c, ser: ser}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			b.mu.Lock()
			if from.IP.Equal(ser.IP) && from.Port == ser.Port {
				if b.phone != nil {
					b.toUA = append(b.toUA, string(buf[:n]))
					_, _ = c.WriteToUDP(buf[:n], b.phone)
				}
			} else {
				// baresip names its outbound proxy (the box) in a Route
				// header; a NAT is no SIP hop, so the header goes.
				msg := strings.Replace(string(buf[:n]), "Route: <sip:"+b.addr()+";lr>\r\n", "", 1)
				b.phone = from
				_, _ = c.WriteToUDP([]byte(msg), ser)
			}
			b.mu.Unlock()
		}
	}()
	return b
}

// addr is the box's public address ("127.0.0.2:port").
func (b *natBox) addr() string { return b.conn.LocalAddr().String() }

// passed returns the first message passed to the phone whose first line
// contains first and whose CSeq contains cseq.
func (b *natBox) passed(t *testing.T, first, cseq string) string {
	t.Helper()
	var found string
	waitFor(t, func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, m := range b.toUA {
			if strings.Contains(firstLine(m), first) && strings.Contains(header(m, "CSeq"), cseq) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

var mediaLine = regexp.MustCompile(`(?m)^m=audio (\d+) `)

// relayedSDP checks that the SDP of msg sends the media to rtpengine:
// its address, a port of its range, SER's a=nortpproxy:yes mark.
func relayedSDP(t *testing.T, re *rtpengine.Server, what, msg string) {
	t.Helper()
	_, body, _ := strings.Cut(msg, "\r\n\r\n")
	mm := mediaLine.FindStringSubmatch(body)
	if mm == nil || !strings.Contains(body, "c=IN IP4 127.0.0.1\r\n") || !strings.Contains(body, "a=nortpproxy:yes\r\n") {
		t.Fatalf("%s: SDP not rewritten to rtpengine:\n%s", what, msg)
	}
	if p, _ := strconv.Atoi(mm[1]); p < re.PortMin || p > re.PortMax {
		t.Fatalf("%s: media port %d is not one of rtpengine's (%d-%d):\n%s", what, p, re.PortMin, re.PortMax, body)
	}
}

// natCall starts ser with cfg and two baresip phones, alice and bob,
// each behind a NAT box, and has alice call bob; it returns once both
// report the call established.
func natCall(t *testing.T, cfg string) (alice, bob *softphone, boxA, boxB *natBox) {
	t.Helper()
	srv := startSer(t, cfg)
	boxA, boxB = newNATBox(t, srv.udpAddr()), newNATBox(t, srv.udpAddr())
	alice = startSoftphone(t, srv, "alice", fmt.Sprintf(`;outbound="sip:%s"`, boxA.addr()), false)
	bob = startSoftphone(t, srv, "bob", fmt.Sprintf(`;outbound="sip:%s"`, boxB.addr()), true)
	waitRegistered(t, srv, "alice")
	waitRegistered(t, srv, "bob")
	alice.command("dial", "sip:bob@"+srv.addr())
	alice.waitEvent("CALL_ESTABLISHED", 15*time.Second)
	bob.waitEvent("CALL_ESTABLISHED", 15*time.Second)
	return alice, bob, boxA, boxB
}

// rtpproxyConfig reads a config and points its RTP proxy at control:
// rtpproxy.cfg names udp:127.0.0.1:22222; nathelper.cfg relies on
// rtpproxy_sock's default (unix:/var/run/rtpproxy.sock), so the modparam
// is added after its loadmodule (rtpengine listens on UDP only).
func rtpproxyConfig(t *testing.T, path, control string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(raw)
	if strings.Contains(cfg, "udp:127.0.0.1:22222") {
		return strings.ReplaceAll(cfg, "udp:127.0.0.1:22222", "udp:"+control)
	}
	const load = "loadmodule \"/usr/local/lib/ser/modules/nathelper.so\"\n"
	if !strings.Contains(cfg, load) {
		t.Fatalf("%s: no loadmodule of nathelper", path)
	}
	return strings.Replace(cfg, load, load+"modparam(\"nathelper\", \"rtpproxy_sock\", \"udp:"+control+"\")\n", 1)
}

// TestRTPProxyCall: two baresip phones behind (emulated) NATs register to
// ser and call each other; ser relays the media through a real rtpengine
// (userspace, its rtpproxy control protocol over UDP). The SDP each phone
// receives names rtpengine's address and ports, rtpengine relays the
// audio, and — with unforce_rtp_proxy on BYE — the relay session ends
// with the call. Run with SER 0.9.6's etc/nathelper.cfg unchanged (it
// never calls unforce_rtp_proxy: the session stays until rtpengine's
// timeout) and with testdata/cfg/rtpproxy.cfg (which does).
func TestRTPProxyCall(t *testing.T) {
	testutil.RequireTool(t, "baresip")
	for _, tc := range []struct {
		name, cfg string
		unforce   bool
	}{
		{"ser-0.9.6 etc/nathelper.cfg", "../testdata/ser-0.9.6/etc/nathelper.cfg", false},
		{"rtpproxy.cfg", "../testdata/cfg/rtpproxy.cfg", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			re := rtpengine.Start(t)
			alice, bob, boxA, boxB := natCall(t, rtpproxyConfig(t, tc.cfg, re.Control))

			// The offer bob got and the answer alice got name rtpengine.
			offer := boxB.passed(t, "INVITE", "INVITE")
			relayedSDP(t, re, "INVITE to bob", offer)
			relayedSDP(t, re, "200 to alice", boxA.passed(t, "200", "INVITE"))
			t.Logf("offer bob received:\n%s", offer)
			callID := header(offer, "Call-ID")
			if s := re.Sessions(t); len(s) != 1 || s[0] != callID {
				t.Fatalf("rtpengine sessions %v, want [%s]", s, callID)
			}
			// Audio flows through rtpengine: 50 packets a second each way.
			var totals map[string]int64
			waitFor(t, func() bool {
				totals = re.Totals(t)
				return totals["Total relayed packets"] >= 100
			})
			t.Logf("rtpengine relayed %d packets (%d bytes) during the call", totals["Total relayed packets"], totals["Total relayed bytes"])
			alice.command("hangup", "")
			bob.waitEvent("CALL_CLOSED", 10*time.Second)
			if !tc.unforce {
				// SER's nathelper.cfg leaves the session to the relay.
				if s := re.Sessions(t); len(s) != 1 {
					t.Fatalf("rtpengine sessions after BYE %v", s)
				}
				return
			}
			waitFor(t, func() bool { return len(re.Sessions(t)) == 0 })
			totals = re.Totals(t)
			if totals["Total regular terminated sessions"] != 1 || totals["Total number of 1-way streams"] != 0 ||
				totals["Total number of streams with no relayed packets"] != 0 {
				t.Fatalf("rtpengine totals after the call: %v", totals)
			}
			t.Logf("rtpengine after the BYE: no session, %d terminated, %d relayed packets", totals["Total regular terminated sessions"], totals["Total relayed packets"])
		})
	}
}

// TestRTPProxyDead: the RTP proxy of rtpproxy.cfg takes commands and never
// answers. ser still starts (the proxy is disabled after rtpproxy_retr ×
// rtpproxy_tout), the call goes through with force_rtp_proxy false — the
// phones' SDP unchanged, no relay mark — and the BYE's unforce_rtp_proxy
// does not hold it up.
func TestRTPProxyDead(t *testing.T) {
	testutil.RequireTool(t, "baresip")
	dead, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	var mu sync.Mutex
	var cmds []string
	go func() {
		buf := make([]byte, 2048)
		for {
			n, _, err := dead.ReadFrom(buf)
			if err != nil {
				return
			}
			mu.Lock()
			cmds = append(cmds, string(buf[:n]))
			mu.Unlock()
		}
	}()
	alice, bob, _, boxB := natCall(t, rtpproxyConfig(t, "../testdata/cfg/rtpproxy.cfg", dead.LocalAddr().String()))
	offer := boxB.passed(t, "INVITE", "INVITE")
	_, body, _ := strings.Cut(offer, "\r\n\r\n")
	if strings.Contains(body, "a=nortpproxy") || !strings.Contains(body, "a=direction:active") {
		t.Fatalf("offer changed by a dead RTP proxy:\n%s", offer)
	}
	alice.command("hangup", "")
	bob.waitEvent("CALL_CLOSED", 10*time.Second)
	mu.Lock()
	defer mu.Unlock()
	// The version query at start, sent rtpproxy_retr (2) times; then the
	// proxy is disabled and the call's functions do not ask it (only a
	// recheck, should the call outlast rtpproxy_disable_tout, queries
	// the version again).
	if len(cmds) < 2 {
		t.Fatalf("commands the dead proxy got: %q", cmds)
	}
	for _, c := range cmds {
		if !strings.HasSuffix(c, " V") {
			t.Fatalf("a disabled proxy got %q (all: %q)", c, cmds)
		}
	}
}
