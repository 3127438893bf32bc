package tm_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// TestE2EReloadInFlight reloads the configuration while a transaction
// waits for its callee: the transaction keeps running the onreply and
// failure routes of the script it started under (the new script has no
// blocks of those numbers at all), while a transaction started after the
// reload runs the new script's.
func TestE2EReloadInFlight(t *testing.T) {
	caller, callee := newPeer(t), newPeer(t)
	const head = `
loadmodule "modules/sl/sl.so"
loadmodule "modules/tm/tm.so"
modparam("tm", "fr_inv_timer", 15)
`
	v1 := head + fmt.Sprintf(`
route{
	t_on_reply("1");
	t_on_failure("1");
	t_relay_to_udp("%s", "%d");
}
onreply_route[1] {
	drop; # the old script hides provisional replies
}
failure_route[1] {
	t_reply("480", "Old Script");
}
`, callee.addr.Addr(), callee.addr.Port())
	v2 := head + fmt.Sprintf(`
route{
	t_on_failure("2");
	t_on_reply("2");
	t_relay_to_udp("%s", "%d");
}
onreply_route[2] {
	break;
}
failure_route[2] {
	t_reply("480", "New Script");
}
`, callee.addr.Addr(), callee.addr.Port())
	in, srv := startServer(t, v1)

	caller.send(srv, invite(caller, "sip:bob@example.com", "reload-old"))
	oldReq := callee.request("INVITE")
	if err := in.Reload([]byte(v2)); err != nil {
		t.Fatalf("reload: %v", err)
	}
	caller.send(srv, invite(caller, "sip:bob@example.com", "reload-new"))
	newReq := callee.request("INVITE")

	// The old transaction: its 180 is dropped by the old onreply route,
	// its 486 ends in the old failure route.
	callee.reply(oldReq, 180, "Ringing")
	callee.reply(oldReq, 486, "Busy Here")
	if got := replies(caller, "reload-old"); got != "480 Old Script" {
		t.Fatalf("old transaction: caller got %q, want no 180 and 480 Old Script (the old script's routes)", got)
	}
	// The new one: its 180 is relayed, the failure route is the new one.
	callee.reply(newReq, 180, "Ringing")
	callee.reply(newReq, 486, "Busy Here")
	if got := replies(caller, "reload-new"); got != "180 480 New Script" {
		t.Fatalf("new transaction: caller got %q, want 180 and 480 New Script (the new script's routes)", got)
	}
}

// replies reads the replies for callID up to the final one and returns
// their codes but 100, the final one with its reason: "180 480 Old Script".
func replies(p *peer, callID string) string {
	p.tb.Helper()
	var codes []string
	for {
		r := p.expect("reply for "+callID, func(m sip.Message) bool {
			r, ok := m.(*sip.Response)
			return ok && r.CallID().Value() == callID
		}).(*sip.Response)
		if r.StatusCode == 100 {
			continue // hop by hop, and maybe read while waiting for another call
		}
		codes = append(codes, fmt.Sprint(r.StatusCode))
		if r.StatusCode >= 200 {
			return strings.Join(codes, " ") + " " + r.Reason
		}
	}
}
