package speeddial

import (
	"context"
	"strings"
	"testing"

	"ser/core/module"
	"ser/core/modules/sl"
	"ser/core/store"
	"ser/internal/testing/modtest"
)

type world struct {
	core *modtest.Core
	sd   *SpeedDial
	env  *module.Env
	st   *store.Store
}

func newWorld(t *testing.T, params map[string]any) *world {
	t.Helper()
	ctx := context.Background()
	st := modtest.SQLiteStore(t)
	for _, e := range []store.SpeedDial{
		{Username: "alice", Domain: "example.com", SDUsername: "1", SDDomain: "example.com", NewURI: "sip:bob@example.com"},
		{Username: "alice", Domain: "example.com", SDUsername: "2", SDDomain: "example.com", NewURI: "carol@example.org"},
		{Username: "alice", Domain: "other.org", SDUsername: "1", SDDomain: "other.org", NewURI: "sip:dave@other.org"},
		{Username: "alice", Domain: "example.com", SDUsername: "3", SDDomain: "example.com", NewURI: "sip:bob@example.com:port"},
	} {
		if err := st.SetSpeedDial(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	core := modtest.NewCore()
	slInst, _ := modtest.Load(t, sl.Exports, core, nil)
	env := modtest.Env(t, core, map[string]any{"sl": slInst})
	inst, err := modtest.LoadEnv(Exports, env, params)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{core: core, sd: inst.(*SpeedDial), env: env, st: st}
	return w
}

func (w *world) lookup(t *testing.T, from, ruri string) (int, string) {
	t.Helper()
	h := modtest.Bind(t, Exports, w.sd, w.env, "sd_lookup", "speed_dial")
	if err := w.sd.UseStore(context.Background(), w.st, "speed_dial"); err != nil {
		t.Fatal(err)
	}
	m := modtest.Request{URI: ruri, From: from}.Msg(t)
	ret, _ := h(m)
	return ret, m.URIString()
}

// TestSdLookup: the short number in the R-URI becomes the caller's stored
// address; "sip:" is added when the table lacks it; unknown numbers are
// false; use_domain 0/1/2 and domain_prefix pick the keys as SER did.
func TestSdLookup(t *testing.T) {
	for _, tc := range []struct {
		name     string
		params   map[string]any
		from     string
		ruri     string
		ret      int
		wantURI  string
		wantCode string
	}{
		{name: "found", from: "<sip:alice@example.com>;tag=1", ruri: "sip:1@example.com", ret: 1, wantURI: "sip:bob@example.com"},
		{name: "sip: added", from: "<sip:alice@example.com>;tag=1", ruri: "sip:2@example.com", ret: 1, wantURI: "sip:carol@example.org"},
		{name: "unknown number", from: "<sip:alice@example.com>;tag=1", ruri: "sip:9@example.com", ret: -1, wantURI: "sip:9@example.com"},
		{name: "other user", from: "<sip:bob@example.com>;tag=1", ruri: "sip:1@example.com", ret: -1, wantURI: "sip:1@example.com"},
		{name: "use_domain 1", params: map[string]any{"use_domain": 1}, from: "<sip:alice@other.org>;tag=1", ruri: "sip:1@example.com", ret: 1, wantURI: "sip:dave@other.org"},
		{name: "use_domain 1, domain_prefix", params: map[string]any{"use_domain": 1, "domain_prefix": "sip."}, from: "<sip:alice@SIP.other.org>;tag=1", ruri: "sip:1@example.com", ret: 1, wantURI: "sip:dave@other.org"},
		{name: "use_domain 2", params: map[string]any{"use_domain": 2}, from: "<sip:alice@other.org>;tag=1", ruri: "sip:1@example.com", ret: -1, wantURI: "sip:1@example.com"},
		{name: "use_domain 2 match", params: map[string]any{"use_domain": 2, "domain_prefix": "sip."}, from: "<sip:alice@sip.example.com>;tag=1", ruri: "sip:1@sip.example.com", ret: 1, wantURI: "sip:bob@example.com"},
		{name: "bad stored uri", from: "<sip:alice@example.com>;tag=1", ruri: "sip:3@example.com", ret: 0, wantCode: "500"},
		{name: "bad From", from: "<sip:@>;tag=1", ruri: "sip:1@example.com", ret: 0, wantCode: "400"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, tc.params)
			ret, uri := w.lookup(t, tc.from, tc.ruri)
			if ret != tc.ret {
				t.Fatalf("sd_lookup returned %d, want %d", ret, tc.ret)
			}
			if tc.wantURI != "" && uri != tc.wantURI {
				t.Errorf("R-URI %s, want %s", uri, tc.wantURI)
			}
			if tc.wantCode != "" {
				if r := string(w.core.LastReply(t).Bytes); !strings.HasPrefix(r, "SIP/2.0 "+tc.wantCode) {
					t.Errorf("reply %s", r)
				}
			}
		})
	}
}

// TestConfigErrors: bad table and column names and use_domain values are
// refused at load time; a table without the columns fails at start.
func TestConfigErrors(t *testing.T) {
	w := newWorld(t, nil)
	if _, err := modtest.BindErr(Exports, w.sd, w.env, "sd_lookup", "speed dial"); err == nil {
		t.Error("bad table accepted")
	}
	for _, p := range []map[string]any{{"use_domain": 3}, {"new_uri_column": "new uri"}} {
		if _, err := modtest.LoadEnv(Exports, w.env, p); err == nil {
			t.Errorf("%v accepted", p)
		}
	}
	if err := w.sd.UseStore(context.Background(), w.st, "subscriber"); err == nil {
		t.Error("a table without the columns accepted")
	}
}
