package registrar

import (
	"strings"
	"testing"

	"ser/core/modules/usrloc"
	"ser/internal/testing/modtest"
)

// headerValues returns the values of a reply header.
func headerValues(r modtest.SentReply, name string) []string {
	var out []string
	for _, h := range r.Resp.GetHeaders(name) {
		out = append(out, h.Value())
	}
	return out
}

// TestRequire: a REGISTER requiring an extension the registrar does not
// support is answered 420 Bad Extension with an Unsupported header
// listing them (RFC 3261 §8.2.2.3); "path" is supported with use_path.
func TestRequire(t *testing.T) {
	tests := []struct {
		name      string
		params    map[string]any
		require   []string
		wantCode  int
		wantUnsup string
	}{
		{name: "nothing required", wantCode: 200},
		{name: "unknown extension", require: []string{"Require: 100rel"}, wantCode: 420, wantUnsup: "100rel"},
		{name: "path without use_path", require: []string{"Require: foo, Path", "Require: bar"}, wantCode: 420, wantUnsup: "foo, path, bar"},
		{name: "path with use_path", params: map[string]any{"use_path": 1}, require: []string{"Require: path"}, wantCode: 200},
		{name: "path and another with use_path", params: map[string]any{"use_path": 1}, require: []string{"Require: path,gruu"}, wantCode: 420, wantUnsup: "gruu"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.params, nil)
			save := f.bind("save", "location")
			ret, err := save(register{contacts: []string{"<sip:a@10.0.0.1>"}, extra: tc.require}.msg(t))
			if err != nil {
				t.Fatal(err)
			}
			rep := f.core.Replies()[0]
			if rep.Resp.StatusCode != tc.wantCode {
				t.Fatalf("reply %d %s, want %d", rep.Resp.StatusCode, rep.Resp.Reason, tc.wantCode)
			}
			if tc.wantCode == 200 {
				return
			}
			if ret != 0 || rep.Resp.Reason != "Bad Extension" {
				t.Errorf("save = %d, reason %q", ret, rep.Resp.Reason)
			}
			if got := headerValues(rep, "Unsupported"); len(got) != 1 || got[0] != tc.wantUnsup {
				t.Errorf("Unsupported %q, want %q", got, tc.wantUnsup)
			}
			if cs, _, _ := f.ul.Register("location").Lookup("john"); len(cs) != 0 {
				t.Errorf("refused REGISTER saved %s", uris(cs))
			}
		})
	}
}

// TestPath: save stores the REGISTER's Path with the contact according
// to use_path / path_mode (Kamailio's registrar), answers with it when the
// UA supports path, and lookup sends requests along it.
func TestPath(t *testing.T) {
	const (
		lb   = "<sip:lb.example.com:5070;lr;received=sip:198.51.100.7:40123%3Btransport%3Dtcp>"
		edge = "<sip:edge.example.com;lr>"
	)
	supported := "Supported: path, replaces"
	tests := []struct {
		name      string
		params    map[string]any
		extra     []string
		wantCode  int
		wantErr   string
		wantReply []string // Path headers of the reply
		wantPath  string   // stored
		wantRcv   string   // stored received
	}{
		{name: "use_path off: Path ignored", extra: []string{"Path: " + lb, supported}, wantCode: 200},
		{name: "strict mode without Supported: path", params: map[string]any{"use_path": 1}, extra: []string{"Path: " + lb},
			wantCode: 420, wantErr: "No support for found Path indicated", wantReply: []string{lb}},
		{name: "strict mode with Supported: path", params: map[string]any{"use_path": 1}, extra: []string{"Path: " + lb, "Path: " + edge, supported},
			wantCode: 200, wantReply: []string{lb + "," + edge}, wantPath: lb + "," + edge},
		{name: "compact Supported", params: map[string]any{"use_path": 1}, extra: []string{"Path: " + lb + ", " + edge, "k: path"},
			wantCode: 200, wantReply: []string{lb + ", " + edge}, wantPath: lb + ", " + edge},
		{name: "lazy mode without Supported: path", params: map[string]any{"use_path": 1, "path_mode": 1}, extra: []string{"Path: " + lb},
			wantCode: 200, wantPath: lb},
		{name: "off mode with Supported: path", params: map[string]any{"use_path": 1, "path_mode": 0}, extra: []string{"Path: " + lb, supported},
			wantCode: 200, wantPath: lb},
		{name: "path_use_received", params: map[string]any{"use_path": 1, "path_use_received": 1}, extra: []string{"Path: " + lb, supported},
			wantCode: 200, wantReply: []string{lb}, wantPath: lb, wantRcv: "sip:198.51.100.7:40123;transport=tcp"},
		{name: "first Path URI a strict router", params: map[string]any{"use_path": 1}, extra: []string{"Path: <sip:lb.example.com>", supported},
			wantCode: 400, wantErr: "Path parse error"},
		{name: "Path not a name-addr", params: map[string]any{"use_path": 1}, extra: []string{"Path: sip:lb.example.com;lr", supported},
			wantCode: 400, wantErr: "Path parse error"},
		{name: "Path too long", params: map[string]any{"use_path": 1}, extra: []string{"Path: <sip:" + strings.Repeat("a", 600) + ".example.com;lr>", supported},
			wantCode: 400, wantErr: "Path parse error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.params, nil)
			save := f.bind("save", "location")
			if _, err := save(register{contacts: []string{"<sip:john@192.168.1.20:5060>"}, extra: tc.extra}.msg(t)); err != nil {
				t.Fatal(err)
			}
			rep := f.core.Replies()[0]
			if rep.Resp.StatusCode != tc.wantCode {
				t.Fatalf("reply %d %s, want %d", rep.Resp.StatusCode, rep.Resp.Reason, tc.wantCode)
			}
			if _, regErr := replyContacts(rep); regErr != tc.wantErr {
				t.Errorf("P-Registrar-Error %q, want %q", regErr, tc.wantErr)
			}
			if got := headerValues(rep, "Path"); strings.Join(got, "|") != strings.Join(tc.wantReply, "|") {
				t.Errorf("reply Path %q, want %q", got, tc.wantReply)
			}
			if tc.wantCode == 420 {
				if got := headerValues(rep, "Unsupported"); len(got) != 1 || got[0] != "path" {
					t.Errorf("Unsupported %q", got)
				}
			}
			cs, _, _ := f.ul.Register("location").Lookup("john")
			if tc.wantCode != 200 {
				if len(cs) != 0 {
					t.Errorf("refused REGISTER saved %s", uris(cs))
				}
				return
			}
			if len(cs) != 1 || cs[0].Path != tc.wantPath || cs[0].Received != tc.wantRcv {
				t.Fatalf("stored %+v, want path %q received %q", cs, tc.wantPath, tc.wantRcv)
			}
			if nat := cs[0].Flags&usrloc.FlagNAT != 0; nat != (tc.wantRcv != "") {
				t.Errorf("FL_NAT %v", nat)
			}
		})
	}
}

