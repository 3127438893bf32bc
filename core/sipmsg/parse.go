package sipmsg

import (
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unsafe"

	"github.com/emiago/sipgo/sip"
)

// MaxMsgLen is the largest message the server parses (SER 0.9's BUF_SIZE;
// the script's max_len).
const MaxMsgLen = 65535

// maxParse is the largest message Parse accepts: more than max_len, so
// that the script can answer such messages with 513 (len_gt(max_len),
// msg:len > max_len).
const maxParse = 4 * MaxMsgLen

// headerParsers are sipgo's parsers of the headers it models (Via, From,
// To, Contact, Call-ID, CSeq, Max-Forwards, Content-Length, Content-Type,
// Route, Record-Route, Refer-To, Referred-By, by full and compact name),
// under their lower-case names; every other header is kept as a generic
// name/value pair.
var headerParsers = func() map[string]namedParser {
	m := make(map[string]namedParser)
	for name, p := range sip.DefaultHeadersParser() {
		m[name] = namedParser{[]byte(name), p}
	}
	return m
}()

// namedParser is a header parser with the name it is registered under
// (the parsers are handed the name; the lookup key must not escape).
type namedParser struct {
	name  []byte
	parse sip.HeaderParser
}

// Parse parses a message into sipgo's model. It accepts and refuses
// exactly what sipgo's sip.Parser.ParseSIP does (the same framing rules,
// header parsers and errors), but without copying: every string of the
// parsed message (header names and values, URI parts, parameters) and its
// body point into raw itself instead of into a copy per header (issue
// 19: allocations per call). raw must therefore never be modified
// afterwards — received bytes, a snapshot's text and an edited copy
// never are (a change to a message is made on the parsed form, or by
// parsing new bytes: ReplaceText). The other side of it: a string taken
// from a message and kept beyond it (a registered contact, a nonce, a
// subscription) keeps the whole message alive unless it is cloned
// (strings.Clone) — usrloc, auth's nonce-count cache and pa do so.
func Parse(raw []byte) (sip.Message, error) {
	if len(raw) > maxParse {
		return nil, sip.ErrMessageTooLarge
	}
	s := unsafe.String(unsafe.SliceData(raw), len(raw))
	start, total, err := nextLine(s)
	if err != nil {
		if err == io.ErrUnexpectedEOF {
			err = sip.ErrParseEOF
		}
		return nil, err
	}
	msg, err := parseStartLine(start)
	if err != nil {
		return nil, err
	}
	var contentLength *sip.ContentLengthHeader
	for {
		line, n, err := nextLine(s[total:])
		if err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				err = sip.ErrParseEOF
			}
			return msg, err
		}
		if line == "" {
			total += n // the empty line ending the headers
			break
		}
		if total+n < len(s) && isFold(s[total+n]) {
			line, n, err = unfold(line, n, s[total:])
			if err != nil {
				if err == io.ErrUnexpectedEOF {
					err = sip.ErrParseEOF
				}
				return msg, err
			}
		}
		total += n
		if cl, err := parseHeader(msg, line); err != nil {
			return msg, err
		} else if cl != nil {
			contentLength = cl
		}
	}
	rest := raw[total:]
	size := len(rest)
	if contentLength != nil {
		size = int(*contentLength)
	}
	if size == 0 {
		return msg, nil
	}
	if size > maxParse-total {
		return msg, sip.ErrMessageTooLarge
	}
	if size > len(rest) {
		return msg, sip.ErrParseReadBodyIncomplete
	}
	msg.SetBody(rest[:size:size])
	return msg, nil
}

