package rr

import (
	"net/netip"
	"strings"
	"testing"

	"ser/core/sipmsg"
	"ser/internal/testing/modtest"
)

// call binds fname on a fresh rr instance and runs it on msg.
func call(t *testing.T, core *modtest.Core, params map[string]any, msg *sipmsg.Msg, fname string, args ...any) int {
	t.Helper()
	inst, env := modtest.Load(t, Exports, core, params)
	h := modtest.Bind(t, Exports, inst, env, fname, args...)
	ret, err := h(msg)
	if err != nil {
		t.Fatalf("%s: internal error %v", fname, err)
	}
	return ret
}

// headerLines returns the message's lines for the named header, in order.
func headerLines(msg *sipmsg.Msg, name string) []string {
	var out []string
	for _, l := range strings.Split(string(msg.Bytes()), "\r\n") {
		if strings.HasPrefix(l, name+": ") {
			out = append(out, l)
		}
	}
	return out
}

func TestRecordRoute(t *testing.T) {
	v6 := &sipmsg.Socket{Proto: sipmsg.ProtoUDP, IP: netip.MustParseAddr("2001:db8::1"), Port: 5060, Name: "2001:db8::1"}
	tests := []struct {
		name    string
		params  map[string]any
		req     modtest.Request
		opts    []modtest.Option
		rewrite string // R-URI set before record_route
		want    []string
	}{
		{
			name: "udp",
			want: []string{"Record-Route: <sip:127.0.0.1;ftag=1928301774;lr>"},
		},
		{
			name: "tcp adds transport",
			opts: []modtest.Option{modtest.OverTCP()},
			want: []string{"Record-Route: <sip:127.0.0.1;transport=tcp;ftag=1928301774;lr>"},
		},
		{
			name:   "enable_full_lr",
			params: map[string]any{"enable_full_lr": 1},
			want:   []string{"Record-Route: <sip:127.0.0.1;ftag=1928301774;lr=on>"},
		},
		{
			name:   "append_fromtag off",
			params: map[string]any{"append_fromtag": 0},
			want:   []string{"Record-Route: <sip:127.0.0.1;lr>"},
		},
		{
			name: "no from tag",
			req:  modtest.Request{From: "<sip:alice@example.com>"},
			want: []string{"Record-Route: <sip:127.0.0.1;lr>"},
		},
		{
			name: "no user in request uri",
			req:  modtest.Request{URI: "sip:example.com"},
			want: []string{"Record-Route: <sip:127.0.0.1;ftag=1928301774;lr>"},
		},
		{
			name:   "add_username",
			params: map[string]any{"add_username": 1},
			want:   []string{"Record-Route: <sip:bob@127.0.0.1;ftag=1928301774;lr>"},
		},
		{
			name:    "user from rewritten uri when the original has none",
			params:  map[string]any{"add_username": 1},
			req:     modtest.Request{URI: "sip:example.com"},
			rewrite: "sip:carol@192.0.2.30",
			want:    []string{"Record-Route: <sip:carol@127.0.0.1;ftag=1928301774;lr>"},
		},
		{
			name:    "original user wins over rewritten",
			params:  map[string]any{"add_username": 1},
			rewrite: "sip:carol@192.0.2.30",
			want:    []string{"Record-Route: <sip:bob@127.0.0.1;ftag=1928301774;lr>"},
		},
		{
			name: "goes on top of existing record-routes",
			req:  modtest.Request{Headers: []string{"Record-Route: <sip:p1.example.com;lr>"}},
			want: []string{
				"Record-Route: <sip:127.0.0.1;ftag=1928301774;lr>",
				"Record-Route: <sip:p1.example.com;lr>",
			},
		},
		{
			name: "ipv6 socket",
			opts: []modtest.Option{modtest.On(v6)},
			want: []string{"Record-Route: <sip:[2001:db8::1];ftag=1928301774;lr>"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := tc.req.Msg(t, tc.opts...)
			if tc.rewrite != "" {
				if err := msg.SetURI(tc.rewrite); err != nil {
					t.Fatal(err)
				}
			}
			if ret := call(t, modtest.NewCore(), tc.params, msg, "record_route"); ret != 1 {
				t.Fatalf("returned %d", ret)
			}
			got := headerLines(msg, "Record-Route")
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("Record-Route:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if rr := msg.Req.RecordRoute(); rr == nil || "Record-Route: "+rr.Value() != tc.want[0] {
				t.Errorf("typed top Record-Route = %v", rr)
			}
		})
	}
}

func TestRecordRouteOnlyOnce(t *testing.T) {
	core := modtest.NewCore()
	inst, env := modtest.Load(t, Exports, core, nil)
	msg := modtest.Request{}.Msg(t)
	for _, fname := range []string{"record_route", "addRecordRoute"} {
		h := modtest.Bind(t, Exports, inst, env, fname)
		ret, _ := h(msg)
		want := 1
		if fname == "addRecordRoute" {
			want = -1
		}
		if ret != want {
			t.Errorf("%s returned %d, want %d", fname, ret, want)
		}
	}
	if n := len(headerLines(msg, "Record-Route")); n != 1 {
		t.Errorf("%d Record-Route headers, want 1", n)
	}
	// A new message may be record-routed again.
	other := modtest.Request{}.Msg(t)
	if ret, _ := modtest.Bind(t, Exports, inst, env, "addRecordRoute")(other); ret != 1 {
		t.Errorf("addRecordRoute on a new message returned %d", ret)
	}
}

