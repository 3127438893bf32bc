package transport

import (
	"net"
	"strconv"
	"testing"
	"time"
)

// acceptedID connects to the transport's TCP socket and returns the
// client connection and the id the transport gave it.
func acceptedID(t *testing.T, tr *Transport, known map[uint64]bool) (net.Conn, uint64) {
	t.Helper()
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(tr.socks[1].Port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		tr.connMu.Lock()
		for id := range tr.conns {
			if !known[id] {
				tr.connMu.Unlock()
				known[id] = true
				return c, id
			}
		}
		tr.connMu.Unlock()
	}
	t.Fatal("connection not accepted")
	return nil, 0
}

// TestTCPAlias checks SER's alias rules: an alias is idempotent, at most
// MaxAliases per connection, never taken from another live connection, and
// gone with its connection.
func TestTCPAlias(t *testing.T) {
	tr := newTestTransport(t, Options{})
	known := map[uint64]bool{}
	c1, id1 := acceptedID(t, tr, known)
	_, id2 := acceptedID(t, tr, known)
	for p := 6001; p <= 6000+MaxAliases; p++ {
		if err := tr.AddAlias(id1, p); err != nil {
			t.Fatalf("alias %d: %v", p, err)
		}
	}
	if err := tr.AddAlias(id1, 6001); err != nil {
		t.Errorf("repeated alias: %v", err)
	}
	if err := tr.AddAlias(id1, 7000); err == nil {
		t.Error("alias beyond MaxAliases accepted")
	}
	if err := tr.AddAlias(id2, 6001); err == nil {
		t.Error("another connection's alias taken (port hijack)")
	}
	if err := tr.AddAlias(999999, 6001); err == nil {
		t.Error("alias for an unknown connection accepted")
	}
	c1.Close()
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if err := tr.AddAlias(id2, 6001); err == nil {
			break
		} else if time.Now().After(end) {
			t.Fatalf("alias not released with its connection: %v", err)
		}
	}
}
