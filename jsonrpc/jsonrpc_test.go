package jsonrpc

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"ser/core/rpc"
	"ser/core/rpc/sercmd"
)

func registry() *rpc.Registry {
	reg := rpc.NewRegistry()
	reg.MustRegister(
		rpc.Command{Name: "uptime", Handler: func(ctx context.Context, req *rpc.Request) *rpc.Reply {
			return rpc.Typed(req.OK(), sercmd.Uptime{Now: "now", Since: "then", Seconds: 3})
		}},
		rpc.Command{Name: "echo", Params: []string{"a", "b", "[c]"}, Handler: func(ctx context.Context, req *rpc.Request) *rpc.Reply {
			var ls []string
			for {
				l, ok := req.Params.Line()
				if !ok {
					break
				}
				ls = append(ls, l)
			}
			return rpc.NewReply(200, "ok", strings.Join(ls, "\n")+"\n")
		}},
		rpc.Command{Name: "missing", Handler: func(ctx context.Context, req *rpc.Request) *rpc.Reply {
			return rpc.Errorf(404, "Username x in table location not found")
		}},
		rpc.Command{Name: "stuck", Handler: func(ctx context.Context, req *rpc.Request) *rpc.Reply {
			<-ctx.Done()
			time.Sleep(50 * time.Millisecond)
			return rpc.Errorf(500, "late")
		}},
	)
	return reg
}

func newServer(t *testing.T, exec rpc.Executor, o Options) *httptest.Server {
	t.Helper()
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := New(exec, o)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return hs
}

func post(t *testing.T, url, ctype, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, ctype, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestCalls: results, structured values, parameters by position and by
// name, and the specification's errors, one request at a time.
func TestCalls(t *testing.T) {
	hs := newServer(t, rpc.NewLocal(registry()), Options{})
	for _, c := range []struct{ name, req, want string }{
		{"typed value", `{"jsonrpc":"2.0","method":"uptime","id":1}`,
			`{"jsonrpc":"2.0","result":{"now":"now","since":"then","seconds":3},"id":1}`},
		{"text reply", `{"jsonrpc":"2.0","method":"echo","params":["x",2,true,null],"id":"s"}`,
			`{"jsonrpc":"2.0","result":{"code":200,"reason":"ok","lines":["x","2","1",""]},"id":"s"}`},
		{"by name", `{"jsonrpc":"2.0","method":"echo","params":{"b":"B","a":"A"},"id":2}`,
			`{"jsonrpc":"2.0","result":{"code":200,"reason":"ok","lines":["A","B"]},"id":2}`},
		{"case-insensitive name", `{"jsonrpc":"2.0","method":"UPTIME","id":null}`,
			`{"jsonrpc":"2.0","result":{"now":"now","since":"then","seconds":3},"id":null}`},
		{"application error", `{"jsonrpc":"2.0","method":"missing","id":3}`,
			`{"jsonrpc":"2.0","error":{"code":404,"message":"Username x in table location not found","data":{"code":404,"reason":"Username x in table location not found","lines":[]}},"id":3}`},
		{"method not found", `{"jsonrpc":"2.0","method":"nope","id":4}`,
			`{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found: nope","data":"500 command 'nope' not available"},"id":4}`},
		{"missing named param", `{"jsonrpc":"2.0","method":"echo","params":{"a":"A"},"id":5}`,
			`{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params: echo: missing parameter \"b\" (parameters: a, b, [c])"},"id":5}`},
		{"unknown named param", `{"jsonrpc":"2.0","method":"echo","params":{"a":"A","b":"B","z":1},"id":6}`,
			`{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params: echo: unknown parameter \"z\" (parameters: a, b, [c])"},"id":6}`},
		{"nested param", `{"jsonrpc":"2.0","method":"echo","params":[["x"]],"id":7}`,
			`{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params: params[0]: a parameter must be a string, a number, a boolean or null"},"id":7}`},
		{"parse error", `{"jsonrpc":"2.0",`,
			`{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error: unexpected end of JSON input"},"id":null}`},
		{"no version", `{"method":"uptime","id":8}`,
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request: \"jsonrpc\" must be \"2.0\""},"id":8}`},
		{"method not a string", `{"jsonrpc":"2.0","method":1,"id":9}`,
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request: \"method\" must be a string"},"id":9}`},
		{"scalar params", `{"jsonrpc":"2.0","method":"uptime","params":"x","id":10}`,
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request: \"params\" must be an array or an object"},"id":10}`},
		{"bad id", `{"jsonrpc":"2.0","method":"uptime","id":{}}`,
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request: id must be a string, a number or null"},"id":null}`},
		{"not an object", `1`,
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request: not an object"},"id":null}`},
		{"empty batch", `[]`,
			`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request: empty batch"},"id":null}`},
	} {
		code, body := post(t, hs.URL, "application/json", c.req)
		if code != 200 || body != c.want {
			t.Errorf("%s: %d\n got %s\nwant %s", c.name, code, body, c.want)
		}
	}
}

