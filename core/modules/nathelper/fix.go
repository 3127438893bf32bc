package nathelper

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/modules/registrar"
	"ser/core/sipmsg"
)

// fixupFixContact binds fix_nated_contact().
func fixupFixContact(_ any, _ *module.Env, _ []module.Value) (module.Handler, error) {
	return func(m *sipmsg.Msg) (int, error) {
		if FixContact(m) {
			return 1, nil
		}
		return -1, nil
	}, nil
}

// FixContact is fix_nated_contact: the host and port of the first Contact
// URI become the address the message came from (user part and parameters
// stay). False when the message has no Contact (or "Contact: *").
func FixContact(m *sipmsg.Msg) bool {
	c := firstContact(m.Message())
	if c == nil || !m.Rcv.Src.IsValid() {
		return false
	}
	ip := m.Rcv.Src.Addr().Unmap()
	host := ip.String()
	if ip.Is6() {
		host = "[" + host + "]"
	}
	c.Address.Host, c.Address.Port = host, int(m.Rcv.Src.Port())
	return true
}

// fixupFixRegister binds fix_nated_register().
func fixupFixRegister(_ any, _ *module.Env, _ []module.Value) (module.Handler, error) {
	return func(m *sipmsg.Msg) (int, error) {
		if m.Method() != "REGISTER" {
			return -1, nil
		}
		registrar.SetNATed(m)
		return 1, nil
	}, nil
}

// fixupAddRcvParam binds add_rcv_param().
func fixupAddRcvParam(_ any, _ *module.Env, _ []module.Value) (module.Handler, error) {
	return func(m *sipmsg.Msg) (int, error) {
		if AddRcvParam(m) {
			return 1, nil
		}
		return -1, nil
	}, nil
}

// AddRcvParam is add_rcv_param: every Contact of the request gets a
// received parameter with the address it came from
// (received="sip:ip:port", ";transport=tcp" for TCP and TLS), for a
// registrar behind this proxy to store (it uses the parameter as the
// contact's received address, as SER's did). False without a Contact.
func AddRcvParam(m *sipmsg.Msg) bool {
	if !m.Rcv.Src.IsValid() {
		return false
	}
	rcv := `"` + registrar.ReceivedURI(m.Rcv) + `"`
	n := 0
	for _, h := range m.Message().GetHeaders("Contact") {
		if c, ok := h.(*sip.ContactHeader); ok && !c.Address.Wildcard {
			c.Params.Add("received", rcv)
			n++
		}
	}
	return n > 0
}

// fix_nated_sdp flag bits (SER 0.9's).
const (
	// SDPAddDirection appends "a=direction:active".
	SDPAddDirection = 1
	// SDPFixMediaIP replaces the address of every c= line with the
	// source address.
	SDPFixMediaIP = 2
	// SDPAddNoRTPProxy appends "a=nortpproxy:yes".
	SDPAddNoRTPProxy = 4

	sdpAll = SDPAddDirection | SDPFixMediaIP | SDPAddNoRTPProxy
)

// fixupFixSDP binds fix_nated_sdp(flags).
func fixupFixSDP(_ any, _ *module.Env, args []module.Value) (module.Handler, error) {
	flags, err := args[0].Int()
	if err != nil {
		return nil, fmt.Errorf("fix_nated_sdp: flags: %w", err)
	}
	if flags <= 0 || flags&^sdpAll != 0 {
		return nil, fmt.Errorf("fix_nated_sdp: flags %d: want a combination of 1 (a=direction:active), 2 (media address), 4 (a=nortpproxy:yes)", flags)
	}
	return func(m *sipmsg.Msg) (int, error) {
		if FixSDP(m, flags) {
			return 1, nil
		}
		return -1, nil
	}, nil
}

// FixSDP is fix_nated_sdp: it edits the SDP body as flags say (see the
// SDP* constants); Content-Length follows. False when there is no SDP
// body.
func FixSDP(m *sipmsg.Msg, flags int) bool {
	msg := m.Message()
	body := sdpBody(m)
	if body == nil {
		return false
	}
	eol := "\r\n"
	if !bytes.Contains(body, []byte("\r\n")) {
		eol = "\n"
	}
	lines := strings.SplitAfter(string(body), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if flags&SDPFixMediaIP != 0 && m.Rcv.Src.IsValid() {
		ip := m.Rcv.Src.Addr().Unmap()
		atype := "IP4"
		if ip.Is6() {
			atype = "IP6"
		}
		for i, l := range lines {
			if _, _, ok := connection([]byte(l)); ok {
				lines[i] = "c=IN " + atype + " " + ip.String() + eol
			}
		}
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
	}
	if n := len(lines); n > 0 && !strings.HasSuffix(lines[n-1], "\n") {
		b.WriteString(eol)
	}
	if flags&SDPAddDirection != 0 {
		b.WriteString("a=direction:active" + eol)
	}
	if flags&SDPAddNoRTPProxy != 0 {
		b.WriteString("a=nortpproxy:yes" + eol)
	}
	msg.SetBody([]byte(b.String()))
	return true
}
