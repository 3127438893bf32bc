package registrar

import (
	"fmt"
	"slices"
	"strconv"

	"ser/core/module"
	"ser/core/modules/usrloc"
	"ser/core/sipmsg"
)

// failure is why save() refused a REGISTER: SER 0.9's rerrno, its reply
// code and the text of the P-Registrar-Error header.
type failure struct {
	code int
	info string
	// hdrs are header lines the error reply carries besides
	// P-Registrar-Error (Unsupported for 420).
	hdrs []string
}

func (f *failure) Error() string { return "registrar: " + f.info }

// reason is the reply's reason phrase (SER's MSG_400, MSG_500, MSG_503).
func (f *failure) reason() string {
	switch f.code {
	case 400:
		return "Bad Request"
	case 420:
		return "Bad Extension"
	case 503:
		return "Service Unavailable"
	}
	return "Server Internal Error"
}

// Failures of save(), with SER 0.9's codes and error texts.
var (
	errAORLen   = &failure{code: 500, info: "Address Of Record too long"}
	errAORParse = &failure{code: 400, info: "Error while parsing AOR"}
	errInvQ     = &failure{code: 400, info: "Invalid q param in contact"}
	errToMiss   = &failure{code: 400, info: "To header not found"}
	errCIDMiss  = &failure{code: 400, info: "Call-ID header not found"}
	errCSMiss   = &failure{code: 400, info: "CSeq header not found"}
	errParseExp = &failure{code: 400, info: "Expires parse error"}
	errStarExp  = &failure{code: 400, info: "* used in contact and expires is not zero"}
	errStarCont = &failure{code: 400, info: "* used in contact and more than 1 contact"}
	errUnescape = &failure{code: 400, info: "Error while unescaping username"}
	errTooMany  = &failure{code: 503, info: "Too many registered contacts"}
	errULUpdate = &failure{code: 500, info: "usrloc_contact_update failed"}
	errULGet    = &failure{code: 500, info: "usrloc_record_get failed"}
	errULDelete = &failure{code: 500, info: "usrloc_record_delete failed"}
	// Kamailio's registrar's, for RFC 3261 §10.3 step 7 and RFC 3327.
	errInvCSeq   = &failure{code: 400, info: "Invalid CSeq number"}
	errParsePath = &failure{code: 400, info: "Path parse error"}
)

// errPathUnsup is Kamailio's R_PATH_UNSUP (path_mode 2, the UA did not
// say "Supported: path"): 420 with "Unsupported: path" and the Path.
func errPathUnsup(path string) *failure {
	return &failure{code: 420, info: "No support for found Path indicated", hdrs: []string{"Unsupported: path", "Path: " + path}}
}

// contactHeaders renders the bindings for a 200 OK (RFC 3261 §10.3 step
// 8): one "Contact: <uri>;q=…;expires=…" line per valid contact, q only
// when the contact has one (SER's build_contact), expires relative to now.
// The lines come as one CRLF-separated entry (the form ReplyHeaders
// takes): one string for the whole list (nil when there is no contact).
func contactHeaders(cs []usrloc.Contact, now int64) []string {
	if len(cs) == 0 {
		return nil
	}
	var buf [512]byte
	b := buf[:0]
	for i := range cs {
		c := &cs[i]
		if i > 0 {
			b = append(b, "\r\n"...)
		}
		b = append(b, "Contact: <"...)
		b = append(b, c.URI...)
		b = append(b, '>')
		if c.Q != usrloc.QUnset {
			b = append(b, ";q="...)
			b = append(b, c.Q.String()...)
		}
		b = append(b, ";expires="...)
		b = strconv.AppendInt(b, c.ExpiresIn(now), 10)
	}
	return []string{string(b)}
}

// replier is the sl module's Go API (sl.Module.Reply).
type replier interface {
	Reply(msg *sipmsg.Msg, code int, reason string) error
}

// reply answers the REGISTER in msg: 200 OK with the bindings (and the
// extra header lines, the Path), or the failure's code with a
// P-Registrar-Error header and the failure's headers (and the bindings
// when there are any, as SER did for 503).
//
// Like SER's registrar it replies through sl when sl is loaded (the reply
// gets sl's stable To-tag and counts in sl_stats); the header lines are
// passed the way SER's reply lumps were, in msg.ReplyHeaders, for this
// reply only. Without sl the core builds and sends the reply.
func (m *Module) reply(msg *sipmsg.Msg, f *failure, cs []usrloc.Contact, now int64, extra []string) error {
	code, reason := 200, "OK"
	hs := contactHeaders(cs, now)
	if f != nil {
		code, reason = f.code, f.reason()
		hs = append(hs, f.hdrs...)
		hs = append(hs, "P-Registrar-Error: "+f.info)
	} else {
		hs = append(hs, extra...)
	}
	if m.sl != nil {
		saved := msg.ReplyHeaders
		msg.ReplyHeaders = append(slices.Clip(saved), hs...)
		err := m.sl.Reply(msg, code, reason)
		msg.ReplyHeaders = saved
		if err != nil {
			return fmt.Errorf("registrar: send %d reply: %w", code, err)
		}
		return nil
	}
	if m.core == nil {
		return fmt.Errorf("registrar: reply: no core to send with")
	}
	if err := m.core.Reply(msg, code, reason, module.ReplyOpts{Headers: hs}); err != nil {
		return fmt.Errorf("registrar: send %d reply: %w", code, err)
	}
	return nil
}
