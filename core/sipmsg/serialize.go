package sipmsg

import (
	"bytes"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"
)

// AppendRequest appends the wire form of req to b: the same text as
// sipgo's Request.StringWrite, written without the intermediate strings
// sipgo builds for the start line. Callers size b for the message (the
// received length plus room for added headers), so forwarding a request
// costs one allocation.
func AppendRequest(b []byte, req *sip.Request) []byte {
	w := byteWriter{b}
	writeRequestLine(&w, req)
	return appendRest(w.b, req.Headers(), req.Body())
}

func writeRequestLine(w *byteWriter, req *sip.Request) {
	w.WriteString(string(req.Method))
	w.WriteString(" ")
	w.b = AppendURI(w.b, &req.Recipient)
	w.WriteString(" ")
	w.WriteString(req.SipVersion)
	w.WriteString("\r\n")
}

// AppendURI appends u as sipgo's Uri.String writes it, without its
// temporary strings (parameters, port, an IPv6 host in brackets).
func AppendURI(b []byte, u *sip.Uri) []byte {
	if u.Scheme == "" {
		b = append(b, "sip"...)
	} else {
		b = append(b, u.Scheme...)
	}
	b = append(b, ':')
	if raw := u.Raw(); raw != "" {
		return append(b, raw...)
	}
	if u.HierarhicalSlashes {
		b = append(b, "//"...)
	}
	if u.User != "" {
		b = append(b, u.User...)
		if u.Password != "" {
			b = append(b, ':')
			b = append(b, u.Password...)
		}
		b = append(b, '@')
	}
	if isIPv6(u.Host) {
		b = append(b, '[')
		b = append(b, u.Host...)
		b = append(b, ']')
	} else {
		b = append(b, u.Host...)
	}
	if u.Port > 0 {
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(u.Port), 10)
	}
	if len(u.UriParams) > 0 {
		b = append(b, ';')
		b = appendParams(b, u.UriParams, ';')
	}
	if len(u.Headers) > 0 {
		b = append(b, '?')
		b = appendParams(b, u.Headers, '&')
	}
	return b
}

// URIString is u.String() built in one allocation.
func URIString(u *sip.Uri) string {
	var buf [256]byte
	return string(AppendURI(buf[:0], u))
}

// isIPv6 is sipgo's test for a URI host to write in brackets: an IPv6
// address (no zone) that is not an IPv4-mapped one.
func isIPv6(host string) bool {
	a, ok := parseV6(host)
	return ok && !a.Is4In6() && a.Zone() == ""
}

