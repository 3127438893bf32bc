package counter

import (
	"testing"

	"ser/core/sipmsg"
)

func TestIndexes(t *testing.T) {
	for _, c := range []struct {
		raw           string
		method, class int
	}{
		{"INVITE sip:a@b SIP/2.0\r\n", 0, 0},
		{"REGISTER sip:b SIP/2.0\r\n", 4, 0},
		{"FOO sip:b SIP/2.0\r\n", Other, 0},
		{"SIP/2.0 180 Ringing\r\n", Reply, 1},
		{"SIP/2.0 486 Busy\r\n", Reply, 4},
		{"SIP/2.0 x\r\n", Reply, 0},
		{"\x00garbage", Other, 0},
		{"", Other, 0},
	} {
		if m, cl := RawIndex([]byte(c.raw)); m != c.method || cl != c.class {
			t.Errorf("RawIndex(%q) = %d, %d; want %d, %d", c.raw, m, cl, c.method, c.class)
		}
	}
	for i, m := range Methods[:Other] {
		if MethodIndex(m) != i {
			t.Errorf("MethodIndex(%s) = %d, want %d", m, MethodIndex(m), i)
		}
	}
	var b ByMethod
	b.Add(MethodIndex("BYE"), sipmsg.ProtoNone) // none counts as UDP
	b.Add(MethodIndex("BYE"), sipmsg.ProtoTCP)
	if b.Get(2, sipmsg.ProtoUDP) != 1 || b.Get(2, sipmsg.ProtoTCP) != 1 || b.Total() != 2 {
		t.Errorf("ByMethod: udp %d tcp %d total %d", b.Get(2, sipmsg.ProtoUDP), b.Get(2, sipmsg.ProtoTCP), b.Total())
	}
	var c ByClass
	c.Add(404, sipmsg.ProtoUDP)
	c.Add(99, sipmsg.ProtoUDP)
	n := 0
	c.Each(func(class, proto string, v uint64) {
		if v == 1 && (class == "4xx" || class == "other") && proto == "udp" {
			n++
		}
	})
	if n != 2 || c.Total() != 2 {
		t.Errorf("ByClass: %d matching cells, total %d", n, c.Total())
	}
}

// BenchmarkCount is what counting costs per message on the hot path: the
// method index of a parsed request and one atomic add.
func BenchmarkCount(b *testing.B) {
	var c ByMethod
	m := "INVITE"
	b.ReportAllocs()
	for b.Loop() {
		c.Add(MethodIndex(m), sipmsg.ProtoUDP)
	}
}

// BenchmarkRawIndex classifies an outgoing message by its first bytes
// (the transport's sent counters).
func BenchmarkRawIndex(b *testing.B) {
	raw := []byte("SUBSCRIBE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1\r\n")
	var c ByMethod
	b.ReportAllocs()
	for b.Loop() {
		m, _ := RawIndex(raw)
		c.Add(m, sipmsg.ProtoUDP)
	}
}
