package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestParseCredentials(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  Credentials
		err   error
	}{
		{
			name: "rfc 2617 example",
			value: `Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", ` +
				`uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", ` +
				`response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"`,
			want: Credentials{Username: "Mufasa", User: "Mufasa", Realm: "testrealm@host.com",
				Nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093", URI: "/dir/index.html", QOP: "auth", NC: "00000001",
				CNonce: "0a4f113b", Response: "6629fae49393a05397450978507c4ef1", Opaque: "5ccc069c403ebaf9f0171e9517f40e41"},
		},
		{
			name:  "scheme case, spaces around = and commas, tokens",
			value: `digest   username = alice ,realm="iptel.org",nonce=abc , uri = "sip:iptel.org" , response="x",algorithm=MD5`,
			want: Credentials{Username: "alice", User: "alice", Realm: "iptel.org", Nonce: "abc",
				URI: "sip:iptel.org", Response: "x", Algorithm: "MD5"},
		},
		{
			name:  "quoted pair and comma inside quotes",
			value: `Digest username="a\"b", realm="r,1", nonce="n"`,
			want:  Credentials{Username: `a"b`, User: `a"b`, Realm: "r,1", Nonce: "n"},
		},
		{
			name:  "username with domain",
			value: `Digest username="alice@example.com", realm="example.com"`,
			want:  Credentials{Username: "alice@example.com", User: "alice", Domain: "example.com", Realm: "example.com"},
		},
		{
			name:  "username with trailing at",
			value: `Digest username="alice@", realm="example.com"`,
			want:  Credentials{Username: "alice@", User: "alice", TrailingAt: true, Realm: "example.com"},
		},
		{
			name:  "unknown directives ignored, empty elements tolerated",
			value: `Digest ,, username="u", foo="bar", baz=1,, realm="r",`,
			want:  Credentials{Username: "u", User: "u", Realm: "r"},
		},
		{name: "basic", value: `Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==`, err: ErrNotDigest},
		{name: "scheme only", value: `Digest`, want: Credentials{}},
		{name: "empty", value: ``, err: ErrNotDigest},
		{name: "directive without value", value: `Digest username`, err: ErrMalformed},
		{name: "directive without equals", value: `Digest username "x"`, err: ErrMalformed},
		{name: "unterminated quote", value: `Digest username="alice, realm="r"`, err: ErrMalformed},
		{name: "trailing backslash", value: `Digest username="alice\`, err: ErrMalformed},
		{name: "duplicate directive", value: `Digest username="a", username="b"`, err: ErrMalformed},
		{name: "junk after value", value: `Digest username="a" realm="r"`, err: ErrMalformed},
		{name: "starts with equals", value: `Digest =x`, err: ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseCredentials(tc.value)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *c != tc.want {
				t.Errorf("got  %+v\nwant %+v", *c, tc.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	full := `Digest username="u", realm="r", nonce="n", uri="sip:x", response="6629fae49393a05397450978507c4ef1"`
	tests := []struct {
		name, value, errText string
	}{
		{"complete", full, ""},
		{"complete with qop", full + `, qop=auth, nc=00000001, cnonce="c"`, ""},
		{"auth-int", full + `, qop="auth-int", nc=0000000a, cnonce="c"`, ""},
		{"no username", `Digest realm="r", nonce="n", uri="u", response="6629fae49393a05397450978507c4ef1"`, "missing username"},
		{"nothing", `Digest foo=bar`, "missing username, realm, nonce, uri, response"},
		{"qop without cnonce and nc", full + `, qop=auth`, "missing cnonce, nc"},
		{"short response", `Digest username="u", realm="r", nonce="n", uri="u", response="6629"`, "32 hex"},
		{"response not hex", `Digest username="u", realm="r", nonce="n", uri="u", response="6629fae49393a05397450978507c4efz"`, "32 hex"},
		{"unknown qop", full + `, qop=auth-conf, nc=00000001, cnonce="c"`, "unsupported qop"},
		{"bad nc", full + `, qop=auth, nc=1, cnonce="c"`, "nc is not"},
		{"nc not hex", full + `, qop=auth, nc=0000000g, cnonce="c"`, "nc is not"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseCredentials(tc.value)
			if err != nil {
				t.Fatal(err)
			}
			err = c.Check()
			if tc.errText == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.errText) {
				t.Fatalf("err = %v, want %q", err, tc.errText)
			}
		})
	}
}

func TestDigestVectors(t *testing.T) {
	tests := []struct {
		name     string
		c        Credentials
		method   string
		password string
		body     string
		want     string
	}{
		{
			name: "rfc 2617 3.5 qop auth",
			c: Credentials{Username: "Mufasa", Realm: "testrealm@host.com", Nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
				URI: "/dir/index.html", QOP: "auth", NC: "00000001", CNonce: "0a4f113b"},
			method: "GET", password: "Circle Of Life", want: "6629fae49393a05397450978507c4ef1",
		},
		{
			name: "rfc 2069 2.4 no qop (errata 1649 response)",
			c: Credentials{Username: "Mufasa", Realm: "testrealm@host.com", Nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
				URI: "/dir/index.html"},
			method: "GET", password: "CircleOfLife", want: "1949323746fe6a43ef61f9606e7febea",
		},
		{
			name: "rfc 7616 3.9.1 md5",
			c: Credentials{Username: "Mufasa", Realm: "http-auth@example.org", Nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
				URI: "/dir/index.html", QOP: "auth", NC: "00000001", CNonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", Algorithm: "MD5"},
			method: "GET", password: "Circle of Life", want: "8ca523f5e9506fed4657c9700eebdbec",
		},
		{
			// md5(md5(md5("Mufasa:testrealm@host.com:Circle Of Life"):nonce:cnonce) : nonce : nc : cnonce : auth : md5("GET:/dir/index.html"))
			name: "md5-sess",
			c: Credentials{Username: "Mufasa", Realm: "testrealm@host.com", Nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
				URI: "/dir/index.html", QOP: "auth", NC: "00000001", CNonce: "0a4f113b", Algorithm: "MD5-sess"},
			method: "GET", password: "Circle Of Life",
			want: md5hex(md5hex(md5hex("Mufasa", "testrealm@host.com", "Circle Of Life"), "dcd98b7102dd2f0e8b11d0f600bfb0c093", "0a4f113b"),
				"dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", "auth", md5hex("GET", "/dir/index.html")),
		},
		{
			name:   "auth-int hashes the body",
			c:      Credentials{Username: "alice", Realm: "r", Nonce: "n", URI: "sip:bob@r", QOP: "auth-int", NC: "00000001", CNonce: "c"},
			method: "MESSAGE", password: "pw", body: "hello",
			want: md5hex(md5hex("alice", "r", "pw"), "n", "00000001", "c", "auth-int",
				md5hex("MESSAGE", "sip:bob@r", "5d41402abc4b2a76b9719d911017c592")),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ha1 := HA1(tc.c.Username, tc.c.Realm, tc.password)
			if got := ExpectedResponse(ha1, &tc.c, tc.method, []byte(tc.body)); got != tc.want {
				t.Fatalf("response %s, want %s", got, tc.want)
			}
			c := tc.c
			c.Response = strings.ToUpper(tc.want)
			if !ResponseMatches(strings.ToUpper(ha1), &c, tc.method, []byte(tc.body)) {
				t.Error("upper-case response or HA1 not accepted")
			}
			c.Response = tc.want[:31] + "0"
			if tc.want[31] == '0' {
				c.Response = tc.want[:31] + "1"
			}
			if ResponseMatches(ha1, &c, tc.method, []byte(tc.body)) {
				t.Error("wrong response accepted")
			}
		})
	}
}

func TestHA1MatchesStore(t *testing.T) {
	// The subscriber table's columns (serctl's gen_ha1) are what HA1
	// computes for "user" and "user@domain".
	if got, want := HA1("alice", "example.com", "secret"), md5hex("alice:example.com:secret"); got != want {
		t.Fatalf("HA1 %s, want %s", got, want)
	}
}

func FuzzParseCredentials(f *testing.F) {
	for _, s := range []string{
		`Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1"`,
		`Digest username="a\"b", realm="r,1"`,
		`Basic xyz`, `Digest ,,=`, `Digest a="\`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCredentials(s)
		if err != nil {
			if !errors.Is(err, ErrNotDigest) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("unexpected error type: %v", err)
			}
			return
		}
		_ = c.Check()
		if c.User+"@"+c.Domain != c.Username && c.User != c.Username {
			t.Fatalf("username split %q → %q %q", c.Username, c.User, c.Domain)
		}
	})
}
