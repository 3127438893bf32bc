package acc

import (
	"strings"

	"github.com/emiago/sipgo/sip"

	"ser/core/sipmsg"
	"ser/core/store"
)

// na is what SER prints for a value the request does not have.
const na = "n/a"

// event is one report: the accounted request, the To header body to
// report (the final reply's To for transactions, SER's valid_to) and the
// status phrase.
type event struct {
	req    *sipmsg.Msg
	to     string
	phrase string
}

// replyTo returns the To body SER's valid_to picks: the reply's (with
// the callee's tag) when there is a real reply, else the request's.
func replyTo(req *sipmsg.Msg, reply *sip.Response, raw []byte) string {
	if reply != nil {
		if len(raw) > 0 {
			if v, ok := sipmsg.RawHeader(raw, "To"); ok {
				return v
			}
		}
		if t := reply.To(); t != nil {
			return t.Value()
		}
	}
	return req.HeaderBody("To")
}

// orNA returns v, or "n/a" when it is empty.
func orNA(v string) string {
	if v == "" {
		return na
	}
	return v
}

// field returns the attribute name and value of one log_fmt letter, as
// SER 0.9's fmt2strar computes them.
func (e *event) field(c byte) (name, val string) {
	m := e.req
	switch c {
	case 'c':
		return "call_id", orNA(m.HeaderBody("Call-ID"))
	case 'd':
		return "totag", orNA(sipmsg.TagParam(e.to))
	case 'f':
		return "from", orNA(m.HeaderBody("From"))
	case 'i':
		return "i-uri", requestURIAsReceived(m)
	case 'm':
		return "method", m.Method()
	case 'o':
		if cur := m.URIString(); cur != m.OrigURI().String() {
			return "o-uri", cur
		}
		return "o-uri", requestURIAsReceived(m)
	case 'r':
		return "fromtag", orNA(sipmsg.TagParam(m.HeaderBody("From")))
	case 's':
		return "status", e.phrase
	case 't':
		return "to", orNA(e.to)
	case 'u':
		return "uid", orNA(digestUser(m))
	case 'U':
		if u := digestUser(m); u != "" {
			return "uid", u
		}
		return "fromuri", orNA(sipmsg.NameAddrURI(m.HeaderBody("From")))
	case 'p':
		return "userpart", orNA(m.OrigURI().User)
	case 'D':
		return "ruridomain", orNA(m.OrigURI().Host)
	case '0':
		u, _ := uriParts(sipmsg.NameAddrURI(m.HeaderBody("From")))
		return "fromuser", orNA(u)
	case 'X':
		_, h := uriParts(sipmsg.NameAddrURI(m.HeaderBody("From")))
		return "fromdomain", orNA(h)
	case '1':
		u, _ := uriParts(sipmsg.NameAddrURI(m.HeaderBody("To")))
		return "touser", orNA(u)
	case 'F':
		return "fromuri", orNA(sipmsg.NameAddrURI(m.HeaderBody("From")))
	case 'T':
		return "touri", orNA(sipmsg.NameAddrURI(m.HeaderBody("To")))
	case 'S':
		if len(e.phrase) >= 3 {
			return "code", e.phrase[:3]
		}
		return "code", na
	case 'n':
		n, _, _ := strings.Cut(m.HeaderBody("CSeq"), " ")
		return "cseq", orNA(n)
	}
	return "", ""
}

// formatLine builds SER's accounting log line: "ACC: " + lead, then
// "name=value" for each log_fmt letter, separated by ", ".
func formatLine(lead, format string, e *event) string {
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteString(lead)
	for i := 0; i < len(format); i++ {
		name, val := e.field(format[i])
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(val)
	}
	return b.String()
}

// record builds an acc / missed_calls row from one of SER's SQL formats,
// whose letters map onto from_uri, to_uri, sip_method, i_uri, o_uri,
// sip_from, sip_callid, sip_to, sip_status, username, totag, fromtag and
// domain in that order.
func record(format string, e *event) store.AccRecord {
	v := make([]string, len(format))
	for i := 0; i < len(format); i++ {
		_, v[i] = e.field(format[i])
	}
	return store.AccRecord{
		FromURI: v[0], ToURI: v[1], Method: v[2], IURI: v[3], OURI: v[4],
		From: v[5], CallID: v[6], To: v[7], Status: v[8], Username: v[9],
		ToTag: v[10], FromTag: v[11], Domain: v[12],
	}
}
