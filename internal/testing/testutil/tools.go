// Package testutil holds helpers shared by the test suites: the policy for
// external tools (skip on a laptop, fail under CI), and process handling.
package testutil

import (
	"os"
	"os/exec"
	"testing"
)

// Strict reports whether missing external tools are failures: under CI
// (CI set) and under the README's test command (SER_REQUIRE_TOOLS set).
func Strict() bool { return os.Getenv("CI") != "" || os.Getenv("SER_REQUIRE_TOOLS") != "" }

// RequireTool returns the path of an external tool. When the tool is
// missing the test is skipped on a developer's machine, and fails under
// CI or the README's test command.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if Strict() {
		t.Fatalf("required tool %q is not installed (the README's test command installs it): %v", name, err)
	}
	t.Skipf("%s not installed; skipping (set SER_REQUIRE_TOOLS=1 to make this a failure)", name)
	return ""
}
