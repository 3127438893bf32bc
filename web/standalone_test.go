package web

import (
	"net/http"
	"path/filepath"
	"testing"

	"ser/core/rpc/sercmd"
	"ser/fifo"
)

// TestOverFIFO runs the console beside ser, over a real FIFO: ul_add,
// ul_dump and the statistics pass SER's framing both ways.
func TestOverFIFO(t *testing.T) {
	e := newEnv(t, "")
	dir := t.TempDir()
	path := filepath.Join(dir, "ser_fifo")
	srv, err := fifo.Listen(fifo.Config{Path: path, Dir: dir + "/"}, e.inst.Server.RPC())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	e.app.ser = &sercmd.Client{Exec: &fifo.Client{Path: path, ReplyDir: dir + "/"}}
	b := e.as("root")
	b.get("/admin/online")
	b.post("/admin/online/add", "user", "alice", "contact", "sip:alice@192.0.2.5:5060;transport=tcp").redirectsTo(t, "/admin/online")
	b.get("/admin/online").want(t, http.StatusOK, "sip:alice@192.0.2.5:5060;transport=tcp", "never", "SIP Express Router FIFO")
	b.post("/admin/aliases/add", "alias", "5550000", "domain", "example.com", "target", "sip:alice@example.com").
		redirectsTo(t, "/admin/aliases")
	b.get("/admin/aliases").want(t, http.StatusOK, "5550000")
	b.get("/admin/").want(t, http.StatusOK, "Sip EXpress router (", "Registered (location)")
	e.as("alice").get("/account").want(t, http.StatusOK, "sip:alice@192.0.2.5:5060;transport=tcp", "5550000")
	// ser gone: a clear error.
	srv.Close()
	b.get("/admin/online").want(t, http.StatusBadGateway, "SIP server unavailable")
}
