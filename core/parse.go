package core

import (
	"bytes"
	"context"
	"hash/fnv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"ser/core/counter"
	"ser/core/module"
	"ser/core/sipmsg"
)

func asRequest(m sip.Message) (*sip.Request, bool) {
	r, ok := m.(*sip.Request)
	return r, ok
}

func asResponse(m sip.Message) (*sip.Response, bool) {
	r, ok := m.(*sip.Response)
	return r, ok
}

// checkRequest returns why a parsed request cannot be processed, or "".
func checkRequest(r *sip.Request) string {
	switch {
	case r.Via() == nil:
		return "missing Via"
	case r.From() == nil:
		return "missing From"
	case r.To() == nil:
		return "missing To"
	case r.CallID() == nil:
		return "missing Call-ID"
	case r.CSeq() == nil:
		return "missing CSeq"
	case r.CSeq().MethodName != r.Method && r.Method != sip.ACK && r.Method != sip.CANCEL:
		return "CSeq method does not match the request method"
	case r.Recipient.Host == "" && r.Recipient.Scheme != "tel":
		return "bad Request-URI"
	}
	return ""
}

// malformed handles a message that cannot be processed: a request whose
// Via, From, To, Call-ID and CSeq lines can be found textually gets a
// 400 Bad Request built from those lines; anything else is dropped. Both
// are counted.
func (s *Server) malformed(raw []byte, rcv sipmsg.RcvInfo, cause error) {
	mi, _ := counter.RawIndex(raw)
	s.Stats.Malformed.Add(mi, rcv.Proto)
	reply := build400(raw, cause.Error())
	if reply == nil {
		s.Stats.Dropped.Add(mi, rcv.Proto)
		s.log.DebugContext(rawLogCtx(raw), "malformed message dropped", "module", "core", "src", rcv.Src.String(), "err", cause)
		return
	}
	dst := sipmsg.Dest{Proto: rcv.Proto, Addr: rcv.Src, Sock: rcv.Sock, ConnID: rcv.ConnID}
	if err := s.tr.Send(dst, reply); err != nil {
		s.log.DebugContext(rawLogCtx(raw), "sending 400 failed", "module", "core", "dst", dst.String(), "err", err)
	}
	s.log.DebugContext(rawLogCtx(raw), "malformed request answered 400", "module", "core", "src", rcv.Src.String(), "err", cause)
}

// build400 builds "400 Bad Request" from the raw header lines of a request
// the parser refused; nil when it is not a request or lacks a Via.
func build400(raw []byte, why string) []byte {
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	lines := strings.Split(string(head), "\n")
	if len(lines) < 2 {
		return nil
	}
	first := strings.TrimRight(lines[0], "\r")
	if !strings.HasSuffix(first, "SIP/2.0") || strings.HasPrefix(first, "SIP/") {
		return nil
	}
	var b strings.Builder
	b.WriteString("SIP/2.0 400 Bad Request\r\n")
	var haveVia bool
	for _, l := range lines[1:] {
		l = strings.ReplaceAll(strings.TrimRight(l, "\r"), "\r", " ")
		name, _, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "via", "v":
			haveVia = true
			b.WriteString(l + "\r\n")
		case "from", "f", "to", "t", "call-id", "i", "cseq":
			b.WriteString(l + "\r\n")
		}
	}
	if !haveVia {
		return nil
	}
	why = strings.Map(func(r rune) rune {
		if r < 0x20 || r == '"' {
			return ' '
		}
		return r
	}, why)
	if len(why) > 120 {
		why = why[:120]
	}
	b.WriteString("Warning: 399 ser \"" + why + "\"\r\nContent-Length: 0\r\n\r\n")
	return []byte(b.String())
}

// hashCallID hashes the Call-ID of a raw message (0 without one) to pick
// its worker before the message is parsed.
func hashCallID(raw []byte) uint32 {
	id := rawCallID(raw)
	if id == nil {
		return 0
	}
	h := fnv.New32a()
	h.Write(id)
	return h.Sum32()
}

// rawCallID finds the Call-ID (or i) header's value in a raw message
// without parsing it; nil when there is none.
func rawCallID(raw []byte) []byte {
	for len(raw) > 0 {
		nl := bytes.IndexByte(raw, '\n')
		var line []byte
		if nl < 0 {
			line, raw = raw, nil
		} else {
			line, raw = raw[:nl], raw[nl+1:]
		}
		if len(line) <= 1 {
			break // end of headers
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			continue
		}
		name := bytes.TrimSpace(line[:colon])
		if bytes.EqualFold(name, []byte("call-id")) || bytes.EqualFold(name, []byte("i")) {
			return bytes.TrimSpace(line[colon+1:])
		}
	}
	return nil
}

// rawLogCtx is module.MsgCtx for a message that could not be parsed: its
// Call-ID when one can be found (at most 256 bytes of it).
func rawLogCtx(raw []byte) context.Context {
	id := rawCallID(raw)
	if len(id) > 256 {
		id = id[:256]
	}
	return module.CallIDCtx(string(id))
}