// TestNotificationsAndBatches: notifications get no answer (204 when
// nothing is left), a batch answers its requests in order, bounded.
func TestNotificationsAndBatches(t *testing.T) {
	hs := newServer(t, rpc.NewLocal(registry()), Options{MaxBatch: 3})
	if code, body := post(t, hs.URL, "application/json", `{"jsonrpc":"2.0","method":"uptime"}`); code != 204 || body != "" {
		t.Errorf("notification: %d %q", code, body)
	}
	if code, body := post(t, hs.URL, "application/json", `[{"jsonrpc":"2.0","method":"uptime"},{"jsonrpc":"2.0","method":"nope"}]`); code != 204 || body != "" {
		t.Errorf("batch of notifications: %d %q", code, body)
	}
	code, body := post(t, hs.URL, "application/json", `[{"jsonrpc":"2.0","method":"echo","params":["a"],"id":1},{"jsonrpc":"2.0","method":"uptime"},{"x":1}]`)
	want := `[{"jsonrpc":"2.0","result":{"code":200,"reason":"ok","lines":["a"]},"id":1},{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request: \"jsonrpc\" must be \"2.0\""},"id":null}]`
	if code != 200 || body != want {
		t.Errorf("batch: %d\n got %s\nwant %s", code, body, want)
	}
	big := "[" + strings.Repeat(`{"jsonrpc":"2.0","method":"uptime","id":1},`, 3) + `{"jsonrpc":"2.0","method":"uptime","id":1}]`
	if _, body := post(t, hs.URL, "application/json", big); body != `{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request: batch of 4 requests, at most 3"},"id":null}` {
		t.Errorf("batch over the limit: %s", body)
	}
}

// TestHTTPRules: POST of application/json only, the body bounded.
func TestHTTPRules(t *testing.T) {
	hs := newServer(t, rpc.NewLocal(registry()), Options{MaxBodyBytes: 100})
	if code, _ := post(t, hs.URL, "text/plain", `{"jsonrpc":"2.0","method":"uptime","id":1}`); code != 415 {
		t.Errorf("text/plain: %d", code)
	}
	if code, _ := post(t, hs.URL, "application/x-www-form-urlencoded", `{"jsonrpc":"2.0","method":"uptime","id":1}`); code != 415 {
		t.Errorf("form: %d", code)
	}
	if code, _ := post(t, hs.URL, "application/json; charset=utf-8", `{"jsonrpc":"2.0","method":"uptime","id":1}`); code != 200 {
		t.Errorf("json with charset: %d", code)
	}
	code, body := post(t, hs.URL, "application/json", `{"jsonrpc":"2.0","method":"echo","params":["`+strings.Repeat("x", 200)+`"],"id":1}`)
	if code != 413 || !strings.Contains(body, `"code":-32600`) {
		t.Errorf("too large: %d %s", code, body)
	}
	resp, err := http.Get(hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("GET: %d", resp.StatusCode)
	}
}

// TestRemoteExecutorAndTimeout: over an executor without a command list
// (a FIFO client) an unknown command is recognised by SER's answer; a
// command that outlives the call timeout is -32000.
func TestRemoteExecutorAndTimeout(t *testing.T) {
	reg := registry()
	remote := rpc.ExecutorFunc(func(ctx context.Context, cmd string, params []string) (*rpc.Reply, error) {
		rep := reg.Execute(ctx, cmd, rpc.Lines(params), rpc.FIFO)
		return rpc.Raw(rep.Text), nil // text only, as from the FIFO
	})
	hs := newServer(t, remote, Options{CallTimeout: 200 * time.Millisecond})
	_, body := post(t, hs.URL, "application/json", `{"jsonrpc":"2.0","method":"nope","id":1}`)
	if body != `{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found: nope","data":"500 command 'nope' not available"},"id":1}` {
		t.Errorf("remote unknown: %s", body)
	}
	_, body = post(t, hs.URL, "application/json", `{"jsonrpc":"2.0","method":"uptime","id":1}`)
	var r struct{ Result Reply }
	if err := json.Unmarshal([]byte(body), &r); err != nil || r.Result.Code != 200 || r.Result.Lines[0] != "Now: now" {
		t.Errorf("remote uptime (text): %s", body)
	}
	_, body = post(t, hs.URL, "application/json", `{"jsonrpc":"2.0","method":"stuck","id":1}`)
	if !strings.Contains(body, `"code":-32000`) {
		t.Errorf("stuck: %s", body)
	}
}
