package xmlrpc

import (
	"fmt"
	"net/rpc"
	"reflect"
	"strings"
	"testing"
	"time"

	kolo "github.com/kolo/xmlrpc"

	serrpc "ser/core/rpc"
)

// koloFault recovers the fault from a kolo Call error: net/rpc turns
// kolo's FaultError into an rpc.ServerError "Fault(code): string".
func koloFault(err error) (kolo.FaultError, bool) {
	se, ok := err.(rpc.ServerError)
	if !ok {
		return kolo.FaultError{}, false
	}
	var fe kolo.FaultError
	if _, err := fmt.Sscanf(string(se), "Fault(%d):", &fe.Code); err != nil {
		return kolo.FaultError{}, false
	}
	_, fe.String, _ = strings.Cut(string(se), "): ")
	return fe, true
}

// execResult is the fifo.execute result struct as a client decodes it.
type execResult struct {
	Code   int      `xmlrpc:"code"`
	Reason string   `xmlrpc:"reason"`
	Lines  []string `xmlrpc:"lines"`
	Output string   `xmlrpc:"output"`
}

// TestKoloRoundTrip sends every value type with kolo's encoder, has
// test.echo return it through our decoder and encoder, and decodes the
// answer with kolo's decoder.
func TestKoloRoundTrip(t *testing.T) {
	f := newFixture(t)
	_, ts := newServer(t, serrpc.NewLocal(f.reg), Options{})
	c := newKolo(t, ts.URL+"/xmlrpc")
	when := time.Date(2005, 2, 10, 11, 9, 21, 0, time.UTC)
	var nilString *string
	tests := []struct {
		name string
		in   any
		want any // as kolo decodes it
	}{
		{name: "string", in: "location", want: "location"},
		{name: "string with markup and newlines", in: "a<b>&c\r\nd\te", want: "a<b>&c\r\nd\te"},
		{name: "utf-8 string", in: "Grüße €", want: "Grüße €"},
		// kolo decodes an empty <string></string> to nil.
		{name: "empty string", in: "", want: nil},
		{name: "int", in: 3600, want: int64(3600)},
		{name: "negative int", in: -42, want: int64(-42)},
		{name: "unsigned as i4", in: uint(7), want: int64(7)},
		{name: "64-bit int", in: int64(1) << 40, want: int64(1) << 40},
		{name: "boolean true", in: true, want: true},
		{name: "boolean false", in: false, want: false},
		{name: "double", in: 0.125, want: 0.125},
		{name: "dateTime", in: when, want: when},
		// kolo hands base64 text through in both directions.
		{name: "base64", in: kolo.Base64("YmluAAE="), want: "YmluAAE="},
		// kolo sends a nil pointer as <value/>: an empty string.
		{name: "nil pointer is an empty value", in: nilString, want: nil},
		{name: "array", in: []any{"a", 1, true}, want: []any{"a", int64(1), true}},
		{name: "struct", in: map[string]any{"cmdname": "which", "n": 2},
			want: map[string]any{"cmdname": "which", "n": int64(2)}},
		{name: "nested", in: map[string]any{"a": []any{map[string]any{"b": []any{}}}},
			want: map[string]any{"a": []any{map[string]any{"b": []any{}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []any
			if err := c.Call("test.echo", []any{tt.in}, &got); err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || !reflect.DeepEqual(got[0], tt.want) {
				t.Fatalf("echo(%#v) = %#v, want [%#v]", tt.in, got, tt.want)
			}
		})
	}
}

// TestKoloFifoExecute runs commands with kolo as the client: results,
// FIFO errors as faults with the FIFO status, and the bridge's own faults.
func TestKoloFifoExecute(t *testing.T) {
	f := newFixture(t)
	_, ts := newServer(t, serrpc.NewLocal(f.reg), Options{})
	c := newKolo(t, ts.URL+"/xmlrpc")
	found := execResult{Code: 200, Reason: "OK", Lines: []string{foundContact}, Output: "200 OK\n" + foundContact + "\n"}
	type args = map[string]any
	tests := []struct {
		name      string
		method    string
		params    any
		want      execResult
		faultCode int
		faultText string
	}{
		{name: "seed request", method: "fifo.execute",
			params: args{"cmdname": "ul_show_contact", "cmdparams": []string{"location", "012345"}}, want: found},
		{name: "per-command method", method: "ul_show_contact", params: []any{"location", "012345"}, want: found},
		{name: "per-command name ignores case", method: "UL_SHOW_CONTACT", params: []any{"location", "012345"}, want: found},
		{name: "int params become text", method: "fifo.execute",
			params: args{"cmdname": "echo", "cmdparams": []any{3600, 0.5, true, "x"}},
			want:   execResult{Code: 200, Reason: "ok", Lines: []string{"3600", "0.5", "1", "x"}, Output: "200 ok\n3600\n0.5\n1\nx\n"}},
		{name: "missing cmdparams", method: "fifo.execute", params: args{"cmdname": "echo"},
			// kolo decodes an empty array to a nil slice.
			want: execResult{Code: 200, Reason: "ok", Lines: nil, Output: "200 ok\n"}},
		{name: "multi-line string is several lines", method: "echo", params: []any{"a\nb"},
			want: execResult{Code: 200, Reason: "ok", Lines: []string{"a", "b"}, Output: "200 ok\na\nb\n"}},
		{name: "404 from the command", method: "fifo.execute",
			params:    args{"cmdname": "ul_show_contact", "cmdparams": []string{"location", "999"}},
			faultCode: 404, faultText: "Username 999 in table location not found"},
		{name: "400 from the command", method: "ul_show_contact", params: []any{"nosuch", "1"},
			faultCode: 400, faultText: "table (nosuch) not found"},
		{name: "unknown command through fifo.execute", method: "fifo.execute", params: args{"cmdname": "nosuch"},
			faultCode: 500, faultText: "command 'nosuch' not available"},
		{name: "unknown method", method: "nosuch", params: []any{"x"},
			faultCode: FaultMethodNotFound, faultText: "requested method not found: nosuch"},
		{name: "fifo.execute without struct", method: "fifo.execute", params: []any{"ul_show_contact"},
			faultCode: FaultInvalidParams, faultText: "invalid method parameters: fifo.execute: struct {cmdname, cmdparams} expected, got string"},
		{name: "fifo.execute with two params", method: "fifo.execute", params: []any{args{"cmdname": "echo"}, "x"},
			faultCode: FaultInvalidParams, faultText: "invalid method parameters: fifo.execute takes 1 parameter, a struct {cmdname, cmdparams}; got 2"},
		{name: "cmdname not a string", method: "fifo.execute", params: args{"cmdname": 5},
			faultCode: FaultInvalidParams, faultText: "invalid method parameters: fifo.execute: cmdname must be a string, got int"},
		{name: "cmdname with a colon", method: "fifo.execute", params: args{"cmdname": "which:x"},
			faultCode: FaultInvalidParams, faultText: `invalid method parameters: fifo.execute: invalid cmdname "which:x"`},
		{name: "cmdparams not an array", method: "fifo.execute", params: args{"cmdname": "echo", "cmdparams": "x"},
			faultCode: FaultInvalidParams, faultText: "invalid method parameters: fifo.execute: cmdparams must be an array, got string"},
		{name: "struct inside cmdparams", method: "fifo.execute", params: args{"cmdname": "echo", "cmdparams": []any{args{}}},
			faultCode: FaultInvalidParams},
		{name: "misspelt member", method: "fifo.execute", params: args{"cmdname": "echo", "cmdparam": []any{"x"}},
			faultCode: FaultInvalidParams, faultText: `invalid method parameters: fifo.execute: unknown member "cmdparam"`},
		{name: "panicking handler", method: "panics", params: []any{},
			faultCode: FaultInternal, faultText: "internal error: command panics failed"},
		{name: "array param of a per-command method", method: "echo", params: []any{[]any{"a"}},
			faultCode: FaultInvalidParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got execResult
			err := c.Call(tt.method, tt.params, &got)
			if tt.faultCode != 0 {
				fe, ok := koloFault(err)
				if !ok || fe.Code != tt.faultCode || (tt.faultText != "" && fe.String != tt.faultText) {
					t.Fatalf("got %#v, %v; want fault %d %q", got, err, tt.faultCode, tt.faultText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}
