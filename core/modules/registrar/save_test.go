package registrar

import (
	"context"
	"strings"
	"testing"

	"ser/core/module"
	"ser/core/modules/sl"
	"ser/core/modules/usrloc"
	"ser/core/rpc"
	"ser/internal/testing/modtest"
)

// saveStep is one REGISTER of a scenario and what must come of it.
type saveStep struct {
	advance      int // seconds to move the clock first
	req          register
	natFlag      bool // set flag 5 (the nat_flag of the scenarios) first
	wantRet      int
	wantCode     int
	wantContacts []string // Contact values of the reply, in order
	wantErr      string   // P-Registrar-Error
}

func TestSave(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]any
		steps  []saveStep
	}{
		{name: "default expires", steps: []saveStep{{
			req:     register{contacts: []string{"<sip:john@10.0.0.1:5060>"}},
			wantRet: 1, wantCode: 200, wantContacts: []string{"<sip:john@10.0.0.1:5060>;expires=3600"},
		}}},
		{name: "expires header", steps: []saveStep{{
			req:     register{contacts: []string{"<sip:john@10.0.0.1>"}, expires: "600"},
			wantRet: 1, wantCode: 200, wantContacts: []string{"<sip:john@10.0.0.1>;expires=600"},
		}}},
		{name: "expires param beats header", steps: []saveStep{{
			req:     register{contacts: []string{"<sip:john@10.0.0.1>;expires=120"}, expires: "600"},
			wantRet: 1, wantCode: 200, wantContacts: []string{"<sip:john@10.0.0.1>;expires=120"},
		}}},
		{name: "expires param not a number means default", steps: []saveStep{{
			req:     register{contacts: []string{"<sip:john@10.0.0.1>;expires=soon"}, expires: "600"},
			wantRet: 1, wantCode: 200, wantContacts: []string{"<sip:john@10.0.0.1>;expires=3600"},
		}}},
		{name: "below min_expires is raised", steps: []saveStep{{
			req:     register{contacts: []string{"<sip:john@10.0.0.1>;expires=10"}},
			wantRet: 1, wantCode: 200, wantContacts: []string{"<sip:john@10.0.0.1>;expires=60"},
		}}},
		{name: "above max_expires is lowered", params: map[string]any{"max_expires": 1800}, steps: []saveStep{{
			req:     register{contacts: []string{"<sip:john@10.0.0.1>"}, expires: "7200"},
			wantRet: 1, wantCode: 200, wantContacts: []string{"<sip:john@10.0.0.1>;expires=1800"},
		}}},
		{name: "min_expires 0 keeps short ones", params: map[string]any{"min_expires": 0}, steps: []saveStep{{
			req:     register{contacts: []string{"<sip:john@10.0.0.1>;expires=5"}},
			wantRet: 1, wantCode: 200, wantContacts: []string{"<sip:john@10.0.0.1>;expires=5"},
		}}},
		{name: "q values order the bindings", steps: []saveStep{{
			req:     register{contacts: []string{"<sip:a@10.0.0.1>;q=0.1", "<sip:b@10.0.0.2>;q=0.9, <sip:c@10.0.0.3>"}},
			wantRet: 1, wantCode: 200,
			wantContacts: []string{"<sip:b@10.0.0.2>;q=0.9;expires=3600", "<sip:a@10.0.0.1>;q=0.1;expires=3600", "<sip:c@10.0.0.3>;expires=3600"},
		}}},
		{name: "default_q", params: map[string]any{"default_q": 500}, steps: []saveStep{{
			req:     register{contacts: []string{"<sip:a@10.0.0.1>"}},
			wantRet: 1, wantCode: 200, wantContacts: []string{"<sip:a@10.0.0.1>;q=0.5;expires=3600"},
		}}},
		{name: "invalid q", steps: []saveStep{{
			req:     register{contacts: []string{"<sip:a@10.0.0.1>", "<sip:b@10.0.0.2>;q=2"}},
			wantRet: 0, wantCode: 400, wantErr: "Invalid q param in contact",
		}, {
			req:     register{cseq: 2},
			wantRet: 1, wantCode: 200, // nothing of the refused request was kept
		}}},
		{name: "malformed Expires header", steps: []saveStep{{
			req:     register{contacts: []string{"<sip:a@10.0.0.1>"}, expires: "never"},
			wantRet: 0, wantCode: 400, wantErr: "Expires parse error",
		}}},
		{name: "refresh and query", steps: []saveStep{{
			req:     register{contacts: []string{"<sip:a@10.0.0.1>"}, expires: "600"},
			wantRet: 1, wantCode: 200, wantContacts: []string{"<sip:a@10.0.0.1>;expires=600"},
		}, {
			advance: 100,
			req:     register{cseq: 2},
			wantRet: 1, wantCode: 200, wantContacts: []string{"<sip:a@10.0.0.1>;expires=500"},
		}, {
			req:     register{cseq: 3, contacts: []string{"<sip:a@10.0.0.1>"}, expires: "600"},
			wantRet: 1, wantCode: 200, wantContacts: []string{"<sip:a@10.0.0.1>;expires=600"},
		}}},
		{name: "unregister one binding", steps: []saveStep{{
			req:     register{contacts: []string{"<sip:a@10.0.0.1>", "<sip:b@10.0.0.2>"}},
			wantRet: 1, wantCode: 200, wantContacts: []string{"<sip:b@10.0.0.2>;expires=3600", "<sip:a@10.0.0.1>;expires=3600"},
		}, {
			req:     register{cseq: 2, contacts: []string{"<sip:a@10.0.0.1>;expires=0"}},
			wantRet: 1, wantCode: 200, wantContacts: []string{"<sip:b@10.0.0.2>;expires=3600"},
		}, {
			req:     register{cseq: 3, contacts: []string{"<sip:b@10.0.0.2>"}, expires: "0"},
			wantRet: 1, wantCode: 200,
		}}},
		{name: "unregister all with star", steps: []saveStep{{
			req:     register{contacts: []string{"<sip:a@10.0.0.1>", "<sip:b@10.0.0.2>"}},
			wantRet: 1, wantCode: 200, wantContacts: []string{"<sip:b@10.0.0.2>;expires=3600", "<sip:a@10.0.0.1>;expires=3600"},
		}, {
			req:     register{cseq: 2, contacts: []string{"*"}, expires: "0"},
			wantRet: 1, wantCode: 200,
		}, {
			req:     register{cseq: 3},
			wantRet: 1, wantCode: 200,
		}}},
		{name: "star without Expires", steps: []saveStep{{
			req:     register{contacts: []string{"*"}},
			wantRet: 0, wantCode: 400, wantErr: "* used in contact and expires is not zero",
		}}},
		{name: "star with expires not zero", steps: []saveStep{{
			req:     register{contacts: []string{"*"}, expires: "300"},
			wantRet: 0, wantCode: 400, wantErr: "* used in contact and expires is not zero",
		}}},
		{name: "star and another contact", steps: []saveStep{{
			req:     register{contacts: []string{"<sip:a@10.0.0.1>", "*"}, expires: "0"},
			wantRet: 0, wantCode: 400, wantErr: "* used in contact and more than 1 contact",
		}, {
			req:     register{contacts: []string{"*, <sip:a@10.0.0.1>"}, expires: "0"},
			wantRet: 0, wantCode: 400, wantErr: "* used in contact and more than 1 contact",
		}}},
		{name: "same Call-ID: an old CSeq aborts the update (RFC 3261 §10.3 step 7)", steps: []saveStep{{
			req:     register{cseq: 5, contacts: []string{"<sip:a@10.0.0.1>"}, expires: "600"},
			wantRet: 1, wantCode: 200, wantContacts: []string{"<sip:a@10.0.0.1>;expires=600"},
		}, {
			// The same CSeq within cseq_delay (20 s): a retransmission.
			req:     register{cseq: 5, contacts: []string{"<sip:a@10.0.0.1>"}, expires: "0"},
			wantRet: 1, wantCode: 200, wantContacts: []string{"<sip:a@10.0.0.1>;expires=600"},
		}, {
			advance: 30,
			req:     register{cseq: 5, contacts: []string{"<sip:a@10.0.0.1>"}, expires: "0"},
			wantRet: 0, wantCode: 400, wantErr: "Invalid CSeq number",
		}, {
			req:     register{cseq: 4, contacts: []string{"<sip:a@10.0.0.1>"}, expires: "900"},
			wantRet: 0, wantCode: 400, wantErr: "Invalid CSeq number",
		}, {
			// One old contact fails the whole REGISTER: b is not added.
			req:     register{cseq: 3, contacts: []string{"<sip:b@10.0.0.2>", "<sip:a@10.0.0.1>"}, expires: "900"},
			wantRet: 0, wantCode: 400, wantErr: "Invalid CSeq number",
		}, {
			req:     register{cseq: 6},
			wantRet: 1, wantCode: 200, wantContacts: []string{"<sip:a@10.0.0.1>;expires=570"},
		}, {
			req:     register{callID: "other@192.0.2.10", cseq: 1, contacts: []string{"<sip:a@10.0.0.1>"}, expires: "900"},
			wantRet: 1, wantCode: 200, wantContacts: []string{"<sip:a@10.0.0.1>;expires=900"},
		}}},
		{name: "max_contacts", params: map[string]any{"max_contacts": 2}, steps: []saveStep{{
			req:     register{contacts: []string{"<sip:a@10.0.0.1>", "<sip:b@10.0.0.2>"}},
			wantRet: 1, wantCode: 200, wantContacts: []string{"<sip:b@10.0.0.2>;expires=3600", "<sip:a@10.0.0.1>;expires=3600"},
		}, {
			req:     register{cseq: 2, contacts: []string{"<sip:c@10.0.0.3>"}},
			wantRet: 0, wantCode: 503, wantErr: "Too many registered contacts",
			wantContacts: []string{"<sip:b@10.0.0.2>;expires=3600", "<sip:a@10.0.0.1>;expires=3600"},
		}, {
			req:     register{cseq: 3, contacts: []string{"<sip:a@10.0.0.1>;expires=0", "<sip:c@10.0.0.3>"}},
			wantRet: 1, wantCode: 200, wantContacts: []string{"<sip:c@10.0.0.3>;expires=3600", "<sip:b@10.0.0.2>;expires=3600"},
		}}},
		{name: "max_contacts on a new AOR", params: map[string]any{"max_contacts": 1}, steps: []saveStep{{
			req:     register{contacts: []string{"<sip:a@10.0.0.1>", "<sip:b@10.0.0.2>"}},
			wantRet: 0, wantCode: 503, wantErr: "Too many registered contacts",
		}}},
		{name: "expired bindings are not reported", steps: []saveStep{{
			req:     register{contacts: []string{"<sip:a@10.0.0.1>;expires=60", "<sip:b@10.0.0.2>;expires=120"}},
			wantRet: 1, wantCode: 200, wantContacts: []string{"<sip:b@10.0.0.2>;expires=120", "<sip:a@10.0.0.1>;expires=60"},
		}, {
			advance: 90,
			req:     register{cseq: 2},
			wantRet: 1, wantCode: 200, wantContacts: []string{"<sip:b@10.0.0.2>;expires=30"},
		}}},
		{name: "unknown To scheme", steps: []saveStep{{
			req:     register{to: "tel:+4312345", contacts: []string{"<sip:a@10.0.0.1>"}},
			wantRet: 0, wantCode: 400, wantErr: "Error while parsing AOR",
		}}},
		{name: "bad escape in To user", steps: []saveStep{{
			req:     register{to: "sip:jo%zzhn@example.com", contacts: []string{"<sip:a@10.0.0.1>"}},
			wantRet: 0, wantCode: 400, wantErr: "Error while unescaping username",
		}}},
		{name: "NATed client", params: map[string]any{"nat_flag": 5}, steps: []saveStep{{
			natFlag: true,
			req:     register{contacts: []string{"<sip:john@192.168.1.2:5060>"}},
			wantRet: 1, wantCode: 200, wantContacts: []string{"<sip:john@192.168.1.2:5060>;expires=3600"},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.params, nil)
			save := f.bind("save", "location")
			for i, s := range tt.steps {
				f.advance(s.advance)
				f.core.Reset()
				m := s.req.msg(t)
				if s.natFlag {
					m.SetFlag(5)
				}
				ret, err := save(m)
				if err != nil || ret != s.wantRet {
					t.Fatalf("step %d: save = %d, %v; want %d", i, ret, err, s.wantRet)
				}
				reps := f.core.Replies()
				if len(reps) != 1 {
					t.Fatalf("step %d: %d replies sent, want 1", i, len(reps))
				}
				rep := reps[0]
				if rep.Resp.StatusCode != s.wantCode {
					t.Fatalf("step %d: reply %d %s, want %d", i, rep.Resp.StatusCode, rep.Resp.Reason, s.wantCode)
				}
				contacts, regErr := replyContacts(rep)
				if strings.Join(contacts, "\n") != strings.Join(s.wantContacts, "\n") {
					t.Fatalf("step %d: reply contacts\n%s\nwant\n%s", i, strings.Join(contacts, "\n"), strings.Join(s.wantContacts, "\n"))
				}
				if regErr != s.wantErr {
					t.Fatalf("step %d: P-Registrar-Error %q, want %q", i, regErr, s.wantErr)
				}
				if s.wantCode != 200 && (m.ErrCode != s.wantCode || m.ErrReason != rep.Resp.Reason) {
					t.Fatalf("step %d: SetError(%d, %q), reply %d %q", i, m.ErrCode, m.ErrReason, rep.Resp.StatusCode, rep.Resp.Reason)
				}
			}
		})
	}
}

