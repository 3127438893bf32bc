// Package counter holds the SIP message counters of the hot path: fixed
// arrays of atomic counters indexed by request method (or reply class) and
// transport, so that counting a message costs one atomic add and no map
// lookup or allocation. The core counts received, malformed, dropped and
// statelessly forwarded messages in them, the transport what it sends;
// core_stats prints their totals and /metrics each cell.
package counter

import (
	"sync/atomic"

	"ser/core/sipmsg"
)

// Methods are the request methods counted by name, in index order. Other
// methods count as Other; Reply is the row of replies in the counters that
// take both (malformed and dropped messages).
var Methods = [NMethods]string{
	"INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS", "MESSAGE", "INFO",
	"PRACK", "UPDATE", "SUBSCRIBE", "NOTIFY", "REFER", "PUBLISH", "other", "reply",
}

// Indexes of Methods that are not a method name.
const (
	Other    = 14
	Reply    = 15
	NMethods = 16
)

// Protos are the transports counted, indexed by sipmsg.Proto (0, "none",
// is counted as UDP, which it means when sending).
var Protos = [NProtos]string{"udp", "udp", "tcp", "tls"}

// NProtos is the number of transport slots.
const NProtos = 4

// Classes are the reply classes, indexed by code/100; "other" holds codes
// out of 100–699.
var Classes = [NClasses]string{"other", "1xx", "2xx", "3xx", "4xx", "5xx", "6xx"}

// NClasses is the number of reply class slots.
const NClasses = 7

func proto(p sipmsg.Proto) int {
	if int(p) >= NProtos || p == sipmsg.ProtoNone {
		return int(sipmsg.ProtoUDP)
	}
	return int(p)
}

// ByMethod counts messages by method and transport.
type ByMethod struct {
	c [NMethods][NProtos]atomic.Uint64
}

// Add counts one message of method index m received or sent over p.
func (b *ByMethod) Add(m int, p sipmsg.Proto) { b.c[m][proto(p)].Add(1) }

// Get returns the count of method index m over transport p.
func (b *ByMethod) Get(m int, p sipmsg.Proto) uint64 { return b.c[m][proto(p)].Load() }

// Total returns the sum over every method and transport.
func (b *ByMethod) Total() uint64 {
	var n uint64
	for i := range b.c {
		for j := range b.c[i] {
			n += b.c[i][j].Load()
		}
	}
	return n
}

// Each calls fn for every method and transport slot (UDP once).
func (b *ByMethod) Each(fn func(method, proto string, v uint64)) {
	for i := range b.c {
		for j := int(sipmsg.ProtoUDP); j < NProtos; j++ {
			fn(Methods[i], Protos[j], b.c[i][j].Load())
		}
	}
}

// ByClass counts replies by class and transport.
type ByClass struct {
	c [NClasses][NProtos]atomic.Uint64
}

// Add counts one reply with code over transport p.
func (b *ByClass) Add(code int, p sipmsg.Proto) { b.c[ClassIndex(code)][proto(p)].Add(1) }

// Total returns the sum over every class and transport.
func (b *ByClass) Total() uint64 {
	var n uint64
	for i := range b.c {
		for j := range b.c[i] {
			n += b.c[i][j].Load()
		}
	}
	return n
}

// Each calls fn for every class and transport slot (UDP once).
func (b *ByClass) Each(fn func(class, proto string, v uint64)) {
	for i := range b.c {
		for j := int(sipmsg.ProtoUDP); j < NProtos; j++ {
			fn(Classes[i], Protos[j], b.c[i][j].Load())
		}
	}
}

// ClassIndex returns the slot of a reply code: code/100, 0 when out of
// range.
func ClassIndex(code int) int {
	if code < 100 || code > 699 {
		return 0
	}
	return code / 100
}

// MethodIndex returns the slot of a request method (exact, upper case as
// on the wire; Other for any other).
func MethodIndex(m string) int {
	switch m {
	case "INVITE":
		return 0
	case "ACK":
		return 1
	case "BYE":
		return 2
	case "CANCEL":
		return 3
	case "REGISTER":
		return 4
	case "OPTIONS":
		return 5
	case "MESSAGE":
		return 6
	case "INFO":
		return 7
	case "PRACK":
		return 8
	case "UPDATE":
		return 9
	case "SUBSCRIBE":
		return 10
	case "NOTIFY":
		return 11
	case "REFER":
		return 12
	case "PUBLISH":
		return 13
	}
	return Other
}

// RawIndex classifies a raw message by its first line without parsing
// it: Reply for "SIP/2.0 …", else the method of the first token. class is
// the reply's code class slot (0 when not a reply or unreadable).
func RawIndex(raw []byte) (method, class int) {
	if len(raw) >= 8 && string(raw[:8]) == "SIP/2.0 " {
		if len(raw) >= 9 && raw[8] >= '1' && raw[8] <= '6' {
			class = int(raw[8] - '0')
		}
		return Reply, class
	}
	n := 0
	for n < len(raw) && n < 10 && raw[n] != ' ' {
		n++
	}
	return MethodIndex(string(raw[:n])), 0 // no allocation: the conversion is only compared
}
