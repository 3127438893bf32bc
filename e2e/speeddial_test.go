package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"ser/core/store"
)

// TestSpeedDialCall: alice dials her short number sip:1@example.com; the
// speed_dial table maps it to bob, whose registered phone gets the
// INVITE. A number she has not stored gets the script's 404.
func TestSpeedDialCall(t *testing.T) {
	srv := startSer(t, `
loadmodule "sl.so"
loadmodule "tm.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "speeddial.so"
modparam("usrloc", "db_mode", 0)
modparam("speeddial", "use_domain", 1)
route {
	if (method=="REGISTER") { save("location"); break; };
	if (uri=~"^sip:[0-9]{1,2}@") {
		if (!sd_lookup("speed_dial")) { sl_send_reply("404", "Speed dial not set"); break; };
	};
	if (!lookup("location")) { sl_send_reply("404", "Not Found"); break; };
	t_relay();
}
`)
	st, err := srv.inst.Server.DB("")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetSpeedDial(context.Background(), store.SpeedDial{Username: "alice", Domain: "example.com",
		SDUsername: "1", SDDomain: "example.com", NewURI: "sip:bob@example.com", Description: "Bob"}); err != nil {
		t.Fatal(err)
	}
	bob, alice := newUA(t), newUA(t)
	if r := register(bob, srv, "bob", 600, "sd-reg-bob", 1); !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("REGISTER: %s", r)
	}
	invite := func(ruri, callID string) {
		alice.send(srv.udpAddr(), fmt.Sprintf(`INVITE %[1]s SIP/2.0
Via: SIP/2.0/UDP %[2]s;branch=z9hG4bK%[3]s;rport
Max-Forwards: 70
From: "Alice" <sip:alice@example.com>;tag=a-%[3]s
To: <%[1]s>
Call-ID: %[3]s
CSeq: 1 INVITE
Contact: <sip:alice@%[2]s>
Content-Length: 0

`, ruri, alice.hostport(), callID))
	}
	invite("sip:1@example.com", "sd-call-1")
	expectInvite(t, bob, "sip:bob@"+bob.hostport())
	invite("sip:2@example.com", "sd-call-2")
	if r, _ := alice.recvFor("404"); !strings.Contains(firstLine(r), "404 Speed dial not set") {
		t.Fatalf("unset number: %s", firstLine(r))
	}
}