// TestSaveReplyText checks a whole 200 OK on the wire.
func TestSaveReplyText(t *testing.T) {
	f := newFixture(t, nil, nil)
	save := f.bind("save", "location")
	m := register{contacts: []string{`"John" <sip:john@10.0.0.1:5060;transport=udp>;q=0.5`}, expires: "1800", ua: "Linphone/3.6"}.msg(t)
	if ret, err := save(m); ret != 1 || err != nil {
		t.Fatalf("save = %d, %v", ret, err)
	}
	want := "SIP/2.0 200 OK\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1\r\n" +
		"From: <sip:john@example.com>;tag=a73kszlfl\r\n" +
		"To: <sip:john@example.com>;tag=fake-"
	got := string(f.core.LastReply(t).Bytes)
	if !strings.HasPrefix(got, want) {
		t.Fatalf("reply:\n%s\nwant prefix\n%s", got, want)
	}
	for _, line := range []string{
		"Call-ID: reg-1@192.0.2.10\r\n",
		"CSeq: 1 REGISTER\r\n",
		"Contact: <sip:john@10.0.0.1:5060;transport=udp>;q=0.5;expires=1800\r\n",
	} {
		if !strings.Contains(got, line) {
			t.Errorf("reply lacks %q:\n%s", line, got)
		}
	}
	d, _ := f.ul.Domain("location")
	cs, _ := d.Get("john")
	if len(cs) != 1 {
		t.Fatalf("stored %d contacts", len(cs))
	}
	c := cs[0]
	if c.URI != "sip:john@10.0.0.1:5060;transport=udp" || c.Q != 500 || c.CallID != "reg-1@192.0.2.10" ||
		c.CSeq != 1 || c.UserAgent != "Linphone/3.6" || c.Received != "" || c.Flags != 0 ||
		c.Expires != t0.Unix()+1800 || c.LastModified != t0.Unix() {
		t.Fatalf("stored %+v", c)
	}
}

