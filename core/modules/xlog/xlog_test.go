package xlog

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"ser/core/module"
	"ser/core/sipmsg"
	"ser/internal/testing/modtest"
)

const invite = "INVITE sip:bob@example.com SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bK776asdhds, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx\r\n" +
	"v: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKy\r\n" +
	"Max-Forwards: 70\r\n" +
	"To: Bob <sip:bob@example.com>\r\n" +
	"f: \"Alice\" <sip:alice@example.com;transport=udp>;tag=1928301774\r\n" +
	"Call-ID: a84b4c76e66710@pc33.example.com\r\n" +
	"CSeq: 314159 INVITE\r\n" +
	"Contact: <sip:alice@192.0.2.4>;expires=60\r\n" +
	"User-Agent: softphone\r\n" +
	"  1.0\r\n" +
	"Refer-To: <sip:carol@example.com>\r\n" +
	"Content-Length: 0\r\n\r\n"

func render(t *testing.T, format string, m *sipmsg.Msg) string {
	t.Helper()
	f, err := Parse(format)
	if err != nil {
		t.Fatalf("Parse(%q): %v", format, err)
	}
	s, ok := f.Print(m, 4096)
	if !ok {
		t.Fatalf("Print(%q) overflowed", format)
	}
	return s
}

// TestSpecifiers checks every specifier against a request received from
// 192.0.2.4:5060.
func TestSpecifiers(t *testing.T) {
	now = func() time.Time { return time.Unix(1700000000, 0) }
	defer func() { now = time.Now }()
	m := modtest.Parse(t, invite, modtest.From("192.0.2.4:5062"))
	m.SetFlag(1)
	m.SetFlag(3)
	m.AppendBranch(sipmsg.Branch{URI: "sip:bob@192.0.2.9", Q: -1})
	if err := m.SetURI("sip:bob@192.0.2.8:5070"); err != nil {
		t.Fatal(err)
	}
	tf := time.Unix(1700000000, 0).Format("Mon Jan _2 15:04:05 2006")
	tests := []struct{ format, want string }{
		{"%%", "%"},
		{"%ci", "a84b4c76e66710@pc33.example.com"},
		{"%cs", "314159"},
		{"%ct", "<sip:alice@192.0.2.4>;expires=60"},
		{"%fu", "sip:alice@example.com;transport=udp"},
		{"%ft", "1928301774"},
		{"%tu", "sip:bob@example.com"},
		{"%tt", "<null>"},
		{"%is", "192.0.2.4"},
		{"%si:%sp", "192.0.2.4:5062"},
		{"%mf", "10"},
		{"%ml", strconv.Itoa(len(invite))},
		{"%mb", invite},
		{"%pp", strconv.Itoa(os.Getpid())},
		{"%rm", "INVITE"},
		{"%ru", "sip:bob@192.0.2.8:5070"},
		{"%rs %rr", "<null> <null>"},
		{"%rt", "sip:carol@example.com"},
		{"%br", "sip:bob@192.0.2.9"},
		{"%Ts", "1700000000"},
		{"%Tf", tf},
		{"%ua", "softphone 1.0"},
		{"%{Max-Forwards}", "70"},
		{"%{cseq}", "314159 INVITE"},
		{"%{from}", "\"Alice\" <sip:alice@example.com;transport=udp>;tag=1928301774"},
		{"%{via[1]}", "SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKy"},
		{"%{v[-1]}", "SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKy"},
		{"%{via[2]}", "<null>"},
		{"%{via[*]}", "SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bK776asdhds, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKy"},
		{"%{X-Missing}", "<null>"},
		// Unknown specifiers print <null>: one letter consumed when it
		// starts no specifier, two when it does.
		{"a%zb", "a<null>b"},
		{"a%cxb", "a<null>b"},
		{"end%", "end<null>"},
		{"end%c", "end<null>"},
		{"time [%Tf] method <%rm> r-uri <%ru>\n", "time [" + tf + "] method <INVITE> r-uri <sip:bob@192.0.2.8:5070>\n"},
	}
	for _, tc := range tests {
		if got := render(t, tc.format, m); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.format, got, tc.want)
		}
	}
	// %mi and the time stamp are fixed per message.
	a, b := render(t, "%mi", m), render(t, "%mi", m)
	other := render(t, "%mi", modtest.Parse(t, invite))
	if a != b || a == other {
		t.Errorf("%%mi: %s %s for one message, %s for another", a, b, other)
	}
}

