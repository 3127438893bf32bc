package script

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ser/core/cfg"
	"ser/core/module"
	"ser/core/sipmsg"
)

// testHead loads the test modules.
const testHead = "loadmodule \"tdep.so\"\nloadmodule \"ttest.so\"\n"

func init() {
	// Host names in comparisons resolve without the network.
	lookupHost = func(host string) ([]netip.Addr, error) {
		switch host {
		case "gw.test":
			return []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("10.0.0.1")}, nil
		case "one.test":
			return []netip.Addr{netip.MustParseAddr("10.0.0.1")}, nil
		}
		return nil, fmt.Errorf("no such host %q", host)
	}
}

func TestRunSemantics(t *testing.T) {
	tests := []struct {
		name    string
		script  string
		trace   string // calls, space separated
		value   int
		dropped bool
	}{
		{"sequence", `route { rec("a"); rec("b"); }`, "a b", 1, false},
		{"false action continues", `route { ret(-1); rec("after"); }`, "ret -1 after", 1, false},
		{"last value", `route { rec("a"); ret(-5); }`, "a ret -5", -5, false},
		{"zero stops the script", `route { ret(0); rec("never"); }`, "ret 0", 0, false},
		{"zero in a condition stops", `route { if (ret(0)) rec("x"); else rec("y"); rec("z"); }`, "ret 0", 0, false},
		{"zero deep in a route stops", `route { route(1); rec("after"); } route[1] { ret(0); rec("no"); }`, "ret 0", 0, false},
		{"break ends route[0]", `route { rec("a"); break; rec("b"); }`, "a", 1, false},
		{"break in a block", `route { if (ret(1)) { rec("a"); break; rec("b"); }; rec("c"); }`, "ret 1 a", 1, false},
		{"break returns to the caller", `route { route(1); rec("after"); } route[1] { rec("in"); break; rec("no"); }`, "in after", 1, false},
		{"drop stops everything", `route { route(1); rec("after"); } route[1] { drop; rec("no"); }`, "", 0, true},
		{"drop with parens", `route { drop(); rec("no"); }`, "", 0, true},
		{"return value", `route { if (route(1)) rec("t"); else rec("f"); } route[1] { return(-1); rec("no"); }`, "f", 1, false},
		{"return positive", `route { if (route(1)) rec("t"); else rec("f"); } route[1] { return(2); }`, "t", 1, false},
		{"bare return is true", `route { if (route(1)) rec("t"); else rec("f"); } route[1] { ret(-1); return; }`, "ret -1 t", 1, false},
		{"return(0) stops", `route { route(1); rec("after"); } route[1] { return(0); }`, "", 0, false},
		{"return in route[0]", `route { rec("a"); return(3); rec("b"); }`, "a", 3, false},
		{"route value is its last value", `route { if (route(1)) rec("t"); else rec("f"); } route[1] { ret(-2); }`, "ret -2 f", 1, false},
		{"if not taken is true", `route { if (route(1)) rec("t"); } route[1] { if (ret(-1)) rec("x"); }`, "ret -1 t", 1, false},
		{"route value", `route { route(1); } route[1] { ret(7); }`, "ret 7", 7, false},
		{"handler error is false", `route { if (fail()) rec("t"); else rec("f"); }`, "fail f", 1, false},
		{"not", `route { if (!ret(-1)) rec("t"); }`, "ret -1 t", 1, false},
		{"not not", `route { if (!!ret(3)) rec("t"); }`, "ret 3 t", 1, false},
		{"not of zero still stops", `route { if (!ret(0)) rec("t"); rec("x"); }`, "ret 0", 0, false},
		{"and short-circuits", `route { if (ret(-1) && rec("x")) rec("t"); else rec("f"); }`, "ret -1 f", 1, false},
		{"and", `route { if (ret(1) && ret(2)) rec("t"); }`, "ret 1 ret 2 t", 1, false},
		{"and zero stops", `route { if (ret(1) && ret(0)) rec("t"); rec("x"); }`, "ret 1 ret 0", 0, false},
		{"or short-circuits", `route { if (ret(1) || rec("x")) rec("t"); }`, "ret 1 t", 1, false},
		{"or", `route { if (ret(-1) | ret(-2)) rec("t"); else rec("f"); }`, "ret -1 ret -2 f", 1, false},
		{"or zero stops", `route { if (ret(0) || ret(1)) rec("t"); rec("x"); }`, "ret 0", 0, false},
		{"precedence", `route { if (ret(1) || ret(-1) && ret(-1)) rec("t"); }`, "ret 1 t", 1, false},
		{"constant conditions", `route { if (0) rec("a"); else rec("b"); if (7) rec("c"); }`, "b c", 1, false},
		{"else if", `route { if (ret(-1)) rec("a"); else if (ret(-2)) rec("b"); else rec("c"); }`, "ret -1 ret -2 c", 1, false},
		{"nested blocks", `route { { rec("a"); { rec("b"); } } }`, "a b", 1, false},
		{"empty route", `route { }`, "", 1, false},
		{"recursion with a flag", `route { route(1); rec("end"); } route[1] { if (isflagset(1)) { rec("second"); break; }; setflag(1); rec("first"); route(1); rec("back"); }`,
			"first second back end", 1, false},
		{"arguments reach the module", `route { rec("s", 5, yes); rec(gw.foo.bar, uri:host); }`, "s,#5,#1 gw.foo.bar,uri:host", 1, false},
		{"overloads across modules", `route { over(1); over(1, 2, 3); }`, "ttest.over", 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ms := build(t, testHead+tt.script, newFakeCore())
			m := request(t, "INVITE", "sip:bob@ser.test")
			v := p.Run(module.Request, 0, m)
			if got := strings.Join(trace(ms), " "); got != tt.trace {
				t.Errorf("trace %q, want %q", got, tt.trace)
			}
			if v != tt.value {
				t.Errorf("value %d, want %d", v, tt.value)
			}
			if m.Dropped != tt.dropped {
				t.Errorf("dropped %v, want %v", m.Dropped, tt.dropped)
			}
		})
	}
}

