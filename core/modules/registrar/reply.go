package registrar

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"ser/core/module"
	"ser/core/modules/usrloc"
	"ser/core/sipmsg"
)

// failure is why save() refused a REGISTER: SER 0.9's rerrno, its reply
// code and the text of the P-Registrar-Error header.
type failure struct {
	code int
	info string
}

func (f *failure) Error() string { return "registrar: " + f.info }

// reason is the reply's reason phrase (SER's MSG_400, MSG_500, MSG_503).
func (f *failure) reason() string {
	switch f.code {
	case 400:
		return "Bad Request"
	case 503:
		return "Service Unavailable"
	}
	return "Server Internal Error"
}

// Failures of save(), with SER 0.9's codes and error texts.
var (
	errAORLen   = &failure{500, "Address Of Record too long"}
	errAORParse = &failure{400, "Error while parsing AOR"}
	errInvQ     = &failure{400, "Invalid q param in contact"}
	errToMiss   = &failure{400, "To header not found"}
	errCIDMiss  = &failure{400, "Call-ID header not found"}
	errCSMiss   = &failure{400, "CSeq header not found"}
	errParseExp = &failure{400, "Expires parse error"}
	errStarExp  = &failure{400, "* used in contact and expires is not zero"}
	errStarCont = &failure{400, "* used in contact and more than 1 contact"}
	errUnescape = &failure{400, "Error while unescaping username"}
	errTooMany  = &failure{503, "Too many registered contacts"}
	errULUpdate = &failure{500, "usrloc_contact_update failed"}
	errULGet    = &failure{500, "usrloc_record_get failed"}
	errULDelete = &failure{500, "usrloc_record_delete failed"}
)

// contactHeaders renders the bindings for a 200 OK (RFC 3261 §10.3 step
// 8): one "Contact: <uri>;q=…;expires=…" line per valid contact, q only
// when the contact has one (SER's build_contact), expires relative to now.
func contactHeaders(cs []usrloc.Contact, now int64) []string {
	hs := make([]string, 0, len(cs))
	for _, c := range cs {
		var b strings.Builder
		b.WriteString("Contact: <")
		b.WriteString(c.URI)
		b.WriteByte('>')
		if c.Q != usrloc.QUnset {
			b.WriteString(";q=")
			b.WriteString(c.Q.String())
		}
		b.WriteString(";expires=")
		b.WriteString(strconv.FormatInt(c.ExpiresIn(now), 10))
		hs = append(hs, b.String())
	}
	return hs
}

// replier is the sl module's Go API (sl.Module.Reply).
type replier interface {
	Reply(msg *sipmsg.Msg, code int, reason string) error
}

// reply answers the REGISTER in msg: 200 OK with the bindings, or the
// failure's code with a P-Registrar-Error header (and the bindings when
// there are any, as SER did for 503).
//
// Like SER's registrar it replies through sl when sl is loaded (the reply
// gets sl's stable To-tag and counts in sl_stats); the header lines are
// passed the way SER's reply lumps were, in msg.ReplyHeaders, for this
// reply only. Without sl the core builds and sends the reply.
func (m *Module) reply(msg *sipmsg.Msg, f *failure, cs []usrloc.Contact, now int64) error {
	code, reason := 200, "OK"
	hs := contactHeaders(cs, now)
	if f != nil {
		code, reason = f.code, f.reason()
		hs = append(hs, "P-Registrar-Error: "+f.info)
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
	resp := m.core.BuildReply(msg, code, reason, module.ReplyOpts{Headers: hs})
	if err := m.core.SendReply(msg.Rcv, resp); err != nil {
		return fmt.Errorf("registrar: send %d reply: %w", code, err)
	}
	return nil
}