// parseV6 parses host when it may be an IPv6 address (it has a colon).
// It parses a copy: netip keeps a zone's text, and a host that may be
// kept makes every value it is read from escape to the heap, Vias and
// URIs built on the stack included.
func parseV6(host string) (netip.Addr, bool) {
	if strings.IndexByte(host, ':') < 0 {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(strings.Clone(host))
	return a, err == nil && a.Is6()
}

// appendParams appends parameters as sipgo's HeaderParams.ToStringWrite
// writes them: key, "=value" when there is one, quoted when the value
// holds a space or tab.
func appendParams(b []byte, ps sip.HeaderParams, sep byte) []byte {
	for i, kv := range ps {
		if i > 0 {
			b = append(b, sep)
		}
		b = append(b, kv.K...)
		switch {
		case kv.V == "":
		case strings.ContainsAny(kv.V, " \t"):
			b = append(b, "=\""...)
			b = append(b, kv.V...)
			b = append(b, '"')
		default:
			b = append(b, '=')
			b = append(b, kv.V...)
		}
	}
	return b
}

// appendAddress appends the value of a From, To or Contact header as
// sipgo writes it: ["name" ]<uri>[;params].
func appendAddress(b []byte, display string, u *sip.Uri, ps sip.HeaderParams) []byte {
	if display != "" {
		b = append(b, '"')
		b = append(b, display...)
		b = append(b, "\" "...)
	}
	b = append(b, '<')
	b = AppendURI(b, u)
	b = append(b, '>')
	if len(ps) > 0 {
		b = append(b, ';')
		b = appendParams(b, ps, ';')
	}
	return b
}

// AppendResponse appends the wire form of resp to b (see AppendRequest).
func AppendResponse(b []byte, resp *sip.Response) []byte {
	b = append(b, resp.SipVersion...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(resp.StatusCode), 10)
	b = append(b, ' ')
	b = append(b, resp.Reason...)
	b = append(b, "\r\n"...)
	return appendRest(b, resp.Headers(), resp.Body())
}

// appendRest appends the header lines, the empty line and the body. The
// headers whose sipgo StringWrite builds a temporary string (Via,
// Max-Forwards, Content-Length) are written here directly, in the same
// form.
func appendRest(b []byte, hdrs []sip.Header, body []byte) []byte {
	return appendRestWith(b, hdrs, body, sendEdits{})
}

// appendRestWith is appendRest with the edits that depend on the sending
// socket (sendEdits) applied.
func appendRestWith(b []byte, hdrs []sip.Header, body []byte, e sendEdits) []byte {
	w := byteWriter{b}
	if e.ours != nil {
		w.appendVia(e.ours)
		w.WriteString("\r\n")
	}
	for _, h := range hdrs {
		if e.prev != nil && h == e.prevOf {
			w.appendVia(e.prev)
			w.WriteString("\r\n")
			e.prev = nil
			continue
		}
		if e.path != "" && strings.EqualFold(h.Name(), "Path") {
			w.WriteString(e.path)
			w.WriteString("\r\n")
			e.path = ""
		}
		if e.rr != nil && e.rr.replaces(h) {
			w.WriteString(e.rr.lines)
			w.WriteString("\r\n")
			e.rr = nil
			continue
		}
		w.b = AppendHeader(w.b, h)
		w.WriteString("\r\n")
	}
	if e.path != "" {
		w.WriteString(e.path)
		w.WriteString("\r\n")
	}
	w.WriteString("\r\n")
	return append(w.b, body...)
}

// AppendHeader appends one header line, without its CRLF, as
// AppendRequest and AppendResponse write it.
func AppendHeader(b []byte, h sip.Header) []byte {
	switch v := h.(type) {
	case *sip.ViaHeader:
		vw := byteWriter{b}
		vw.appendVia(v)
		b = vw.b
	case *sip.MaxForwardsHeader:
		b = append(b, "Max-Forwards: "...)
		b = strconv.AppendUint(b, uint64(*v), 10)
	case *sip.ContentLengthHeader:
		b = append(b, "Content-Length: "...)
		b = strconv.AppendUint(b, uint64(*v), 10)
	case *sip.FromHeader:
		b = append(b, "From: "...)
		b = appendAddress(b, v.DisplayName, &v.Address, v.Params)
	case *sip.ToHeader:
		b = append(b, "To: "...)
		b = appendAddress(b, v.DisplayName, &v.Address, v.Params)
	case *sip.ContactHeader:
		b = append(b, "Contact: "...)
		if v.Address.Wildcard {
			b = append(b, '*')
		} else {
			b = appendAddress(b, v.DisplayName, &v.Address, v.Params)
		}
	case *sip.RouteHeader:
		b = append(b, "Route: <"...)
		b = AppendURI(b, &v.Address)
		b = append(b, '>')
	case *sip.RecordRouteHeader:
		b = append(b, "Record-Route: <"...)
		b = AppendURI(b, &v.Address)
		b = append(b, '>')
	case *sip.CSeqHeader:
		b = append(b, "CSeq: "...)
		b = strconv.AppendUint(b, uint64(v.SeqNo), 10)
		b = append(b, ' ')
		b = append(b, v.MethodName...)
	case *sip.CallIDHeader, *sip.ContentTypeHeader, *sip.ExpiresHeader:
		b = append(b, h.Name()...)
		b = append(b, ": "...)
		b = append(b, h.Value()...)
	default:
		if reflect.TypeOf(h) == genericHeader {
			b = append(b, h.Name()...)
			b = append(b, ": "...)
			b = append(b, h.Value()...)
			break
		}
		// The rare typed headers (Refer-To…), through sipgo's
		// writer.
		hw := &byteWriter{b}
		h.StringWrite(hw)
		b = hw.b
	}
	return b
}

// AppendVia appends a Via header line, without its CRLF, as AppendHeader
// does; v is only read (a Via built on the caller's stack stays there).
func AppendVia(b []byte, v *sip.ViaHeader) []byte {
	w := byteWriter{b}
	w.appendVia(v)
	return w.b
}

// AppendToWithTag appends the To header line t with a tag parameter
// added, without its CRLF: what AppendHeader writes for a copy of t whose
// parameters end with tag=tag, without that copy.
func AppendToWithTag(b []byte, t *sip.ToHeader, tag string) []byte {
	b = append(b, "To: "...)
	b = appendAddress(b, t.DisplayName, &t.Address, t.Params)
	b = append(b, ';')
	return appendParams(b, sip.HeaderParams{{K: "tag", V: tag}}, ';')
}

// genericHeader is the type of sipgo's headers without a parser of their
// own (written "Name: value").
var genericHeader = reflect.TypeOf(sip.NewHeader("X", ""))

// appendVia writes a Via header as sipgo does: protocol, sent-by (IPv6
// in brackets) and parameters.
func (w *byteWriter) appendVia(v *sip.ViaHeader) {
	w.b = append(w.b, "Via: "...)
	w.b = append(w.b, v.ProtocolName...)
	w.b = append(w.b, '/')
	w.b = append(w.b, v.ProtocolVersion...)
	w.b = append(w.b, '/')
	w.b = append(w.b, v.Transport...)
	w.b = append(w.b, ' ')
	if a, ok := parseV6(v.Host); ok && !a.Is4In6() {
		w.b = append(w.b, '[')
		w.b = append(w.b, v.Host...)
		w.b = append(w.b, ']')
	} else {
		w.b = append(w.b, v.Host...)
	}
	if v.Port > 0 {
		w.b = append(w.b, ':')
		w.b = strconv.AppendInt(w.b, int64(v.Port), 10)
	}
	if len(v.Params) > 0 {
		w.b = append(w.b, ';')
		w.b = appendParams(w.b, v.Params, ';')
	}
}

// scratch holds reused serialisation buffers (see Exact and Scratch).
var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxScratch is the largest buffer put back into the pool: a rare huge
// message does not pin its buffer.
const maxScratch = 64 << 10

// Exact runs fill on a reused scratch buffer and returns a copy of
// exactly the bytes it appended: one allocation of the message's own size
// for bytes that are kept (a branch's request and a transaction's last
// reply for retransmission, a transaction's snapshot), instead of a
// buffer sized by guess whose slack the collector scans and frees (issue
// 19: allocations per call).
func Exact(fill func([]byte) []byte) []byte {
	p := scratch.Get().(*[]byte)
	b := fill((*p)[:0])
	out := bytes.Clone(b)
	if cap(b) <= maxScratch {
		*p = b[:0]
		scratch.Put(p)
	}
	return out
}

// Scratch runs fill on a reused scratch buffer and hands the bytes to use,
// which must not keep them (a datagram write); the buffer is reused once
// use returns.
func Scratch(fill func([]byte) []byte, use func([]byte) error) error {
	p := scratch.Get().(*[]byte)
	b := fill((*p)[:0])
	err := use(b)
	if cap(b) <= maxScratch {
		*p = b[:0]
		scratch.Put(p)
	}
	return err
}

// byteWriter is an io.StringWriter over a byte slice.
type byteWriter struct{ b []byte }

func (w *byteWriter) WriteString(s string) (int, error) {
	w.b = append(w.b, s...)
	return len(s), nil
}