func TestRunRecursionBounded(t *testing.T) {
	p, ms := build(t, testHead+`route { route(1); rec("after"); } route[1] { rec("r"); route(1); }`, newFakeCore())
	p.log = quietLog
	v := p.Run(module.Request, 0, request(t, "INVITE", "sip:bob@ser.test"))
	tr := trace(ms)
	if v != 0 || len(tr) != MaxDepth || tr[len(tr)-1] != "r" {
		t.Errorf("value %d, %d calls (last %q); want 0 and %d calls of r", v, len(tr), tr[len(tr)-1], MaxDepth)
	}
}

func TestRunTables(t *testing.T) {
	src := testHead + `
route { rec("req0"); }
route[3] { rec("req3"); }
reply_route[1] { rec("fail1"); }
failure_route[2] { rec("fail2"); route(3); }
onreply_route[1] { rec("onr1"); }
`
	p, ms := build(t, src, newFakeCore())
	for _, c := range []struct {
		kind  module.Route
		n     int
		has   bool
		trace string
	}{
		{module.Request, 0, true, "req0"},
		{module.Request, 3, true, "req3"},
		{module.Request, 1, false, ""},
		{module.Failure, 1, true, "fail1"},
		{module.Failure, 2, true, "fail2 req3"},
		{module.OnReply, 1, true, "onr1"},
		{module.OnReply, 2, false, ""},
		{module.Request, -1, false, ""},
		{module.Request | module.Failure, 0, false, ""},
	} {
		if got := p.HasRoute(c.kind, c.n); got != c.has {
			t.Errorf("HasRoute(%v, %d) = %v", c.kind, c.n, got)
		}
		v := p.Run(c.kind, c.n, request(t, "INVITE", "sip:x@y"))
		if got := strings.Join(trace(ms), " "); got != c.trace || v != 1 {
			t.Errorf("Run(%v, %d) = %d, trace %q; want 1, %q", c.kind, c.n, v, got, c.trace)
		}
	}
	var nilProg *Program
	if nilProg.HasRoute(module.Request, 0) {
		t.Error("nil program has routes")
	}
}

