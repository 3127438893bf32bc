package sipmsg

import "bytes"

// AppendWithoutTopVia appends to b the received message raw with its
// first Via header line cut out, the way SER relays a reply: the bytes
// the next hop sent are copied as they came (their spelling, header order
// and white space kept) instead of being serialised again from the parsed
// form. bodyLen is the length of the body the parser took (the datagram
// may carry bytes after it, which are not sent on). ok is false, and b is
// returned unchanged, when the message does not lend itself to a cut: the
// first Via line holds more than one value (a comma-separated list) or is
// folded over several lines, there is no Via or no end of the headers,
// the body is not where bodyLen says, or the message does not begin with
// its start line. The caller then serialises the parsed message.
//
// raw must be the message exactly as the parsed form was made from it:
// a reply changed after parsing (an onreply route, merged challenges, a
// rewritten status) must be serialised instead.
func AppendWithoutTopVia(b, raw []byte, bodyLen int) ([]byte, bool) {
	nl := bytes.IndexByte(raw, '\n')
	if nl <= 0 || raw[0] == '\r' {
		return b, false // no start line first
	}
	pos := nl + 1 // start of the current header line
	cut, cutEnd := -1, -1
	for {
		eol := bytes.IndexByte(raw[pos:], '\n')
		if eol < 0 {
			return b, false
		}
		next := pos + eol + 1
		line := raw[pos:next]
		if len(line) <= 2 && (line[0] == '\n' || line[0] == '\r') {
			// The empty line: the headers end at next.
			if cut < 0 || len(raw)-next < bodyLen {
				return b, false
			}
			b = append(b, raw[:cut]...)
			return append(b, raw[cutEnd:next+bodyLen]...), true
		}
		if cut < 0 && line[0] != ' ' && line[0] != '\t' {
			if colon := bytes.IndexByte(line, ':'); colon > 0 {
				name := bytes.TrimRight(line[:colon], " \t")
				if bytes.EqualFold(name, []byte("via")) || bytes.EqualFold(name, []byte("v")) {
					if bytes.IndexByte(line[colon+1:], ',') >= 0 || next < len(raw) && (raw[next] == ' ' || raw[next] == '\t') {
						return b, false
					}
					cut, cutEnd = pos, next
				}
			}
		}
		pos = next
	}
}

// HeaderNameIs reports whether a header name is want, ASCII letters
// compared without case: what sipgo's GetHeader(want) matches
// (HeaderToLower folds only those), without allocating.
func HeaderNameIs(name, want string) bool { return asciiEqualFold(name, want) }
