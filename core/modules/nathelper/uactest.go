package nathelper

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/sipmsg"
)

// nat_uac_test flag bits (SER 0.9's NAT_UAC_TEST_*).
const (
	// TestContact1918 tests whether the first Contact URI's host is an
	// RFC 1918 address.
	TestContact1918 = 1
	// TestReceived tests whether the source IP differs from the top
	// Via's host.
	TestReceived = 2
	// TestVia1918 tests whether the top Via's host is an RFC 1918 address.
	TestVia1918 = 4
	// TestSDP1918 tests whether a c= line of an SDP body has an RFC 1918
	// address.
	TestSDP1918 = 8
	// TestRport tests whether the source port differs from the top Via's
	// port.
	TestRport = 16

	testAll = TestContact1918 | TestReceived | TestVia1918 | TestSDP1918 | TestRport
)

// nets1918 are the private networks SER's nathelper tests for.
var nets1918 = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
}

// is1918 reports whether host is an IPv4 literal in an RFC 1918 network.
func is1918(host string) bool {
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range nets1918 {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// fixupUACTest binds nat_uac_test(flags); flags is checked at load time.
func fixupUACTest(_ any, _ *module.Env, args []module.Value) (module.Handler, error) {
	flags, err := args[0].Int()
	if err != nil {
		return nil, fmt.Errorf("nat_uac_test: flags: %w", err)
	}
	if flags <= 0 || flags&^testAll != 0 {
		return nil, fmt.Errorf("nat_uac_test: flags %d: want a combination of 1 (Contact), 2 (received), 4 (Via), 8 (SDP), 16 (rport)", flags)
	}
	return func(m *sipmsg.Msg) (int, error) {
		if UACTest(m, flags) {
			return 1, nil
		}
		return -1, nil
	}, nil
}

// UACTest is nat_uac_test: true when any of the tests selected by flags
// finds a sign of a NAT between the sender and this server.
func UACTest(m *sipmsg.Msg, flags int) bool {
	msg := m.Message()
	via := msg.Via()
	switch {
	case flags&TestRport != 0 && via != nil && m.Rcv.Src.Port() != uint16(viaPort(via)):
		return true
	case flags&TestReceived != 0 && via != nil && !sameIP(via.Host, m.Rcv.Src.Addr()):
		return true
	case flags&TestVia1918 != 0 && via != nil && is1918(via.Host):
		return true
	case flags&TestContact1918 != 0 && contact1918(msg):
		return true
	case flags&TestSDP1918 != 0 && sdp1918(m):
		return true
	}
	return false
}

// viaPort is the Via's port, or the transport's default.
func viaPort(v *sip.ViaHeader) int {
	if v.Port != 0 {
		return v.Port
	}
	if strings.EqualFold(v.Transport, "TLS") {
		return 5061
	}
	return 5060
}

// sameIP reports whether host is an IP literal equal to ip (SER compared
// the texts; a host name never matches).
func sameIP(host string, ip netip.Addr) bool {
	h, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && h.Unmap() == ip.Unmap()
}

// firstContact returns the first Contact header, nil when there is none
// or it is "*".
func firstContact(msg sip.Message) *sip.ContactHeader {
	for _, h := range msg.GetHeaders("Contact") {
		if c, ok := h.(*sip.ContactHeader); ok && !c.Address.Wildcard {
			return c
		}
		return nil
	}
	return nil
}

func contact1918(msg sip.Message) bool {
	c := firstContact(msg)
	return c != nil && is1918(c.Address.Host)
}

// sdpBody returns the body when the message carries SDP.
func sdpBody(m *sipmsg.Msg) []byte {
	body := m.Message().Body()
	if len(body) == 0 {
		return nil
	}
	if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(m.Header("Content-Type"))), "application/sdp") {
		return nil
	}
	return body
}

// sdp1918 reports whether a connection line (c=IN IP4 addr) of the SDP
// body has an RFC 1918 address; every c= line counts.
func sdp1918(m *sipmsg.Msg) bool {
	for _, line := range bytes.Split(sdpBody(m), []byte("\n")) {
		if _, addr, ok := connection(line); ok && is1918(addr) {
			return true
		}
	}
	return false
}

// connection parses an SDP c= line: "c=IN IP4 192.168.0.1[/ttl]". It
// returns the address type and the address.
func connection(line []byte) (atype, addr string, ok bool) {
	s := strings.TrimRight(string(line), "\r")
	if !strings.HasPrefix(s, "c=") {
		return "", "", false
	}
	f := strings.Fields(s[2:])
	if len(f) != 3 || f[0] != "IN" {
		return "", "", false
	}
	addr, _, _ = strings.Cut(f[2], "/")
	return f[1], addr, true
}
