package xmlrpc

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ser/core/rpc"
)

// TestSystemMethods covers system.listMethods, methodHelp and
// methodSignature over the in-process registry.
func TestSystemMethods(t *testing.T) {
	f := newFixture(t)
	_, ts := newServer(t, rpc.NewLocal(f.reg), Options{})
	c := newKolo(t, ts.URL+"/xmlrpc")

	var names []string
	if err := c.Call("system.listMethods", nil, &names); err != nil {
		t.Fatal(err)
	}
	wantNames := []string{"fifo.execute", "system.listMethods", "system.methodHelp", "system.methodSignature",
		"system.multicall", "test.echo", "echo", "panics", "stuck", "ul_show_contact", "which"}
	if !reflect.DeepEqual(names, wantNames) {
		t.Errorf("listMethods = %q, want %q", names, wantNames)
	}

	tests := []struct {
		name      string
		method    string
		params    []any
		want      any    // for signatures: decoded with kolo into any
		contains  string // for help texts
		faultCode int
	}{
		{name: "help of a command", method: "system.methodHelp", params: []any{"ul_show_contact"},
			contains: "Shows the contacts of an AOR.\nParameters (one per FIFO line): table, aor"},
		{name: "help of fifo.execute", method: "system.methodHelp", params: []any{"fifo.execute"}, contains: "{cmdname: string, cmdparams: array}"},
		{name: "help of an unknown method", method: "system.methodHelp", params: []any{"nosuch"}, faultCode: FaultMethodNotFound},
		{name: "help without a name", method: "system.methodHelp", params: []any{}, faultCode: FaultInvalidParams},
		{name: "help with an int", method: "system.methodHelp", params: []any{5}, faultCode: FaultInvalidParams},
		{name: "signature of a command", method: "system.methodSignature", params: []any{"ul_show_contact"},
			want: []any{[]any{"struct", "string", "string"}}},
		{name: "signature with an optional param", method: "system.methodSignature", params: []any{"echo"},
			want: []any{[]any{"struct", "string"}, []any{"struct", "string", "string"}}},
		{name: "signature not declared", method: "system.methodSignature", params: []any{"stuck"}, want: "undef"},
		{name: "signature of fifo.execute", method: "system.methodSignature", params: []any{"fifo.execute"},
			want: []any{[]any{"struct", "struct"}}},
		{name: "signature of multicall", method: "system.methodSignature", params: []any{"system.multicall"},
			want: []any{[]any{"array", "array"}}},
		{name: "signature of unknown", method: "system.methodSignature", params: []any{"nosuch"}, faultCode: FaultMethodNotFound},
		{name: "listMethods with a param", method: "system.listMethods", params: []any{"x"}, faultCode: FaultInvalidParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got any
			err := c.Call(tt.method, tt.params, &got)
			if tt.faultCode != 0 {
				if fe, ok := koloFault(err); !ok || fe.Code != tt.faultCode {
					t.Fatalf("got %v, %v; want fault %d", got, err, tt.faultCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.contains != "" {
				if s, _ := got.(string); !strings.Contains(s, tt.contains) {
					t.Fatalf("help = %q, want it to contain %q", got, tt.contains)
				}
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

// TestMulticall runs a batch mixing results and every kind of failure.
func TestMulticall(t *testing.T) {
	f := newFixture(t)
	_, ts := newServer(t, rpc.NewLocal(f.reg), Options{MaxMulticall: 8})
	c := newKolo(t, ts.URL+"/xmlrpc")
	type m = map[string]any
	calls := []any{
		m{"methodName": "fifo.execute", "params": []any{m{"cmdname": "ul_show_contact", "cmdparams": []any{"location", "012345"}}}},
		m{"methodName": "ul_show_contact", "params": []any{"location", "999"}},
		m{"methodName": "nosuch", "params": []any{}},
		m{"methodName": "system.multicall", "params": []any{[]any{}}},
		"not a struct",
		m{"params": []any{}},
		m{"methodName": "echo", "params": "x"},
		m{"methodName": "system.listMethods"},
	}
	var got []any
	if err := c.Call("system.multicall", []any{calls}, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(calls) {
		t.Fatalf("%d results for %d calls: %#v", len(got), len(calls), got)
	}
	first, ok := got[0].([]any)
	if !ok || len(first) != 1 {
		t.Fatalf("result 0 = %#v, want [struct]", got[0])
	}
	if r := first[0].(map[string]any); r["code"] != int64(200) || r["output"] != "200 OK\n"+foundContact+"\n" {
		t.Errorf("result 0 = %#v", r)
	}
	wantFaults := map[int]int64{1: 404, 2: FaultMethodNotFound, 3: FaultInvalidRequest, 4: FaultInvalidParams, 5: FaultInvalidParams, 6: FaultInvalidParams}
	for i, code := range wantFaults {
		fs, ok := got[i].(map[string]any)
		if !ok || fs["faultCode"] != code || fs["faultString"] == "" {
			t.Errorf("result %d = %#v, want fault %d", i, got[i], code)
		}
	}
	if last, ok := got[7].([]any); !ok || len(last) != 1 {
		t.Errorf("result 7 = %#v, want [array]", got[7])
	}

	tooMany := make([]any, 9)
	for i := range tooMany {
		tooMany[i] = m{"methodName": "which"}
	}
	err := c.Call("system.multicall", []any{tooMany}, &got)
	if fe, ok := koloFault(err); !ok || fe.Code != FaultInvalidParams {
		t.Fatalf("9 calls: %v, want fault %d", err, FaultInvalidParams)
	}
	err = c.Call("system.multicall", []any{"x"}, &got)
	if fe, ok := koloFault(err); !ok || fe.Code != FaultInvalidParams {
		t.Fatalf("string param: %v, want fault %d", err, FaultInvalidParams)
	}
}

// TestStuckCommand: a command that ignores its context cannot hold the
// request past CallTimeout, and while it keeps the only execution slot the
// next call times out waiting instead of piling up.
func TestStuckCommand(t *testing.T) {
	f := newFixture(t)
	timeout := 150 * time.Millisecond
	_, ts := newServer(t, rpc.NewLocal(f.reg), Options{CallTimeout: timeout, MaxInFlight: 1})
	c := newKolo(t, ts.URL+"/xmlrpc")
	for _, cmd := range []string{"stuck", "echo"} {
		start := time.Now()
		var res execResult
		err := c.Call("fifo.execute", map[string]any{"cmdname": cmd}, &res)
		fe, ok := koloFault(err)
		if !ok || fe.Code != FaultTimeout || !strings.HasPrefix(fe.String, "server unavailable: timeout after 150ms") {
			t.Fatalf("%s: %v, want timeout fault", cmd, err)
		}
		if d := time.Since(start); d > timeout+2*time.Second {
			t.Fatalf("%s: answered after %s", cmd, d)
		}
	}
	if n := f.runs.Load(); n != 1 {
		t.Fatalf("%d commands ran, want only the stuck one", n)
	}
}

// TestRemoteExecutor covers a remote executor (no rpc.Lister): commands listed through "which"
// (cached), transport errors as FaultUnavailable, deadlines as FaultTimeout.
func TestRemoteExecutor(t *testing.T) {
	f := newFixture(t)
	var whichRuns atomic.Int64
	var down atomic.Bool
	exec := func(ctx context.Context, cmd string, params []string) (*rpc.Reply, error) {
		if down.Load() {
			return nil, errors.New("fifo: dial /tmp/ser_fifo: no such file or directory")
		}
		if cmd == "which" {
			whichRuns.Add(1)
		}
		if cmd == "slow" {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return f.reg.Execute(ctx, cmd, rpc.Lines(params), rpc.FIFO), nil
	}
	_, ts := newServer(t, rpc.ExecutorFunc(exec), Options{CallTimeout: 200 * time.Millisecond})
	c := newKolo(t, ts.URL+"/xmlrpc")

	var names []string
	for range 2 {
		names = nil // kolo cannot decode into a non-empty slice
		if err := c.Call("system.listMethods", nil, &names); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(strings.Join(names, ","), ",echo,panics,stuck,ul_show_contact,which") {
		t.Errorf("listMethods = %q", names)
	}
	if n := whichRuns.Load(); n != 1 {
		t.Errorf("which ran %d times, want 1 (cached)", n)
	}
	var sig any
	if err := c.Call("system.methodSignature", "ul_show_contact", &sig); err != nil || sig != "undef" {
		t.Errorf("methodSignature over which = %#v, %v; want undef", sig, err)
	}
	var res execResult
	if err := c.Call("ul_show_contact", []any{"location", "012345"}, &res); err != nil || res.Code != 200 {
		t.Fatalf("per-command call: %+v, %v", res, err)
	}
	err := c.Call("fifo.execute", map[string]any{"cmdname": "slow"}, &res)
	if fe, ok := koloFault(err); !ok || fe.Code != FaultTimeout {
		t.Fatalf("slow: %v, want fault %d", err, FaultTimeout)
	}

	down.Store(true)
	err = c.Call("fifo.execute", map[string]any{"cmdname": "which"}, &res)
	fe, ok := koloFault(err)
	if !ok || fe.Code != FaultUnavailable || fe.String != "server unavailable: fifo: dial /tmp/ser_fifo: no such file or directory" {
		t.Fatalf("down: %v, want fault %d", err, FaultUnavailable)
	}
}

// TestRemoteCommandsErrors: listing commands fails when the server is down
// or which is refused.
func TestRemoteCommandsErrors(t *testing.T) {
	tests := []struct {
		name  string
		reply *rpc.Reply
		err   error
	}{
		{name: "transport error", err: errors.New("fifo: timeout")},
		{name: "which refused", reply: rpc.Errorf(500, "command 'which' not available")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := lister(rpc.ExecutorFunc(func(context.Context, string, []string) (*rpc.Reply, error) { return tt.reply, tt.err }))
			if cmds, err := r.Commands(context.Background()); err == nil {
				t.Fatalf("Commands = %v, want error", cmds)
			}
		})
	}
}
