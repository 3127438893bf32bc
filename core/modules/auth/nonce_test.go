package auth

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNonce(t *testing.T) {
	secret := []byte(testSecret)
	exp := time.Unix(1033078039, 0) // 0x3d938517, the admin guide's ngrep nonce
	n := makeNonce(secret, exp, [4]byte{0, 0, 0, 0})
	if len(n) != NonceLen || !strings.HasPrefix(n, "3d93851700000000") {
		t.Fatalf("nonce %q: want 48 hex digits starting with the expiry 3d938517", n)
	}
	got, err := CheckNonce(secret, n)
	if err != nil || !got.Equal(exp) {
		t.Fatalf("CheckNonce = %v, %v; want %v", got, err, exp)
	}
	if _, err := CheckNonce(secret, strings.ToUpper(n)); err != nil {
		t.Errorf("upper-case nonce refused: %v", err)
	}
	if a, b := MakeNonce(secret, exp), MakeNonce(secret, exp); a == b {
		t.Errorf("two nonces for the same expiry are equal: %s", a)
	}

	bad := map[string]string{
		"other secret": MakeNonce([]byte("another secret"), exp),
		"short":        n[:47],
		"long":         n + "0",
		"not hex":      n[:47] + "g",
		"empty":        "",
		"ser 0.9 form": "3d9385170000000043acbf6ba9c9741790e0c57adee73812",
	}
	// Every single-digit change is refused: the expiry (extending a nonce),
	// the salt and the signature.
	for i := 0; i < NonceLen; i++ {
		d := byte('0')
		if n[i] == '0' {
			d = '1'
		}
		bad["digit "+string(rune('A'+i%26))+string(rune('0'+i/26))] = n[:i] + string(d) + n[i+1:]
	}
	for name, v := range bad {
		if _, err := CheckNonce(secret, v); !errors.Is(err, ErrBadNonce) {
			t.Errorf("%s: %q accepted (err %v)", name, v, err)
		}
	}
}

func TestNCTracker(t *testing.T) {
	now := t0
	exp := now.Add(time.Minute)
	tr := newNCTracker(8)
	steps := []struct {
		name  string
		nonce string
		nc    uint32
		txn   string
		ok    bool
	}{
		{"first use", "n1", 1, "a/1", true},
		{"retransmission", "n1", 1, "a/1", true},
		{"replay in another transaction", "n1", 1, "a/2", false},
		{"next count", "n1", 2, "a/2", true},
		{"older count", "n1", 1, "a/3", false},
		{"jump ahead", "n1", 9, "a/4", true},
		{"same nonce in upper case is the same nonce", "N1", 9, "a/5", false},
		{"other nonce", "n2", 1, "b/1", true},
	}
	for _, s := range steps {
		if got := tr.use(s.nonce, s.nc, s.txn, exp, now); got != s.ok {
			t.Errorf("%s: use = %v, want %v", s.name, got, s.ok)
		}
	}

	// A full table drops expired entries first, then arbitrary ones.
	tr = newNCTracker(8)
	for i := 0; i < 4; i++ {
		tr.use(string(rune('a'+i)), 1, "", now.Add(-time.Second), now)
	}
	for i := 0; i < 4; i++ {
		tr.use(string(rune('A'+i)), 1, "", exp, now)
	}
	tr.use("x", 1, "", exp, now)
	if n := tr.size(); n != 5 {
		t.Errorf("after pruning expired: %d entries, want 5", n)
	}
	for i := 0; i < 20; i++ {
		tr.use(string(rune('k'+i)), 1, "", exp, now)
	}
	if n := tr.size(); n > 8 {
		t.Errorf("table grew to %d entries, bound 8", n)
	}
}
