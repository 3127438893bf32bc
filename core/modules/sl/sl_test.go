package sl

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"ser/core/rpc"
	"ser/core/sipmsg"
	"ser/internal/testing/modtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func load(t *testing.T) (*Module, *modtest.Core, func(name string, args ...any) func(*sipmsg.Msg) int) {
	t.Helper()
	core := modtest.NewCore()
	inst, env := modtest.Load(t, Exports, core, nil)
	bind := func(name string, args ...any) func(*sipmsg.Msg) int {
		h := modtest.Bind(t, Exports, inst, env, name, args...)
		return func(m *sipmsg.Msg) int {
			t.Helper()
			ret, err := h(m)
			if err != nil {
				t.Fatalf("%s: unexpected internal error: %v", name, err)
			}
			return ret
		}
	}
	return inst.(*Module), core, bind
}

func toTag(t *testing.T, r *sip.Response) string {
	t.Helper()
	tag, _ := r.To().Params.Get("tag")
	return tag
}

func TestFixupSendReply(t *testing.T) {
	tests := []struct {
		name    string
		code    any
		wantErr string
	}{
		{name: "code as string", code: "483"},
		{name: "code as number", code: 483},
		{name: "lowest", code: 100},
		{name: "highest", code: 699},
		{name: "not a number", code: "abc", wantErr: "bad reply code"},
		{name: "too low", code: 99, wantErr: "out of range"},
		{name: "too high", code: "700", wantErr: "out of range"},
	}
	core := modtest.NewCore()
	inst, env := modtest.Load(t, Exports, core, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := modtest.BindErr(Exports, inst, env, "sl_send_reply", tc.code, "Reason")
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestSendReply(t *testing.T) {
	sum := md5.Sum([]byte("SER-stateless" + "127.0.0.1" + "5060"))
	prefix := hex.EncodeToString(sum[:]) + "-"
	tests := []struct {
		name    string
		req     modtest.Request
		code    int
		reason  string
		wantTag string // "" none, "sl" sl's tag, else that exact tag
	}{
		{name: "404 gets sl tag", req: modtest.Request{}, code: 404, reason: "Not Found", wantTag: "sl"},
		{name: "180 gets sl tag", req: modtest.Request{}, code: 180, reason: "Ringing", wantTag: "sl"},
		{name: "100 has no tag", req: modtest.Request{}, code: 100, reason: "Trying"},
		{name: "existing To tag kept", req: modtest.Request{Method: "BYE", To: "Bob <sip:bob@example.com>;tag=a6c85cf"},
			code: 481, reason: "Call/Transaction Does Not Exist", wantTag: "a6c85cf"},
		{name: "REGISTER 200", req: modtest.Request{Method: "REGISTER", URI: "sip:example.com",
			To: "<sip:alice@example.com>", From: "<sip:alice@example.com>;tag=456248"}, code: 200, reason: "OK", wantTag: "sl"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, core, bind := load(t)
			h := bind("sl_send_reply", tc.code, tc.reason)
			msg := tc.req.Msg(t)
			if ret := h(msg); ret != 1 {
				t.Fatalf("sl_send_reply returned %d, want 1", ret)
			}
			r := core.LastReply(t)
			if r.Resp.StatusCode != tc.code || r.Resp.Reason != tc.reason {
				t.Errorf("status = %d %q, want %d %q", r.Resp.StatusCode, r.Resp.Reason, tc.code, tc.reason)
			}
			if r.Rcv != msg.Rcv {
				t.Errorf("reply sent for %+v, want the request's receive info %+v", r.Rcv, msg.Rcv)
			}
			got := toTag(t, r.Resp)
			switch tc.wantTag {
			case "":
				if got != "" {
					t.Errorf("To tag = %q, want none", got)
				}
			case "sl":
				if got != m.ToTag(msg) || len(got) != TagLen || !strings.HasPrefix(got, prefix) {
					t.Errorf("To tag = %q, want %q (prefix %q)", got, m.ToTag(msg), prefix)
				}
			default:
				if got != tc.wantTag {
					t.Errorf("To tag = %q, want %q", got, tc.wantTag)
				}
			}
		})
	}
}

func TestRetransmissionGetsIdenticalReply(t *testing.T) {
	_, core, bind := load(t)
	h := bind("sl_send_reply", "486", "Busy Here")
	text := modtest.Request{}.String()
	for i := 0; i < 2; i++ {
		if ret := h(modtest.Parse(t, text)); ret != 1 {
			t.Fatalf("send %d returned %d", i, ret)
		}
	}
	r := core.Replies()
	if len(r) != 2 {
		t.Fatalf("%d replies sent, want 2", len(r))
	}
	if !bytes.Equal(r[0].Bytes, r[1].Bytes) {
		t.Errorf("replies differ:\n%s\n---\n%s", r[0].Bytes, r[1].Bytes)
	}
}

func TestToTagDependsOnTopVia(t *testing.T) {
	m, _, _ := load(t)
	base := modtest.Request{}.Msg(t)
	tests := []struct {
		name string
		via  string
		same bool
	}{
		{name: "same via", via: "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds", same: true},
		{name: "other branch", via: "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhdt"},
		{name: "other port", via: "SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds"},
		{name: "other host", via: "SIP/2.0/UDP 192.0.2.11:5060;branch=z9hG4bK776asdhds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			other := modtest.Request{Via: []string{tc.via}}.Msg(t)
			a, b := m.ToTag(base), m.ToTag(other)
			if a[:33] != b[:33] {
				t.Errorf("prefixes differ: %q %q", a, b)
			}
			if (a == b) != tc.same {
				t.Errorf("tags %q and %q: same = %v, want %v", a, b, a == b, tc.same)
			}
		})
	}
}

