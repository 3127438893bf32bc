package xmlrpc

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"ser/core/rpc"
)

// requirePHP returns php when it has the xmlrpc and curl extensions.
func requirePHP(t *testing.T) string {
	t.Helper()
	php := requireTool(t, "php")
	out, _ := exec.Command(php, "-r",
		`echo (function_exists("xmlrpc_encode_request") && function_exists("curl_init")) ? "ok" : "missing";`).Output()
	if string(out) != "ok" {
		missing(t, "php has no xmlrpc or curl extension (apt install php-xmlrpc php-curl)")
	}
	return php
}

// runJSON runs a client program and decodes the JSON it prints.
func runJSON(t *testing.T, name string, args ...string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, stderr.String())
	}
	var v map[string]any
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("%s printed %q: %v\n%s", name, out, err, stderr.String())
	}
	return v
}

// recorder keeps the bodies and content types of requests it passes on.
type recorder struct {
	h      http.Handler
	mu     sync.Mutex
	bodies []string
	types  []string
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.bodies = append(rec.bodies, string(b))
	rec.types = append(rec.types, r.Header.Get("Content-Type"))
	rec.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(b))
	rec.h.ServeHTTP(w, r)
}

// notFoundExecutor answers every ul_show_contact with SER's 404.
func notFoundExecutor() rpc.Executor { return notFound{} }

type notFound struct{}

func (notFound) Execute(_ context.Context, cmd string, params []string) (*rpc.Reply, error) {
	if cmd != "ul_show_contact" || len(params) != 2 {
		return rpc.NotFound(cmd, rpc.FIFO), nil
	}
	return rpc.Errorf(404, "Username %s in table %s not found", params[1], params[0]), nil
}

func (notFound) Commands(context.Context) ([]rpc.CommandInfo, error) {
	return []rpc.CommandInfo{{Name: "ul_show_contact", Params: []string{"table", "aor"}}}, nil
}

