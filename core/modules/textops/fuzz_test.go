package textops

import (
	"testing"

	"ser/internal/testing/modtest"
)

// FuzzSubst parses arbitrary subst expressions and applies the accepted
// ones to a request: parsing must not panic, and an applied substitution
// must leave text that FixContentLength can handle.
func FuzzSubst(f *testing.F) {
	for _, s := range []string{
		`/ser/SER/g`, `#a\#b#c\#d#i`, `/^(Subject:) (.*)/\1 \2 \u/`, `/x/\0\0\9/s`,
		`/(/x/`, `//`, `/a/b/q`, `\a\b\`, `/$/;transport=tcp/`, `/^/x/g`,
	} {
		f.Add(s)
	}
	text := []byte(modtest.Request{Headers: []string{"Subject: ser rocks"}, ContentType: "application/sdp", Body: modtest.SDP}.String())
	f.Fuzz(func(t *testing.T, expr string) {
		se, err := parseSubst(expr)
		if err != nil {
			return
		}
		out, _ := se.apply(text, "sip:bob@example.com")
		FixContentLength(out)
	})
}
