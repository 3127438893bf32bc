package xmlrpc

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzDecodeCall: any body either decodes or gives a *Fault, never a
// panic; what decodes can be encoded again and re-read with as many params.
func FuzzDecodeCall(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.xml")
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		call, err := DecodeCall(bytes.NewReader(body))
		if err != nil {
			if _, ok := err.(*Fault); !ok {
				t.Fatalf("error %T %v is not a *Fault", err, err)
			}
			return
		}
		out, err := EncodeResponse(call.Params)
		if err != nil && strings.Contains(err.Error(), "nested deeper") {
			return
		}
		if err != nil {
			t.Fatalf("decoded params do not encode: %v", err)
		}
		doc := strings.Replace(strings.Replace(string(out), "methodResponse>", "methodCall>", 2),
			"<methodCall>", "<methodCall><methodName>x</methodName>", 1)
		again, err := DecodeCall(strings.NewReader(doc))
		if err != nil && strings.Contains(err.Error(), "nested deeper") {
			return // the extra array level crossed maxDepth
		}
		if err != nil {
			t.Fatalf("re-reading our own encoding: %v\n%s", err, doc)
		}
		if len(again.Params) != 1 || len(again.Params[0].([]any)) != len(call.Params) {
			t.Fatalf("re-read %d params, want 1 array of %d", len(again.Params), len(call.Params))
		}
	})
}