// TestGranigPHPScript runs the PHP client from Granig's mail unchanged but
// for its URL, once against a server that finds the contact and once
// against one that answers 404.
func TestGranigPHPScript(t *testing.T) {
	php := requirePHP(t)
	script, err := os.ReadFile("testdata/granig.php")
	if err != nil {
		t.Fatal(err)
	}
	const seedURL = `"http://my.server:5080/xmlrpc"`
	if !bytes.Contains(script, []byte(seedURL)) {
		t.Fatal("granig.php lost the seed's URL line")
	}
	phpRequest, err := os.ReadFile("testdata/php_fifo_execute.xml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		exec func(t *testing.T) rpc.Executor
		want string
	}{
		{name: "contact found", exec: func(t *testing.T) rpc.Executor { return rpc.NewLocal(newFixture(t).reg) },
			want: `{"fault":false,"response":{"code":200,"reason":"OK","lines":["` + foundContact + `"],"output":"200 OK\n` + foundContact + `\n"}}`},
		{name: "404 fault", exec: func(*testing.T) rpc.Executor { return notFoundExecutor() },
			want: `{"fault":true,"response":{"faultCode":404,"faultString":"Username 012345 in table location not found"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.exec(t), Options{Logger: quietLogger()})
			if err != nil {
				t.Fatal(err)
			}
			rec := &recorder{h: s.Handler()}
			ts := httptest.NewServer(rec)
			defer ts.Close()
			file := filepath.Join(t.TempDir(), "granig.php")
			src := bytes.Replace(script, []byte(seedURL), []byte(`"`+ts.URL+`/xmlrpc"`), 1)
			if err := os.WriteFile(file, src, 0o600); err != nil {
				t.Fatal(err)
			}
			got := runJSON(t, php, file)
			var want map[string]any
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("script decoded\n%v\nwant\n%v", got, want)
			}
			if len(rec.bodies) != 1 || rec.bodies[0] != string(phpRequest) {
				t.Errorf("PHP sent\n%q\ntestdata/php_fifo_execute.xml holds\n%q", rec.bodies, phpRequest)
			}
			if rec.types[0] != "application/x-www-form-urlencoded" {
				t.Logf("PHP Content-Type: %q", rec.types[0])
			}
		})
	}
}

// TestPHPClient makes more PHP calls: per-command methods, int and missing
// cmdparams, a latin-1 string, system.listMethods, faults, basic auth, and
// a 2 MiB request (413 with a fault PHP decodes).
func TestPHPClient(t *testing.T) {
	php := requirePHP(t)
	f := newFixture(t)
	_, ts := newServer(t, rpc.NewLocal(f.reg), Options{Users: map[string]string{"serweb": "s3cret"}})
	got := runJSON(t, php, "testdata/php_client.php", ts.URL+"/xmlrpc", "serweb", "s3cret")
	result := func(lines ...string) map[string]any {
		out := "200 ok\n" + strings.Join(lines, "\n") + "\n"
		if len(lines) == 0 {
			out = "200 ok\n"
		}
		ls := make([]any, len(lines))
		for i, l := range lines {
			ls[i] = l
		}
		return map[string]any{"status": 200.0, "fault": false,
			"response": map[string]any{"code": 200.0, "reason": "ok", "lines": ls, "output": out}}
	}
	want := map[string]any{
		"per_command": map[string]any{"status": 200.0, "fault": false, "response": map[string]any{
			"code": 200.0, "reason": "OK", "lines": []any{foundContact}, "output": "200 OK\n" + foundContact + "\n"}},
		"int_params":   result("3600", "x"),
		"no_cmdparams": result(),
		"latin1":       result("Müller"),
		"unknown": map[string]any{"status": 200.0, "fault": true, "response": map[string]any{
			"faultCode": float64(FaultMethodNotFound), "faultString": "requested method not found: nosuch"}},
		"wrong_password": map[string]any{"status": 401.0, "fault": false, "response": nil},
		"too_large": map[string]any{"status": 413.0, "fault": true, "response": map[string]any{
			"faultCode": float64(FaultTooLarge), "faultString": "request too large: over 1048576 bytes"}},
	}
	methods, _ := got["list_methods"].(map[string]any)["response"].([]any)
	if len(methods) < 6 || methods[0] != "fifo.execute" || !containsAny(methods, "ul_show_contact") {
		t.Errorf("list_methods = %v", got["list_methods"])
	}
	delete(got, "list_methods")
	for k, w := range want {
		if !reflect.DeepEqual(got[k], w) {
			t.Errorf("%s =\n%#v\nwant\n%#v", k, got[k], w)
		}
	}
}

// containsAny reports whether list holds s.
func containsAny(list []any, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestPythonClient runs Python's xmlrpc.client: fifo.execute, a
// per-command method, a fault, introspection, nil, and system.multicall.
func TestPythonClient(t *testing.T) {
	py := requireTool(t, "python3")
	f := newFixture(t)
	_, ts := newServer(t, rpc.NewLocal(f.reg), Options{})
	got := runJSON(t, py, "testdata/python_client.py", ts.URL+"/xmlrpc")
	found := map[string]any{"code": 200.0, "reason": "OK", "lines": []any{foundContact}, "output": "200 OK\n" + foundContact + "\n"}
	notFound := map[string]any{"faultCode": 404.0, "faultString": "Username 999 in table location not found"}
	checks := map[string]any{
		"fifo_execute":     found,
		"per_command":      found,
		"not_found":        notFound,
		"method_signature": []any{[]any{"struct", "string", "string"}},
		"nil_param": map[string]any{"code": 200.0, "reason": "ok", "lines": []any{"", "7", "1"},
			"output": "200 ok\n\n7\n1\n"},
	}
	for k, w := range checks {
		if !reflect.DeepEqual(got[k], w) {
			t.Errorf("%s =\n%#v\nwant\n%#v", k, got[k], w)
		}
	}
	if h, _ := got["method_help"].(string); !strings.Contains(h, "table, aor") {
		t.Errorf("method_help = %q", got["method_help"])
	}
	if m, _ := got["list_methods"].([]any); !containsAny(m, "system.multicall") || !containsAny(m, "ul_show_contact") {
		t.Errorf("list_methods = %v", got["list_methods"])
	}
	mc, _ := got["multicall"].([]any)
	if len(mc) != 3 {
		t.Fatalf("multicall = %#v", got["multicall"])
	}
	if !reflect.DeepEqual(mc[0], []any{found}) || !reflect.DeepEqual(mc[1], notFound) {
		t.Errorf("multicall = %#v", mc[:2])
	}
	if l, ok := mc[2].([]any); !ok || len(l) != 1 {
		t.Errorf("multicall listMethods = %#v", mc[2])
	}
}
