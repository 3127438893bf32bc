package xmlrpc

import (
	"math"
	"strings"
	"testing"
)

// TestEncodeResponse checks the exact XML of each value type.
func TestEncodeResponse(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string // the <value> inside the response
	}{
		{name: "string", v: "200 OK\n<sip:a@b>;q=1\n", want: "<value><string>200 OK\n&lt;sip:a@b&gt;;q=1\n</string></value>"},
		{name: "escapes", v: "a&b\rc\td", want: "<value><string>a&amp;b&#13;c\td</string></value>"},
		{name: "invalid utf-8 and control", v: "x\xffy\x01", want: "<value><string>x\uFFFDy\uFFFD</string></value>"},
		{name: "int", v: 404, want: "<value><int>404</int></value>"},
		{name: "int64 small", v: int64(-7), want: "<value><int>-7</int></value>"},
		{name: "int64 large", v: int64(1) << 40, want: "<value><i8>1099511627776</i8></value>"},
		{name: "int32", v: int32(5), want: "<value><int>5</int></value>"},
		{name: "boolean", v: true, want: "<value><boolean>1</boolean></value>"},
		{name: "double", v: 0.5, want: "<value><double>0.5</double></value>"},
		{name: "double large", v: 1e21, want: "<value><double>1000000000000000000000</double></value>"},
		{name: "dateTime", v: feb10, want: "<value><dateTime.iso8601>20050210T11:09:21</dateTime.iso8601></value>"},
		{name: "base64", v: []byte("bin\x00"), want: "<value><base64>YmluAA==</base64></value>"},
		{name: "nil", v: nil, want: "<value><nil/></value>"},
		{name: "string array", v: []string{"a", "<b>"}, want: "<value><array><data><value><string>a</string></value><value><string>&lt;b&gt;</string></value></data></array></value>"},
		{name: "empty array", v: []any{}, want: "<value><array><data></data></array></value>"},
		{name: "ordered struct", v: Struct{{"z", 1}, {"a", "x"}},
			want: "<value><struct><member><name>z</name><value><int>1</int></value></member><member><name>a</name><value><string>x</string></value></member></struct></value>"},
		{name: "map struct sorted", v: map[string]any{"b": false, "a": []any{int64(1)}},
			want: "<value><struct><member><name>a</name><value><array><data><value><int>1</int></value></data></array></value></member><member><name>b</name><value><boolean>0</boolean></value></member></struct></value>"},
		{name: "fault in multicall array", v: []any{[]any{"ok"}, &Fault{Code: 404, String: "not found"}},
			want: "<value><array><data><value><array><data><value><string>ok</string></value></data></array></value>" +
				"<value><struct><member><name>faultCode</name><value><int>404</int></value></member><member><name>faultString</name><value><string>not found</string></value></member></struct></value></data></array></value>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := EncodeResponse(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			want := xmlHeader + "<methodResponse><params><param>" + tt.want + "</param></params></methodResponse>\n"
			if string(b) != want {
				t.Errorf("got\n%s\nwant\n%s", b, want)
			}
		})
	}
}

// TestEncodeResponseErrors covers values without an XML-RPC form.
func TestEncodeResponseErrors(t *testing.T) {
	deep := any("x")
	for range maxDepth + 2 {
		deep = []any{deep}
	}
	tests := []struct {
		name string
		v    any
	}{
		{name: "NaN", v: math.NaN()},
		{name: "infinity", v: math.Inf(1)},
		{name: "unsupported type", v: struct{}{}},
		{name: "channel in array", v: []any{make(chan int)}},
		{name: "too deep", v: deep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := EncodeResponse(tt.v); err == nil {
				t.Fatal("EncodeResponse succeeded")
			}
		})
	}
}

// TestEncodeFault checks the fault document.
func TestEncodeFault(t *testing.T) {
	got := string(EncodeFault(&Fault{Code: -32601, String: "requested method not found: a<b"}))
	want := xmlHeader + "<methodResponse><fault><value><struct>" +
		"<member><name>faultCode</name><value><int>-32601</int></value></member>" +
		"<member><name>faultString</name><value><string>requested method not found: a&lt;b</string></value></member>" +
		"</struct></value></fault></methodResponse>\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

// TestEncodeDecodeStrings round-trips awkward strings through our own
// encoder and decoder (a response value re-read as a call parameter).
func TestEncodeDecodeStrings(t *testing.T) {
	for _, s := range []string{"", " lead and trail ", "a\r\nb", "<&>\"'", "tab\there", "üñí€😀", "]]>"} {
		b, err := EncodeResponse(s)
		if err != nil {
			t.Fatal(err)
		}
		body := strings.Replace(strings.Replace(string(b), "methodResponse>", "methodCall>", 2),
			"<methodCall>", "<methodCall><methodName>x</methodName>", 1)
		call, err := DecodeCall(strings.NewReader(body))
		if err != nil {
			t.Fatalf("%q: %v\n%s", s, err, body)
		}
		if call.Params[0] != s {
			t.Errorf("round trip of %q gave %q", s, call.Params[0])
		}
	}
}

// TestParamLine checks the FIFO text of each scalar type.
func TestParamLine(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
		bad  bool
	}{
		{name: "string", v: "location", want: "location"},
		{name: "int", v: int64(3600), want: "3600"},
		{name: "negative int", v: int64(-1), want: "-1"},
		{name: "true", v: true, want: "1"},
		{name: "false", v: false, want: "0"},
		{name: "double", v: 0.5, want: "0.5"},
		{name: "whole double", v: 1.0, want: "1"},
		{name: "dateTime", v: feb10, want: "20050210T11:09:21"},
		{name: "base64", v: []byte("raw"), want: "raw"},
		{name: "nil", v: nil, want: ""},
		{name: "array", v: []any{"a"}, bad: true},
		{name: "struct", v: map[string]any{}, bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := paramLine(tt.v)
			if tt.bad {
				if err == nil {
					t.Fatalf("paramLine(%v) = %q, want error", tt.v, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("paramLine(%v) = %q, %v; want %q", tt.v, got, err, tt.want)
			}
		})
	}
}
