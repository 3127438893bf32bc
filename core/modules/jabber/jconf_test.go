package jabber

import (
	"context"
	"strings"
	"testing"
	"time"

	"ser/core/modules/jabber/xmpp"
	"ser/core/modules/tm"
	"ser/internal/testing/prosody"
)

// Conferences against a real Prosody's multi-user chat: alice (SIP) joins
// a room through the gateway, bob (XMPP) is in it; alice's MESSAGE reaches
// bob as groupchat, bob's groupchat reaches alice as "[bob] text" from the
// room address, a message to a room not joined is refused, and leaving
// sends SER's notice; jab_go_offline and jab_go_online.
func TestConference(t *testing.T) {
	srv := prosody.Start(t)
	srv.Register("alice", "pw")
	srv.Register("bob", "pw")
	m, core := loadGateway(t, srv.Addr, nil, prosody.Domain)
	uac := &nullUAC{}
	m.SetUAC(uac)
	room := "room1@" + prosody.MUC
	roomSIP := "sip:alice*room1*" + prosody.MUC + "@jabber.example.com"

	bob, err := xmpp.Dial(context.Background(), xmpp.Config{Addr: srv.Addr, Domain: prosody.Domain, User: "bob", Password: "pw", Resource: "t"})
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	time.AfterFunc(30*time.Second, bob.Abort)
	if err := bob.JoinRoom(room, "bob", false); err != nil {
		t.Fatal(err)
	}
	next := func(what string, ok func(*xmpp.Element) bool) *xmpp.Element {
		t.Helper()
		for {
			e, err := bob.Next()
			if err != nil {
				t.Fatalf("waiting for %s: %v", what, err)
			}
			if ok(e) {
				return e
			}
		}
	}
	next("bob in the room", func(e *xmpp.Element) bool {
		return e.XMLName.Local == "presence" && e.Attr("from") == room+"/bob"
	})

	if call(t, m, core, "jab_send_message", "alice", roomSIP, "too early") > 0 {
		t.Error("a message to a room not joined was taken")
	}
	if call(t, m, core, "jab_join_jconf", "alice", roomSIP, "") <= 0 {
		t.Fatal("jab_join_jconf failed")
	}
	next("alice in the room", func(e *xmpp.Element) bool {
		return e.XMLName.Local == "presence" && e.Attr("from") == room+"/alice"
	})
	if call(t, m, core, "jab_send_message", "alice", roomSIP, "hello room") <= 0 {
		t.Fatal("groupchat message refused")
	}
	next("alice's groupchat", func(e *xmpp.Element) bool {
		return e.XMLName.Local == "message" && e.Attr("type") == "groupchat" && e.Attr("from") == room+"/alice" && e.ChildText("body") == "hello room"
	})
	if err := bob.SendMessage(room, "groupchat", "hi alice"); err != nil {
		t.Fatal(err)
	}
	var got tm.UACRequest
	waitFor(t, "the room's message as SIP", func() bool {
		uac.mu.Lock()
		defer uac.mu.Unlock()
		for _, r := range uac.sent {
			if string(r.Body) == "[bob] hi alice" {
				got = r
				return true
			}
		}
		return false
	})
	if got.RURI != "sip:alice@example.com" || !strings.Contains(got.From, "alice*room1*"+prosody.MUC+"@jabber.example.com") {
		t.Errorf("room message %+v", got)
	}
	if call(t, m, core, "jab_exit_jconf", "alice", roomSIP, "") <= 0 {
		t.Fatal("jab_exit_jconf failed")
	}
	next("alice leaving", func(e *xmpp.Element) bool {
		return e.XMLName.Local == "presence" && e.Attr("from") == room+"/alice" && e.Attr("type") == "unavailable"
	})
	waitFor(t, "the exit notice", func() bool {
		uac.mu.Lock()
		defer uac.mu.Unlock()
		for _, r := range uac.sent {
			if string(r.Body) == msgJConfExit {
				return true
			}
		}
		return false
	})

	// jab_go_offline logs out (SER's notice), jab_go_online logs in again.
	if call(t, m, core, "jab_go_offline", "alice", roomSIP, "") <= 0 {
		t.Fatal("jab_go_offline failed")
	}
	waitFor(t, "the offline notice", func() bool {
		uac.mu.Lock()
		defer uac.mu.Unlock()
		for _, r := range uac.sent {
			if string(r.Body) == msgJOffline && strings.Contains(r.From, "jabber_gateway@127.0.0.1") {
				return true
			}
		}
		return false
	})
	waitFor(t, "the session to end", func() bool { return len(m.Sessions()) == 0 })
	if call(t, m, core, "jab_go_offline", "alice", roomSIP, "") > 0 {
		t.Error("jab_go_offline without a session succeeded")
	}
	if call(t, m, core, "jab_go_online", "alice", roomSIP, "") <= 0 {
		t.Fatal("jab_go_online failed")
	}
	waitFor(t, "alice online again", func() bool { return m.Sessions()["sip:alice@example.com"] })
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 1500; i++ {
		if cond() {
			return
		}
		waitShort()
	}
	t.Fatalf("timed out waiting for %s", what)
}
