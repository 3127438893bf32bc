package xmpp

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"ser/internal/testing/prosody"
)

// RFC 5802's example exchange.
func TestSCRAMVector(t *testing.T) {
	final, verify, err := scramFinal("n=user,r=fyko+d2lbbFgONRv9qkxdawL",
		"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096", "fyko+d2lbbFgONRv9qkxdawL", "pencil")
	if err != nil {
		t.Fatal(err)
	}
	if want := "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="; final != want {
		t.Fatalf("client final %q, want %q", final, want)
	}
	if err := verify([]byte("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=")); err != nil {
		t.Fatal(err)
	}
	if err := verify([]byte("v=" + base64.StdEncoding.EncodeToString([]byte("forged")))); err == nil {
		t.Fatal("a wrong server signature was accepted")
	}
}

// Two clients log in to a real Prosody, exchange a message, see each
// other's presence; a wrong password is ErrAuth.
func TestProsodyLogin(t *testing.T) {
	srv := prosody.Start(t)
	srv.Register("alice", "alice-pw")
	srv.Register("bob", "bob-pw")
	ctx := context.Background()
	dial := func(user, pass string) (*Conn, error) {
		return Dial(ctx, Config{Addr: srv.Addr, Domain: prosody.Domain, User: user, Password: pass, Resource: "test", Timeout: 10 * time.Second})
	}
	if _, err := dial("alice", "wrong"); !errors.Is(err, ErrAuth) {
		t.Fatalf("wrong password: %v", err)
	}
	a, err := dial("alice", "alice-pw")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if !strings.HasPrefix(a.JID(), "alice@localhost/") {
		t.Errorf("bound JID %q", a.JID())
	}
	b, err := dial("bob", "bob-pw")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	// A message to a bare JID reaches the resources that are available.
	if err := b.SendPresence("", "", "", ""); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(20*time.Second, b.Abort) // a lost message fails the test, not the run
	// The server reflects the presence to bob once he is available.
	for {
		e, err := b.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e.XMLName.Local == "presence" && Bare(e.Attr("from")) == "bob@localhost" {
			break
		}
	}
	if err := a.SendPresence("", "", "Online", "9"); err != nil {
		t.Fatal(err)
	}
	if err := a.SendMessage("bob@localhost", "chat", "hi <bob> & 'co'"); err != nil {
		t.Fatal(err)
	}
	for {
		e, err := b.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e.XMLName.Local == "message" {
			if got := e.ChildText("body"); got != "hi <bob> & 'co'" || Bare(e.Attr("from")) != "alice@localhost" {
				t.Fatalf("bob got %q from %q", got, e.Attr("from"))
			}
			break
		}
	}
}
