package registrar

import (
	"testing"

	"ser/core/modules/usrloc"
	"ser/internal/testing/modtest"
)

// TestSaveNATed checks the mark nathelper's fix_nated_register() sets: the
// source address is stored as received with FL_NAT, without nat_flag, and
// lookup() makes it the next hop.
func TestSaveNATed(t *testing.T) {
	tests := []struct {
		name         string
		natFlag      int
		mark         bool
		wantReceived string
		wantFlags    uint32
	}{
		{name: "marked, no nat_flag", natFlag: -1, mark: true, wantReceived: "sip:203.0.113.5:40312", wantFlags: usrloc.FlagNAT},
		{name: "marked, nat_flag unset on the message", natFlag: 6, mark: true, wantReceived: "sip:203.0.113.5:40312", wantFlags: usrloc.FlagNAT},
		{name: "not marked", natFlag: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, map[string]any{"nat_flag": tt.natFlag}, nil)
			save := f.bind("save", "location")
			m := register{contacts: []string{"<sip:john@10.0.0.5:5060>"}}.msg(t, modtest.From("203.0.113.5:40312"))
			if tt.mark {
				SetNATed(m)
			}
			if NATed(m) != tt.mark {
				t.Fatal("NATed does not report the mark")
			}
			if ret, err := save(m); ret != 1 || err != nil {
				t.Fatalf("save = %d, %v", ret, err)
			}
			d, _ := f.ul.Domain("location")
			cs, _ := d.Get("john")
			if len(cs) != 1 || cs[0].Received != tt.wantReceived || cs[0].Flags != tt.wantFlags {
				t.Fatalf("stored %+v", cs)
			}
			lookup := f.bind("lookup", "location")
			inv := invite(t, "sip:john@example.com")
			if ret, _ := lookup(inv); ret != 1 || inv.DstURI != tt.wantReceived {
				t.Fatalf("lookup = %d, next hop %q", ret, inv.DstURI)
			}
		})
	}
}

// TestSaveContactReceived: a Contact's received parameter (nathelper's
// add_rcv_param on a proxy in front) is stored as the contact's received
// address, as SER 0.9's registrar did, and wins over the source address
// of a NATed REGISTER.
func TestSaveContactReceived(t *testing.T) {
	f := newFixture(t, map[string]any{"nat_flag": 6}, nil)
	save := f.bind("save", "location")
	m := register{contacts: []string{`<sip:john@10.0.0.5:5060>;received="sip:203.0.113.9:1234;transport=tcp"`, "<sip:john@10.0.0.5:5062>"}}.msg(t, modtest.From("192.0.2.50:5060"))
	m.SetFlag(6)
	if ret, err := save(m); ret != 1 || err != nil {
		t.Fatalf("save = %d, %v", ret, err)
	}
	d, _ := f.ul.Domain("location")
	cs, _ := d.Get("john")
	got := map[string]string{}
	for _, c := range cs {
		got[c.URI] = c.Received
	}
	if got["sip:john@10.0.0.5:5060"] != "sip:203.0.113.9:1234;transport=tcp" || got["sip:john@10.0.0.5:5062"] != "sip:192.0.2.50:5060" {
		t.Fatalf("stored %v", got)
	}
}