// TestFixupSeesScriptRoutes checks that a module's fixup can ask the core
// about the script being compiled, and run its blocks later.
func TestFixupSeesScriptRoutes(t *testing.T) {
	p, ms := build(t, testHead+`route { on_failure(1); rec("after"); } failure_route[1] { rec("in failure"); }`, newFakeCore())
	if v := p.Run(module.Request, 0, request(t, "INVITE", "sip:x@y")); v != 1 {
		t.Errorf("value %d", v)
	}
	if got := strings.Join(trace(ms), " "); got != "in failure after" {
		t.Errorf("trace %q", got)
	}
}

func TestConditions(t *testing.T) {
	tests := []struct {
		cond string
		msg  func(testing.TB) *sipmsg.Msg
		want bool
	}{
		{`method=="INVITE"`, invite, true},
		{`method=="invite"`, invite, true},
		{`method==INVITE`, invite, true},
		{`method!="REGISTER"`, invite, true},
		{`method=="REGISTER"`, invite, false},
		{`method=~"^inv"`, invite, true},
		{`method!~"^inv"`, invite, false},
		{`method=="INVITE" || method=="ACK" || method=="CANCEL"`, invite, true},
		{`uri=="sip:bob@ser.test"`, invite, true},
		{`uri=="SIP:BOB@SER.TEST"`, invite, true},
		{`uri!="sip:bob@ser.test"`, invite, false},
		{`uri=~"@ser\.test$"`, invite, true},
		{`uri=~"^sip:[0-9]+@"`, invite, false},
		{`uri!~"^sips:"`, invite, true},
		{`uri==myself`, invite, true},
		{`uri!=myself`, invite, false},
		{`!uri==myself`, invite, false},
		{`myself==uri`, invite, true},
		{`uri==myself`, foreign, false},
		{`uri!=myself`, foreign, true},
		{`status=="sip:bob@ser.test"`, invite, true},
		{`uri:host=="SER.test"`, invite, true},
		{`uri:host=~"^ser"`, invite, true},
		{`uri:host==myself`, invite, true},
		{`uri:port==5060`, invite, true},
		{`uri:port>5000`, invite, true},
		{`uri:port==6060`, withPort, true},
		{`from_uri=~"alice@"`, invite, true},
		{`from_uri=="sip:alice@example.com"`, invite, true},
		{`from_uri==myself`, invite, false},
		{`to_uri==myself`, invite, true},
		{`to_uri=="sip:bob@ser.test"`, invite, true},
		{`src_ip==10.0.0.1`, invite, true},
		{`src_ip=="10.0.0.1"`, invite, true},
		{`src_ip==10.0.0.2`, invite, false},
		{`src_ip==10.0.0.0/8`, invite, true},
		{`src_ip==10.0.0.0/255.0.0.0`, invite, true},
		{`src_ip==192.168.0.0/16`, invite, false},
		{`src_ip!=192.168.0.0/16`, invite, true},
		{`src_ip==192.168.0.0/255.255.0.0`, invite, false},
		{`src_ip==[::ffff:10.0.0.1]`, invite, true},
		{`src_ip==::1`, invite, false},
		{`src_ip==myself`, invite, false},
		{`src_ip!=myself`, invite, true},
		{`src_ip=~"^10\."`, invite, true},
		{`src_ip==gw.test`, invite, true},
		{`src_ip==one.test`, invite, true},
		{`src_ip==backup.foo.bar`, invite, false},
		{`src_ip!=backup.foo.bar`, invite, false},
		{`!src_ip==backup.foo.bar`, invite, true},
		{`dst_ip==myself`, invite, true},
		{`dst_ip==127.0.0.1`, invite, true},
		{`dst_ip!=127.0.0.1`, invite, false},
		{`src_port==5060`, invite, true},
		{`src_port<1024`, invite, false},
		{`src_port>=5060 && src_port<=5060`, invite, true},
		{`dst_port==5060`, invite, true},
		{`dst_port!=5060`, invite, false},
		{`proto==udp`, invite, true},
		{`proto==UDP`, invite, true},
		{`proto==tcp`, invite, false},
		{`proto!=tcp`, invite, true},
		{`af==inet`, invite, true},
		{`af==inet6`, invite, false},
		{`af==2`, invite, true},
		{`af!=10`, invite, true},
		{`af==INET6`, invite, false},
		{`af!=inet6`, invite, true},
		{`msg:len>max_len`, invite, false},
		{`msg:len<max_len`, invite, true},
		{`msg:len>0`, invite, true},
		{`msg:len<100`, invite, false},
		{`len_gt(100)`, invite, true},
		{`len_gt(max_len)`, invite, false},
		{`1`, invite, true},
		{`0`, invite, false},
		// A reply in onreply_route: no R-URI.
		{`status=="200"`, ok200, true},
		{`status=~"^2[0-9][0-9]$"`, ok200, true},
		{`status=="404"`, ok200, false},
		{`uri=="sip:bob@ser.test"`, ok200, false},
		{`uri!="sip:bob@ser.test"`, ok200, false},
		{`uri==myself`, ok200, false},
		{`uri:host=="ser.test"`, ok200, false},
		{`uri:port==5060`, ok200, false},
		{`method=="INVITE"`, ok200, true},
		{`to_uri==myself`, ok200, true},
		{`src_ip==10.0.0.2`, ok200, true},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			kind, block := module.Request, "route"
			if tt.msg(t).Resp != nil {
				kind, block = module.OnReply, "onreply_route[1]"
			}
			p, ms := build(t, testHead+block+` { if (`+tt.cond+`) rec("T"); else rec("F"); }`, newFakeCore())
			n := 0
			if kind == module.OnReply {
				n = 1
			}
			p.Run(kind, n, tt.msg(t))
			want := "F"
			if tt.want {
				want = "T"
			}
			if got := strings.Join(trace(ms), " "); got != want {
				t.Errorf("if (%s) → %s, want %s", tt.cond, got, want)
			}
		})
	}
}

