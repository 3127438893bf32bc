// The fifo package was not committed yet when this test was written: it is
// built only with -tags serfifo until the lead drops this constraint.

//go:build serfifo

package xmlrpc

import (
	"path/filepath"
	"testing"

	"ser/fifo"
)

// TestStandaloneOverFIFO runs the bridge stand-alone: a FIFO server in
// front of the registry, the bridge over fifo.Client as a remote executor, and
// kolo as the XML-RPC client; then the FIFO goes away and calls fault with
// FaultUnavailable.
func TestStandaloneOverFIFO(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "ser_fifo")
	srv, err := fifo.Listen(fifo.Config{Path: path, Dir: dir, Logger: quietLogger()}, f.reg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	client := &fifo.Client{Path: path, ReplyDir: dir}
	_, ts := newServer(t, client, Options{})
	c := newKolo(t, ts.URL+"/xmlrpc")

	var res execResult
	if err := c.Call("fifo.execute", map[string]any{"cmdname": "ul_show_contact", "cmdparams": []string{"location", "012345"}}, &res); err != nil {
		t.Fatal(err)
	}
	if res.Code != 200 || res.Output != "200 OK\n"+foundContact+"\n" {
		t.Fatalf("fifo.execute over the FIFO: %+v", res)
	}
	err = c.Call("ul_show_contact", []any{"location", "999"}, &res)
	if fe, ok := koloFault(err); !ok || fe.Code != 404 || fe.String != "Username 999 in table location not found" {
		t.Fatalf("per-command 404 over the FIFO: %v", err)
	}
	var names []string
	if err := c.Call("system.listMethods", nil, &names); err != nil || !containsAny(toAny(names), "ul_show_contact") {
		t.Fatalf("listMethods over which: %q, %v", names, err)
	}

	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	err = c.Call("fifo.execute", map[string]any{"cmdname": "which"}, &res)
	if fe, ok := koloFault(err); !ok || fe.Code != FaultUnavailable {
		t.Fatalf("after the FIFO server stopped: %v, want fault %d", err, FaultUnavailable)
	}
	t.Logf("unavailable fault: %v", err)
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
