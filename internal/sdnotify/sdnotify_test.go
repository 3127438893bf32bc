package sdnotify

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func listen(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func read(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 1024)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

func TestNotify(t *testing.T) {
	t.Setenv(Env, "")
	if sent, err := Notify("READY=1"); sent || err != nil {
		t.Fatalf("without %s: sent %v, %v", Env, sent, err)
	}

	dir, err := os.MkdirTemp("", "sdn")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "notify")
	c := listen(t, path)
	t.Setenv(Env, path)
	if sent, err := Notify("READY=1\nSTATUS=serving"); !sent || err != nil {
		t.Fatalf("sent %v, %v", sent, err)
	}
	if got := read(t, c); got != "READY=1\nSTATUS=serving" {
		t.Errorf("got %q", got)
	}

	// An abstract socket, as systemd names it: "@…".
	abs := "@ser-sdnotify-test-" + filepath.Base(dir)
	ac := listen(t, "\x00"+abs[1:])
	t.Setenv(Env, abs)
	if sent, err := Notify("STOPPING=1"); !sent || err != nil {
		t.Fatalf("abstract: sent %v, %v", sent, err)
	}
	if got := read(t, ac); got != "STOPPING=1" {
		t.Errorf("abstract: got %q", got)
	}

	t.Setenv(Env, filepath.Join(dir, "nobody"))
	if _, err := Notify("READY=1"); err == nil {
		t.Error("no error for a socket nobody listens on")
	}
}