func TestRecordRoutePreset(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]any
		arg    string
		want   string
	}{
		{name: "host and port", arg: "1.2.3.4:5090", want: "Record-Route: <sip:bob@1.2.3.4:5090;ftag=1928301774;lr>"},
		{name: "full lr", params: map[string]any{"enable_full_lr": "yes"}, arg: "proxy.example.com",
			want: "Record-Route: <sip:bob@proxy.example.com;ftag=1928301774;lr=on>"},
		{name: "with transport", params: map[string]any{"append_fromtag": 0}, arg: "1.2.3.4;transport=tcp",
			want: "Record-Route: <sip:bob@1.2.3.4;transport=tcp;lr>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := modtest.Request{}.Msg(t)
			if ret := call(t, modtest.NewCore(), tc.params, msg, "record_route_preset", tc.arg); ret != 1 {
				t.Fatalf("returned %d", ret)
			}
			if got := headerLines(msg, "Record-Route"); len(got) != 1 || got[0] != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	core := modtest.NewCore()
	inst, env := modtest.Load(t, Exports, core, nil)
	if _, err := modtest.BindErr(Exports, inst, env, "record_route_preset", ""); err == nil {
		t.Error("empty preset accepted")
	}
}

func TestParams(t *testing.T) {
	tests := []struct {
		name    string
		params  map[string]any
		wantErr bool
	}{
		{name: "defaults"},
		{name: "full lr", params: map[string]any{"enable_full_lr": 1}},
		{name: "fromtag off", params: map[string]any{"append_fromtag": "no"}},
		{name: "double rr off", params: map[string]any{"enable_double_rr": 0}},
		{name: "double rr on", params: map[string]any{"enable_double_rr": 1}},
		{name: "double rr not a number", params: map[string]any{"enable_double_rr": "x"}, wantErr: true},
		{name: "add_username", params: map[string]any{"add_username": 1}},
		{name: "not a number", params: map[string]any{"enable_full_lr": "maybe"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := modtest.LoadEnv(Exports, modtest.Env(t, modtest.NewCore(), nil), tc.params)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, wantErr %v", err, tc.wantErr)
			}
		})
	}
}

// TestDoubleRecordRoute checks the request as the core sends it: one
// Record-Route when it leaves through the socket it came in on, two marked
// ;r2=on (the outgoing socket's on top) when the protocol, address family
// or socket differs, none of that with enable_double_rr off.
func TestDoubleRecordRoute(t *testing.T) {
	v6 := &sipmsg.Socket{Proto: sipmsg.ProtoUDP, IP: netip.MustParseAddr("::1"), Port: 5070, Name: "::1"}
	other := &sipmsg.Socket{Proto: sipmsg.ProtoUDP, IP: netip.MustParseAddr("127.0.0.1"), Port: 5080, Name: "127.0.0.1"}
	tests := []struct {
		name   string
		params map[string]any
		opts   []modtest.Option
		out    *sipmsg.Socket
		want   []string
	}{
		{name: "same socket", out: modtest.UDPSocket,
			want: []string{"Record-Route: <sip:127.0.0.1;ftag=1928301774;lr>"}},
		{name: "udp in, tcp out", out: modtest.TCPSocket, want: []string{
			"Record-Route: <sip:127.0.0.1;transport=tcp;r2=on;ftag=1928301774;lr>",
			"Record-Route: <sip:127.0.0.1;r2=on;ftag=1928301774;lr>",
		}},
		{name: "tcp in, udp out", opts: []modtest.Option{modtest.OverTCP()}, out: modtest.UDPSocket, want: []string{
			"Record-Route: <sip:127.0.0.1;r2=on;ftag=1928301774;lr>",
			"Record-Route: <sip:127.0.0.1;transport=tcp;r2=on;ftag=1928301774;lr>",
		}},
		{name: "ipv4 in, ipv6 out", out: v6, params: map[string]any{"enable_full_lr": 1}, want: []string{
			"Record-Route: <sip:[::1]:5070;r2=on;ftag=1928301774;lr=on>",
			"Record-Route: <sip:127.0.0.1;r2=on;ftag=1928301774;lr=on>",
		}},
		{name: "another port", out: other, want: []string{
			"Record-Route: <sip:127.0.0.1:5080;r2=on;ftag=1928301774;lr>",
			"Record-Route: <sip:127.0.0.1;r2=on;ftag=1928301774;lr>",
		}},
		{name: "double rr off", params: map[string]any{"enable_double_rr": 0}, out: modtest.TCPSocket,
			want: []string{"Record-Route: <sip:127.0.0.1;ftag=1928301774;lr>"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			core := modtest.NewCore()
			msg := modtest.Request{Headers: []string{"Record-Route: <sip:p0.example.com;lr>"}}.Msg(t, tc.opts...)
			if ret := call(t, core, tc.params, msg, "record_route"); ret != 1 {
				t.Fatalf("returned %d", ret)
			}
			var got []string
			for _, l := range strings.Split(string(core.RequestBytes(msg, tc.out, "z9hG4bK1")), "\r\n") {
				if strings.HasPrefix(l, "Record-Route: ") {
					got = append(got, l)
				}
			}
			want := append(tc.want, "Record-Route: <sip:p0.example.com;lr>")
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("sent:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			// The message itself keeps the single header.
			if n := len(headerLines(msg, "Record-Route")); n != 2 {
				t.Errorf("message has %d Record-Route headers, want 2", n)
			}
		})
	}
}
