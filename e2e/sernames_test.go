package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"ser/core/store"
)

// ser09Names is a SER 0.9 config: authentication split into auth and
// auth_db, group membership in group, URI checks in uri and uri_db (with
// the uri table), each module's parameters under its own name.
const ser09Names = `
loadmodule "modules/sl/sl.so"
loadmodule "modules/tm/tm.so"
loadmodule "modules/auth/auth.so"
loadmodule "modules/auth_db/auth_db.so"
loadmodule "modules/group/group.so"
loadmodule "modules/uri/uri.so"
loadmodule "modules/uri_db/uri_db.so"

modparam("auth", "secret", "0.9-names")
modparam("auth", "rpid_prefix", "<sip:")
modparam("auth", "rpid_suffix", "@foo.bar>;party=calling")
modparam("auth_db", "db_url", "%[1]s")
modparam("auth_db", "calculate_ha1", 1)
modparam("group", "db_url", "%[1]s")
modparam("uri_db", "db_url", "%[1]s")
modparam("uri_db", "use_uri_table", 1)

route {
	if (has_totag()) {
		sl_send_reply("481", "In-dialog requests are not served here");
		break;
	};
	if (method=="OPTIONS") {
		if (does_uri_exist()) {
			sl_send_reply("200", "Exists");
		} else {
			sl_send_reply("404", "No such user");
		};
		break;
	};
	if (!proxy_authorize("foo.bar", "subscriber")) {
		proxy_challenge("foo.bar", "0");
		break;
	};
	if (!check_from()) {
		sl_send_reply("403", "From is not yours");
		break;
	};
	if (!is_user_in("Credentials", "int")) {
		sl_send_reply("403", "No international calls");
		break;
	};
	if (!is_user("alice")) {
		sl_send_reply("403", "Only alice");
		break;
	};
	consume_credentials();
	append_rpid_hf();
	tel2sip();
	if (!uri_param("user", "phone")) {
		add_uri_param("user=phone");
	};
	rewritehostport("%[2]s");
	t_relay();
}
`

// TestSER09ModuleNames runs a SER 0.9 config over real SIP: does_uri_exist
// (uri table), proxy_authorize from auth_db with auth's secret and
// challenge, check_from with an alias from the uri table, group's
// is_user_in, uri's is_user, has_totag, tel2sip and uri_param,
// consume_credentials and append_rpid_hf (the subscriber's rpid column)
// before relaying to a gateway.
func TestSER09ModuleNames(t *testing.T) {
	db := authDB(t)
	ctx := context.Background()
	st, err := store.Open(ctx, db, store.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddURI(ctx, "alice", "foo.bar", "0431"); err != nil {
		t.Fatal(err)
	}
	if err := st.SetRPID(ctx, "alice", "foo.bar", "+4940555"); err != nil {
		t.Fatal(err)
	}
	st.Close()
	gw, caller := newUA(t), newUA(t)
	srv := startSer(t, fmt.Sprintf(ser09Names, db, gw.hostport()))

	options := func(user, callID string) string {
		return fmt.Sprintf("OPTIONS sip:%s@foo.bar SIP/2.0\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\nMax-Forwards: 70\nFrom: <sip:caller@foo.bar>;tag=o\nTo: <sip:%s@foo.bar>\nCall-ID: %s\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n",
			user, caller.hostport(), callID, user, callID)
	}
	sendRecv(caller, srv, crlf(options("alice", "n-opt-1")), "200 Exists")
	sendRecv(caller, srv, crlf(options("0431", "n-opt-2")), "200 Exists") // the uri table
	sendRecv(caller, srv, crlf(options("nobody", "n-opt-3")), "404 No such user")

	const ruri = "tel:+4930123"
	invite := func(from, callID string, cseq int, extra string) string {
		if extra != "" {
			extra += "\n"
		}
		return crlf(fmt.Sprintf("INVITE %s SIP/2.0\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s%d;rport\nMax-Forwards: 70\nFrom: <sip:%s@foo.bar>;tag=%s\nTo: <%s>\nCall-ID: %s\nCSeq: %d INVITE\nContact: <sip:%s@%s>\n%sContent-Length: 0\n\n",
			ruri, caller.hostport(), callID, cseq, from, callID, ruri, callID, cseq, from, caller.hostport(), extra))
	}
	// Each answer gets its own challenge: without qop a nonce answers
	// one request.
	n := 0
	creds := func(user, pw string) string {
		n++
		r := sendRecv(caller, srv, invite(user, fmt.Sprintf("n-ch-%d", n), 1, ""), "407")
		return "Proxy-" + digestAnswer(t, challengeIn(t, r), user, pw, "INVITE", ruri)
	}
	var r string

	// bob is not in "int"; alice may not use bob's name; nor may anyone
	// but alice call (is_user).
	if r = sendRecv(caller, srv, invite("bob", "n-inv-2", 1, creds("bob", "bobpw")), "403"); !strings.Contains(firstLine(r), "No international calls") {
		t.Errorf("bob: %s", firstLine(r))
	}
	if r = sendRecv(caller, srv, invite("bob", "n-inv-3", 1, creds("alice", "alicepw")), "403"); !strings.Contains(firstLine(r), "From is not yours") {
		t.Errorf("alice as bob: %s", firstLine(r))
	}
	// In-dialog: has_totag.
	indialog := strings.Replace(invite("alice", "n-inv-4", 2, ""), "To: <"+ruri+">", "To: <"+ruri+">;tag=x", 1)
	sendRecv(caller, srv, indialog, "481")

	// alice, From her uri-table alias 0431: relayed, tel: turned into a
	// SIP URI with user=phone, her credentials consumed.
	inv := invite("0431", "n-inv-5", 1, creds("alice", "alicepw"))
	caller.send(srv.udpAddr(), inv)
	got, from := gw.recvFor("INVITE")
	if want := "INVITE sip:+4930123@" + gw.hostport() + ";user=phone SIP/2.0"; firstLine(got) != want {
		t.Errorf("gateway got %q, want %q", firstLine(got), want)
	}
	if header(got, "Proxy-Authorization") != "" {
		t.Errorf("credentials not consumed:\n%s", got)
	}
	if rpid := header(got, "Remote-Party-ID"); rpid != "<sip:+4940555@foo.bar>;party=calling" {
		t.Errorf("Remote-Party-ID %q (append_rpid_hf with alice's rpid column)", rpid)
	}
	gw.send(from, replyTo(got, "486 Busy Here", "tag=gw"))
	r, _ = caller.recvFor("486")
	caller.send(srv.udpAddr(), gwAck(inv, r))
	gw.recvFor("ACK")
}
