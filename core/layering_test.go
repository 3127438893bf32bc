package core_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestEngineImportsNoFrontend keeps the engine a library: nothing under
// core depends on a management frontend or the tools around it (the
// daemon, internal/daemon, assembles them). Test files are not counted.
func TestEngineImportsNoFrontend(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", "ser/core/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps ser/core/...: %v\n%s", err, out)
	}
	forbidden := []string{"ser/fifo", "ser/xmlrpc", "ser/jsonrpc", "ser/web", "ser/serctl", "ser/internal/daemon", "ser/internal/frontend"}
	n := 0
	for _, pkg := range strings.Fields(string(out)) {
		n++
		for _, f := range forbidden {
			if pkg == f || strings.HasPrefix(pkg, f+"/") {
				t.Errorf("the engine depends on %s (go list -deps ser/core/...)", pkg)
			}
		}
	}
	if n < 20 {
		t.Fatalf("go list -deps ser/core/... listed %d packages", n)
	}
}