func invite(tb testing.TB) *sipmsg.Msg   { return request(tb, "INVITE", "sip:bob@ser.test") }
func foreign(tb testing.TB) *sipmsg.Msg  { return request(tb, "INVITE", "sip:bob@elsewhere.test") }
func withPort(tb testing.TB) *sipmsg.Msg { return request(tb, "INVITE", "sip:bob@ser.test:6060") }
func ok200(tb testing.TB) *sipmsg.Msg    { return reply(tb, 200) }

// TestURIRewriting is Table 2 of the admin guide: each built-in rewriting
// action applied to sip:12345@foo.bar:6060.
func TestURIRewriting(t *testing.T) {
	tests := []struct {
		action, want string
	}{
		// The guide prints sip:12345@192.168.10:6060, a typo.
		{`rewritehost("192.168.0.10")`, "sip:12345@192.168.0.10:6060"},
		{`rewriteuri("sip:alice@foo.bar")`, "sip:alice@foo.bar"},
		{`rewritehostport("192.168.0.10:3040")`, "sip:12345@192.168.0.10:3040"},
		{`rewriteuser("alice")`, "sip:alice@foo.bar:6060"},
		{`rewriteuserpass("alice:pw")`, "sip:alice:pw@foo.bar:6060"},
		{`rewriteport("1234")`, "sip:12345@foo.bar:1234"},
		{`prefix("9")`, "sip:912345@foo.bar:6060"},
		{`strip(2)`, "sip:345@foo.bar:6060"},
		// Aliases and the rest of the family.
		{`sethost("gw.foo.bar")`, "sip:12345@gw.foo.bar:6060"},
		{`seth("[::1]")`, "sip:12345@[::1]:6060"},
		{`sethostport("foo.bar")`, "sip:12345@foo.bar"},
		{`sethp("[2001:db8::1]:5070")`, "sip:12345@[2001:db8::1]:5070"},
		{`setuser("joe")`, "sip:joe@foo.bar:6060"},
		{`setu("")`, "sip:foo.bar:6060"},
		{`setuserpass("joe:mypass")`, "sip:joe:mypass@foo.bar:6060"},
		{`setup("joe")`, "sip:joe@foo.bar:6060"},
		{`setport("5060")`, "sip:12345@foo.bar:5060"},
		{`setp(5070)`, "sip:12345@foo.bar:5070"},
		{`setport("")`, "sip:12345@foo.bar"},
		{`seturi("sip:joe@foo.bar.com:5060;transport=tcp")`, "sip:joe@foo.bar.com:5060;transport=tcp"},
		{`strip(10)`, "sip:foo.bar:6060"},
		{`strip_tail(2)`, "sip:123@foo.bar:6060"},
		{`rewriteuser("alice"); revert_uri()`, "sip:12345@foo.bar:6060"},
		{`prefix("0"); prefix("1"); strip(1)`, "sip:012345@foo.bar:6060"},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			p, ms := build(t, testHead+`route { `+tt.action+`; if (uri=="`+tt.want+`") rec("match"); }`, newFakeCore())
			m := request(t, "INVITE", "sip:12345@foo.bar:6060")
			if v := p.Run(module.Request, 0, m); v != 1 {
				t.Errorf("value %d", v)
			}
			if got := m.URIString(); got != tt.want {
				t.Errorf("%s: uri %s, want %s", tt.action, got, tt.want)
			}
			if got := strings.Join(trace(ms), " "); got != "match" {
				t.Errorf("uri operand does not see the rewritten uri (trace %q)", got)
			}
		})
	}
}

