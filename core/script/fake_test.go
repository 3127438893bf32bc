package script

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/emiago/sipgo/sip"

	"ser/core/cfg"
	"ser/core/module"
	"ser/core/sipmsg"
)

// fakeCore is a module.Core that records what the script asks of it.
type fakeCore struct {
	mu       sync.Mutex
	logs     []string
	out      []string              // "forward udp:1.2.3.4:5060 sip:…", "send …"
	hosts    map[string]netip.Addr // names ResolveHost knows
	myHosts  map[string]bool       // names and addresses that are myself
	myIPs    map[netip.Addr]bool   // addresses that are myself
	failSend bool                  // Forward and SendAsIs fail
	quiet    bool                  // record nothing (benchmarks)
	myCalls  int                   // IsMyself calls
	socks    []*sipmsg.Socket      // listening sockets
}

func newFakeCore() *fakeCore {
	return &fakeCore{
		hosts:   map[string]netip.Addr{"gateway.foo.bar": netip.MustParseAddr("10.9.9.9"), "foo.bar": netip.MustParseAddr("10.1.1.1")},
		myHosts: map[string]bool{"ser.test": true, "127.0.0.1": true},
		myIPs:   map[netip.Addr]bool{netip.MustParseAddr("127.0.0.1"): true},
	}
}

func (c *fakeCore) record(s string) {
	if c.quiet {
		return
	}
	c.mu.Lock()
	c.out = append(c.out, s)
	c.mu.Unlock()
}

func (c *fakeCore) outputs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.out...)
}

func (c *fakeCore) Sockets() []*sipmsg.Socket { return c.socks }

// AddTCPAlias records force_tcp_alias.
func (c *fakeCore) AddTCPAlias(connID uint64, port int) error {
	c.record(fmt.Sprintf("alias %d:%d", connID, port))
	return nil
}
func (c *fakeCore) IsMyself(host string, port int, proto sipmsg.Proto) bool {
	c.myCalls++
	return c.myHosts[strings.ToLower(host)]
}
func (c *fakeCore) IsMyselfIP(ip netip.Addr) bool { return c.myIPs[ip] }
func (c *fakeCore) BuildReply(*sipmsg.Msg, int, string, module.ReplyOpts) *sip.Response {
	return nil
}
func (c *fakeCore) SendReply(sipmsg.RcvInfo, *sip.Response) error          { return nil }
func (c *fakeCore) Reply(*sipmsg.Msg, int, string, module.ReplyOpts) error { return nil }
func (c *fakeCore) ReplyWire(*sipmsg.Msg, int, string, module.ReplyOpts) ([]byte, sipmsg.Dest, error) {
	return nil, sipmsg.Dest{}, nil
}
func (c *fakeCore) ReplyDest(sipmsg.RcvInfo, *sip.ViaHeader) (sipmsg.Dest, error) {
	return sipmsg.Dest{}, nil
}
func (c *fakeCore) Resolve(u *sip.Uri) (sipmsg.Dest, error) {
	p := uriProto(u)
	c.record("resolve " + u.String())
	return c.ResolveHost(u.Host, u.Port, p)
}
func (c *fakeCore) ResolveHost(host string, port int, proto sipmsg.Proto) (sipmsg.Dest, error) {
	if proto == sipmsg.ProtoNone {
		proto = sipmsg.ProtoUDP
	}
	if port == 0 {
		port = 5060
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		var ok bool
		if a, ok = c.hosts[host]; !ok {
			return sipmsg.Dest{}, fmt.Errorf("fake: cannot resolve %q", host)
		}
	}
	return sipmsg.Dest{Proto: proto, Addr: netip.AddrPortFrom(a, uint16(port))}, nil
}
func (c *fakeCore) Send(sipmsg.Dest, []byte) error       { return nil }
func (c *fakeCore) SocketFor(sipmsg.Dest) *sipmsg.Socket { return nil }
func (c *fakeCore) Forward(m *sipmsg.Msg, d sipmsg.Dest) error {
	if c.failSend {
		return fmt.Errorf("fake: send failed")
	}
	if !c.quiet {
		c.record("forward " + d.String() + " " + m.URIString())
	}
	return nil
}
func (c *fakeCore) RequestBytes(m *sipmsg.Msg, _ *sipmsg.Socket, _ string) []byte {
	return m.Bytes()
}
func (c *fakeCore) SendAsIs(m *sipmsg.Msg, d sipmsg.Dest) error {
	if c.failSend {
		return fmt.Errorf("fake: send failed")
	}
	c.record("send " + d.String() + " " + m.URIString())
	return nil
}
func (c *fakeCore) Log(_ *sipmsg.Msg, level int, text string) {
	if c.quiet {
		return
	}
	c.mu.Lock()
	c.logs = append(c.logs, fmt.Sprintf("%d %s", level, text))
	c.mu.Unlock()
}
func (c *fakeCore) HasRoute(module.Route, int) bool             { return false }
func (c *fakeCore) RunRoute(module.Route, int, *sipmsg.Msg) int { return 1 }
func (c *fakeCore) ServerHeader() string                        { return "Sip EXpress router (test)" }
func (c *fakeCore) ServerSignature() bool                       { return true }