func TestSaveStoredFields(t *testing.T) {
	tests := []struct {
		name         string
		req          register
		nat          bool
		opts         []modtest.Option
		wantUA       string
		wantReceived string
		wantFlags    uint32
	}{
		{name: "no User-Agent", req: register{contacts: []string{"<sip:a@10.0.0.1>"}}, wantUA: "Unknown"},
		{name: "User-Agent", req: register{contacts: []string{"<sip:a@10.0.0.1>"}, ua: "X-Lite release 1103m"}, wantUA: "X-Lite release 1103m"},
		{name: "behind NAT over UDP", nat: true, req: register{contacts: []string{"<sip:a@192.168.0.2>"}},
			opts: []modtest.Option{modtest.From("203.0.113.5:40312")}, wantUA: "Unknown",
			wantReceived: "sip:203.0.113.5:40312", wantFlags: usrloc.FlagNAT},
		{name: "behind NAT over TCP", nat: true, req: register{contacts: []string{"<sip:a@192.168.0.2>"}},
			opts: []modtest.Option{modtest.OverTCP(), modtest.From("203.0.113.5:40312")}, wantUA: "Unknown",
			wantReceived: "sip:203.0.113.5:40312;transport=tcp", wantFlags: usrloc.FlagNAT},
		{name: "behind NAT over IPv6", nat: true, req: register{contacts: []string{"<sip:a@[2001:db8::2]>"}},
			opts: []modtest.Option{modtest.From("[2001:db8::5]:5062")}, wantUA: "Unknown",
			wantReceived: "sip:[2001:db8::5]:5062", wantFlags: usrloc.FlagNAT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, map[string]any{"nat_flag": 6}, nil)
			save := f.bind("save", "location")
			m := tt.req.msg(t, tt.opts...)
			if tt.nat {
				m.SetFlag(6)
			}
			if ret, err := save(m); ret != 1 || err != nil {
				t.Fatalf("save = %d, %v", ret, err)
			}
			d, _ := f.ul.Domain("location")
			cs, _ := d.Get("john")
			if len(cs) != 1 || cs[0].UserAgent != tt.wantUA || cs[0].Received != tt.wantReceived || cs[0].Flags != tt.wantFlags {
				t.Fatalf("stored %+v", cs)
			}
		})
	}
	// A later REGISTER without the NAT flag clears received and FL_NAT.
	f := newFixture(t, map[string]any{"nat_flag": 6}, nil)
	save := f.bind("save", "location")
	m := register{contacts: []string{"<sip:a@192.168.0.2>"}}.msg(t)
	m.SetFlag(6)
	_, _ = save(m)
	_, _ = save(register{cseq: 2, contacts: []string{"<sip:a@192.168.0.2>"}}.msg(t))
	d, _ := f.ul.Domain("location")
	if cs, _ := d.Get("john"); cs[0].Received != "" || cs[0].Flags != 0 {
		t.Fatalf("after a REGISTER without NAT: %+v", cs[0])
	}
}