func TestCRCCCITT(t *testing.T) {
	// CRC-16/X-25 check value (init 0xffff, reflected, final complement).
	if got := ^crcUpdate(0xffff, "123456789"); got != 0x906e {
		t.Errorf("crc(123456789) = %#04x, want 0x906e", got)
	}
	if ccittTab[1] != 0x1189 || ccittTab[255] != 0x0f78 {
		t.Errorf("table differs from SER's crc.c: [1]=%#x [255]=%#x", ccittTab[1], ccittTab[255])
	}
}

func TestRefusesACK(t *testing.T) {
	m, core, bind := load(t)
	h := bind("sl_send_reply", 200, "OK")
	ack := modtest.Request{Method: "ACK"}.Msg(t)
	if ret := h(ack); ret != -1 {
		t.Errorf("sl_send_reply to ACK returned %d, want -1", ret)
	}
	if n := len(core.Replies()); n != 0 {
		t.Errorf("%d replies sent to an ACK", n)
	}
	if f := m.Stats().Failures; f != 1 {
		t.Errorf("failures = %d, want 1", f)
	}
}

func TestSendFailure(t *testing.T) {
	m, core, bind := load(t)
	core.Err = modtest.ErrInjected
	h := bind("sl_send_reply", 404, "Not Found")
	if ret := h(modtest.Request{}.Msg(t)); ret != -1 {
		t.Errorf("returned %d, want -1", ret)
	}
	if s := m.Stats(); s.Failures != 1 || s.R404 != 0 {
		t.Errorf("stats = %+v, want one failure and no 404", s)
	}
}

