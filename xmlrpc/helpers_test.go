package xmlrpc

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	kolo "github.com/kolo/xmlrpc"

	"ser/core/rpc"
)

// foundContact is the body line of the fake ul_show_contact for 012345.
const foundContact = "<sip:012345@192.0.2.10:5060>;q=1;expires=3600"

// fixture is a registry of test commands and counters of their runs.
type fixture struct {
	reg   *rpc.Registry
	runs  atomic.Int64 // every command run
	stuck chan struct{}
}

// newFixture registers ul_show_contact (found for aor 012345, SER's 404
// otherwise), echo (body = the parameter lines), stuck (blocks until the
// test ends, ignoring its context), panics and which.
func newFixture(t testing.TB) *fixture {
	f := &fixture{reg: rpc.NewRegistry(), stuck: make(chan struct{})}
	t.Cleanup(func() { close(f.stuck) })
	f.reg.MustRegister(
		rpc.Command{Name: "ul_show_contact", Params: []string{"table", "aor"}, Help: "Shows the contacts of an AOR.",
			Handler: func(_ context.Context, req *rpc.Request) *rpc.Reply {
				f.runs.Add(1)
				table, _ := req.Params.Line()
				aor, ok := req.Params.Line()
				switch {
				case !ok:
					return rpc.Errorf(400, "ul_show_contact: aor expected")
				case table != "location":
					return rpc.Errorf(400, "table (%s) not found", table)
				case aor != "012345":
					return rpc.Errorf(404, "Username %s in table %s not found", aor, table)
				}
				return rpc.NewReply(200, "OK", foundContact+"\n")
			}},
		rpc.Command{Name: "echo", Params: []string{"line", "[more]"},
			Handler: func(_ context.Context, req *rpc.Request) *rpc.Reply {
				f.runs.Add(1)
				var b strings.Builder
				for {
					l, ok := req.Params.Line()
					if !ok {
						break
					}
					b.WriteString(l + "\n")
				}
				return rpc.NewReply(200, req.OK()[4:], b.String())
			}},
		rpc.Command{Name: "stuck", Handler: func(_ context.Context, req *rpc.Request) *rpc.Reply {
			f.runs.Add(1)
			<-f.stuck
			return rpc.NewReply(200, "ok", "")
		}},
		rpc.Command{Name: "panics", Handler: func(_ context.Context, req *rpc.Request) *rpc.Reply {
			f.runs.Add(1)
			panic("handler bug")
		}},
		rpc.Command{Name: "which", Handler: func(_ context.Context, req *rpc.Request) *rpc.Reply {
			f.runs.Add(1)
			return rpc.NewReply(200, "ok", strings.Join(f.reg.Names(), "\n")+"\n")
		}},
	)
	return f
}

// quietLogger discards logs.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newServer returns a bridge over exec with a test.echo method that returns
// its parameters, and an httptest server for it (URL + "/xmlrpc").
func newServer(t testing.TB, exec rpc.Executor, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	s, err := New(exec, opts)
	if err != nil {
		t.Fatal(err)
	}
	s.methods["test.echo"] = method{help: "Returns its parameters.", sig: [][]string{{"array"}},
		fn: func(_ context.Context, params []any) (any, *Fault) { return params, nil }}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

// newKolo returns a kolo/xmlrpc client for url.
func newKolo(t testing.TB, url string) *kolo.Client {
	t.Helper()
	return newKoloTransport(t, url, &http.Transport{MaxIdleConnsPerHost: 4})
}

// newKoloTransport returns a kolo/xmlrpc client for url over transport.
func newKoloTransport(t testing.TB, url string, transport http.RoundTripper) *kolo.Client {
	t.Helper()
	c, err := kolo.NewClient(url, transport)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// post sends body to url and returns the status and response body.
func post(t testing.TB, url, body string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Post(url, "text/xml", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

// faultOf decodes a fault response body; ok is false for a non-fault.
func faultOf(t testing.TB, body string) (kolo.FaultError, bool) {
	t.Helper()
	err := kolo.Response(body).Err()
	if err == nil {
		return kolo.FaultError{}, false
	}
	f, ok := err.(kolo.FaultError)
	if !ok {
		t.Fatalf("response is neither a result nor a fault: %v\n%s", err, body)
	}
	return f, true
}

// requireTool returns the path of an external program. A missing tool skips
// the test on a developer machine and fails it when CI or SER_REQUIRE_TOOLS
// is set.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	missing(t, name+" not found in PATH")
	return ""
}

// missing skips or fails the test for an unavailable tool (see requireTool).
func missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "" && os.Getenv("SER_REQUIRE_TOOLS") == "" {
		t.Skip(why + " (set SER_REQUIRE_TOOLS=1 to make this a failure)")
	}
	t.Fatal(why + " (required: CI or SER_REQUIRE_TOOLS is set)")
}
