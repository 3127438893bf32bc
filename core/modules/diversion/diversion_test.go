package diversion

import (
	"strings"
	"testing"

	"ser/internal/testing/modtest"
)

// headerLines returns the message's header lines in order.
func headerLines(b []byte) []string {
	head, _, _ := strings.Cut(string(b), "\r\n\r\n")
	return strings.Split(head, "\r\n")[1:]
}

func diversions(b []byte) []string {
	var out []string
	for _, l := range headerLines(b) {
		if strings.HasPrefix(strings.ToLower(l), "diversion:") {
			out = append(out, l)
		}
	}
	return out
}

// TestAddDiversion: the header carries the Request-URI as received (not
// the rewritten one), goes after the last header when the request has no
// Diversion, in front of the received ones otherwise, and several calls
// keep their order; the suffix is appended.
func TestAddDiversion(t *testing.T) {
	for _, tc := range []struct {
		name    string
		params  map[string]any
		have    []string
		reasons []string
		want    []string
	}{
		{name: "plain", reasons: []string{"user-busy"},
			want: []string{"Diversion: <sip:bob@example.com>;reason=user-busy"}},
		{name: "suffix", params: map[string]any{"suffix": ";privacy=full"}, reasons: []string{"no-answer"},
			want: []string{"Diversion: <sip:bob@example.com>;reason=no-answer;privacy=full"}},
		{name: "topmost", have: []string{"Diversion: <sip:carol@example.com>;reason=unconditional", "X-After: 1"}, reasons: []string{"user-busy", "deflection"},
			want: []string{"Diversion: <sip:bob@example.com>;reason=user-busy", "Diversion: <sip:bob@example.com>;reason=deflection", "Diversion: <sip:carol@example.com>;reason=unconditional"}},
		{name: "two calls", reasons: []string{"a", "b"},
			want: []string{"Diversion: <sip:bob@example.com>;reason=a", "Diversion: <sip:bob@example.com>;reason=b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			core := modtest.NewCore()
			inst, env := modtest.Load(t, Exports, core, tc.params)
			msg := modtest.Request{URI: "sip:bob@example.com", Headers: tc.have}.Msg(t)
			if err := msg.SetURI("sip:bob@192.0.2.7"); err != nil {
				t.Fatal(err)
			}
			for _, r := range tc.reasons {
				if ret, _ := modtest.Bind(t, Exports, inst, env, "add_diversion", r)(msg); ret != 1 {
					t.Fatalf("add_diversion returned %d", ret)
				}
			}
			b := msg.Bytes()
			if got := diversions(b); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("Diversion headers:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			lines := headerLines(b)
			if tc.have == nil && lines[len(lines)-1-len(tc.reasons)] != "Content-Length: 0" && !strings.HasPrefix(lines[len(lines)-1], "Diversion") {
				t.Errorf("not at the end:\n%s", b)
			}
			if tc.have != nil && lines[len(lines)-2] != "X-After: 1" {
				t.Errorf("other headers moved:\n%s", b)
			}
			if !strings.HasPrefix(lines[0], "Via: ") {
				t.Errorf("Via not first:\n%s", b)
			}
		})
	}
}

func TestAddDiversionBadReason(t *testing.T) {
	inst, env := modtest.Load(t, Exports, modtest.NewCore(), nil)
	if _, err := modtest.BindErr(Exports, inst, env, "add_diversion", ""); err == nil {
		t.Error("empty reason accepted")
	}
}
