package script

import (
	"net/netip"
	"testing"

	"ser/core/cfg"
	"ser/core/module"
)

// TestCheckResolvesNothing: a config check (module.Env.Check) compiles a
// src_ip comparison with a host name without a DNS query (the program
// never runs; a failed lookup would only be a warning).
func TestCheckResolvesNothing(t *testing.T) {
	saved := lookupHost
	defer func() { lookupHost = saved }()
	queries := 0
	lookupHost = func(string) ([]netip.Addr, error) { queries++; return nil, nil }
	compile := func(src string, check bool) cfg.ErrorList {
		f, errs := cfg.Parse("t.cfg", []byte(src))
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		newEnv := func(name string) *module.Env { return &module.Env{Log: quietLog, Check: check} }
		_, errs = Compile(f, nil, nil, newEnv)
		return errs
	}
	if errs := compile(`route { if (src_ip==gw.example.com) { drop; }; }`, true); len(errs) > 0 || queries != 0 {
		t.Errorf("check: errors %v, %d DNS queries", errs, queries)
	}
	compile(`route { if (src_ip==gw.example.com) { drop; }; }`, false)
	if queries != 1 {
		t.Errorf("without check: %d DNS queries, want 1", queries)
	}
}