func TestRedirectContacts(t *testing.T) {
	tests := []struct {
		name     string
		ruri     string
		ruriQ    float32
		branches []sipmsg.Branch
		want     []string
	}{
		{
			// The admin guide's redirect.cfg: rewriteuri + append_branch + 300.
			name:     "admin guide redirect",
			ruri:     "sip:parallel@iptel.org:9",
			ruriQ:    -1,
			branches: []sipmsg.Branch{{URI: "sip:redirect@iptel.org:9", Q: -1}},
			want:     []string{"<sip:parallel@iptel.org:9>", "<sip:redirect@iptel.org:9>"},
		},
		{
			name:  "q values",
			ruri:  "sip:a@foo.bar",
			ruriQ: 1,
			branches: []sipmsg.Branch{
				{URI: "sip:b@foo.bar", Q: 0.5},
				{URI: "sip:c@foo.bar;transport=tcp", Q: 0.125},
				{URI: "sip:d@foo.bar", Q: 0},
			},
			want: []string{"<sip:a@foo.bar>;q=1", "<sip:b@foo.bar>;q=0.5",
				"<sip:c@foo.bar;transport=tcp>;q=0.125", "<sip:d@foo.bar>;q=0"},
		},
		{
			name:  "only the request uri",
			ruri:  "sip:bob@192.0.2.4",
			ruriQ: -1,
			want:  []string{"<sip:bob@192.0.2.4>"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, core, bind := load(t)
			h := bind("sl_send_reply", "300", "Redirect")
			msg := modtest.Request{}.Msg(t)
			if err := msg.SetURI(tc.ruri); err != nil {
				t.Fatal(err)
			}
			msg.RURIQ = tc.ruriQ
			for _, b := range tc.branches {
				msg.AppendBranch(b)
			}
			if ret := h(msg); ret != 1 {
				t.Fatalf("returned %d", ret)
			}
			r := core.LastReply(t)
			var got []string
			for _, c := range r.Resp.GetHeaders("Contact") {
				got = append(got, c.Value())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("Contacts:\n%s\nwant:\n%s\nreply:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"), r.Bytes)
			}
			if n := strings.Count(string(r.Bytes), "\r\nContact: <"); n != len(tc.want) {
				t.Errorf("%d Contact lines on the wire, want %d:\n%s", n, len(tc.want), r.Bytes)
			}
		})
	}
}

func TestNoContactsOutside3xx(t *testing.T) {
	_, core, bind := load(t)
	msg := modtest.Request{}.Msg(t)
	msg.AppendBranch(sipmsg.Branch{URI: "sip:b@foo.bar", Q: -1})
	for _, code := range []any{"299", "400"} {
		bind("sl_send_reply", code, "X")(msg)
	}
	for _, r := range core.Replies() {
		if len(r.Resp.GetHeaders("Contact")) != 0 {
			t.Errorf("%d reply carries Contact", r.Resp.StatusCode)
		}
	}
}

func TestReplyError(t *testing.T) {
	tests := []struct {
		name       string
		code       int
		reason     string
		wantCode   int
		wantReason string
	}{
		{name: "nothing recorded", wantCode: 500, wantReason: "I'm terribly sorry, server error occurred (1/SL)"},
		{name: "recorded error", code: 400, reason: "Bad Max-Forwards", wantCode: 400, wantReason: "Bad Max-Forwards"},
		{name: "code without reason", code: 404, wantCode: 404, wantReason: "Not Found"},
		{name: "invalid code", code: 42, reason: "x", wantCode: 500, wantReason: DefaultErrorReason},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, core, bind := load(t)
			msg := modtest.Request{}.Msg(t)
			if tc.code != 0 {
				msg.SetError(tc.code, tc.reason)
			}
			if ret := bind("sl_reply_error")(msg); ret != 1 {
				t.Fatalf("returned %d", ret)
			}
			r := core.LastReply(t).Resp
			if r.StatusCode != tc.wantCode || r.Reason != tc.wantReason {
				t.Errorf("reply %d %q, want %d %q", r.StatusCode, r.Reason, tc.wantCode, tc.wantReason)
			}
		})
	}
}

func TestAppendToReplyLinesAreSent(t *testing.T) {
	_, core, bind := load(t)
	msg := modtest.Request{}.Msg(t)
	msg.ReplyHeaders = append(msg.ReplyHeaders, "P-Reason: testing")
	bind("sl_send_reply", 403, "Forbidden")(msg)
	if !strings.Contains(string(core.LastReply(t).Bytes), "\r\nP-Reason: testing\r\n") {
		t.Errorf("reply lacks the append_to_reply line:\n%s", core.LastReply(t).Bytes)
	}
}

