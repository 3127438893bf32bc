package jabber

import "testing"

func TestAddressing(t *testing.T) {
	host, d, err := parseJDomain("Jabber.Example.com=%")
	if err != nil || host != "jabber.example.com" || d != '%' {
		t.Fatalf("parseJDomain = %q %q %v", host, d, err)
	}
	if _, _, err := parseJDomain("jabber.example.com=ab"); err == nil {
		t.Error("two-character delimiter accepted")
	}
	als, err := parseAliases("2;msn.x.com=%;icq.x.com;")
	if err != nil || len(als) != 2 || als[0] != (alias{"msn.x.com", '%'}) || als[1] != (alias{"icq.x.com", 0}) {
		t.Fatalf("parseAliases = %+v %v", als, err)
	}
	if _, err := parseAliases("3;a.com;b.com;"); err == nil {
		t.Error("short alias list accepted")
	}
	a := addressing{jdomain: "jabber.x.com", delim: '*', aliases: als}
	for _, c := range []struct{ user, host, jid string }{
		{"bob*example.org", "jabber.x.com", "bob@example.org"},
		{"bob*hotmail.com", "msn.x.com", "bob%hotmail.com@msn.x.com"},
		{"12345", "ICQ.x.com", "12345@icq.x.com"},
	} {
		if got, err := a.toJID(c.user, c.host); err != nil || got != c.jid {
			t.Errorf("toJID(%s@%s) = %q %v, want %q", c.user, c.host, got, err, c.jid)
		}
	}
	if _, err := a.toJID("bob", "jabber.x.com"); err == nil {
		t.Error("address without delimiter accepted")
	}
	if _, err := a.toJID("bob*x", "other.com"); err == nil {
		t.Error("foreign host accepted")
	}
	for jid, sip := range map[string]string{
		"bob@example.org/laptop":    "bob*example.org@jabber.x.com",
		"bob%hotmail.com@msn.x.com": "bob*hotmail.com@msn.x.com",
		"12345@icq.x.com/r":         "12345@icq.x.com",
	} {
		if got := a.toSIP(jid); got != sip {
			t.Errorf("toSIP(%s) = %q, want %q", jid, got, sip)
		}
	}
	if !a.isConference("nick*room*conf.example.org") || a.isConference("bob*example.org") {
		t.Error("isConference")
	}
	if r, n, err := a.room("*room*conf.example.org", "alice"); err != nil || r != "room@conf.example.org" || n != "alice" {
		t.Errorf("room = %q %q %v", r, n, err)
	}
	if !a.ours("JABBER.x.com") || !a.ours("msn.x.com") || a.ours("x.com") {
		t.Error("ours")
	}
}
