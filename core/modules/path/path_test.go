package path

import (
	"strings"
	"testing"

	"ser/core/modules/rr"
	"ser/core/sipmsg"
	"ser/internal/testing/modtest"
)

func pathLines(wire []byte) []string {
	var out []string
	for _, l := range strings.Split(string(wire), "\r\n") {
		if strings.HasPrefix(l, "Path: ") {
			out = append(out, l)
		}
	}
	return out
}

// TestAddPath checks the Path header as the REGISTER is sent: the
// sending socket's address, the user, the received parameter as
// Kamailio's path module wrote it, in front of the Paths already there.
func TestAddPath(t *testing.T) {
	tests := []struct {
		name  string
		fname string
		args  []any
		opts  []modtest.Option
		out   *sipmsg.Socket
		have  []string
		want  []string
	}{
		{name: "add_path", fname: "add_path", out: modtest.UDPSocket,
			want: []string{"Path: <sip:127.0.0.1;lr>"}},
		{name: "add_path with user, over tcp", fname: "add_path", args: []any{"lb1"}, out: modtest.TCPSocket,
			want: []string{"Path: <sip:lb1@127.0.0.1;transport=tcp;lr>"}},
		{name: "in front of the others", fname: "add_path", out: modtest.UDPSocket, have: []string{"Path: <sip:edge.example.com;lr>"},
			want: []string{"Path: <sip:127.0.0.1;lr>", "Path: <sip:edge.example.com;lr>"}},
		{name: "add_path_received", fname: "add_path_received", opts: []modtest.Option{modtest.From("198.51.100.7:40123")}, out: modtest.UDPSocket,
			want: []string{"Path: <sip:127.0.0.1;lr;received=sip:198.51.100.7:40123>"}},
		{name: "add_path_received over tcp", fname: "add_path_received", opts: []modtest.Option{modtest.OverTCP(), modtest.From("198.51.100.7:40123")}, out: modtest.UDPSocket,
			want: []string{"Path: <sip:127.0.0.1;lr;received=sip:198.51.100.7:40123%3Btransport%3Dtcp>"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			core := modtest.NewCore()
			inst, env := modtest.Load(t, Exports, core, nil)
			msg := modtest.Request{Method: "REGISTER", URI: "sip:example.com", Headers: tc.have}.Msg(t, tc.opts...)
			if ret, _ := modtest.Bind(t, Exports, inst, env, tc.fname, tc.args...)(msg); ret != 1 {
				t.Fatalf("%s returned %d", tc.fname, ret)
			}
			if got := pathLines(core.RequestBytes(msg, tc.out, "z9hG4bK1")); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("sent\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if got := pathLines(msg.Bytes()); len(got) != len(tc.have) {
				t.Errorf("the message itself changed: %q", got)
			}
			if ret, _ := modtest.Bind(t, Exports, inst, env, tc.fname, tc.args...)(msg); ret != -1 {
				t.Errorf("second %s returned %d", tc.fname, ret)
			}
		})
	}
	inst, env := modtest.Load(t, Exports, modtest.NewCore(), nil)
	if _, err := modtest.BindErr(Exports, inst, env, "add_path", "a b"); err == nil {
		t.Error("add_path(\"a b\") accepted")
	}
}

// TestUseReceived: with use_received, a request loose_route routes by our
// Path entry goes to the address in its received parameter.
func TestUseReceived(t *testing.T) {
	core := modtest.NewCore()
	rrInst, _ := modtest.Load(t, rr.Exports, core, nil)
	env := modtest.Env(t, core, map[string]any{"rr": rrInst})
	inst, err := modtest.LoadEnv(Exports, env, map[string]any{"use_received": 1})
	if err != nil {
		t.Fatal(err)
	}
	_ = inst
	for _, tc := range []struct{ route, wantDst string }{
		{"<sip:127.0.0.1;lr;received=sip:198.51.100.7:40123%3Btransport%3Dtcp>", "sip:198.51.100.7:40123;transport=tcp"},
		{"<sip:127.0.0.1;lr>", ""},
	} {
		msg := modtest.Request{Method: "INVITE", URI: "sip:john@192.168.1.20", Headers: []string{"Route: " + tc.route}}.Msg(t)
		if ret := rrInst.(*rr.Module).LooseRoute(msg); ret != 1 || msg.DstURI != tc.wantDst {
			t.Errorf("Route %s: loose_route %d, dst %q, want %q", tc.route, ret, msg.DstURI, tc.wantDst)
		}
	}
	// use_received without rr is a configuration error.
	if _, err := modtest.LoadEnv(Exports, modtest.DiscardEnv(core), map[string]any{"use_received": 1}); err == nil {
		t.Error("use_received without rr accepted")
	}
}