func TestIsLocalACK(t *testing.T) {
	m, core, bind := load(t)
	bind("sl_send_reply", 404, "Not Found")(modtest.Request{}.Msg(t))
	tag := toTag(t, core.LastReply(t).Resp)
	tests := []struct {
		name string
		req  modtest.Request
		want bool
	}{
		{name: "ACK for the 404", req: modtest.Request{Method: "ACK", CSeq: 314159, To: "Bob <sip:bob@example.com>;tag=" + tag}, want: true},
		{name: "ACK with another tag", req: modtest.Request{Method: "ACK", To: "Bob <sip:bob@example.com>;tag=1234"}},
		{name: "ACK with tag of other transaction", req: modtest.Request{Method: "ACK", To: "Bob <sip:bob@example.com>;tag=" + tag,
			Via: []string{"SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKother"}}},
		{name: "ACK without tag", req: modtest.Request{Method: "ACK"}},
		{name: "BYE with the tag", req: modtest.Request{Method: "BYE", To: "Bob <sip:bob@example.com>;tag=" + tag}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := m.IsLocalACK(tc.req.Msg(t)); got != tc.want {
				t.Errorf("IsLocalACK = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFormatQ(t *testing.T) {
	tests := []struct {
		q    float32
		want string
	}{
		{1, "1"}, {0, "0"}, {0.5, "0.5"}, {0.25, "0.25"}, {0.125, "0.125"},
		{0.1, "0.1"}, {0.05, "0.05"}, {0.001, "0.001"}, {0.9999, "1"},
	}
	for _, tc := range tests {
		if got := FormatQ(tc.q); got != tc.want {
			t.Errorf("FormatQ(%v) = %q, want %q", tc.q, got, tc.want)
		}
	}
}

func TestStatsClasses(t *testing.T) {
	tests := []struct {
		code int
		want int
	}{
		{100, rtxxx}, {180, rtxxx}, {200, rt200}, {202, rt202}, {204, rt2xx},
		{300, rt300}, {301, rt301}, {302, rt302}, {380, rt3xx},
		{400, rt400}, {401, rt401}, {403, rt403}, {404, rt404}, {407, rt407},
		{408, rt408}, {483, rt483}, {486, rt4xx}, {500, rt500}, {503, rt5xx},
		{603, rt6xx}, {699, rt6xx},
	}
	for _, tc := range tests {
		if got := class(tc.code); got != tc.want {
			t.Errorf("class(%d) = %d, want %d", tc.code, got, tc.want)
		}
	}
}

func TestSLStatsCommand(t *testing.T) {
	m, core, bind := load(t)
	_ = core
	codes := []int{200, 200, 202, 204, 180, 100, 300, 301, 302, 305, 400, 401, 403, 404, 404,
		407, 408, 483, 486, 500, 503, 603}
	for _, c := range codes {
		if ret := bind("sl_send_reply", c, "X")(modtest.Request{}.Msg(t)); ret != 1 {
			t.Fatalf("reply %d failed", c)
		}
	}
	m.Count(400) // the core's own 400 to a malformed request
	m.CountFailure()
	bind("sl_send_reply", 200, "OK")(modtest.Request{Method: "ACK"}.Msg(t)) // refused: a failure

	reg := rpc.NewRegistry()
	for _, c := range Exports.Commands(m) {
		if err := reg.Register(c); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name   string
		flavor rpc.Flavor
		golden string
	}{
		{name: "fifo", flavor: rpc.FIFO, golden: "sl_stats.golden"},
		{name: "unixsock", flavor: rpc.UnixSock, golden: "sl_stats_unixsock.golden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := reg.Execute(context.Background(), "sl_stats", nil, tc.flavor)
			if rep.Code != 200 {
				t.Fatalf("code %d", rep.Code)
			}
			path := filepath.Join("testdata", tc.golden)
			if *update {
				if err := os.WriteFile(path, []byte(rep.Text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Text != string(want) {
				t.Errorf("sl_stats reply:\n%q\nwant:\n%q", rep.Text, want)
			}
		})
	}
}

func TestInitRegistersCommand(t *testing.T) {
	core := modtest.NewCore()
	env := modtest.Env(t, core, nil)
	if _, err := modtest.LoadEnv(Exports, env, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := env.RPC.Lookup("sl_stats"); !ok {
		t.Fatal("sl_stats not registered")
	}
	// A second sl in the same registry is a configuration error.
	if _, err := modtest.LoadEnv(Exports, env, nil); err == nil {
		t.Fatal("second registration accepted")
	}
}