// TestURIRewritingQuiz is the admin guide's "URI-rewriting quiz", with
// exec_uri emulated by rewriteuri: the request goes to sip:134@foo.bar.
func TestURIRewritingQuiz(t *testing.T) {
	core := newFakeCore()
	p, _ := build(t, testHead+`route {
	rewriteuri("sip:2234@foo.bar"); # exec_uri("echo sip:2234@foo.bar; echo > /dev/null");
	strip(2);
	if (uri=~"^sip:2") {
		prefix("0");
	} else {
		prefix("1");
	};
	forward(uri:host, uri:port);
}`, core)
	m := request(t, "INVITE", "sip:someone@ser.test")
	if v := p.Run(module.Request, 0, m); v != 1 {
		t.Fatalf("value %d", v)
	}
	want := []string{"resolve sip:134@foo.bar", "forward udp:10.1.1.1:5060 sip:134@foo.bar"}
	if got := core.outputs(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("core saw %q, want %q", got, want)
	}
}

func TestForwarding(t *testing.T) {
	tests := []struct {
		name   string
		action string
		dst    string // Msg.DstURI before the script runs
		fail   bool   // the core cannot send
		value  int
		out    []string
		err    int
	}{
		{"ip and port", `forward(192.168.99.3, 5080)`, "", false, 1, []string{"forward udp:192.168.99.3:5080 sip:bob@foo.bar"}, 0},
		{"host name", `forward(gateway.foo.bar, 5060)`, "", false, 1, []string{"forward udp:10.9.9.9:5060 sip:bob@foo.bar"}, 0},
		{"quoted host, default port", `forward("gateway.foo.bar")`, "", false, 1, []string{"forward udp:10.9.9.9:5060 sip:bob@foo.bar"}, 0},
		{"ipv6", `forward([::1], 5070)`, "", false, 1, []string{"forward udp:[::1]:5070 sip:bob@foo.bar"}, 0},
		{"unresolvable", `forward(nowhere.test)`, "", false, -1, nil, 478},
		{"send fails", `forward(1.2.3.4)`, "", true, -1, nil, 477},
		{"tcp", `forward_tcp(1.2.3.4)`, "", false, 1, []string{"forward tcp:1.2.3.4:5060 sip:bob@foo.bar"}, 0},
		{"udp", `forward_udp(1.2.3.4, 5062)`, "", false, 1, []string{"forward udp:1.2.3.4:5062 sip:bob@foo.bar"}, 0},
		{"tls", `forward_tls(1.2.3.4, 5061)`, "", false, 1, []string{"forward tls:1.2.3.4:5061 sip:bob@foo.bar"}, 0},
		{"no arguments", `forward()`, "", false, 1, []string{"resolve sip:bob@foo.bar", "forward udp:10.1.1.1:5060 sip:bob@foo.bar"}, 0},
		{"uri host and port", `forward(uri:host, uri:port)`, "", false, 1, []string{"resolve sip:bob@foo.bar", "forward udp:10.1.1.1:5060 sip:bob@foo.bar"}, 0},
		{"destination uri wins", `forward(uri:host, uri:port)`, "sip:9.9.9.9:5999;transport=tcp", false, 1,
			[]string{"resolve sip:9.9.9.9:5999;transport=tcp", "forward tcp:9.9.9.9:5999 sip:bob@foo.bar"}, 0},
		{"bad destination uri", `forward()`, "x", false, -1, nil, 479},
		{"uri host, fixed port", `forward(uri:host, 5080)`, "", false, 1, []string{"forward udp:10.1.1.1:5080 sip:bob@foo.bar"}, 0},
		{"uri host only", `rewriteport("6000"); forward(uri:host)`, "", false, 1, []string{"forward udp:10.1.1.1:5060 sip:bob@foo.bar:6000"}, 0},
		{"uri host, forced tcp", `forward_tcp(uri:host, uri:port)`, "", false, 1, []string{"forward tcp:10.1.1.1:5060 sip:bob@foo.bar"}, 0},
		{"send", `send(1.2.3.4)`, "", false, 1, []string{"send udp:1.2.3.4:5060 sip:bob@foo.bar"}, 0},
		{"send_tcp", `send_tcp("1.2.3.4", 5070)`, "", false, 1, []string{"send tcp:1.2.3.4:5070 sip:bob@foo.bar"}, 0},
		{"send fails", `send(1.2.3.4)`, "", true, -1, nil, 477},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core := newFakeCore()
			core.failSend = tt.fail
			p, _ := build(t, testHead+`route { `+tt.action+`; }`, core)
			m := request(t, "INVITE", "sip:bob@foo.bar")
			m.DstURI = tt.dst
			if v := p.Run(module.Request, 0, m); v != tt.value {
				t.Errorf("value %d, want %d", v, tt.value)
			}
			if got := core.outputs(); strings.Join(got, "\n") != strings.Join(tt.out, "\n") {
				t.Errorf("core saw %q, want %q", got, tt.out)
			}
			if m.ErrCode != tt.err {
				t.Errorf("error code %d (%q), want %d", m.ErrCode, m.ErrReason, tt.err)
			}
		})
	}
}

