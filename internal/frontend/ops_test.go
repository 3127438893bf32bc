package frontend

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"ser/core/rpc"
)

func get(t *testing.T, method, url, user, pass string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestOpsEndpoints: /health always answers, /ready reports the check's
// reason with 503, /metrics is behind the XML-RPC credentials, and the
// three take GET and HEAD only.
func TestOpsEndpoints(t *testing.T) {
	var down atomic.Bool
	f, err := Start(rpc.NewLocal(rpc.NewRegistry()), Options{
		Listen: "127.0.0.1:0", User: "admin", Password: "pw", Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "m 1\n") }),
		Ready: func(context.Context) error {
			if down.Load() {
				return errors.New("database x does not answer")
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	base := "http://" + f.Addr()
	for _, c := range []struct {
		method, path, user string
		down               bool
		code               int
		body               string
	}{
		{"GET", "/health", "", false, 200, "ok\n"},
		{"GET", "/ready", "", false, 200, "ready\n"},
		{"GET", "/ready", "", true, 503, "not ready: database x does not answer\n"},
		{"GET", "/health", "", true, 200, "ok\n"},
		{"GET", "/metrics", "", false, 401, ""},
		{"GET", "/metrics", "admin", false, 200, "m 1\n"},
		{"POST", "/health", "", false, 405, ""},
		{"POST", "/metrics", "admin", false, 405, ""},
	} {
		down.Store(c.down)
		code, body := get(t, c.method, base+c.path, c.user, "pw")
		if code != c.code || c.body != "" && body != c.body {
			t.Errorf("%s %s (down %v): %d %q, want %d %q", c.method, c.path, c.down, code, body, c.code, c.body)
		}
	}
	if _, err := Start(rpc.NewLocal(rpc.NewRegistry()), Options{Listen: "127.0.0.1:0", MetricsAllow: []string{"not-a-net"}}); err == nil ||
		!strings.Contains(err.Error(), "metrics_allow") {
		t.Fatalf("bad metrics_allow: %v", err)
	}
}
