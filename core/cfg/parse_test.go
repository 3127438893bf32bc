package cfg

import (
	"reflect"
	"strings"
	"testing"
)

// stripPos zeroes every Pos in a tree so that trees parsed from different
// text can be compared structurally.
func stripPos(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			stripPos(v.Elem())
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(Pos{}) {
			if v.CanSet() {
				v.Set(reflect.ValueOf(Pos{}))
			}
			return
		}
		for i := 0; i < v.NumField(); i++ {
			stripPos(v.Field(i))
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			stripPos(v.Index(i))
		}
	}
}

// checkRoundTrip asserts that String() of f parses without errors to a
// structurally equal tree and that String() is stable.
func checkRoundTrip(t *testing.T, f *File) {
	t.Helper()
	s1 := f.String()
	g, errs := Parse(f.Name, []byte(s1))
	if len(errs) > 0 {
		t.Fatalf("canonical text does not parse: %v\n%s", errs, s1)
	}
	if s2 := g.String(); s2 != s1 {
		t.Fatalf("String not stable:\nfirst:\n%s\nsecond:\n%s", s1, s2)
	}
	a, b := *f, *g
	stripPos(reflect.ValueOf(&a))
	stripPos(reflect.ValueOf(&b))
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("round trip changed the tree:\n%s", s1)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"options", "debug=3\nfork=no;\nfifo=\"/tmp/x\"", "debug=3\nfork=no\nfifo=\"/tmp/x\"\n"},
		{"two options on a line", "debug=3 fork=no", "debug=3\nfork=no\n"},
		{"listen list", "listen=udp:1.2.3.4 tcp:1.2.3.4:5060\nport=5060", "listen=udp:1.2.3.4 tcp:1.2.3.4:5060\nport=5060\n"},
		{"loadmodule", `loadmodule "/usr/lib/ser/modules/tm.so"`, "loadmodule \"/usr/lib/ser/modules/tm.so\"\n"},
		{"modparam", `modparam("auth", "calculate_ha1", yes) modparam("usrloc","db_mode",0)`,
			"modparam(\"auth\", \"calculate_ha1\", yes)\nmodparam(\"usrloc\", \"db_mode\", 0)\n"},
		{"route", "route{ break; }", "route {\n\tbreak;\n}\n"},
		{"route 0", "route[0]{}", "route[0] {\n}\n"},
		{"reply_route", "reply_route[1] { log(1,\"x\"); }", "reply_route[1] {\n\tlog(1, \"x\");\n}\n"},
		{"all kinds", "route{} route[2]{} failure_route[1]{} onreply_route[1]{}",
			"route {\n}\n\nroute[2] {\n}\n\nfailure_route[1] {\n}\n\nonreply_route[1] {\n}\n"},
		{"semicolons after braces", "route { if (a()) { b(); }; c(); };", "route {\n\tif (a()) {\n\t\tb();\n\t}\n\tc();\n}\n"},
		{"missing last semicolon", `route { log(1,"request for served domain") }`, "route {\n\tlog(1, \"request for served domain\");\n}\n"},
		{"bare actions", "route { break; drop; drop(); return; return(); return(-1); return 2; append_branch; t_relay }",
			"route {\n\tbreak;\n\tdrop;\n\tdrop();\n\treturn;\n\treturn();\n\treturn(-1);\n\treturn 2;\n\tappend_branch;\n\tt_relay;\n}\n"},
		{"if else", "route { if (method==\"INVITE\") a(); else b(); }",
			"route {\n\tif (method == \"INVITE\") a();\n\telse b();\n}\n"},
		{"else if", "route { if (a()) { x(); } else if (b()) { y(); } else { z(); }; }",
			"route {\n\tif (a()) {\n\t\tx();\n\t} else if (b()) {\n\t\ty();\n\t} else {\n\t\tz();\n\t}\n}\n"},
		{"semicolon before else", "route { if (a()) { x(); }; else { y(); }; }",
			"route {\n\tif (a()) {\n\t\tx();\n\t} else {\n\t\ty();\n\t}\n}\n"},
		{"nested block", "route { { a(); { b(); } } }", "route {\n\t{\n\t\ta();\n\t\t{\n\t\t\tb();\n\t\t}\n\t}\n}\n"},
		{"args", `route { forward(192.168.99.3, 5080); forward(gateway.foo.bar, 5060); forward(uri:host, uri:port); forward("host.foo.bar"); len_gt(max_len); log(-1, "a\"b"); }`,
			"route {\n\tforward(192.168.99.3, 5080);\n\tforward(gateway.foo.bar, 5060);\n\tforward(uri:host, uri:port);\n\tforward(\"host.foo.bar\");\n\tlen_gt(max_len);\n\tlog(-1, \"a\\\"b\");\n}\n"},
		{"comments in args", `route { proxy_authorize("foo.bar" /* realm */, "subscriber" /* table name */ ); }`,
			"route {\n\tproxy_authorize(\"foo.bar\", \"subscriber\");\n}\n"},
		{"not binds to comparison", `route { if (!uri=~"^sip:0") a(); }`, "route {\n\tif (!uri =~ \"^sip:0\") a();\n}\n"},
		{"not of group", `route { if (!(a() && b())) c(); }`, "route {\n\tif (!(a() && b())) c();\n}\n"},
		{"double not", `route { if (!!a()) c(); }`, "route {\n\tif (!!a()) c();\n}\n"},
		{"precedence", `route { if (a() || b() && c()) x(); if ((a() || b()) && c()) y(); if (a() || (b() || c())) z(); }`,
			"route {\n\tif (a() || b() && c()) x();\n\tif ((a() || b()) && c()) y();\n\tif (a() || (b() || c())) z();\n}\n"},
		{"word operators", `route { if (not a() and b() or c()) x(); }`, "route {\n\tif (!a() && b() || c()) x();\n}\n"},
		{"single bar", `route { if (a() | uri=~"x" | uri=~"y") x(); }`, "route {\n\tif (a() || uri =~ \"x\" || uri =~ \"y\") x();\n}\n"},
		{"single ampersand", `route { if (a() & b()) x(); }`, "route {\n\tif (a() && b()) x();\n}\n"},
		{"operands", `route { if (src_ip==10.0.0.0/8 && dst_ip!=127.0.0.1 && src_port>=5060 && dst_port<5070 && proto==udp && af==inet6 && msg:len>max_len && uri:host=="a" && uri:port==5060 && status=~"^2" && from_uri=~"x" && to_uri==myself && src_ip==myself && src_ip==backup.foo.bar && src_ip==192.168.0.0/255.255.0.0 && src_ip==[::1]) x(); }`,
			"route {\n\tif (src_ip == 10.0.0.0/8 && dst_ip != 127.0.0.1 && src_port >= 5060 && dst_port < 5070 && proto == udp && af == inet6 && msg:len > max_len && uri:host == \"a\" && uri:port == 5060 && status =~ \"^2\" && from_uri =~ \"x\" && to_uri == myself && src_ip == myself && src_ip == backup.foo.bar && src_ip == 192.168.0.0/255.255.0.0 && src_ip == [::1]) x();\n}\n"},
		{"myself reversed", `route { if (myself==uri) x(); if (myself != src_ip) y(); }`,
			"route {\n\tif (uri == myself) x();\n\tif (src_ip != myself) y();\n}\n"},
		{"single equals", `route { if (method="INVITE") x(); }`, "route {\n\tif (method == \"INVITE\") x();\n}\n"},
		{"unquoted method", `route { if (method==INVITE) x(); }`, "route {\n\tif (method == INVITE) x();\n}\n"},
		{"const condition", `route { if (1) x(); }`, "route {\n\tif (1) x();\n}\n"},
		{"condition without parens", `route { if method=="A" x(); }`, "route {\n\tif (method == \"A\") x();\n}\n"},
		{"dangling else", `route { if (a()) if (b()) x(); else y(); }`, "route {\n\tif (a()) if (b()) x();\n\telse y();\n}\n"},
		{"strings", `route { append_hf("P-hint: USRLOC\r\n"); search("@bat\.iptel\.org"); log('single \n'); }`,
			"route {\n\tappend_hf(\"P-hint: USRLOC\\r\\n\");\n\tsearch(\"@bat\\\\.iptel\\\\.org\");\n\tlog(\"single \\\\n\");\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, errs := Parse("t.cfg", []byte(tt.in))
			if len(errs) > 0 {
				t.Fatalf("Parse(%q): %v", tt.in, errs)
			}
			if got := f.String(); got != tt.want {
				t.Errorf("Parse(%q).String()\n got %q\nwant %q", tt.in, got, tt.want)
			}
			checkRoundTrip(t, f)
		})
	}
}

