package maxfwd

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"ser/internal/testing/modtest"
)

func TestProcess(t *testing.T) {
	tests := []struct {
		name     string
		params   map[string]any
		arg      any
		maxFwd   int // request's value; -1: no header
		want     int
		wantLine string // Max-Forwards line expected on the wire
	}{
		{name: "absent header is added", arg: "10", maxFwd: -1, want: 1, wantLine: "Max-Forwards: 10"},
		{name: "decrement", arg: "10", maxFwd: 5, want: 1, wantLine: "Max-Forwards: 4"},
		{name: "one goes to zero", arg: "10", maxFwd: 1, want: 1, wantLine: "Max-Forwards: 0"},
		{name: "zero is false", arg: "10", maxFwd: 0, want: -1, wantLine: "Max-Forwards: 0"},
		{name: "at default limit", arg: 10, maxFwd: 16, want: 1, wantLine: "Max-Forwards: 15"},
		{name: "above default limit is capped", arg: 10, maxFwd: 70, want: 1, wantLine: "Max-Forwards: 16"},
		{name: "limit disabled", params: map[string]any{"max_limit": 0}, arg: 10, maxFwd: 70, want: 1, wantLine: "Max-Forwards: 69"},
		{name: "custom limit", params: map[string]any{"max_limit": 70}, arg: 70, maxFwd: 255, want: 1, wantLine: "Max-Forwards: 70"},
		{name: "huge value capped", arg: 10, maxFwd: 4000, want: 1, wantLine: "Max-Forwards: 16"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			core := modtest.NewCore()
			inst, env := modtest.Load(t, Exports, core, tc.params)
			h := modtest.Bind(t, Exports, inst, env, "mf_process_maxfwd_header", tc.arg)
			mf := tc.maxFwd
			if mf == 0 {
				mf = -2 // placeholder replaced below
			}
			req := modtest.Request{MaxForwards: mf}
			text := req.String()
			if tc.maxFwd == 0 {
				text = strings.Replace(text, "\r\nCSeq:", "\r\nMax-Forwards: 0\r\nCSeq:", 1)
			}
			msg := modtest.Parse(t, text)
			got, err := h(msg)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("returned %d, want %d", got, tc.want)
			}
			out := string(msg.Bytes())
			if n := strings.Count(out, "Max-Forwards:"); n != 1 {
				t.Errorf("%d Max-Forwards headers:\n%s", n, out)
			}
			if !strings.Contains(out, "\r\n"+tc.wantLine+"\r\n") {
				t.Errorf("message lacks %q:\n%s", tc.wantLine, out)
			}
		})
	}
}

func TestAddedHeaderIsFirst(t *testing.T) {
	core := modtest.NewCore()
	inst, env := modtest.Load(t, Exports, core, nil)
	h := modtest.Bind(t, Exports, inst, env, "mf_process_maxfwd_header", "10")
	msg := modtest.Request{MaxForwards: -1}.Msg(t)
	if ret, _ := h(msg); ret != 1 {
		t.Fatalf("returned %d", ret)
	}
	if !strings.HasPrefix(string(msg.Bytes()), "INVITE sip:bob@example.com SIP/2.0\r\nMax-Forwards: 10\r\nVia:") {
		t.Errorf("Max-Forwards not inserted before the first header:\n%s", msg.Bytes())
	}
	if mf := msg.Req.MaxForwards(); mf == nil || mf.Val() != 10 {
		t.Errorf("typed header = %v", mf)
	}
}

func TestBadValue(t *testing.T) {
	core := modtest.NewCore()
	inst, env := modtest.Load(t, Exports, core, nil)
	h := modtest.Bind(t, Exports, inst, env, "mf_process_maxfwd_header", "10")
	msg := modtest.Request{MaxForwards: -1}.Msg(t)
	msg.Req.AppendHeader(sip.NewHeader("Max-Forwards", "ten"))
	if ret, _ := h(msg); ret != -1 {
		t.Errorf("returned %d, want -1", ret)
	}
	if msg.ErrCode != 400 || msg.ErrReason != "Bad Max-Forwards" {
		t.Errorf("error = %d %q, want 400 Bad Max-Forwards", msg.ErrCode, msg.ErrReason)
	}
	// A parsable generic header is replaced by a typed one.
	msg = modtest.Request{MaxForwards: -1}.Msg(t)
	msg.Req.AppendHeader(sip.NewHeader("max-forwards", " 7 "))
	if ret, _ := h(msg); ret != 1 {
		t.Errorf("returned %d, want 1", ret)
	}
	if mf := msg.Req.MaxForwards(); mf == nil || mf.Val() != 6 || len(msg.Req.GetHeaders("Max-Forwards")) != 1 {
		t.Errorf("header after decrement: %v\n%s", mf, msg.Bytes())
	}
}

func TestFixup(t *testing.T) {
	tests := []struct {
		name    string
		params  map[string]any
		arg     any
		wantErr string
	}{
		{name: "string number", arg: "10"},
		{name: "number", arg: 10},
		{name: "zero", arg: 0},
		{name: "default limit", arg: 16},
		{name: "above default limit", arg: 17, wantErr: "bigger than max_limit 16"},
		{name: "above raised limit", params: map[string]any{"max_limit": 70}, arg: 70},
		{name: "limit disabled", params: map[string]any{"max_limit": 0}, arg: 255},
		{name: "too big", params: map[string]any{"max_limit": 0}, arg: 256, wantErr: "out of range"},
		{name: "negative", arg: -1, wantErr: "out of range"},
		{name: "not a number", arg: "ten", wantErr: "bad number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			core := modtest.NewCore()
			inst, env := modtest.Load(t, Exports, core, tc.params)
			_, err := modtest.BindErr(Exports, inst, env, "mf_process_maxfwd_header", tc.arg)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestMaxLimitParam(t *testing.T) {
	tests := []struct {
		name    string
		value   any
		wantErr bool
	}{
		{name: "zero", value: 0},
		{name: "max", value: 255},
		{name: "string", value: "70"},
		{name: "too big", value: 256, wantErr: true},
		{name: "negative", value: -1, wantErr: true},
		{name: "not a number", value: "lots", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := modtest.LoadEnv(Exports, modtest.Env(t, modtest.NewCore(), nil), map[string]any{"max_limit": tc.value})
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, wantErr %v", err, tc.wantErr)
			}
		})
	}
}
