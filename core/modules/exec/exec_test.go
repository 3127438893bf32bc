package exec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ser/core/sipmsg"
	"ser/internal/testing/modtest"
)

const testReq = `INVITE sip:2234@iptel.org SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKexec1
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKfirst
Max-Forwards: 10
From: <sip:alice@example.com>;tag=a1
To: <sip:2234@iptel.org>;tag=t9
Call-ID: exec-call-1
CSeq: 1 INVITE
User-Agent: Test UA/1.0
Content-Length: 0

`

func load(t *testing.T, params map[string]any) (*Exec, func(fn string, args ...any) func(*sipmsg.Msg) int) {
	t.Helper()
	inst, env := modtest.Load(t, Exports, modtest.NewCore(), params)
	e := inst.(*Exec)
	bind := func(fn string, args ...any) func(*sipmsg.Msg) int {
		h := modtest.Bind(t, Exports, e, env, fn, args...)
		return func(m *sipmsg.Msg) int {
			ret, err := h(m)
			if err != nil {
				t.Fatalf("%s: %v", fn, err)
			}
			return ret
		}
	}
	return e, bind
}

func msg(t *testing.T) *sipmsg.Msg {
	return modtest.Parse(t, testReq, modtest.From("192.0.2.10:5060"))
}

// dset returns the destination set: the R-URI, then the branches.
func dset(m *sipmsg.Msg) []string {
	out := []string{m.URIString()}
	for _, b := range m.Branches {
		out = append(out, b.URI)
	}
	return out
}

func TestExecMsg(t *testing.T) {
	_, bind := load(t, nil)
	dir := t.TempDir()
	f := filepath.Join(dir, "exectest.txt")
	// The admin guide's command, in a temp dir.
	h := bind("exec_msg", "printenv SRCIP > "+f+"; cat >> "+f)
	m := msg(t)
	if ret := h(m); ret != 1 {
		t.Fatalf("exec_msg = %d", ret)
	}
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	want := "192.0.2.10\n" + string(m.Raw)
	if string(b) != want {
		t.Errorf("file:\n%q\nwant\n%q", b, want)
	}
	if ret := bind("exec_msg", "cat > /dev/null; exit 3")(m); ret != -1 {
		t.Errorf("exit 3 = %d, want -1", ret)
	}
	// A command that does not read its input still succeeds (the mail
	// example).
	if ret := bind("exec_msg", "echo 'body: call arrived' > /dev/null")(m); ret != 1 {
		t.Errorf("command ignoring stdin = %d", ret)
	}
}

func TestEnvironment(t *testing.T) {
	_, bind := load(t, nil)
	f := filepath.Join(t.TempDir(), "env.txt")
	m := msg(t)
	if err := m.SetURI("sip:99@gw.example.com"); err != nil {
		t.Fatal(err)
	}
	if ret := bind("exec_msg", "env > "+f)(m); ret != 1 {
		t.Fatal("exec_msg failed")
	}
	b, _ := os.ReadFile(f)
	env := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			env[k] = v
		}
	}
	want := map[string]string{
		"SRC_IP": "192.0.2.10", "SRCIP": "192.0.2.10", "SIP_SRCIP": "192.0.2.10",
		"SIP_HF_VIA":          "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKexec1,SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKfirst",
		"SIP_HF_CALLID":       "exec-call-1",
		"SIP_HF_MAX_FORWARDS": "10",
		"SIP_HF_USER_AGENT":   "Test UA/1.0",
		"SIP_HF_CSEQ":         "1 INVITE",
		"SIP_RURI":            "sip:99@gw.example.com", "SIP_USER": "99",
		"SIP_ORUI": "sip:2234@iptel.org", "SIP_ORURI": "sip:2234@iptel.org", "SIP_OUSER": "2234",
		"SIP_TID": "z9hG4bKexec1", "SIP_DID": "t9",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if env["PATH"] == "" {
		t.Error("the server's environment was not inherited")
	}

	_, bind = load(t, map[string]any{"setvars": 0})
	if ret := bind("exec_msg", "env > "+f)(m); ret != 1 {
		t.Fatal("exec_msg failed")
	}
	b, _ = os.ReadFile(f)
	if strings.Contains(string(b), "SIP_") || !strings.Contains(string(b), "SRC_IP=192.0.2.10") {
		t.Errorf("setvars 0 environment:\n%s", b)
	}
}