// parseStartLine parses a request or status line (as sipgo does).
func parseStartLine(line string) (sip.Message, error) {
	method, rest, ok1 := strings.Cut(line, " ")
	mid, last, ok2 := strings.Cut(rest, " ")
	if ok1 && ok2 {
		switch {
		case len(last) >= 3 && strings.IndexByte(last, ' ') < 0 && sip.UriIsSIP(last[:3]):
			// Parsed in place: NewRequest would clone the URI's
			// parameters, a local would escape.
			req := sip.NewRequest(sip.RequestMethod(strings.ToUpper(method)), sip.Uri{})
			err := sip.ParseUri(mid, &req.Recipient)
			if req.Recipient.Wildcard {
				err = fmt.Errorf("wildcard URI '*' not permitted in request line")
			}
			if err != nil {
				return nil, err
			}
			req.SipVersion = last
			return req, nil
		case len(method) >= 3 && sip.UriIsSIP(method[:3]):
			code, err := strconv.ParseUint(mid, 10, 16)
			if err != nil {
				return nil, err
			}
			resp := sip.NewResponse(int(code), last)
			resp.SipVersion = method
			return resp, nil
		}
	}
	return nil, fmt.Errorf("transmission beginning '%s' is not a SIP message", line)
}

// nextLine returns the line at the start of s (without its CRLF) and the
// bytes it took: io.EOF for nothing left, io.ErrUnexpectedEOF without a
// CR, sip.ErrParseLineNoCRLF for a CR not followed by LF.
func nextLine(s string) (string, int, error) {
	if s == "" {
		return "", 0, io.EOF
	}
	i := strings.IndexByte(s, '\r')
	if i < 0 {
		return s, len(s), io.ErrUnexpectedEOF
	}
	if i+1 >= len(s) {
		return s[:i], i + 1, io.ErrUnexpectedEOF
	}
	if s[i+1] != '\n' {
		return s[:i], i + 1, sip.ErrParseLineNoCRLF
	}
	return s[:i], i + 2, nil
}

func isFold(c byte) bool { return c == ' ' || c == '\t' }

// unfold joins the continuation lines following line (n bytes of s) with
// single spaces — the only case that copies; it returns the joined line
// and the bytes taken from s.
func unfold(line string, n int, s string) (string, int, error) {
	var b strings.Builder
	b.WriteString(strings.TrimRight(line, " \t"))
	for n < len(s) && isFold(s[n]) {
		cont, cn, err := nextLine(s[n:])
		if err != nil {
			return "", 0, err
		}
		b.WriteByte(' ')
		b.WriteString(strings.TrimRight(strings.TrimLeft(cont, " \t"), " \t"))
		n += cn
	}
	return b.String(), n, nil
}

// parseHeader parses one header line (sipgo's HeadersParser.ParseHeader
// without its copies) and appends the result to msg; it returns the
// header when it is a Content-Length.
func parseHeader(msg sip.Message, line string) (*sip.ContentLengthHeader, error) {
	colon := strings.IndexByte(line, ':')
	if colon < 0 {
		return nil, fmt.Errorf("field name with no value in header: %q", line)
	}
	name := strings.TrimSpace(line[:colon])
	value := strings.TrimSpace(line[colon+1:])
	var lower [32]byte
	var p namedParser
	ok := false
	if len(name) <= len(lower) {
		for i := 0; i < len(name); i++ {
			c := name[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			lower[i] = c
		}
		p, ok = headerParsers[string(lower[:len(name)])]
	}
	if !ok {
		msg.AppendHeader(sip.NewHeader(name, value))
		return nil, nil
	}
	var cl *sip.ContentLengthHeader
	for {
		h, err := p.parse(p.name, value)
		if err == nil || isComma(err) {
			msg.AppendHeader(h)
			if c, ok := h.(*sip.ContentLengthHeader); ok {
				cl = c
			}
		}
		if err == nil {
			return cl, nil
		}
		at, ok := commaAt(err)
		if !ok {
			return cl, err
		}
		value = value[at+1:]
	}
}

// commaAt is where sipgo's header parsers stopped at a comma separating
// several values of one header line: they report it as an error of an
// unexported integer type holding the offset.
func commaAt(err error) (int, bool) {
	if !isComma(err) {
		return 0, false
	}
	return int(reflect.ValueOf(err).Int()), true
}

func isComma(err error) bool {
	if err == nil {
		return false
	}
	v := reflect.ValueOf(err)
	return v.Kind() == reflect.Int && err.Error() == "comma detected"
}
