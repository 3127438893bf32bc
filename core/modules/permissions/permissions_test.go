package permissions

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ser/core/module"
	"ser/core/rpc"
	"ser/core/sipmsg"
	"ser/core/store"
	"ser/internal/testing/modtest"
)

// serAllow is SER's distributed permissions.allow example, with its rules
// uncommented.
const serAllow = `# SIP Express Router permissions module config file
#
# Syntax:
#	from_list [EXCEPT from_list] : req_uri_list [EXCEPT req_uri_list]
#
ALL : "^sip:361[0-9]*@abc\.com$" EXCEPT "^sip:361[0-9]*3@abc\.com$", "^sip:361[0-9]*4@abc\.com$"

"^sip:3677[0-9]*@abc\.com$" :  "^sip:361[0-9]*@abc\.com$"   # trailing comment
`

func writeFiles(t *testing.T, files map[string]string) (dir string) {
	t.Helper()
	dir = t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func load(t *testing.T, dir string, params map[string]any) (*Permissions, *module.Env, *modtest.Core) {
	t.Helper()
	core := modtest.NewCore()
	env := modtest.Env(t, core, nil)
	env.ConfigFile = filepath.Join(dir, "ser.cfg")
	inst, err := modtest.LoadEnv(Exports, env, params)
	if err != nil {
		t.Fatal(err)
	}
	return inst.(*Permissions), env, core
}

func req(t *testing.T, from, ruri string, branches ...string) *sipmsg.Msg {
	t.Helper()
	m := modtest.Request{URI: ruri, From: "<" + from + ">;tag=1"}.Msg(t)
	for _, b := range branches {
		m.AppendBranch(sipmsg.Branch{URI: b, Q: -1})
	}
	return m
}

func TestParseRules(t *testing.T) {
	dir := writeFiles(t, map[string]string{"p.allow": serAllow})
	rs, ok, err := parseFile(filepath.Join(dir, "p.allow"))
	if err != nil || !ok || len(rs.rules) != 2 {
		t.Fatalf("%v %v %d rules", err, ok, len(rs.rules))
	}
	for _, tc := range []struct {
		from, ruri string
		want       bool
	}{
		{"sip:anyone@x.org", "sip:3610@abc.com", true},
		{"sip:anyone@x.org", "sip:3613@ABC.com", false}, // EXCEPT
		{"sip:anyone@x.org", "sip:3614@abc.com", false},
		{"sip:36771@abc.com", "sip:3614@abc.com", true}, // second rule
		{"sip:anyone@x.org", "sip:4000@abc.com", false},
	} {
		if got := rs.search(tc.from, tc.ruri); got != tc.want {
			t.Errorf("%s -> %s: %v", tc.from, tc.ruri, got)
		}
	}
	if _, _, err := parseFile(filepath.Join(dir, "missing")); err != nil {
		t.Errorf("missing file: %v", err)
	}
	for _, bad := range []string{"no colon here", "ALL :", ": ALL", `ALL : "(unclosed"`, `ALL : "a",,"b"`} {
		if _, err := parseLine(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for _, blank := range []string{"", "   ", "# comment", "\t# x"} {
		if r, err := parseLine(blank); r != nil || err != nil {
			t.Errorf("%q: %v %v", blank, r, err)
		}
	}
	// A quoted ':' and '#' belong to the expression.
	r, err := parseLine(`"^sip:a#b@x$" : ALL`)
	if err != nil || !r.matches("sip:a#b@x", "sip:any") {
		t.Errorf("quoted: %v", err)
	}
}

func TestBadFileIsConfigError(t *testing.T) {
	dir := writeFiles(t, map[string]string{"permissions.deny": "ALL : \"[\"\n"})
	env := modtest.Env(t, modtest.NewCore(), nil)
	env.ConfigFile = filepath.Join(dir, "ser.cfg")
	_, err := modtest.LoadEnv(Exports, env, nil)
	if err == nil || !strings.Contains(err.Error(), "permissions.deny:1:") {
		t.Errorf("err = %v", err)
	}
}

// TestAllowRouting: default files beside the config, a basename and two
// file names, the branches with check_all_branches, no rules = allowed.
func TestAllowRouting(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"permissions.allow": `"^sip:alice@" : ALL` + "\n",
		"permissions.deny":  `ALL : "^sip:900"` + "\n",
		"gw.allow":          `ALL : "^sip:1[0-9]+@gw\.example\.com$"` + "\n",
		"gw.deny":           "ALL : ALL\n",
	})
	p, env, _ := load(t, dir, nil)
	routing := modtest.Bind(t, Exports, p, env, "allow_routing")
	named := modtest.Bind(t, Exports, p, env, "allow_routing", "gw")
	two := modtest.Bind(t, Exports, p, env, "allow_routing", "gw.allow", filepath.Join(dir, "permissions.deny"))
	for _, tc := range []struct {
		name string
		h    module.Handler
		m    *sipmsg.Msg
		want int
	}{
		{"allowed caller", routing, req(t, "sip:alice@example.com", "sip:900@example.com"), 1},
		{"denied number", routing, req(t, "sip:bob@example.com", "sip:900@example.com"), -1},
		{"neither", routing, req(t, "sip:bob@example.com", "sip:100@example.com"), 1},
		{"denied branch", routing, req(t, "sip:bob@example.com", "sip:100@example.com", "sip:9001@example.com"), -1},
		{"allowed caller, any branch", routing, req(t, "sip:alice@example.com", "sip:100@example.com", "sip:9001@example.com"), 1},
		{"basename allow", named, req(t, "sip:bob@example.com", "sip:123@gw.example.com"), 1},
		{"basename deny", named, req(t, "sip:bob@example.com", "sip:999@gw.example.com"), -1},
		{"two files", two, req(t, "sip:bob@example.com", "sip:900@gw.example.com"), -1},
		{"two files neither", two, req(t, "sip:bob@example.com", "sip:800@other"), 1},
	} {
		if got, _ := tc.h(tc.m); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
	// check_all_branches off: the branches are not looked at.
	p2, env2, _ := load(t, dir, map[string]any{"check_all_branches": 0})
	if got, _ := modtest.Bind(t, Exports, p2, env2, "allow_routing")(req(t, "sip:bob@example.com", "sip:100@example.com", "sip:9001@example.com")); got != 1 {
		t.Errorf("check_all_branches=0: %d", got)
	}
	// No files at all: everything allowed.
	p3, env3, _ := load(t, t.TempDir(), nil)
	if got, _ := modtest.Bind(t, Exports, p3, env3, "allow_routing")(req(t, "sip:x@y", "sip:900@z")); got != 1 {
		t.Errorf("no rules: %d", got)
	}
}

// TestAllowRegister: To against each Contact; * and no Contact pass.
func TestAllowRegister(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"register.allow": `"^sip:alice@" : "^sip:alice@192\.0\.2\."` + "\n",
		"register.deny":  "ALL : ALL\n",
	})
	p, env, _ := load(t, dir, nil)
	h := modtest.Bind(t, Exports, p, env, "allow_register", "register")
	reg := func(to string, contacts ...string) *sipmsg.Msg {
		var hs []string
		for _, c := range contacts {
			hs = append(hs, "Contact: "+c)
		}
		return modtest.Request{Method: "REGISTER", URI: "sip:example.com", To: "<" + to + ">", Headers: hs}.Msg(t)
	}
	for _, tc := range []struct {
		name string
		m    *sipmsg.Msg
		want int
	}{
		{"allowed contact", reg("sip:alice@example.com", "<sip:alice@192.0.2.4:5060;transport=udp>;expires=60"), 1},
		{"denied contact", reg("sip:alice@example.com", "<sip:alice@198.51.100.1>"), -1},
		{"one of two denied", reg("sip:alice@example.com", "<sip:alice@192.0.2.4>, \"x,y\" <sip:alice@198.51.100.1>"), -1},
		{"other user", reg("sip:bob@example.com", "<sip:bob@192.0.2.4>"), -1},
		{"star", reg("sip:bob@example.com", "*"), 1},
		{"no contact", reg("sip:bob@example.com"), 1},
	} {
		if got, _ := h(tc.m); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestBRE(t *testing.T) {
	for _, tc := range []struct {
		pat, s string
		want   bool
	}{
		{`^sip:.*@gw\.example\.com$`, "sip:1@gw.example.com", true},
		{`^sip:.*@gw\.example\.com$`, "sip:1@GW.example.com", false}, // case-sensitive
		{`a+b`, "a+b", true},
		{`a+b`, "aab", false},
		{`\(ab\)\{2\}`, "abab", true},
		{`*x`, "*x", true},
		{`(x)`, "(x)", true},
		{`[()]`, ")", true},
	} {
		re, err := compileBRE(tc.pat)
		if err != nil {
			t.Fatalf("%q: %v", tc.pat, err)
		}
		if got := re.MatchString(tc.s); got != tc.want {
			t.Errorf("%q ~ %q: %v", tc.pat, tc.s, got)
		}
	}
}

// TestAllowTrusted: rows by source address, protocol and From pattern,
// with and without the cache; trusted_dump and trusted_reload.
func TestAllowTrusted(t *testing.T) {
	ctx := context.Background()
	st := modtest.SQLiteStore(t)
	for _, r := range []store.Trusted{
		{SrcIP: "192.0.2.10", Proto: "udp", FromPattern: `^sip:.*@gw\.example\.com$`},
		{SrcIP: "192.0.2.11", Proto: "any", FromPattern: ".*"},
		{SrcIP: "0:0:0:0:0:0:0:1", Proto: "tcp", FromPattern: "^sip:"},
	} {
		if err := st.AddTrusted(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for _, mode := range []int{0, 1} {
		p, env, _ := load(t, t.TempDir(), map[string]any{"db_mode": mode})
		h := modtest.Bind(t, Exports, p, env, "allow_trusted")
		if err := p.UseStore(ctx, st); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			src, from string
			tcp       bool
			want      int
		}{
			{"192.0.2.10:5060", "sip:pstn@gw.example.com", false, 1},
			{"192.0.2.10:5060", "sip:pstn@gw.example.com", true, -1}, // proto
			{"192.0.2.10:5060", "sip:pstn@other.com", false, -1},     // pattern
			{"192.0.2.11:5060", "sip:x@y", true, 1},
			{"192.0.2.12:5060", "sip:x@y", false, -1},
			{"[::1]:5060", "sip:x@y", true, 1},
		} {
			opts := []modtest.Option{modtest.From(tc.src)}
			if tc.tcp {
				opts = append(opts, modtest.OverTCP())
			}
			m := modtest.Request{From: "<" + tc.from + ">;tag=1"}.Msg(t, opts...)
			if got, _ := h(m); got != tc.want {
				t.Errorf("db_mode %d: %s %s tcp=%v: %d, want %d", mode, tc.src, tc.from, tc.tcp, got, tc.want)
			}
		}
		if mode == 0 {
			if _, ok := env.RPC.Lookup("trusted_dump"); ok {
				t.Error("trusted_dump without the cache")
			}
			continue
		}
		dump := env.RPC.Execute(ctx, "trusted_dump", nil, rpc.FIFO).Text
		if !strings.Contains(dump, "<192.0.2.10, 1, ^sip:.*@gw\\.example\\.com$>") || !strings.Contains(dump, "<0:0:0:0:0:0:0:1, 2, ^sip:>") {
			t.Errorf("trusted_dump:\n%s", dump)
		}
		if err := st.AddTrusted(ctx, store.Trusted{SrcIP: "192.0.2.12", Proto: "any", FromPattern: ".*"}); err != nil {
			t.Fatal(err)
		}
		if r := env.RPC.Execute(ctx, "trusted_reload", nil, rpc.FIFO).Text; !strings.HasPrefix(r, "200 OK") {
			t.Fatalf("trusted_reload: %s", r)
		}
		if got, _ := h(modtest.Request{}.Msg(t, modtest.From("192.0.2.12:5060"))); got != 1 {
			t.Error("reloaded row not used")
		}
		if err := st.AddTrusted(ctx, store.Trusted{SrcIP: "192.0.2.13", Proto: "xyz", FromPattern: ".*"}); err != nil {
			t.Fatal(err)
		}
		if r := env.RPC.Execute(ctx, "trusted_reload", nil, rpc.FIFO).Text; !strings.HasPrefix(r, "400 Trusted table reload failed") {
			t.Errorf("bad row reload: %s", r)
		}
		if got, _ := h(modtest.Request{}.Msg(t, modtest.From("192.0.2.12:5060"))); got != 1 {
			t.Error("a failed reload dropped the cache")
		}
	}
}