// request builds a parsed request received over UDP from 10.0.0.1:5060 on
// the socket 127.0.0.1:5060.
func request(tb testing.TB, method, uri string) *sipmsg.Msg {
	tb.Helper()
	raw := []byte(method + " " + uri + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds\r\n" +
		"Max-Forwards: 70\r\n" +
		"From: Alice <sip:alice@example.com>;tag=1928301774\r\n" +
		"To: Bob <sip:bob@ser.test>\r\n" +
		"Call-ID: a84b4c76e66710\r\n" +
		"CSeq: 314159 " + method + "\r\n" +
		"Content-Length: 0\r\n\r\n")
	msg, err := sipmsg.Parse(raw)
	if err != nil {
		tb.Fatalf("parse request: %v", err)
	}
	return sipmsg.NewRequest(msg.(*sip.Request), raw, sipmsg.RcvInfo{
		Src:   netip.MustParseAddrPort("10.0.0.1:5060"),
		Sock:  &sipmsg.Socket{Proto: sipmsg.ProtoUDP, IP: netip.MustParseAddr("127.0.0.1"), Port: 5060, Name: "127.0.0.1"},
		Proto: sipmsg.ProtoUDP,
	})
}

// reply builds a parsed reply.
func reply(tb testing.TB, code int) *sipmsg.Msg {
	tb.Helper()
	raw := []byte(fmt.Sprintf("SIP/2.0 %d Whatever\r\n", code) +
		"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK776asdhds\r\n" +
		"From: Alice <sip:alice@example.com>;tag=1928301774\r\n" +
		"To: Bob <sip:bob@ser.test>;tag=x\r\n" +
		"Call-ID: a84b4c76e66710\r\n" +
		"CSeq: 314159 INVITE\r\n" +
		"Content-Length: 0\r\n\r\n")
	msg, err := sipmsg.Parse(raw)
	if err != nil {
		tb.Fatalf("parse reply: %v", err)
	}
	return sipmsg.NewReply(msg.(*sip.Response), raw, sipmsg.RcvInfo{
		Src:   netip.MustParseAddrPort("10.0.0.2:5060"),
		Sock:  &sipmsg.Socket{Proto: sipmsg.ProtoUDP, IP: netip.MustParseAddr("127.0.0.1"), Port: 5060},
		Proto: sipmsg.ProtoUDP,
	})
}

// testInst is the instance of the test modules: a trace of calls.
type testInst struct {
	mu     sync.Mutex
	name   string
	trace  []string
	params map[string]module.Value
}

func (t *testInst) add(s string) {
	t.mu.Lock()
	t.trace = append(t.trace, s)
	t.mu.Unlock()
}

// lifecycle records Init/Start/Stop calls of all test modules, in order.
var lifecycle struct {
	sync.Mutex
	events []string
}

