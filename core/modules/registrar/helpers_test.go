package registrar

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"ser/core/module"
	"ser/core/modules/usrloc"
	"ser/core/sipmsg"
	"ser/internal/testing/modtest"
)

// t0 is the fake clock's start.
var t0 = time.Unix(1100000000, 0)

type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

// fixture is a registrar over a fresh usrloc, with a fake core and clock.
type fixture struct {
	t    testing.TB
	reg  *Module
	ul   *usrloc.Module
	core *modtest.Core
	clk  *fakeClock
	env  *module.Env
}

// newFixture loads usrloc with ulParams and registrar with params.
func newFixture(t testing.TB, params, ulParams map[string]any) *fixture {
	t.Helper()
	core := modtest.NewCore()
	clk := &fakeClock{now: t0}
	ulInst, err := modtest.LoadEnv(usrloc.Exports, modtest.DiscardEnv(core), ulParams)
	if err != nil {
		t.Fatal(err)
	}
	ul := ulInst.(*usrloc.Module)
	ul.SetClock(clk.Now)
	env := modtest.DiscardEnv(core)
	env.Instance = func(name string) any {
		if name == "usrloc" {
			return ul
		}
		return nil
	}
	inst, err := modtest.LoadEnv(Exports, env, params)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, reg: inst.(*Module), ul: ul, core: core, clk: clk, env: env}
}

// bind binds a registrar function with a table argument.
func (f *fixture) bind(fname, table string) module.Handler {
	f.t.Helper()
	return modtest.Bind(f.t, Exports, f.reg, f.env, fname, table)
}

func (f *fixture) advance(sec int) { f.clk.now = f.clk.now.Add(time.Duration(sec) * time.Second) }

// register describes a REGISTER request; it is written out as SIP text.
type register struct {
	to       string   // To URI; default sip:john@example.com
	callID   string   // default reg-1@192.0.2.10
	cseq     int      // default 1
	contacts []string // Contact header values, one header each
	expires  string   // Expires header value; "" none
	ua       string   // User-Agent; "" none
	extra    []string // other header lines
}

func (r register) text() string {
	to := r.to
	if to == "" {
		to = "sip:john@example.com"
	}
	callID := r.callID
	if callID == "" {
		callID = "reg-1@192.0.2.10"
	}
	cseq := r.cseq
	if cseq == 0 {
		cseq = 1
	}
	var b strings.Builder
	fmt.Fprintf(&b, "REGISTER sip:example.com SIP/2.0\n")
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-%d\n", cseq)
	fmt.Fprintf(&b, "Max-Forwards: 70\n")
	fmt.Fprintf(&b, "From: <%s>;tag=a73kszlfl\n", to)
	fmt.Fprintf(&b, "To: <%s>\n", to)
	fmt.Fprintf(&b, "Call-ID: %s\n", callID)
	fmt.Fprintf(&b, "CSeq: %d REGISTER\n", cseq)
	for _, c := range r.contacts {
		fmt.Fprintf(&b, "Contact: %s\n", c)
	}
	if r.expires != "" {
		fmt.Fprintf(&b, "Expires: %s\n", r.expires)
	}
	if r.ua != "" {
		fmt.Fprintf(&b, "User-Agent: %s\n", r.ua)
	}
	for _, h := range r.extra {
		b.WriteString(h + "\n")
	}
	b.WriteString("Content-Length: 0\n\n")
	return b.String()
}

func (r register) msg(t testing.TB, opts ...modtest.Option) *sipmsg.Msg {
	t.Helper()
	return modtest.Parse(t, r.text(), opts...)
}

// invite returns an INVITE to ruri.
func invite(t testing.TB, ruri string) *sipmsg.Msg {
	t.Helper()
	return modtest.Parse(t, fmt.Sprintf(`INVITE %s SIP/2.0
Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bK-inv
Max-Forwards: 70
From: <sip:alice@example.com>;tag=1
To: <%s>
Call-ID: inv-1@192.0.2.20
CSeq: 1 INVITE
Content-Length: 0

`, ruri, ruri))
}

// replyContacts returns the Contact values and the P-Registrar-Error of a
// sent reply.
func replyContacts(r modtest.SentReply) (contacts []string, regErr string) {
	for _, h := range r.Resp.GetHeaders("Contact") {
		contacts = append(contacts, h.Value())
	}
	if h := r.Resp.GetHeader("P-Registrar-Error"); h != nil {
		regErr = h.Value()
	}
	return contacts, regErr
}

// uris lists contact URIs.
func uris(cs []usrloc.Contact) string {
	var s []string
	for _, c := range cs {
		s = append(s, c.URI)
	}
	return strings.Join(s, " ")
}