func TestBuiltins(t *testing.T) {
	core := newFakeCore()
	p, ms := build(t, testHead+`route {
	log(1, "one\n");
	log("default level");
	log(-1, "err");
	setflag(3); setflag(31);
	if (isflagset(3)) rec("3 set");
	resetflag(3);
	if (!isflagset(3)) rec("3 reset");
	force_rport();
	append_branch("sip:b@example.com");
	rewriteuri("sip:c@example.com");
	append_branch();
	append_branch;
	if (len_gt(10)) rec("longer than 10");
}`, core)
	m := request(t, "INVITE", "sip:bob@ser.test")
	m.DstURI = "sip:proxy.example.com"
	if v := p.Run(module.Request, 0, m); v != 1 {
		t.Errorf("value %d", v)
	}
	if got := strings.Join(core.logs, "|"); got != "1 one\n|4 default level|-1 err" {
		t.Errorf("logs %q", got)
	}
	if m.Flags != 1<<31 {
		t.Errorf("flags %b", m.Flags)
	}
	if !m.ForceRport() {
		t.Error("force_rport not recorded")
	}
	if got := strings.Join(trace(ms), "|"); got != "3 set|3 reset|longer than 10" {
		t.Errorf("trace %q", got)
	}
	want := []sipmsg.Branch{
		{URI: "sip:b@example.com", Q: -1},
		{URI: "sip:c@example.com", DstURI: "sip:proxy.example.com", Q: -1},
		{URI: "sip:c@example.com", DstURI: "sip:proxy.example.com", Q: -1},
	}
	if fmt.Sprint(m.Branches) != fmt.Sprint(want) {
		t.Errorf("branches %v, want %v", m.Branches, want)
	}
}

func TestAppendBranchLimit(t *testing.T) {
	p, ms := build(t, testHead+`route { route(1); } route[1] { if (!append_branch("sip:x@y")) { rec("full"); break; }; route(1); }`, newFakeCore())
	m := request(t, "INVITE", "sip:bob@ser.test")
	p.Run(module.Request, 0, m)
	if len(m.Branches) != MaxBranches-1 || m.ErrCode != 500 {
		t.Errorf("%d branches, error %d", len(m.Branches), m.ErrCode)
	}
	if got := strings.Join(trace(ms), " "); got != "full" {
		t.Errorf("trace %q", got)
	}
}

