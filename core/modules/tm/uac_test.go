package tm

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestUACRoundTrip(t *testing.T) {
	nc := newNetCore(t, nil)
	peer := newUA(t, "peer")
	res := make(chan *UACResult, 1)
	go func() {
		r, err := nc.tm.Request(context.Background(), UACRequest{
			Method: "OPTIONS", RURI: peer.uri("bob"), From: "sip:daemon@example.com", To: peer.uri("bob"),
			Headers: []string{"Contact: <sip:daemon@!!>"},
		})
		if err != nil {
			t.Error(err)
		}
		res <- r
	}()
	req := peer.expectRequest("OPTIONS", wait)
	if req.CSeq().SeqNo != DefaultCSeq || req.CallID() == nil || req.CallID().Value() == "" {
		t.Errorf("CSeq/Call-ID: %s", req.String())
	}
	if tag, _ := req.From().Params.Get("tag"); tag == "" {
		t.Error("From without tag")
	}
	if c := req.GetHeader("Contact"); c == nil || !strings.Contains(c.Value(), "daemon@"+nc.addr().String()) {
		t.Errorf("!! not expanded: %v", c)
	}
	if req.MaxForwards() == nil || req.Via().Port != nc.sock.Port {
		t.Errorf("Via/Max-Forwards: %s", req.String())
	}
	// A retransmission (Timer E) before the reply.
	peer.expectRequest("OPTIONS", wait)
	peer.reply(req, 200, "Fine", "p")
	r := <-res
	if r.Code != 200 || r.Reason != "Fine" || r.Local || r.Resp == nil || len(r.Raw) == 0 {
		t.Errorf("result %+v", r)
	}
	waitEmpty(t, nc.tm, wait)
	if s := nc.tm.Stats(); s.Local != 1 || s.Completed[0] != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestUACTimeout(t *testing.T) {
	nc := newNetCore(t, nil)
	peer := newUA(t, "peer")
	start := time.Now()
	r, err := nc.tm.Request(context.Background(), UACRequest{Method: "MESSAGE", RURI: peer.uri("bob"), From: "sip:a@b", To: peer.uri("bob")})
	if err != nil {
		t.Fatal(err)
	}
	if r.Code != 408 || !r.Local || r.Reason != "Request Timeout" {
		t.Errorf("result %+v", r)
	}
	if el := time.Since(start); el < testTimers.FR-50*time.Millisecond {
		t.Errorf("408 after %v", el)
	}
	// The context deadline ends the wait earlier.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	r, err = nc.tm.Request(ctx, UACRequest{Method: "MESSAGE", RURI: peer.uri("bob"), From: "sip:a@b", To: peer.uri("bob")})
	if err != nil || r.Code != 408 || !r.Local {
		t.Errorf("ctx timeout: %+v %v", r, err)
	}
	waitEmpty(t, nc.tm, testTimers.FR+wait)
}

func TestUACInviteRejected(t *testing.T) {
	nc := newNetCore(t, nil)
	peer := newUA(t, "peer")
	res := make(chan UACResult, 1)
	if _, err := nc.tm.Originate(UACRequest{Method: "INVITE", RURI: peer.uri("bob"), From: "<sip:a@b>;tag=x", To: peer.uri("bob"), CallID: "uac-inv", CSeq: 5}, func(r UACResult) { res <- r }); err != nil {
		t.Fatal(err)
	}
	req := peer.expectRequest("INVITE", wait)
	if tag, _ := req.From().Params.Get("tag"); tag != "x" {
		t.Errorf("From tag %q", tag)
	}
	peer.reply(req, 486, "Busy Here", "p")
	ack := peer.expectRequest("ACK", wait)
	if ack.CSeq().SeqNo != 5 || mustBranch(ack) != mustBranch(req) {
		t.Errorf("ACK: %s", ack.String())
	}
	if r := <-res; r.Code != 486 {
		t.Errorf("result %+v", r)
	}
}

func TestUACErrors(t *testing.T) {
	nc := newNetCore(t, nil)
	tests := []struct {
		name string
		r    UACRequest
		code int
	}{
		{name: "missing from", r: UACRequest{Method: "OPTIONS", RURI: "sip:a@127.0.0.1", To: "sip:a@b"}, code: 400},
		{name: "bad ruri", r: UACRequest{Method: "OPTIONS", RURI: "::", From: "sip:a@b", To: "sip:a@b"}, code: 400},
		{name: "unresolvable", r: UACRequest{Method: "OPTIONS", RURI: "sip:a@nowhere.invalid", From: "sip:a@b", To: "sip:a@b"}, code: 478},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := nc.tm.Request(context.Background(), tc.r)
			var ue *UACError
			if !errors.As(err, &ue) || ue.Code != tc.code {
				t.Errorf("err = %v, want code %d", err, tc.code)
			}
		})
	}
	if nc.tm.Count() != 0 {
		t.Errorf("%d transactions left", nc.tm.Count())
	}
}

func TestHasTag(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want bool
	}{
		{"sip:a@b", false},
		{"sip:a@b;tag=1", true},
		{"<sip:a@b;tag=1>", false},
		{`"A" <sip:a@b>;tag=1`, true},
		{"<sip:a@b>;foo=1", false},
	} {
		if got := hasTag(tc.v); got != tc.want {
			t.Errorf("hasTag(%q) = %v", tc.v, got)
		}
	}
}