func TestParseTree(t *testing.T) {
	src := "route {\n\tif (!uri=~\"^sip:1\" && src_ip==10.0.0.1) {\n\t\tstrip(1);\n\t};\n}\n"
	f, errs := Parse("t.cfg", []byte(src))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(f.Routes) != 1 || f.Routes[0].Kind != RequestRoute || f.Routes[0].N != 0 || f.Routes[0].Indexed {
		t.Fatalf("routes: %+v", f.Routes)
	}
	ifs := f.Routes[0].Body.Stmts[0].(*If)
	if ifs.Pos.String() != "t.cfg:2:2" {
		t.Errorf("if at %s", ifs.Pos)
	}
	and := ifs.Cond.(*Logic)
	if and.Op != And || and.Pos.String() != "t.cfg:2:21" {
		t.Errorf("and: %+v", and)
	}
	not := and.X.(*Not)
	cmp := not.X.(*Compare)
	if cmp.Operand != "uri" || cmp.Op != Match || cmp.Value.Kind != StringValue || cmp.Value.Text != "^sip:1" ||
		cmp.Pos.String() != "t.cfg:2:7" || cmp.OpPos.String() != "t.cfg:2:10" || cmp.Value.Pos.String() != "t.cfg:2:12" {
		t.Errorf("compare: %+v", cmp)
	}
	ip := and.Y.(*Compare)
	if ip.Operand != "src_ip" || ip.Value.Kind != WordValue || ip.Value.Text != "10.0.0.1" {
		t.Errorf("src_ip: %+v", ip)
	}
	call := ifs.Then.(*Block).Stmts[0].(*Call)
	if call.Name != "strip" || len(call.Args) != 1 || call.Args[0].Kind != NumberValue || call.Args[0].N != 1 || call.Pos.String() != "t.cfg:3:3" {
		t.Errorf("call: %+v", call)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // "line:col: message"
	}{
		{"missing semicolon", "route {\n\ta()\n\tb();\n}", []string{"3:2: missing ';' after 'a(…)'"}},
		{"missing close paren", "route {\n\ta(1;\n\tb();\n}", []string{"2:5: a: ',' or ')' expected after argument, found ';'"}},
		{"all errors reported", "route {\n\ta(;\n\tb(,);\n\tc();\n\td)\n}",
			[]string{"2:4: a: argument expected, found ';'", "3:4: b: argument expected, found ','", "5:3: missing ';' after 'd'"}},
		{"bad condition keeps block", "route {\n\tif (method > ) {\n\t\tx(;\n\t}\n}",
			[]string{"2:15: value expected after 'method >', found ')'", "3:5: x: argument expected, found ';'"}},
		{"operand without operator", "route { if (uri) x(); }", []string{"1:16: 'uri' needs a comparison operator (==, !=, =~, …), found ')'"}},
		{"unbalanced paren", "route { if ((a()) x(); }", []string{"1:19: ')' expected in condition, found 'x'"}},
		{"else without if", "route {\n\telse { a(); }\n}", []string{"2:2: else without if"}},
		{"duplicate route", "route { }\nroute[0] { }\nroute[1]{}\nroute[1]{}",
			[]string{"2:1: duplicate route[0] (first defined at t.cfg:1:1)", "4:1: duplicate route[1] (first defined at t.cfg:3:1)"}},
		{"reply_route is failure_route", "failure_route[1]{}\nreply_route[1]{}",
			[]string{"2:1: duplicate failure_route[1] (first defined at t.cfg:1:1)"}},
		{"failure route needs number", "failure_route { }", []string{"1:1: failure_route needs a number: failure_route[n] { … }"}},
		{"bad route index", "route[x] { }\nroute[-1] { }", []string{"1:7: route: route number expected in [], found 'x'", "2:7: route: route number must not be negative"}},
		{"missing brace", "route {\n\ta();\n\nroute[1] {\n}", []string{"4:1: unexpected 'route': missing '}' (block opened at t.cfg:1:7)"}},
		{"eof in block", "route {\n\ta();\n", []string{"3:1: unexpected end of file: missing '}' (block opened at t.cfg:1:7)"}},
		{"stray top level", "debug=3\n}\nfoo bar\nfork=no", []string{"2:1: unexpected '}': expected an option (name=value), loadmodule, modparam or a route block", "3:1: unexpected 'foo': expected an option (name=value), loadmodule, modparam or a route block"}},
		{"missing option value", "debug=\nfork=no", []string{"1:6: missing value for option 'debug'"}},
		{"bad option value", "debug=(3)\nfork=no", []string{"1:7: bad value for option 'debug': '('"}},
		{"loadmodule without path", "loadmodule\nfork=no", []string{"2:1: loadmodule: quoted module path expected, found 'fork'"}},
		{"modparam bad value", `modparam("tm", "fr_timer", foo)`, []string{"1:28: modparam: value must be a quoted string or a number, found 'foo'"}},
		{"modparam missing paren", `modparam("tm", "fr_timer", 1`, []string{"1:29: modparam: ')' expected, found end of file"}},
		{"modparam bad name", `modparam(1, "x", 1)`, []string{"1:10: modparam: quoted module name expected, found '1'"}},
		{"statement from word", "route { 1.2.3.4; a(); }", []string{"1:9: unexpected '1.2.3.4', expected a statement"}},
		{"return needs number", "route { return(x); }", []string{"1:16: return: number expected, found 'x'"}},
		{"break with args", "route { break(1); }", []string{"1:15: break: ')' expected, found '1'"}},
		{"value after op", `route { if (uri=~[x]) a(); }`, []string{"1:18: value expected after 'uri =~', found '['"}},
		{"unterminated string in cond", "route {\n\tif (uri=~\"^sip:0) {\n\t\tforward(1.2.3.4);\n\t}\n\tb();\n}", []string{"2:11: unterminated quoted string: no closing \" before the end of the file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := Parse("t.cfg", []byte(tt.in))
			var got []string
			for _, e := range errs {
				got = append(got, strings.TrimPrefix(e.Error(), "t.cfg:"))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("Parse(%q) errors\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestErrorList(t *testing.T) {
	var l ErrorList
	if l.Err() != nil {
		t.Error("empty list should give a nil error")
	}
	l.Add(Pos{File: "a.cfg", Line: 3, Col: 1}, "third")
	l.Addf(Pos{File: "a.cfg", Line: 1, Col: 5}, "first %d", 1)
	l.Add(Pos{File: "a.cfg"}, "no line")
	l.Sort()
	want := "a.cfg: no line\na.cfg:1:5: first 1\na.cfg:3:1: third"
	if l.Err() == nil || l.Error() != want {
		t.Errorf("got %q, want %q", l.Error(), want)
	}
	if (&Error{Msg: "bare"}).Error() != "bare" {
		t.Error("error without position")
	}
	if (Pos{Line: 2, Col: 3}).String() != "2:3" {
		t.Error("position without file")
	}
}

func TestParseFileMissing(t *testing.T) {
	_, errs := ParseFile("/nonexistent/ser.cfg")
	if len(errs) != 1 || !strings.HasPrefix(errs.Error(), "/nonexistent/ser.cfg: cfg: open") {
		t.Errorf("got %v", errs)
	}
}
