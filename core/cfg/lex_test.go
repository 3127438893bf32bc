package cfg

import (
	"fmt"
	"strings"
	"testing"
)

// tokString renders tokens as "kind:text" for comparison.
func tokString(toks []token) string {
	var parts []string
	for _, t := range toks {
		switch t.kind {
		case tEOF:
			parts = append(parts, "EOF")
		case tNumber:
			parts = append(parts, fmt.Sprintf("num:%d", t.num))
		case tString:
			parts = append(parts, fmt.Sprintf("str:%q", t.text))
		case tIdent:
			parts = append(parts, "id:"+t.text)
		case tWord:
			parts = append(parts, "word:"+t.text)
		case tError:
			parts = append(parts, "ERR")
		default:
			parts = append(parts, t.text)
		}
	}
	return strings.Join(parts, " ")
}

func TestLex(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "EOF"},
		{"option", "debug=3", "id:debug = num:3 EOF"},
		{"line comment", "fork=no # comment\nport=5060", "id:fork = id:no id:port = num:5060 EOF"},
		{"comment glued to value", "log_stderror=yes# (cmd line: -E)", "id:log_stderror = id:yes EOF"},
		{"block comment in args", `f("a" /* realm */, "b" /* table */)`, `id:f ( str:"a" , str:"b" ) EOF`},
		{"nested block comment", "a /* x /* y */ z */ b", "id:a id:b EOF"},
		{"escapes", `"a\"b\\c\nd\te\.f"`, `str:"a\"b\\c\nd\te\\.f" EOF`},
		{"single quotes literal", `'a\nb'`, `str:"a\\nb" EOF`},
		{"negative number", "log(-1, \"x\")", `id:log ( num:-1 , str:"x" ) EOF`},
		{"hex and octal", "a=0x1f b=0666 c=0", "id:a = num:31 id:b = num:438 id:c = num:0 EOF"},
		{"ipv4", "forward(192.168.99.3, 5080)", "id:forward ( word:192.168.99.3 , num:5080 ) EOF"},
		{"host name", "forward(gateway.foo.bar,5060)", "id:forward ( word:gateway.foo.bar , num:5060 ) EOF"},
		{"uri host port", "forward(uri:host, uri:port)", "id:forward ( word:uri:host , word:uri:port ) EOF"},
		{"msg len", "msg:len>max_len", "word:msg:len > id:max_len EOF"},
		{"network", "src_ip==10.0.0.0/8", "id:src_ip == word:10.0.0.0/8 EOF"},
		{"netmask", "src_ip==192.168.0.0/255.255.0.0", "id:src_ip == word:192.168.0.0/255.255.0.0 EOF"},
		{"socket", "listen=udp:127.0.0.1:5060", "id:listen = word:udp:127.0.0.1:5060 EOF"},
		{"ipv6 socket", "listen=tcp:[::1]:5062", "id:listen = word:tcp:[::1]:5062 EOF"},
		{"bare ipv6 bracket", "listen=[2001:db8::1]", "id:listen = word:[2001:db8::1] EOF"},
		{"route index", "route[1]{", "id:route [ num:1 ] { EOF"},
		{"route index spaced", "route [ 2 ] {", "id:route [ num:2 ] { EOF"},
		{"operators", "a==b!=c=~d!~e<f>g<=h>=i", "id:a == id:b != id:c =~ id:d !~ id:e < id:f > id:g <= id:h >= id:i EOF"},
		{"logic", "!a&&b&c||d|e", "! id:a && id:b & id:c || id:d | id:e EOF"},
		{"dashed host", "gw-1.foo.bar", "word:gw-1.foo.bar EOF"},
		{"line continuation", "a\\\nb", "id:a id:b EOF"},
		{"string spans lines", "a(\"x\n y\")", `id:a ( str:"x\n y" ) EOF`},
		{"tick spans lines", "a('x\r\ny')", `id:a ( str:"x\r\ny" ) EOF`},
		{"escaped line end eaten", "\"ab\\\ncd\\\r\nef\"", `str:"abcdef" EOF`},
		{"hex escapes", `"\x41\x4a2\x7\xg"`, `str:"AJ2\a\\xg" EOF`},
		{"octal escapes", `"\101\60\0609\1\18"`, `str:"A009\\1\\18" EOF`},
		{"unterminated string", "a(\"x\nb", "id:a ( ERR EOF"},
		{"bad octal", "a=08", "id:a = ERR EOF"},
		{"unexpected char", "a @ b", "id:a ERR id:b EOF"},
		{"unterminated comment", "a /* b", "id:a ERR EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			toks, _ := lex("t.cfg", tt.in)
			if got := tokString(toks); got != tt.want {
				t.Errorf("lex(%q)\n got %s\nwant %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestLexPositions(t *testing.T) {
	src := "debug=3\n\troute {\n  /* c */ log(\"x\");\n}\n"
	toks, errs := lex("f.cfg", src)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	want := []string{"f.cfg:1:1", "f.cfg:1:6", "f.cfg:1:7", "f.cfg:2:2", "f.cfg:2:8", "f.cfg:3:11", "f.cfg:3:14", "f.cfg:3:15", "f.cfg:3:18", "f.cfg:3:19", "f.cfg:4:1", "f.cfg:5:1"}
	if len(toks) != len(want) {
		t.Fatalf("got %d tokens (%s), want %d", len(toks), tokString(toks), len(want))
	}
	for i, tok := range toks {
		if got := tok.pos.String(); got != want[i] {
			t.Errorf("token %d %q at %s, want %s", i, tok.text, got, want[i])
		}
	}
}

func TestLexErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"unterminated string", "x=1\nfifo=\"/tmp/f\n", "t.cfg:2:6: unterminated quoted string: no closing \" before the end of the file"},
		{"unterminated tick", "a('b\n", "t.cfg:1:3: unterminated quoted string: no closing ' before the end of the file"},
		{"after multi-line string", "a(\"b\n\" @", "t.cfg:2:3: unexpected character '@' (after a string that spans lines, opened at 1:3: is a quote missing?)"},
		{"unterminated comment", "\n  /* open", "t.cfg:2:3: unterminated comment"},
		{"bad octal", "fifo_mode=0689", "t.cfg:1:11: invalid octal number '0689'"},
		{"out of range", "debug=99999999999", "t.cfg:1:7: number '99999999999' out of range"},
		{"unexpected", "route { $x }", "t.cfg:1:9: unexpected character '$'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := lex("t.cfg", tt.in)
			if errs.Error() != tt.want {
				t.Errorf("lex(%q) errors\n got %q\nwant %q", tt.in, errs.Error(), tt.want)
			}
		})
	}
}
