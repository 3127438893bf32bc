package registrar

import (
	"strconv"
	"testing"

	"github.com/emiago/sipgo/sip"

	"ser/core/modules/usrloc"
	"ser/core/sipmsg"
	"ser/internal/testing/modtest"
)

// benchAORs is the number of registered users of the benchmarks.
const benchAORs = 1_000_000

// discardCore is the fake core without the reply log (which would grow
// with b.N).
type discardCore struct{ *modtest.Core }

func (discardCore) SendReply(sipmsg.RcvInfo, *sip.Response) error { return nil }

// benchFixture is a registrar over a usrloc table of 1,000,000 users with
// one contact each.
func benchFixture(b *testing.B) *fixture {
	f := newFixture(b, nil, nil)
	f.reg.core = discardCore{f.core}
	d := f.ul.Register("location")
	exp := t0.Unix() + 1<<30
	for i := 0; i < benchAORs; i++ {
		n := strconv.Itoa(i)
		_ = d.Put("user"+n, usrloc.Contact{URI: "sip:user" + n + "@192.0.2.1:5060", Expires: exp, Q: usrloc.QUnset, CallID: "c" + n})
	}
	return f
}

// BenchmarkSave runs save("location") on re-REGISTERs of users of a
// 1,000,000-user table (message parsing excluded).
func BenchmarkSave(b *testing.B) {
	f := benchFixture(b)
	save := f.bind("save", "location")
	const k = 1024
	msgs := make([]*sipmsg.Msg, k)
	for i := range msgs {
		n := strconv.Itoa(i * 977)
		msgs[i] = register{to: "sip:user" + n + "@example.com", callID: "reg-" + n,
			contacts: []string{"<sip:user" + n + "@192.0.2.1:5060>"}, expires: "3600"}.msg(b)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := msgs[i%k]
		m.Req.CSeq().SeqNo = uint32(i + 2)
		if ret, err := save(m); ret != 1 || err != nil {
			b.Fatalf("save = %d, %v", ret, err)
		}
	}
}

// BenchmarkLookup runs lookup("location") for users of a 1,000,000-user
// table (message parsing excluded).
func BenchmarkLookup(b *testing.B) {
	f := benchFixture(b)
	lookup := f.bind("lookup", "location")
	const k = 1024
	msgs := make([]*sipmsg.Msg, k)
	for i := range msgs {
		msgs[i] = invite(b, "sip:user"+strconv.Itoa(i*977)+"@example.com")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := msgs[i%k]
		m.RevertURI()
		if ret, err := lookup(m); ret != 1 || err != nil {
			b.Fatalf("lookup = %d, %v", ret, err)
		}
	}
}