func lifeEvent(s string) {
	lifecycle.Lock()
	lifecycle.events = append(lifecycle.events, s)
	lifecycle.Unlock()
}

func takeLife() []string {
	lifecycle.Lock()
	defer lifecycle.Unlock()
	ev := lifecycle.events
	lifecycle.events = nil
	return ev
}

// startInst is a test instance with background work.
type startInst struct {
	testInst
	failStart bool
}

func (s *startInst) Start(ctx context.Context) error {
	if s.failStart {
		return fmt.Errorf("cannot start")
	}
	lifeEvent("start " + s.name)
	return nil
}

func (s *startInst) Stop() { lifeEvent("stop " + s.name) }

// argText returns a module argument as text.
func argText(v module.Value) string { return v.String() }

func init() {
	anyRoute := module.Any
	// ttest: the module the interpreter tests call.
	module.Register(&module.Exports{
		Name: "ttest",
		New:  func() any { return &testInst{name: "ttest", params: map[string]module.Value{}} },
		Deps: []string{"tdep"},
		Params: []module.Param{
			{Name: "p_int", Kind: module.Int, Set: func(inst any, v module.Value) error {
				if v.N < 0 {
					return fmt.Errorf("must not be negative")
				}
				inst.(*testInst).params["p_int"] = v
				return nil
			}},
			{Name: "p_str", Kind: module.Str, Set: func(inst any, v module.Value) error {
				inst.(*testInst).params["p_str"] = v
				return nil
			}},
		},
		Init: func(inst any, env *module.Env) error {
			lifeEvent("init ttest")
			if env.Instance("tdep") == nil {
				return fmt.Errorf("tdep instance not found")
			}
			return nil
		},
		Funcs: []module.Func{
			// ret(n): returns n, records "ret n".
			{Name: "ret", MinArgs: 1, MaxArgs: 1, Routes: anyRoute, Fixup: func(inst any, _ *module.Env, args []module.Value) (module.Handler, error) {
				n, err := args[0].Int()
				if err != nil {
					return nil, fmt.Errorf("ret: %w", err)
				}
				t := inst.(*testInst)
				label := "ret " + args[0].String()
				return func(*sipmsg.Msg) (int, error) { t.add(label); return n, nil }, nil
			}},
			// rec(s...): records its arguments, returns 1.
			{Name: "rec", MinArgs: 0, MaxArgs: 3, Routes: anyRoute, Fixup: func(inst any, _ *module.Env, args []module.Value) (module.Handler, error) {
				t := inst.(*testInst)
				parts := make([]string, len(args))
				for i, a := range args {
					parts[i] = argText(a)
					if a.IsInt {
						parts[i] = "#" + parts[i]
					}
				}
				label := strings.Join(parts, ",")
				return func(*sipmsg.Msg) (int, error) { t.add(label); return 1, nil }, nil
			}},
			// fail(): an internal error.
			{Name: "fail", MaxArgs: 0, Routes: anyRoute, Fixup: func(inst any, _ *module.Env, _ []module.Value) (module.Handler, error) {
				t := inst.(*testInst)
				return func(*sipmsg.Msg) (int, error) { t.add("fail"); return 1, fmt.Errorf("boom") }, nil
			}},
			{Name: "reqonly", MaxArgs: 0, Routes: module.Request, Fixup: func(any, *module.Env, []module.Value) (module.Handler, error) {
				return func(*sipmsg.Msg) (int, error) { return 1, nil }, nil
			}},
			{Name: "failonly", MaxArgs: 0, Routes: module.Failure, Fixup: func(any, *module.Env, []module.Value) (module.Handler, error) {
				return func(*sipmsg.Msg) (int, error) { return 1, nil }, nil
			}},
			{Name: "badfix", MinArgs: 1, MaxArgs: 1, Routes: anyRoute, Fixup: func(any, *module.Env, []module.Value) (module.Handler, error) {
				return nil, fmt.Errorf("badfix: bad argument")
			}},
			{Name: "nilfix", MaxArgs: 0, Routes: anyRoute, Fixup: func(any, *module.Env, []module.Value) (module.Handler, error) {
				return nil, nil
			}},
			// on_failure(n): checks failure_route[n] exists, like tm's
			// t_on_failure, through env.Core.HasRoute.
			{Name: "on_failure", MinArgs: 1, MaxArgs: 1, Routes: module.Request | module.Failure, Fixup: func(_ any, env *module.Env, args []module.Value) (module.Handler, error) {
				n, err := args[0].Int()
				if err != nil {
					return nil, err
				}
				if !env.Core.HasRoute(module.Failure, n) {
					return nil, fmt.Errorf("failure_route[%d] is not defined", n)
				}
				core := env.Core
				return func(m *sipmsg.Msg) (int, error) { return core.RunRoute(module.Failure, n, m), nil }, nil
			}},
			// over(a) / over(a, b): the same name as ttwo's over(a, b, c).
			{Name: "over", MinArgs: 1, MaxArgs: 2, Routes: anyRoute, Fixup: func(inst any, _ *module.Env, args []module.Value) (module.Handler, error) {
				t := inst.(*testInst)
				return func(*sipmsg.Msg) (int, error) { t.add("ttest.over"); return 1, nil }, nil
			}},
		},
	})
	// tdep: a dependency of ttest, with background work.
	module.Register(&module.Exports{
		Name:  "tdep",
		New:   func() any { return &startInst{testInst: testInst{name: "tdep"}} },
		Init:  func(any, *module.Env) error { lifeEvent("init tdep"); return nil },
		Start: module.StartOf((*startInst).Start),
		Stop:  module.StopOf((*startInst).Stop),
		Funcs: []module.Func{
			{Name: "over", MinArgs: 3, MaxArgs: 3, Routes: anyRoute, Fixup: func(inst any, _ *module.Env, _ []module.Value) (module.Handler, error) {
				t := inst.(*startInst)
				return func(*sipmsg.Msg) (int, error) { t.add("tdep.over"); return 1, nil }, nil
			}},
		},
	})
	// tstart: background work that fails to start; tlate starts after it.
	module.Register(&module.Exports{
		Name:  "tfailstart",
		New:   func() any { return &startInst{testInst: testInst{name: "tfailstart"}, failStart: true} },
		Start: module.StartOf((*startInst).Start),
		Stop:  module.StopOf((*startInst).Stop),
	})
	module.Register(&module.Exports{
		Name:  "tlate",
		New:   func() any { return &startInst{testInst: testInst{name: "tlate"}} },
		Start: module.StartOf((*startInst).Start),
		Stop:  module.StopOf((*startInst).Stop),
	})
	module.Register(&module.Exports{Name: "tcycle1", New: func() any { return &testInst{} }, Deps: []string{"tcycle2"}})
	module.Register(&module.Exports{Name: "tcycle2", New: func() any { return &testInst{} }, Deps: []string{"tcycle1"}})
	module.Register(&module.Exports{Name: "tneeds", New: func() any { return &testInst{} }, Deps: []string{"tdep"}})
	module.Register(&module.Exports{Name: "tinitfail", New: func() any { return &testInst{} },
		Init: func(any, *module.Env) error { return fmt.Errorf("no database") }})

	registerStandIns()
}

