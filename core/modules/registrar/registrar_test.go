package registrar

import (
	"strings"
	"testing"

	"ser/core/module"
	"ser/core/modules/usrloc"
	"ser/internal/testing/modtest"
)

func TestInitNeedsUsrloc(t *testing.T) {
	_, err := modtest.LoadEnv(Exports, modtest.DiscardEnv(modtest.NewCore()), nil)
	if err == nil || !strings.Contains(err.Error(), "registrar: the usrloc module is not loaded") {
		t.Fatalf("Init without usrloc: %v", err)
	}
	if len(Exports.Deps) != 1 || Exports.Deps[0] != "usrloc" {
		t.Fatalf("Deps = %v", Exports.Deps)
	}
}

func TestFixup(t *testing.T) {
	tests := []struct {
		name    string
		fn      string
		args    []any
		wantErr string
	}{
		{name: "save", fn: "save", args: []any{"location"}},
		{name: "save_noreply", fn: "save_noreply", args: []any{"location"}},
		{name: "lookup", fn: "lookup", args: []any{"aliases"}},
		{name: "registered", fn: "registered", args: []any{"location"}},
		{name: "empty table", fn: "save", args: []any{""}, wantErr: "registrar: save: a table name is required"},
		{name: "no table", fn: "lookup", args: nil, wantErr: "lookup takes 1..1 arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil, nil)
			_, err := modtest.BindErr(Exports, f.reg, f.env, tt.fn, tt.args...)
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("bind: %v, want %q", err, tt.wantErr)
			}
			if err == nil {
				if _, ok := f.ul.Domain(tt.args[0].(string)); !ok {
					t.Fatalf("binding %s did not create the usrloc table", tt.fn)
				}
			}
		})
	}
}

func TestParams(t *testing.T) {
	tests := []struct {
		name    string
		param   string
		value   module.Value
		wantErr string
		check   func(m *Module) bool
	}{
		{name: "default_q thousandths", param: "default_q", value: modtest.Int(500), check: func(m *Module) bool { return m.defaultQ == 500 }},
		{name: "default_q clamped", param: "default_q", value: modtest.Int(2000), check: func(m *Module) bool { return m.defaultQ == usrloc.QMax }},
		{name: "default_q unset", param: "default_q", value: modtest.Int(-1), check: func(m *Module) bool { return m.defaultQ == usrloc.QUnset }},
		{name: "default_q garbage", param: "default_q", value: modtest.Str("high"), wantErr: `"high" is not a number`},
		{name: "nat_flag", param: "nat_flag", value: modtest.Int(31), check: func(m *Module) bool { return m.natFlag == 31 }},
		{name: "nat_flag too big", param: "nat_flag", value: modtest.Int(32), wantErr: "nat_flag must be a flag number 0..31 or -1, not 32"},
		{name: "negative expires", param: "default_expires", value: modtest.Int(-5), wantErr: "default_expires must not be negative, not -5"},
		{name: "max_contacts", param: "max_contacts", value: modtest.Int(3), check: func(m *Module) bool { return m.maxContacts == 3 }},
		{name: "append_branches off", param: "append_branches", value: modtest.Str("no"), check: func(m *Module) bool { return !m.appendBranches }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := Exports.FindParam(tt.param)
			if !ok {
				t.Fatalf("no modparam %s", tt.param)
			}
			m := New()
			err := p.Set(m, tt.value)
			if (err == nil) != (tt.wantErr == "") || (err != nil && err.Error() != tt.wantErr) {
				t.Fatalf("Set: %v, want %q", err, tt.wantErr)
			}
			if tt.check != nil && !tt.check(m) {
				t.Fatalf("not applied: %+v", m)
			}
		})
	}
}

// TestDescTimeOrder checks that registrar's desc_time_order reaches usrloc.
func TestDescTimeOrder(t *testing.T) {
	f := newFixture(t, map[string]any{"desc_time_order": 1}, nil)
	save := f.bind("save", "location")
	_, _ = save(register{contacts: []string{"<sip:a@10.0.0.1>;q=1"}}.msg(t))
	_, _ = save(register{cseq: 2, contacts: []string{"<sip:b@10.0.0.2>;q=0.1"}}.msg(t))
	d, _ := f.ul.Domain("location")
	if cs, _ := d.Get("john"); uris(cs) != "sip:b@10.0.0.2 sip:a@10.0.0.1" {
		t.Fatalf("order %q, want the newest first", uris(cs))
	}
}
