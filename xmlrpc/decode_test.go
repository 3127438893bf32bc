package xmlrpc

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var feb10 = time.Date(2005, 2, 10, 11, 9, 21, 0, time.UTC)

// TestDecodeCall decodes real request bodies from testdata/: PHP's
// xmlrpc_encode_request and Python's xmlrpc.client output, lenient forms,
// and malformed or invalid documents with their fault codes.
func TestDecodeCall(t *testing.T) {
	seed := map[string]any{"cmdname": "ul_show_contact", "cmdparams": []any{"location", "012345"}}
	tests := []struct {
		file   string
		method string
		params []any
		fault  int
	}{
		{file: "php_fifo_execute.xml", method: "fifo.execute", params: []any{seed}},
		{file: "php_fifo_execute_no_cmdparams.xml", method: "fifo.execute", params: []any{map[string]any{"cmdname": "which"}}},
		{file: "php_fifo_execute_empty_cmdparams.xml", method: "fifo.execute",
			params: []any{map[string]any{"cmdname": "which", "cmdparams": []any{}}}},
		{file: "php_fifo_execute_int_params.xml", method: "fifo.execute", params: []any{map[string]any{"cmdname": "ul_add",
			"cmdparams": []any{"location", "012345", "sip:012345@192.0.2.10", int64(3600), 0.5, int64(0), int64(0)}}}},
		{file: "php_per_command.xml", method: "ul_show_contact", params: []any{"location", int64(12345)}},
		{file: "php_types.xml", method: "test.echo", params: []any{
			[]byte("bin\x00\x01"), feb10, 1.5, true, false, "", int64(-7), "a<b&c",
			map[string]any{"a": []any{int64(1), int64(2), map[string]any{"x": "y"}}, "e": []any{}},
		}},
		{file: "php_latin1.xml", method: "test.echo", params: []any{"Müller"}},
		{file: "php_list_methods.xml", method: "system.listMethods", params: []any{}},
		{file: "python_fifo_execute.xml", method: "fifo.execute", params: []any{seed}},
		{file: "python_multicall.xml", method: "system.multicall", params: []any{[]any{
			map[string]any{"methodName": "fifo.execute", "params": []any{map[string]any{"cmdname": "which"}}},
			map[string]any{"methodName": "ul_show_contact", "params": []any{"location", "012345"}},
		}}},
		{file: "python_types.xml", method: "test.echo", params: []any{
			nil, int64(7), []byte("\xff\x00ab"), feb10, 3.25, "Grüße", true, []any{}, map[string]any{},
		}},
		{file: "lenient_forms.xml", method: "test.echo", params: []any{
			"  untyped text  ", "", "", "a<b&c", "line1\nline2", int64(42), int64(1099511627776), int64(-5), nil, feb10, -0.125,
		}},
		{file: "nested.xml", method: "test.echo", params: []any{map[string]any{"calls": []any{
			map[string]any{"m": []any{[]any{int64(1), map[string]any{"deep": false}}}},
		}}}},
		{file: "cp1252.xml", method: "test.echo", params: []any{"€ 5 ä"}},
		{file: "latin1_charrefs.xml", method: "test.echo", params: []any{"über Ü"}},

		{file: "malformed_truncated.xml", fault: FaultParse},
		{file: "malformed_mismatched_tag.xml", fault: FaultParse},
		{file: "malformed_form_post.xml", fault: FaultParse},
		{file: "malformed_bad_entity.xml", fault: FaultParse},
		{file: "malformed_two_roots.xml", fault: FaultParse},
		{file: "unsupported_encoding.xml", fault: FaultEncoding},
		{file: "invalid_root.xml", fault: FaultInvalidRequest},
		{file: "invalid_no_method_name.xml", fault: FaultInvalidRequest},
		{file: "invalid_unknown_type.xml", fault: FaultInvalidRequest},
		{file: "invalid_int.xml", fault: FaultInvalidRequest},
		{file: "invalid_boolean.xml", fault: FaultInvalidRequest},
		{file: "invalid_base64.xml", fault: FaultInvalidRequest},
		{file: "invalid_date.xml", fault: FaultInvalidRequest},
		{file: "invalid_member_without_value.xml", fault: FaultInvalidRequest},
		{file: "invalid_array_without_data.xml", fault: FaultInvalidRequest},
		{file: "invalid_mixed_value.xml", fault: FaultInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".xml"), func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			call, err := DecodeCall(f)
			if tt.fault != 0 {
				var fault *Fault
				if !errors.As(err, &fault) || fault.Code != tt.fault {
					t.Fatalf("DecodeCall = %+v, %v; want fault %d", call, err, tt.fault)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeCall: %v", err)
			}
			if call.Method != tt.method {
				t.Errorf("method = %q, want %q", call.Method, tt.method)
			}
			if !reflect.DeepEqual(call.Params, tt.params) {
				t.Errorf("params =\n%#v\nwant\n%#v", call.Params, tt.params)
			}
		})
	}
}

// TestDecodeCallEveryFileCovered keeps the table above complete.
func TestDecodeCallEveryFileCovered(t *testing.T) {
	src, err := os.ReadFile("decode_test.go")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("testdata/*.xml")
	for _, f := range files {
		if !strings.Contains(string(src), `"`+filepath.Base(f)+`"`) {
			t.Errorf("%s has no case in TestDecodeCall", f)
		}
	}
}

// TestDecodeCallLimits checks nesting depth and empty input.
func TestDecodeCallLimits(t *testing.T) {
	deep := func(n int) string {
		return `<methodCall><methodName>x</methodName><params><param><value>` +
			strings.Repeat("<array><data><value>", n) + "1" + strings.Repeat("</value></data></array>", n) +
			`</value></param></params></methodCall>`
	}
	tests := []struct {
		name  string
		body  string
		fault int
	}{
		{name: "empty body", body: "", fault: FaultParse},
		{name: "white space only", body: " \n ", fault: FaultParse},
		{name: "nesting at the limit", body: deep(maxDepth - 1)},
		{name: "nesting over the limit", body: deep(maxDepth + 1), fault: FaultInvalidRequest},
		{name: "no params element", body: `<methodCall><methodName>which</methodName></methodCall>`},
		{name: "two methodNames", body: `<methodCall><methodName>a</methodName><methodName>b</methodName></methodCall>`, fault: FaultInvalidRequest},
		{name: "double NaN", body: `<methodCall><methodName>a</methodName><params><param><value><double>NaN</double></value></param></params></methodCall>`, fault: FaultInvalidRequest},
		{name: "text beside param value", body: `<methodCall><methodName>a</methodName><params><param><value>1</value>x</param></params></methodCall>`, fault: FaultInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeCall(strings.NewReader(tt.body))
			var f *Fault
			switch {
			case tt.fault == 0 && err != nil:
				t.Fatalf("DecodeCall: %v", err)
			case tt.fault != 0 && (!errors.As(err, &f) || f.Code != tt.fault):
				t.Fatalf("DecodeCall error = %v, want fault %d", err, tt.fault)
			}
		})
	}
}

// TestLatin1Reader converts in small reads (multi-byte output split over
// calls).
func TestLatin1Reader(t *testing.T) {
	r := &latin1Reader{r: strings.NewReader("a\xfcb\xe9\x80"), win: true}
	var out []byte
	buf := make([]byte, 1)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			break
		}
	}
	if got, want := string(out), "aübé€"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
