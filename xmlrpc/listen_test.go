package xmlrpc

import (
	"testing"
	"time"

	"ser/core/rpc"
)

// TestHTTPServerTimeouts checks the defaults derived from CallTimeout.
func TestHTTPServerTimeouts(t *testing.T) {
	s, err := New(rpc.NewLocal(newFixture(t).reg), Options{CallTimeout: 3 * time.Second, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	srv := s.HTTPServer(s.Handler())
	if srv.ReadHeaderTimeout != 5*time.Second || srv.ReadTimeout != 30*time.Second ||
		srv.WriteTimeout != 8*time.Second || srv.IdleTimeout != 120*time.Second {
		t.Fatalf("timeouts %v %v %v %v", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout)
	}
}