// TestLookupPath: lookup sends a request to a contact registered with a
// Path along it — its first URI is the next hop (in favour of the
// received address) and the path goes on top as a Route header — per
// branch when forking.
func TestLookupPath(t *testing.T) {
	const path = "<sip:lb.example.com:5070;lr;received=sip:198.51.100.7:40123>,<sip:edge.example.com;lr>"
	f := newFixture(t, map[string]any{"use_path": 1, "path_use_received": 1}, nil)
	save := f.bind("save", "location")
	reg := register{contacts: []string{"<sip:john@192.168.1.20:5060>;q=0.9"}, extra: []string{"Path: " + path, "Supported: path"}}
	if ret, _ := save(reg.msg(t)); ret != 1 {
		t.Fatalf("save = %d", ret)
	}
	reg = register{callID: "reg-2@192.0.2.11", contacts: []string{"<sip:john@10.0.0.9>;q=0.5"}}
	if ret, _ := save(reg.msg(t)); ret != 1 {
		t.Fatalf("save = %d", ret)
	}
	msg := invite(t, "sip:john@example.com")
	if ret, err := f.bind("lookup", "location")(msg); ret != 1 || err != nil {
		t.Fatalf("lookup = %d, %v", ret, err)
	}
	if msg.URIString() != "sip:john@192.168.1.20:5060" || msg.DstURI != "sip:lb.example.com:5070;lr;received=sip:198.51.100.7:40123" || msg.Path != path {
		t.Fatalf("R-URI %s, dst %s, path %s", msg.URIString(), msg.DstURI, msg.Path)
	}
	if len(msg.Branches) != 1 || msg.Branches[0].Path != "" || msg.Branches[0].DstURI != "" {
		t.Fatalf("branches %+v", msg.Branches)
	}
	wire := string(f.core.RequestBytes(msg, modtest.UDPSocket, "z9hG4bK1"))
	if !strings.HasPrefix(wire, "INVITE sip:john@192.168.1.20:5060 SIP/2.0\r\nRoute: "+path+"\r\n") {
		t.Errorf("sent as:\n%s", wire)
	}
	// A new lookup for a contact without Path clears the route set.
	other := invite(t, "sip:john@example.com")
	other.Path = "<sip:stale.example.com;lr>"
	f.core.Reset()
	if err := f.ul.Register("location").Update("john", func(r *usrloc.Record) error {
		c, _ := r.Find("sip:john@192.168.1.20:5060")
		r.Delete(c.URI)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if ret, _ := f.bind("lookup", "location")(other); ret != 1 || other.Path != "" {
		t.Errorf("lookup = %d, path %q", ret, other.Path)
	}
}