// standIns are export tables with the names and functions of the SER
// modules the admin guide's scripts use. They are registered only when the
// real module is not linked into the test binary.
var standIns = map[string]struct {
	funcs  map[string][2]int // name → min, max args
	params map[string]module.Kind
	deps   []string
}{
	"sl":        {funcs: map[string][2]int{"sl_send_reply": {2, 2}, "sl_reply_error": {0, 0}}},
	"tm":        {funcs: map[string][2]int{"t_relay": {0, 2}, "t_newtran": {0, 0}, "t_reply": {2, 2}, "t_on_negative": {1, 1}, "t_on_failure": {1, 1}, "t_on_reply": {1, 1}, "t_replicate": {2, 2}}, params: map[string]module.Kind{"fr_timer": module.Int, "fr_inv_timer": module.Int}},
	"rr":        {funcs: map[string][2]int{"record_route": {0, 0}, "loose_route": {0, 0}, "rewriteFromRoute": {0, 0}, "addRecordRoute": {0, 0}}, params: map[string]module.Kind{"enable_full_lr": module.Int}},
	"maxfwd":    {funcs: map[string][2]int{"mf_process_maxfwd_header": {1, 1}}, params: map[string]module.Kind{"max_limit": module.Int}},
	"usrloc":    {params: map[string]module.Kind{"db_mode": module.Int, "db_url": module.Str}},
	"registrar": {funcs: map[string][2]int{"save": {1, 1}, "lookup": {1, 1}}, deps: []string{"usrloc"}},
	"textops":   {funcs: map[string][2]int{"search": {1, 1}, "append_hf": {1, 1}}},
	"auth": {funcs: map[string][2]int{"www_authorize": {2, 2}, "proxy_authorize": {2, 2}, "www_challenge": {2, 2}, "proxy_challenge": {2, 2}},
		params: map[string]module.Kind{"db_url": module.Str, "secret": module.Str, "calculate_ha1": module.Int, "password_column": module.Str}},
	"acc":   {params: map[string]module.Kind{"log_level": module.Int, "acc_flag": module.Int}},
	"exec":  {funcs: map[string][2]int{"exec_msg": {1, 1}, "exec_uri": {1, 1}, "exec_user": {1, 1}}},
	"group": {funcs: map[string][2]int{"is_user_in": {2, 2}, "is_in_group": {1, 1}}},
	"mysql": {},
}

