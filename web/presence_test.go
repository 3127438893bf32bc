package web

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"ser/core/rpc/sercmd"
)

// TestPhonebookPresence: with the pa module loaded the phonebook shows
// each local user's presence beside the registration state: registered
// without publication → open, a state set from outside (pa_presence, as
// the jabber gateway does through the Go API) → that state, nothing →
// closed; without pa the column stays empty (TestPhonebook's config).
func TestPhonebookPresence(t *testing.T) {
	cfg := strings.Replace(serCfg, `modparam("usrloc", "db_mode", 0)`,
		"loadmodule \"modules/pa/pa.so\"\nmodparam(\"usrloc\", \"db_mode\", 0)", 1)
	e := newEnv(t, cfg)
	ctx := context.Background()
	ser := &sercmd.Client{Exec: e.exec}
	if err := ser.Add(ctx, "location", "bob@example.com", "sip:bob@192.0.2.2:5060", 3600, "1"); err != nil {
		t.Fatal(err)
	}
	if _, err := ser.Run(ctx, "pa_presence", "registrar", "sip:root@example.com", "online"); err != nil {
		t.Fatal(err)
	}
	b := e.as("alice")
	b.get("/phonebook/edit").want(t, http.StatusOK, "New entry")
	for _, x := range [][2]string{{"Bob", "sip:bob@example.com"}, {"Root", "sip:root@example.com"}, {"Carol", "sip:carol@example.com"}, {"Dave", "sip:dave@remote.example"}} {
		b.post("/phonebook/save", "fname", x[0], "lname", "X", "sip_uri", x[1]).redirectsTo(t, "/phonebook")
	}
	p := b.get("/phonebook")
	p.want(t, http.StatusOK, "<th>Presence</th>")
	presence := func(name string) string {
		m := regexp.MustCompile(name + ` X</td>(?s:.*?)<td data-label="Presence" class="presence">(?:<span class="presence (\w+)">)?`).FindStringSubmatch(p.body)
		if m == nil {
			return "?"
		}
		return m[1]
	}
	if presence("Bob") != "open" || presence("Root") != "open" || presence("Carol") != "closed" || presence("Dave") != "" {
		t.Errorf("presence bob=%q root=%q carol=%q dave=%q\n%s", presence("Bob"), presence("Root"), presence("Carol"), presence("Dave"), p.body)
	}
	if rep, err := ser.PresenceStatus(ctx, "sip:root@example.com"); err != nil || rep.Basic != "open" {
		t.Errorf("pa_status = %+v, %v", rep, err)
	}
	if _, err := ser.Run(ctx, "pa_presence", "registrar", "sip:root@example.com", "bogus"); sercmd.Code(err) != 400 {
		t.Errorf("pa_presence bogus: %v", err)
	}
}