// TestReplySpecifiers: in an onreply route the message is the reply.
func TestReplySpecifiers(t *testing.T) {
	m := modtest.Parse(t, "SIP/2.0 486 Busy Here\r\n"+
		"Via: SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bK776asdhds\r\n"+
		"To: Bob <sip:bob@example.com>;tag=a6c85cf\r\n"+
		"From: Alice <sip:alice@example.com>;tag=1928301774\r\n"+
		"Call-ID: a84b4c76e66710@pc33.example.com\r\n"+
		"CSeq: 314159 INVITE\r\n"+
		"Content-Length: 0\r\n\r\n")
	if got, want := render(t, "%rs %rr %rm %ru %tt %br", m), "486 Busy Here <null> <null> a6c85cf <null>"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestParseErrors: a malformed header specifier is a config error.
func TestParseErrors(t *testing.T) {
	for _, f := range []string{"%{", "%{1abc}", "%{via", "%{via[1}", "%{via[-2]}", "%{via[x]}", "%{via]"} {
		if _, err := Parse(f); err == nil {
			t.Errorf("Parse(%q) accepted", f)
		}
	}
}

// TestXlogFunctions binds xlog and xdbg as the script does and checks the
// level and text handed to the server's logger (which adds the Call-ID).
func TestXlogFunctions(t *testing.T) {
	core := modtest.NewCore()
	inst, env := modtest.Load(t, Exports, core, nil)
	m := modtest.Parse(t, invite)
	for _, tc := range []struct {
		level string
		want  int
	}{{"L_ALERT", module.LAlert}, {"L_CRIT", module.LCrit}, {"L_ERR", module.LErr}, {"L_WARN", module.LWarn},
		{"L_NOTICE", module.LNotice}, {"L_INFO", module.LInfo}, {"L_DBG", module.LDbg}} {
		core.Reset()
		if ret, _ := modtest.Bind(t, Exports, inst, env, "xlog", tc.level, "%rm from %fu\n")(m); ret != 1 {
			t.Fatalf("xlog returned %d", ret)
		}
		logs := core.Logs()
		if len(logs) != 1 || logs[0].Level != tc.want || logs[0].Text != "INVITE from sip:alice@example.com;transport=udp" {
			t.Errorf("xlog(%s): %+v", tc.level, logs)
		}
	}
	core.Reset()
	modtest.Bind(t, Exports, inst, env, "xdbg", "ci=%ci")(m)
	if logs := core.Logs(); len(logs) != 1 || logs[0].Level != module.LDbg || logs[0].Text != "ci=a84b4c76e66710@pc33.example.com" {
		t.Errorf("xdbg: %+v", logs)
	}
	for _, bad := range []string{"L_", "LOUD", "L_XYZ"} {
		if _, err := modtest.BindErr(Exports, inst, env, "xlog", bad, "x"); err == nil {
			t.Errorf("level %q accepted", bad)
		}
	}
	if _, err := modtest.BindErr(Exports, inst, env, "xdbg", "%{via"); err == nil {
		t.Error("bad format accepted")
	}
}

// TestBufSize: a line longer than buf_size is not logged and the call
// is false, as in SER.
func TestBufSize(t *testing.T) {
	core := modtest.NewCore()
	inst, env := modtest.Load(t, Exports, core, map[string]any{"buf_size": 16})
	m := modtest.Parse(t, invite)
	if ret, _ := modtest.Bind(t, Exports, inst, env, "xlog", "L_ERR", "%mb")(m); ret != -1 {
		t.Errorf("overflowing xlog returned %d", ret)
	}
	if ret, _ := modtest.Bind(t, Exports, inst, env, "xlog", "L_ERR", "%rm")(m); ret != 1 {
		t.Errorf("short xlog returned %d", ret)
	}
	if logs := core.Logs(); len(logs) != 1 || !strings.HasPrefix(logs[0].Text, "INVITE") {
		t.Errorf("logs %+v", logs)
	}
}