// standInLoaded lists the stand-ins registered (the rest are real).
var standInLoaded = map[string]bool{}

func registerStandIns() {
	for name, si := range standIns {
		if _, ok := module.Lookup(name); ok {
			continue
		}
		e := &module.Exports{Name: name, New: func() any { return &testInst{name: name} }, Deps: si.deps}
		for fn, n := range si.funcs {
			label := name + "." + fn
			e.Funcs = append(e.Funcs, module.Func{Name: fn, MinArgs: n[0], MaxArgs: n[1], Routes: module.Request | module.Failure,
				Fixup: func(inst any, _ *module.Env, _ []module.Value) (module.Handler, error) {
					t := inst.(*testInst)
					return func(*sipmsg.Msg) (int, error) { t.add(label); return 1, nil }, nil
				}})
		}
		for p, k := range si.params {
			e.Params = append(e.Params, module.Param{Name: p, Kind: k, Set: func(any, module.Value) error { return nil }})
		}
		module.Register(e)
		standInLoaded[name] = true
	}
}

// quietLog discards script logs in tests that expect errors.
var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// build parses src, loads its modules and compiles it against core. It
// fails the test on any error.
func build(tb testing.TB, src string, core module.Core) (*Program, *module.Modules) {
	tb.Helper()
	p, ms, errs := buildErrs(tb, src, core)
	if len(errs) > 0 {
		tb.Fatalf("unexpected errors:\n%v", errs)
	}
	return p, ms
}

// buildErrs is build returning the errors.
func buildErrs(tb testing.TB, src string, core module.Core) (*Program, *module.Modules, cfg.ErrorList) {
	tb.Helper()
	f, errs := cfg.Parse("t.cfg", []byte(src))
	if len(errs) > 0 {
		return nil, nil, errs
	}
	ms, errs := module.Load(f)
	if len(errs) > 0 {
		return nil, ms, errs
	}
	newEnv := func(name string) *module.Env {
		return &module.Env{Log: quietLog.With("module", name), Core: core}
	}
	if err := ms.Init(newEnv); err != nil {
		return nil, ms, cfg.ErrorList{{Msg: err.Error()}}
	}
	p, errs := Compile(f, ms, core, newEnv)
	return p, ms, errs
}

// trace returns and clears the calls recorded by the ttest module.
func trace(ms *module.Modules) []string {
	t := ms.Instance("ttest").(*testInst)
	t.mu.Lock()
	defer t.mu.Unlock()
	tr := t.trace
	t.trace = nil
	return tr
}
