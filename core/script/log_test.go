package script

import (
	"log/slog"
	"strings"
	"sync"
	"testing"

	"ser/core/cfg"
	"ser/core/module"
)

// syncBuf is a goroutine-safe log sink.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestErrorsAreLogged: a handler error, a too deep recursion and an
// unresolvable host name go to the log with the module attribute.
func TestErrorsAreLogged(t *testing.T) {
	var buf syncBuf
	log := slog.New(slog.NewTextHandler(&buf, nil))
	src := testHead + `route {
	fail();
	if (src_ip==nowhere.test) rec("x");
	route(1);
}
route[1] { route(1); }`
	f, errs := cfg.Parse("t.cfg", []byte(src))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	ms, errs := module.Load(f)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	core := newFakeCore()
	newEnv := func(name string) *module.Env { return &module.Env{Log: log.With("module", name), Core: core} }
	if err := ms.Init(newEnv); err != nil {
		t.Fatal(err)
	}
	p, errs := Compile(f, ms, core, newEnv)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if v := p.Run(module.Request, 0, request(t, "INVITE", "sip:x@y")); v != 0 {
		t.Errorf("value %d, want 0 (recursion stopped)", v)
	}
	out := buf.String()
	for _, want := range []string{
		`level=WARN msg="cannot resolve host name; the comparison is always false" module=script host=nowhere.test pos=t.cfg:5:14`,
		`level=ERROR msg="action failed" module=ttest func=fail pos=t.cfg:4:2 err=boom`,
		`level=ERROR msg="route(n) nested too deep, script stopped" module=script route=1 depth=100 pos=t.cfg:8:12`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
