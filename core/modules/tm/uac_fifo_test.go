package tm

import (
	"strings"
	"testing"
	"time"
)

func TestUACDlg(t *testing.T) {
	nc := newNetCore(t, nil)
	peer := newUA(t, "peer")
	ch := nc.fifoAsync("t_uac_dlg", "INVITE", peer.uri("bob"), ".",
		"From: sip:daemon@example.com", "To: "+peer.uri("bob"), "Contact: <sip:daemon@!!>",
		"Content-Type: application/sdp", "", "v=0", ".", "")
	req := peer.expectRequest("INVITE", wait)
	if req.CSeq().SeqNo != 10 || string(req.Body()) != "v=0\r\n" || req.ContentType() == nil {
		t.Errorf("request:\n%s", req.String())
	}
	if c := req.GetHeader("Contact"); c == nil || !strings.Contains(c.Value(), nc.addr().String()) {
		t.Errorf("Contact %v", c)
	}
	peer.reply(req, 200, "OK", "p1",
		"Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>",
		"Contact: <sip:bob@10.0.0.2:5060>")
	rep := <-ch
	wantHead := "200 OK\n" +
		"sip:bob@10.0.0.2:5060\n" +
		"sip:p2.example.com;lr\n" +
		"Route: <sip:p2.example.com;lr>, <sip:p1.example.com;lr>\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:"
	if !strings.HasPrefix(rep.Text, wantHead) || !strings.HasSuffix(rep.Text, "Content-Length: 0\r\n\r\n\n") {
		t.Errorf("t_uac_dlg reply:\n%q", rep.Text)
	}
	if rep.Code != 200 {
		t.Errorf("code %d", rep.Code)
	}
}

func TestUACDlgNegativeAndTimeout(t *testing.T) {
	nc := newNetCore(t, nil)
	peer := newUA(t, "peer")
	ch := nc.fifoAsync("t_uac_dlg", "OPTIONS", peer.uri("bob"), ".",
		"From: sip:daemon@example.com", "To: "+peer.uri("bob"), ".", ".")
	req := peer.expectRequest("OPTIONS", wait)
	peer.reply(req, 404, "Not Found", "p")
	rep := <-ch
	if !strings.HasPrefix(rep.Text, "404 Not Found\n.\n.\n.\nVia: ") {
		t.Errorf("negative reply:\n%q", rep.Text)
	}
	// No answer: the faked 408, status line only.
	rep = nc.fifo("t_uac_dlg", "OPTIONS", peer.uri("carol"), ".",
		"From: sip:daemon@example.com", "To: "+peer.uri("carol"), ".", ".")
	if rep.Text != "408 Request Timeout\n" {
		t.Errorf("timeout reply %q", rep.Text)
	}
}

func TestUACDlgErrors(t *testing.T) {
	nc := newNetCore(t, nil)
	base := []string{"OPTIONS", "sip:bob@127.0.0.1", "."}
	with := func(hdrs []string, body ...string) []string {
		l := append(append([]string{}, base...), hdrs...)
		l = append(l, "")
		return append(append(l, body...), ".")
	}
	tests := []struct {
		name  string
		lines []string
		want  string
	}{
		{name: "no method", lines: nil, want: "400 fifo_uac: method expected"},
		{name: "no ruri", lines: []string{"OPTIONS"}, want: "400 fifo_uac: ruri expected"},
		{name: "bad ruri", lines: []string{"OPTIONS", "sip:"}, want: "400 fifo_uac: ruri invalid\n"},
		{name: "no next hop", lines: []string{"OPTIONS", "sip:bob@127.0.0.1"}, want: "400 fifo_uac: next hop address expected\n"},
		{name: "no headers", lines: append(append([]string{}, base...), "", "."), want: "400 fifo_uac: HFs expected"},
		{name: "no To", lines: with([]string{"From: sip:a@b"}), want: "400 fifo_uac: To missing"},
		{name: "no From", lines: with([]string{"To: sip:a@b"}), want: "400 fifo_uac: From missing"},
		{name: "body without type", lines: with([]string{"From: sip:a@b", "To: sip:a@b"}, "hello"), want: "400 fifo_uac: Content-Type missing"},
		{name: "content-length", lines: with([]string{"From: sip:a@b", "To: sip:a@b", "Content-Type: text/plain", "Content-Length: 5"}, "hello"), want: "400 fifo_uac: Content-Length disallowed"},
		{name: "cseq not a number", lines: with([]string{"From: sip:a@b", "To: sip:a@b", "CSeq: x OPTIONS"}), want: "400 fifo_uac: non-nummerical CSeq"},
		{name: "cseq method", lines: with([]string{"From: sip:a@b", "To: sip:a@b", "CSeq: 3 INFO"}), want: "400 fifo_uac: CSeq method mismatch"},
		{name: "unparseable", lines: with([]string{"From sip:a@b"}), want: "400 fifo_uac: HFs unparseable"},
		{name: "unresolvable", lines: []string{"OPTIONS", "sip:bob@nowhere.invalid", ".", "From: sip:a@b", "To: sip:a@b", ".", "."},
			want: "478 fifo_uac: Unresolvable destination (478/FIFO/UAC)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := nc.fifo("t_uac_dlg", tc.lines...).Text; got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestUACFrom(t *testing.T) {
	nc := newNetCore(t, nil)
	peer := newUA(t, "peer")
	ch := nc.fifoAsync("t_uac_from", "MESSAGE", "", peer.uri("bob"), "Content-Type: text/plain", "", "hello", ".", "")
	req := peer.expectRequest("MESSAGE", wait)
	if !strings.Contains(req.From().Value(), "uac@dev.null:9") || req.To().Address.String() != peer.uri("bob") {
		t.Errorf("request:\n%s", req.String())
	}
	peer.reply(req, 202, "Accepted", "p")
	if rep := <-ch; rep.Text != "202 Accepted" {
		t.Errorf("t_uac_from reply %q", rep.Text)
	}
	if got := nc.fifo("t_uac_from", "MESSAGE").Text; got != "400 fifo_uac: from expected\n" {
		t.Errorf("missing from: %q", got)
	}
}

func TestUACCancel(t *testing.T) {
	nc := newNetCore(t, nil)
	peer := newUA(t, "peer")
	ch := nc.fifoAsync("t_uac_dlg", "INVITE", peer.uri("bob"), ".",
		"From: sip:daemon@example.com", "To: "+peer.uri("bob"), "Call-ID: cancel-me@x", ".", ".")
	req := peer.expectRequest("INVITE", wait)
	peer.reply(req, 180, "Ringing", "p")
	time.Sleep(20 * time.Millisecond)
	if got := nc.fifo("t_uac_cancel", "cancel-me@x", "11").Text; got != "481 fifo_uac_cancel: no such transaction" {
		t.Errorf("wrong cseq: %q", got)
	}
	if got := nc.fifo("t_uac_cancel", "cancel-me@x", "10").Text; got != "200 fifo_uac_cancel succeeded\n" {
		t.Fatalf("t_uac_cancel: %q", got)
	}
	c := peer.expectRequest("CANCEL", wait)
	peer.reply(c, 200, "OK", "p")
	peer.reply(req, 487, "Request Terminated", "p")
	peer.expectRequest("ACK", wait)
	if rep := <-ch; !strings.HasPrefix(rep.Text, "487 Request Terminated\n.\n.\n.\n") {
		t.Errorf("t_uac_dlg after cancel: %q", rep.Text)
	}
	if got := nc.fifo("t_uac_cancel", "x").Text; got != "400 fifo_uac_cancel: cseq expected" {
		t.Errorf("missing cseq: %q", got)
	}
}