func TestSaveNoreply(t *testing.T) {
	f := newFixture(t, nil, nil)
	save := f.bind("save_noreply", "location")
	tests := []struct {
		name    string
		req     register
		wantRet int
		want    string
	}{
		{name: "stores", req: register{contacts: []string{"<sip:a@10.0.0.1>"}}, wantRet: 1, want: "sip:a@10.0.0.1"},
		{name: "error stops silently", req: register{cseq: 2, contacts: []string{"*"}}, wantRet: 0, want: "sip:a@10.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ret, err := save(tt.req.msg(t)); ret != tt.wantRet || err != nil {
				t.Fatalf("save_noreply = %d, %v", ret, err)
			}
			if n := len(f.core.Replies()); n != 0 {
				t.Fatalf("save_noreply sent %d replies", n)
			}
			d, _ := f.ul.Domain("location")
			if cs, _ := d.Get("john"); uris(cs) != tt.want {
				t.Fatalf("stored %q, want %q", uris(cs), tt.want)
			}
		})
	}
}

func TestSaveUseDomain(t *testing.T) {
	tests := []struct {
		name    string
		params  map[string]any
		to      string
		wantAOR string
	}{
		{name: "user only, lower-cased", to: "sip:John@Example.COM", wantAOR: "john"},
		{name: "escaped user", to: "sip:j%6Fhn@example.com", wantAOR: "john"},
		{name: "use_domain", params: map[string]any{"use_domain": 1}, to: "sip:John@Example.COM", wantAOR: "john@example.com"},
		{name: "case_sensitive", params: map[string]any{"case_sensitive": 1}, to: "sip:John@Example.COM", wantAOR: "John"},
		{name: "case_sensitive use_domain", params: map[string]any{"case_sensitive": 1, "use_domain": 1}, to: "sip:John@Example.COM", wantAOR: "John@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.params, nil)
			save := f.bind("save", "location")
			if ret, err := save(register{to: tt.to, contacts: []string{"<sip:a@10.0.0.1>"}}.msg(t)); ret != 1 || err != nil {
				t.Fatalf("save = %d, %v", ret, err)
			}
			d, _ := f.ul.Domain("location")
			var aors []string
			d.Dump(false, func(aor string, _ []usrloc.Contact) bool { aors = append(aors, aor); return true })
			if strings.Join(aors, ",") != tt.wantAOR {
				t.Fatalf("AORs %v, want %q", aors, tt.wantAOR)
			}
		})
	}
}

