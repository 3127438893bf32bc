package frontend

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"ser/core/rpc"
)

// TestConnectionLimit: with MaxConns open, a new connection is closed at
// once; when one closes, requests are served again.
func TestConnectionLimit(t *testing.T) {
	f, err := Start(rpc.NewLocal(rpc.NewRegistry()), Options{
		Listen: "127.0.0.1:0", MaxConns: 3, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var held []net.Conn
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", f.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	ll := f.ln.(*limitListener)
	for end := time.Now().Add(5 * time.Second); ll.open.Load() < 3; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("connections not accepted")
		}
	}
	if c, err := net.Dial("tcp", f.Addr()); err == nil {
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		_, err := c.Read(make([]byte, 1))
		c.Close()
		if ne, ok := err.(net.Error); err == nil || ok && ne.Timeout() {
			t.Fatalf("connection over the limit kept open: %v", err)
		}
	}
	if ll.refused.Load() == 0 {
		t.Fatal("nothing refused")
	}
	held[0].Close()
	body := `<?xml version="1.0"?><methodCall><methodName>system.listMethods</methodName></methodCall>`
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 3 * time.Second}
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := client.Post("http://"+f.Addr()+"/xmlrpc", "text/xml", strings.NewReader(body))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			return
		}
		if time.Now().After(end) {
			t.Fatalf("no request served after a connection closed: %v", err)
		}
	}
}
