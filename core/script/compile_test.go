package script

import (
	"strings"
	"testing"
)

func TestCompileErrors(t *testing.T) {
	// Line 3 is the first line after testHead.
	tests := []struct {
		name   string
		script string
		want   []string // "line:col: message"
	}{
		{"unknown function", "route {\n\tfoo();\n}", []string{"4:2: unknown command 'foo', missing loadmodule?"}},
		{"unknown bare function", "route {\n\tfoo;\n}", []string{"4:2: unknown command 'foo', missing loadmodule?"}},
		{"unknown function in condition", "route {\n\tif (!lookup(\"location\")) break;\n}", []string{"4:7: unknown command 'lookup', missing loadmodule?"}},
		{"module arity", `route { ret(); }`, []string{"3:9: 'ret' takes 1 argument, 0 given"}},
		{"module arity range", `route { rec(1, 2, 3, 4); }`, []string{"3:9: 'rec' takes 0 to 3 arguments, 4 given"}},
		{"builtin arity", `route { log(); revert_uri(1); sethost(); forward(1, 2, 3); }`, []string{
			"3:9: 'log' takes 1 or 2 arguments, 0 given",
			"3:16: 'revert_uri' takes no arguments, 1 given",
			"3:31: 'sethost' takes 1 argument, 0 given",
			"3:42: 'forward' takes 0 to 2 arguments, 3 given",
		}},
		{"overloaded arity", `route { over(1, 2, 3, 4); }`, []string{"3:9: 'over' takes 3 arguments, 4 given"}},
		{"fixup error", `route { badfix("x"); }`, []string{"3:9: badfix: bad argument"}},
		{"fixup without handler", `route { nilfix(); }`, []string{"3:9: nilfix: module 'ttest' returned no handler"}},
		{"fixup checks routes", `route { on_failure(2); } failure_route[1] { }`, []string{"3:9: on_failure: failure_route[2] is not defined"}},
		{"route not defined", "route {\n\troute(7);\n}", []string{"4:2: route(7): route[7] is not defined"}},
		{"route needs a number", `route { route(x); }`, []string{"3:15: route: route number expected, found x"}},
		{"route to a failure route", `route { route(1); } failure_route[1] { }`, []string{"3:9: route(1): route[1] is not defined"}},
		{"route number out of range", `route[2000] { }`, []string{"3:1: route[2000]: route number out of range 0..1023"}},
		{"module function in wrong block", "failure_route[1] {\n\treqonly();\n}", []string{
			"4:2: command 'reqonly' cannot be used in failure_route (allowed in: route)"}},
		{"failure-only function in route", `route { failonly(); }`, []string{
			"3:9: command 'failonly' cannot be used in route (allowed in: failure_route)"}},
		{"builtin in wrong block", "onreply_route[1] {\n\tforward(1.2.3.4);\n\tsethost(\"x\");\n}", []string{
			"4:2: command 'forward' cannot be used in onreply_route (allowed in: route, failure_route)",
			"5:2: command 'sethost' cannot be used in onreply_route (allowed in: route, failure_route)"}},
		{"wrong block through route(n)", "onreply_route[1] {\n\troute(2);\n}\nroute[2] {\n\treqonly();\n\troute(3);\n}\nroute[3] { failonly(); }", []string{
			"7:2: command 'reqonly' cannot be used in route[2]: it runs in onreply_route through route(2) at t.cfg:4:2 (allowed in: route)",
			"10:12: command 'failonly' cannot be used in route[3]: it runs in onreply_route through route(3) at t.cfg:8:2 (allowed in: failure_route)",
		}},
		{"route only called from failure route", "failure_route[1] { route(2); }\nroute[2] { failonly(); reqonly(); }", []string{
			"4:24: command 'reqonly' cannot be used in route[2]: it runs in failure_route through route(2) at t.cfg:3:20 (allowed in: route)"}},
		{"operator for method", `route { if (method > 5) break; }`, []string{"3:20: operator '>' cannot be used with 'method' (valid: ==, !=, =~ or !~)"}},
		{"number for method", `route { if (method == 5) break; }`, []string{"3:23: 'method ==' needs a string, found number 5"}},
		{"myself for method", `route { if (method == myself) break; }`, []string{"3:23: 'method ==' needs a string, found identifier myself"}},
		{"operator for uri", `route { if (uri < "a") break; }`, []string{"3:17: operator '<' cannot be used with 'uri' (valid: ==, !=, =~ or !~)"}},
		{"regex on a number", `route { if (uri =~ 5) break; }`, []string{"3:20: 'uri =~' needs a regular expression, found number 5"}},
		{"string for port", `route { if (src_port == "x") break; }`, []string{`3:25: 'src_port ==' needs a number, found string "x"`}},
		{"operator for port", `route { if (dst_port =~ "5") break; }`, []string{"3:22: operator '=~' cannot be used with 'dst_port' (valid: ==, !=, <, >, <= or >=)"}},
		{"bad msg:len value", `route { if (msg:len > foo) break; }`, []string{"3:23: 'msg:len >' needs a number or max_len, found identifier foo"}},
		{"max_len for port", `route { if (src_port > max_len) break; }`, []string{"3:24: 'src_port >' needs a number, found identifier max_len"}},
		{"bad proto", `route { if (proto == sctp) break; if (proto > udp) break; }`, []string{
			"3:22: 'proto ==' needs a protocol (udp, tcp or tls), found identifier sctp",
			"3:45: operator '>' cannot be used with 'proto' (valid: == or !=)"}},
		{"bad af", `route { if (af == 4) break; if (af =~ "x") break; }`, []string{
			"3:19: 'af ==' needs an address family (inet or inet6), found number 4",
			"3:36: operator '=~' cannot be used with 'af' (valid: == or !=)"}},
		{"bad regex", "route {\n\tif (uri =~ \"(\") break;\n}", []string{`4:13: bad regular expression "(": missing closing )`}},
		{"bad regex in method", `route { if (method !~ "[a") break; }`, []string{`3:23: bad regular expression "[a": missing closing ]`}},
		{"bad network", `route { if (src_ip == 10.0.0.0/33) break; }`, []string{"3:23: src_ip ==: bad network '10.0.0.0/33': mask length 33 out of range"}},
		{"bad netmask", `route { if (src_ip == 10.0.0.0/255.0.255.0) break; }`, []string{"3:23: src_ip ==: bad network '10.0.0.0/255.0.255.0': netmask 255.0.255.0 is not contiguous"}},
		{"bad mask", `route { if (src_ip == 10.0.0.0/x) break; }`, []string{"3:23: src_ip ==: bad network '10.0.0.0/x': netmask expected after '/'"}},
		{"bad ip", `route { if (dst_ip != 300.1.2.3) break; }`, []string{"3:23: dst_ip !=: bad IP address '300.1.2.3'"}},
		{"bad host", `route { if (src_ip == "a b") break; }`, []string{"3:23: src_ip ==: bad host name 'a b'"}},
		{"number for ip", `route { if (src_ip == 5) break; }`, []string{"3:23: 'src_ip ==' needs an IP address, a network, a host name or myself, found number 5"}},
		{"operator for ip", `route { if (src_ip > 1.2.3.4) break; }`, []string{"3:20: operator '>' cannot be used with 'src_ip' (valid: ==, !=, =~ or !~)"}},
		{"flag range", `route { setflag(32); resetflag(-1); isflagset(x); }`, []string{
			"3:9: setflag: flag 32 out of range 0..31",
			"3:22: resetflag: flag -1 out of range 0..31",
			"3:37: isflagset: flag number expected, found x"}},
		{"bad forward target", `route { forward(300.1.1.1); forward(1.2.3.4, 70000); forward("a b"); forward(5060); forward(1.2.3.4, x); }`, []string{
			"3:9: forward: bad IP address '300.1.1.1'",
			"3:29: forward: port 70000 out of range",
			"3:54: forward: bad host name 'a b'",
			"3:70: forward: host expected, found number 5060",
			"3:85: forward: port number expected, found x"}},
		{"bad rewrite arguments", `route { rewriteuri("not a uri"); setport("abc"); sethostport("h:0"); sethostport("[::1"); append_branch("x"); strip(x); strip(-1); len_gt(x); }`, []string{
			`3:9: rewriteuri: bad uri "not a uri": invalid uri scheme`,
			`3:34: setport: bad port "abc"`,
			`3:50: sethostport: bad port "0"`,
			`3:70: sethostport: bad host:port "[::1"`,
			`3:91: append_branch: bad uri "x": not valid sip uri`,
			"3:111: strip: number expected, found x",
			"3:121: strip: negative length -1",
			"3:132: len_gt: length or max_len expected, found x"}},
		{"bad log level", `route { log(x, "a"); }`, []string{"3:9: log: log level must be a number, found x"}},
		{"control in condition", `route { if (break) rec(); if (drop()) rec(); }`, []string{
			"3:13: 'break' cannot be used in a condition",
			"3:31: 'drop' cannot be used in a condition"}},
		{"all errors, sorted", "route {\n\tnope();\n\troute(9);\n}\nroute[1] {\n\tif (method > 1) nope2();\n}", []string{
			"4:2: unknown command 'nope', missing loadmodule?",
			"5:2: route(9): route[9] is not defined",
			"8:13: operator '>' cannot be used with 'method' (valid: ==, !=, =~ or !~)",
			"8:18: unknown command 'nope2', missing loadmodule?"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, errs := buildErrs(t, testHead+tt.script, newFakeCore())
			var got []string
			for _, e := range errs {
				got = append(got, strings.TrimPrefix(e.Error(), "t.cfg:"))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestRegexp(t *testing.T) {
	tests := []struct {
		re, s string
		want  bool
	}{
		{`^sip:[0-9]+@foo.bar`, "SIP:123@FOO.BAR", true},
		{`[@:\.]domain.foo`, "sip:a@domain.foo", true},
		{`[@:\.]domain.foo`, `sip:a\domain.foo`, true}, // POSIX: '\' is literal in brackets
		{`^sip:(.+@)?(192\.168\.0\.10|(sip\.)?foo\.bar)([:;\?].*)?$`, "sip:a@sip.foo.bar;transport=udp", true},
		{`^sip:(.+@)?(192\.168\.0\.10|(sip\.)?foo\.bar)([:;\?].*)?$`, "sip:a@foo.bar.otherdomain.com", false},
		{`[[:digit:]]+`, "abc123", true},
		{`^[^[:alpha:]]+$`, "123", true},
		{`[]a]`, "]", true},
		{`[^]a]`, "b", true},
		{`[a[]`, "[", true},
		{`sip:\+?[0-9]+@`, "sip:+4930@x", true},
		{`a{2}`, "caab", true},
	}
	for _, tt := range tests {
		re, err := Regexp(tt.re)
		if err != nil {
			t.Errorf("Regexp(%q): %v", tt.re, err)
			continue
		}
		if got := re.MatchString(tt.s); got != tt.want {
			t.Errorf("%q matching %q = %v, want %v", tt.re, tt.s, got, tt.want)
		}
	}
	for _, bad := range []string{"(", "[a", "[[:alpha:", "a**"} {
		if _, err := Regexp(bad); err == nil {
			t.Errorf("Regexp(%q) should fail", bad)
		}
	}
}
