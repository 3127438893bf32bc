package options

import (
	"strings"
	"testing"

	"ser/core/module"
	"ser/core/modules/sl"
	"ser/internal/testing/modtest"
)

func load(t *testing.T, params map[string]any) (*modtest.Core, any, *module.Env) {
	t.Helper()
	core := modtest.NewCore()
	slInst, _ := modtest.Load(t, sl.Exports, core, nil)
	env := modtest.Env(t, core, map[string]any{"sl": slInst})
	inst, err := modtest.LoadEnv(Exports, env, params)
	if err != nil {
		t.Fatal(err)
	}
	return core, inst, env
}

// TestOptionsReply: an OPTIONS to the server gets 200 OK with SER's
// capability headers, and the script stops (0).
func TestOptionsReply(t *testing.T) {
	core, inst, env := load(t, nil)
	h := modtest.Bind(t, Exports, inst, env, "options_reply")
	msg := modtest.Request{Method: "OPTIONS", URI: "sip:127.0.0.1"}.Msg(t)
	if ret, _ := h(msg); ret != 0 {
		t.Fatalf("options_reply returned %d", ret)
	}
	r := string(core.LastReply(t).Bytes)
	if !strings.HasPrefix(r, "SIP/2.0 200 OK\r\n") {
		t.Fatalf("reply:\n%s", r)
	}
	for _, want := range []string{"\r\nAccept: */*\r\n", "\r\nAccept-Encoding: \r\n", "\r\nAccept-Language: en\r\n", "\r\nSupported: \r\n"} {
		if !strings.Contains(r, want) {
			t.Errorf("reply lacks %q:\n%s", want, r)
		}
	}
	if strings.Contains(r, "Contact:") {
		t.Errorf("Contact without the contact parameter:\n%s", r)
	}
}

// TestOptionsParams: the parameters (both SER names of supported) and the
// later line's contact options.
func TestOptionsParams(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params map[string]any
		want   []string
	}{
		{"values", map[string]any{"accept": "application/sdp", "accept_encoding": "gzip", "accept_language": "de", "support": "path"},
			[]string{"Accept: application/sdp", "Accept-Encoding: gzip", "Accept-Language: de", "Supported: path"}},
		{"supported", map[string]any{"supported": "100rel, path"}, []string{"Supported: 100rel, path"}},
		{"contact dstip", map[string]any{"contact": "dstip"}, []string{"Contact: <sip:127.0.0.1:5060>"}},
		{"contact_param alone", map[string]any{"contact_param": "ping"}, []string{"Contact: <sip:127.0.0.1:5060;ping>"}},
		{"contact ruri", map[string]any{"contact": "ruri", "contact_param": ";x=1"}, []string{"Contact: <sip:proxy.example.com:5070;x=1>"}},
		{"contact literal", map[string]any{"contact": "ser@example.com"}, []string{"Contact: <sip:ser@example.com>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			core, inst, env := load(t, tc.params)
			msg := modtest.Request{Method: "OPTIONS", URI: "sip:proxy.example.com:5070"}.Msg(t)
			modtest.Bind(t, Exports, inst, env, "options_reply")(msg)
			r := string(core.LastReply(t).Bytes)
			for _, w := range tc.want {
				if !strings.Contains(r, "\r\n"+w+"\r\n") {
					t.Errorf("reply lacks %q:\n%s", w, r)
				}
			}
		})
	}
}

// TestOptionsRefused: not an OPTIONS, or a user part in the R-URI: false,
// nothing sent.
func TestOptionsRefused(t *testing.T) {
	core, inst, env := load(t, nil)
	h := modtest.Bind(t, Exports, inst, env, "options_reply")
	for _, r := range []modtest.Request{{Method: "INVITE", URI: "sip:127.0.0.1"}, {Method: "OPTIONS", URI: "sip:bob@127.0.0.1"}} {
		if ret, _ := h(r.Msg(t)); ret != -1 {
			t.Errorf("%s %s: returned %d", r.Method, r.URI, ret)
		}
	}
	if n := len(core.Replies()); n != 0 {
		t.Errorf("%d replies sent", n)
	}
	if _, err := modtest.LoadEnv(Exports, modtest.Env(t, core, nil), nil); err == nil {
		t.Error("loaded without sl")
	}
}