func TestHFVarName(t *testing.T) {
	for in, want := range map[string]string{
		"Call-ID": "SIP_HF_CALLID", "i": "SIP_HF_CALLID", "Content-Type": "SIP_HF_CONTENT_TYPE",
		"v": "SIP_HF_VIA", "X-Foo.Bar!": "SIP_HF_X_FOO_BAR_", "CSeq": "SIP_HF_CSEQ", "k": "SIP_HF_SUPPORTED",
	} {
		if got := hfVarName(in); got != want {
			t.Errorf("hfVarName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestExecURI(t *testing.T) {
	tests := []struct {
		name string
		fn   string
		cmd  string
		uri  string // R-URI before the call ("" = testReq's)
		ret  int
		want []string
	}{
		{name: "admin guide example", fn: "exec_uri", cmd: "echo sip:mra@iptel.org;echo sip:mrb@iptel.org;echo>/dev/null",
			ret: 1, want: []string{"sip:mra@iptel.org", "sip:mrb@iptel.org"}},
		{name: "quiz", fn: "exec_uri", cmd: "echo sip:2234@foo.bar; echo > /dev/null", ret: 1, want: []string{"sip:2234@foo.bar"}},
		{name: "exec_dset", fn: "exec_dset", cmd: "echo sip:a@b; echo >/dev/null", ret: 1, want: []string{"sip:a@b"}},
		{name: "uri is the argument", fn: "exec_uri", cmd: "echo", ret: 1, want: []string{"sip:2234@iptel.org"}},
		{name: "user is the argument", fn: "exec_user", cmd: `f() { printf 'sip:%s@gw.example.com\n\n  \nsip:%s@backup.example.com\r\n' "$1" "$1"; }; f`,
			ret: 1, want: []string{"sip:2234@gw.example.com", "sip:2234@backup.example.com"}},
		{name: "argument is one quoted word", fn: "exec_uri", cmd: `f() { printf '%s\n' "$1"; }; f`, uri: "sip:o'neil$HOME;x=`id`@x",
			ret: 1, want: []string{"sip:o'neil$HOME;x=`id`@x"}},
		{name: "no output", fn: "exec_uri", cmd: "true", ret: -1, want: []string{"sip:2234@iptel.org", "sip:old@branch"}},
		{name: "non-zero exit", fn: "exec_uri", cmd: "echo sip:a@b; exit 1", ret: -1, want: []string{"sip:2234@iptel.org", "sip:old@branch"}},
		{name: "not a uri", fn: "exec_uri", cmd: "echo sip:a@b; echo '<not a uri>'; echo", ret: -1, want: []string{"sip:2234@iptel.org", "sip:old@branch"}},
		{name: "too much output", fn: "exec_uri", cmd: "yes sip:a@b | head -c 100000; echo", ret: -1, want: []string{"sip:2234@iptel.org", "sip:old@branch"}},
		{name: "line too long", fn: "exec_uri", cmd: "printf 'sip:%02000d@b\\n' 1; echo", ret: -1, want: []string{"sip:2234@iptel.org", "sip:old@branch"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, bind := load(t, nil)
			m := msg(t)
			if tc.uri != "" {
				if err := m.SetURI(tc.uri); err != nil {
					t.Fatal(err)
				}
			}
			m.AppendBranch(sipmsg.Branch{URI: "sip:old@branch", Q: -1})
			if ret := bind(tc.fn, tc.cmd)(m); ret != tc.ret {
				t.Fatalf("%s = %d, want %d", tc.fn, ret, tc.ret)
			}
			if got := dset(m); strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("destination set %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTimeToKill(t *testing.T) {
	tests := []struct{ name, fn, cmd string }{
		{"exec_msg", "exec_msg", "sleep 30"},
		{"exec_uri with a grandchild holding stdout", "exec_uri", "sleep 30 & sleep 30; echo sip:a@b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, bind := load(t, nil)
			e.SetTimeout(200 * time.Millisecond)
			start := time.Now()
			if ret := bind(tc.fn, tc.cmd)(msg(t)); ret != -1 {
				t.Errorf("%s = %d, want -1", tc.fn, ret)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestFixupAndParams(t *testing.T) {
	inst, env := modtest.Load(t, Exports, modtest.NewCore(), nil)
	for _, fn := range []string{"exec_msg", "exec_uri", "exec_user", "exec_dset"} {
		if _, err := modtest.BindErr(Exports, inst, env, fn, "  "); err == nil {
			t.Errorf("%s accepted an empty command", fn)
		}
	}
	for _, tc := range []struct {
		param string
		val   any
		ok    bool
	}{
		{"time_to_kill", 5, true}, {"time_to_kill", 0, false}, {"time_to_kill", -1, false},
		{"time_to_kill", "x", false}, {"setvars", 0, true}, {"setvars", "no", true},
	} {
		p, _ := Exports.FindParam(tc.param)
		e := New()
		if err := p.Set(e, modtest.Values(tc.val)[0]); (err == nil) != tc.ok {
			t.Errorf("%s=%v: err %v, want ok=%v", tc.param, tc.val, err, tc.ok)
		}
	}
	e := New()
	p, _ := Exports.FindParam("time_to_kill")
	p.Set(e, modtest.Int(7))
	if e.timeout != 7*time.Second {
		t.Errorf("time_to_kill 7 = %v", e.timeout)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"a": "'a'", "": "''", "o'neil": `'o'\''neil'`} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