// TestRepliesAndURIActions: URI actions refuse a message without R-URI.
func TestRepliesAndURIActions(t *testing.T) {
	p, ms := build(t, testHead+`failure_route[1] { if (!rewritehost("x.y")) rec("no uri"); if (!force_rport()) rec("no rport"); if (!append_branch()) rec("no branch"); if (!revert_uri()) rec("no revert"); if (!seturi("sip:a@b")) rec("no seturi"); }`, newFakeCore())
	p.Run(module.Failure, 1, reply(t, 487))
	if got := strings.Join(trace(ms), "|"); got != "no uri|no rport|no branch|no revert|no seturi" {
		t.Errorf("trace %q", got)
	}
}

// TestSER09Builtins covers the core actions SER 0.9's grammar added:
// append_branch with a q value, force_send_socket, error and exec.
func TestSER09Builtins(t *testing.T) {
	core := newFakeCore()
	tcp := &sipmsg.Socket{Proto: sipmsg.ProtoTCP, IP: netip.MustParseAddr("127.0.0.1"), Port: 5060}
	core.socks = []*sipmsg.Socket{{Proto: sipmsg.ProtoUDP, IP: netip.MustParseAddr("127.0.0.1"), Port: 5060}, tcp}
	done := filepath.Join(t.TempDir(), "done")
	p, _ := build(t, testHead+`route {
	append_branch("sip:b@example.com", "0.5");
	append_branch("sip:c@example.com", "1");
	force_send_socket(tcp:127.0.0.1:5060);
	if (!error("class", "text")) drop;
	exec("echo ran > '`+done+`'");
}`, core)
	m := request(t, "INVITE", "sip:bob@ser.test")
	if v := p.Run(module.Request, 0, m); v != 1 {
		t.Errorf("value %d", v)
	}
	if fmt.Sprint(m.Branches) != fmt.Sprint([]sipmsg.Branch{{URI: "sip:b@example.com", Q: 0.5}, {URI: "sip:c@example.com", Q: 1}}) {
		t.Errorf("branches %v", m.Branches)
	}
	if m.ForceSocket != tcp {
		t.Errorf("force_send_socket: %v", m.ForceSocket)
	}
	if got := strings.Join(core.logs, "|"); got != `2 WARNING: do_action: error("class", "text") not implemented yet` {
		t.Errorf("logs %q", got)
	}
	if b, err := os.ReadFile(done); err != nil || string(b) != "ran\n" {
		t.Errorf("exec: %q %v", b, err)
	}
	for _, bad := range []string{
		`append_branch("sip:x@y", "1.5");`, `append_branch("sip:x@y", "0.1234");`, `append_branch("sip:x@y", "-1");`,
		`force_send_socket(10.0.0.9:5060);`, `force_send_socket(udp:127.0.0.1:5070);`, `force_send_socket(gw.foo.bar);`,
		`exec("");`,
	} {
		if _, _, errs := buildErrs(t, testHead+"route { "+bad+" }", core); len(errs) == 0 {
			t.Errorf("%s accepted", bad)
		}
	}
}

// TestStatementAsCondition: SER 0.9's grammar let a block or an if be a
// condition (exp_stm); its value is the value of its last action.
func TestStatementAsCondition(t *testing.T) {
	core := newFakeCore()
	p, ms := build(t, testHead+`route {
	if ({ rec("a"); ret(-1); }) rec("block true"); else rec("block false");
	if ({ ret(1); }) rec("block true");
	if (if (method=="INVITE") ret(-1); else ret(1);) rec("if true"); else rec("if false");
	if (!{ ret(-1); } && if (1) { rec("b"); }) rec("combined");
}`, core)
	m := request(t, "INVITE", "sip:bob@ser.test")
	p.Run(module.Request, 0, m)
	if got := strings.Join(trace(ms), "|"); got != "a|ret -1|block false|ret 1|block true|ret -1|if false|ret -1|b|combined" {
		t.Errorf("trace %q", got)
	}
	f, errs := cfg.Parse("t.cfg", []byte(`route { if ({ a(); }) b(); if (if (c()) d();) e(); }`))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if again, errs := cfg.Parse("t.cfg", []byte(f.String())); len(errs) > 0 || again.String() != f.String() {
		t.Errorf("round trip:\n%s\n%v", f.String(), errs)
	}
}
