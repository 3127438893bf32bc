package print

import (
	"bytes"
	"strings"
	"testing"

	"ser/core/module"
	"ser/internal/testing/modtest"
)

func TestPrintForms(t *testing.T) {
	core := modtest.NewCore()
	inst, env := modtest.Load(t, Exports, core, map[string]any{"str_param": "foobar", "int_param": 42, "string_param": "x"})
	m := inst.(*Module)
	var out bytes.Buffer
	m.SetOutput(&out)
	calls := []struct {
		name string
		args []any
	}{
		{"print", []any{"MSILO: hello"}}, // SER 0.9's print(txt)
		{"print", nil},
		{"print", []any{"a", "b"}},
		{"print1", []any{"one"}},
		{"print2", []any{"two", 2}},
		{"print3", []any{"x", "y", "z"}},
		{"printv", []any{"v1", "v2", "v3", "v4"}},
		{"printv", nil},
	}
	msg := modtest.Request{Method: "MESSAGE"}.Msg(t)
	for _, c := range calls {
		h := modtest.Bind(t, Exports, inst, env, c.name, c.args...)
		if ret, err := h(msg); ret != 1 || err != nil {
			t.Fatalf("%s%v = %d, %v", c.name, c.args, ret, err)
		}
	}
	want := "MSILO: hello\n<null>\nab\none\ntwo2\nxyz\nv1v2v3v4\n\n"
	if out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
}

func TestPrintArityAndRoutes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		min, max int
	}{{"print", 0, 2}, {"print1", 1, 1}, {"print2", 2, 2}, {"print3", 3, 3}, {"printv", 0, MaxVarArgs}} {
		f, ok := Exports.FindFunc(tc.name)
		if !ok || f.MinArgs != tc.min || f.MaxArgs != tc.max || f.Routes != module.Request {
			t.Errorf("%s: %+v", tc.name, f)
		}
	}
	core := modtest.NewCore()
	inst, env := modtest.Load(t, Exports, core, nil)
	if _, err := modtest.BindErr(Exports, inst, env, "print3", "a"); err == nil {
		t.Error("print3 with one argument bound")
	}
	if _, err := modtest.LoadEnv(Exports, modtest.Env(t, core, nil), map[string]any{"int_param": "many"}); err == nil || !strings.Contains(err.Error(), "not a number") {
		t.Errorf("int_param \"many\": %v", err)
	}
}
