package auth

import (
	"testing"

	"ser/internal/testing/modtest"
)

func TestDigestURIMatches(t *testing.T) {
	tests := []struct {
		uri, ruri string
		want      bool
	}{
		{"sip:bob@example.com", "sip:bob@example.com", true},
		{"sip:bob@EXAMPLE.com", "sip:bob@example.com", true},
		{"sip:bob@example.com:5060", "sip:bob@example.com", true},
		{"sips:bob@example.com:5061", "sips:bob@example.com", true},
		{"sip:%62ob@example.com", "sip:bob@example.com", true},
		{"sip:bob@example.com;transport=UDP", "sip:bob@example.com;transport=udp", true},
		{"sip:bob@example.com;foo=1", "sip:bob@example.com", true}, // other parameters only where both have them
		{"sip:example.com", "sip:example.com", true},
		{"tel:+4930123", "tel:+4930123", true},

		{"sip:Bob@example.com", "sip:bob@example.com", false}, // user is case-sensitive
		{"sip:bob@example.com", "sip:alice@example.com", false},
		{"sip:bob@example.com", "sip:bob@example.org", false},
		{"sip:bob@example.com:5070", "sip:bob@example.com", false},
		{"sips:bob@example.com", "sip:bob@example.com", false},
		{"sip:bob@example.com;transport=tcp", "sip:bob@example.com", false},
		{"sip:bob@example.com;transport=tcp", "sip:bob@example.com;transport=udp", false},
		{"sip:bob@example.com;foo=1", "sip:bob@example.com;foo=2", false},
		{"sip:bob@example.com?subject=x", "sip:bob@example.com", false},
		{"tel:+4930123", "sip:+4930123@example.com", false},
		{"*", "sip:bob@example.com", false},
		{"", "sip:bob@example.com", false},
	}
	for _, tc := range tests {
		if got := digestURIMatches(tc.uri, tc.ruri); got != tc.want {
			t.Errorf("digestURIMatches(%q, %q) = %v, want %v", tc.uri, tc.ruri, got, tc.want)
		}
	}
}

func TestDigestURIMismatch(t *testing.T) {
	for _, check := range []int{1, 0} {
		f := newFixture(t, map[string]any{"check_digest_uri": check}, false)
		h := f.bind("proxy_authorize", "example.com", "subscriber")
		f.attach()
		// Credentials computed for another Request-URI (a captured answer
		// moved to a call to somewhere else).
		x := answer{Header: "Proxy-Authorization", Username: "alice", Realm: "example.com", Password: "secret",
			Nonce: f.nonce(), URI: "sip:bob@example.com"}
		m := modtest.Request{URI: "sip:premium@example.com", Headers: []string{x.line()}}.Msg(t)
		r, _ := h(m)
		if check == 0 {
			if r != 1 {
				t.Errorf("check_digest_uri 0: %d, want 1", r)
			}
			continue
		}
		if r != 0 || f.core.LastReply(t).Resp.StatusCode != 400 || Authorized(m) != nil {
			t.Errorf("mismatched uri: %d, want 0 after a 400", r)
		}
		// The script rewriting the R-URI before authorizing does not
		// matter: the uri is compared with the one received.
		x.URI = "sip:premium@example.com"
		m = modtest.Request{URI: "sip:premium@example.com", Headers: []string{x.line()}}.Msg(t)
		if err := m.SetURI("sip:premium@gw.example.com"); err != nil {
			t.Fatal(err)
		}
		if r, _ := h(m); r != 1 {
			t.Errorf("after a rewrite: %d, want 1", r)
		}
	}
}