func TestSaveSendFailure(t *testing.T) {
	f := newFixture(t, nil, nil)
	save := f.bind("save", "location")
	f.core.Err = modtest.ErrInjected
	ret, err := save(register{contacts: []string{"<sip:a@10.0.0.1>"}}.msg(t))
	if ret != -1 || err == nil || !strings.Contains(err.Error(), "registrar: send 200 reply") {
		t.Fatalf("save = %d, %v", ret, err)
	}
}

// TestSaveRepliesThroughSL checks that with sl loaded the reply goes
// through it, as SER's registrar used sl_send_reply: sl's To-tag, counted
// in sl_stats, the registrar's headers on this reply only.
func TestSaveRepliesThroughSL(t *testing.T) {
	core := modtest.NewCore()
	insts := map[string]any{}
	env := modtest.DiscardEnv(core)
	env.Instance = func(name string) any { return insts[name] }
	for _, e := range []*module.Exports{sl.Exports, usrloc.Exports, Exports} {
		inst, err := modtest.LoadEnv(e, env, nil)
		if err != nil {
			t.Fatal(err)
		}
		insts[e.Name] = inst
	}
	save := modtest.Bind(t, Exports, insts["registrar"], env, "save", "location")
	for _, tt := range []struct {
		name     string
		req      register
		wantCode int
		wantHdr  string
	}{
		{name: "200", req: register{contacts: []string{"<sip:a@10.0.0.1>"}}, wantCode: 200, wantHdr: "Contact: <sip:a@10.0.0.1>;expires="},
		{name: "400", req: register{cseq: 2, contacts: []string{"*"}}, wantCode: 400, wantHdr: "P-Registrar-Error: * used in contact and expires is not zero"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.req.msg(t)
			_, _ = save(m)
			rep := core.LastReply(t)
			wire := string(rep.Bytes)
			if rep.Resp.StatusCode != tt.wantCode || !strings.Contains(wire, tt.wantHdr) {
				t.Fatalf("reply:\n%s", wire)
			}
			if tag, _ := rep.Resp.To().Params.Get("tag"); tag == "" || strings.HasPrefix(tag, "fake-") {
				t.Fatalf("To-tag %q is not sl's", tag)
			}
			if len(m.ReplyHeaders) != 0 {
				t.Fatalf("reply headers left on the message: %q", m.ReplyHeaders)
			}
		})
	}
	rep := env.RPC.Execute(context.Background(), "sl_stats", nil, rpc.FIFO)
	if !strings.Contains(rep.Text, "200: 1 ") || !strings.Contains(rep.Text, "400: 1 ") {
		t.Fatalf("sl_stats:\n%s", rep.Text)
	}
}
