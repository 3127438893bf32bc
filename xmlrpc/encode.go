package xmlrpc

import (
	"encoding/base64"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"
)

// xmlHeader starts every response document.
const xmlHeader = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

// EncodeResponse encodes v as a methodResponse with one param. It fails
// only for values of a type listed nowhere in value.go (a programming
// error) or for a double that is NaN or infinite.
func EncodeResponse(v any) ([]byte, error) {
	b := make([]byte, 0, 512)
	b = append(b, xmlHeader...)
	b = append(b, "<methodResponse><params><param>"...)
	b, err := appendValue(b, v, 0)
	if err != nil {
		return nil, err
	}
	b = append(b, "</param></params></methodResponse>\n"...)
	return b, nil
}

// EncodeFault encodes f as a methodResponse fault.
func EncodeFault(f *Fault) []byte {
	b := make([]byte, 0, 256)
	b = append(b, xmlHeader...)
	b = append(b, "<methodResponse><fault>"...)
	b = appendFaultValue(b, f)
	b = append(b, "</fault></methodResponse>\n"...)
	return b
}

// appendFaultValue appends the {faultCode, faultString} struct value.
func appendFaultValue(b []byte, f *Fault) []byte {
	b = append(b, "<value><struct><member><name>faultCode</name><value><int>"...)
	b = strconv.AppendInt(b, int64(f.Code), 10)
	b = append(b, "</int></value></member><member><name>faultString</name><value><string>"...)
	b = appendEscaped(b, f.String)
	b = append(b, "</string></value></member></struct></value>"...)
	return b
}

// appendValue appends <value>…</value> for v.
func appendValue(b []byte, v any, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("xmlrpc: encode: values nested deeper than %d levels", maxDepth)
	}
	var err error
	if f, ok := v.(*Fault); ok { // a failed call inside a system.multicall result
		return appendFaultValue(b, f), nil
	}
	b = append(b, "<value>"...)
	switch x := v.(type) {
	case nil:
		b = append(b, "<nil/>"...)
	case string:
		b = append(b, "<string>"...)
		b = appendEscaped(b, x)
		b = append(b, "</string>"...)
	case int:
		b = appendInt(b, int64(x))
	case int32:
		b = appendInt(b, int64(x))
	case int64:
		b = appendInt(b, x)
	case bool:
		if x {
			b = append(b, "<boolean>1</boolean>"...)
		} else {
			b = append(b, "<boolean>0</boolean>"...)
		}
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("xmlrpc: encode: double %v has no XML-RPC form", x)
		}
		b = append(b, "<double>"...)
		b = strconv.AppendFloat(b, x, 'f', -1, 64)
		b = append(b, "</double>"...)
	case time.Time:
		b = append(b, "<dateTime.iso8601>"...)
		b = x.AppendFormat(b, iso8601)
		b = append(b, "</dateTime.iso8601>"...)
	case []byte:
		b = append(b, "<base64>"...)
		b = base64.StdEncoding.AppendEncode(b, x)
		b = append(b, "</base64>"...)
	case []string:
		b = append(b, "<array><data>"...)
		for _, s := range x {
			b = append(b, "<value><string>"...)
			b = appendEscaped(b, s)
			b = append(b, "</string></value>"...)
		}
		b = append(b, "</data></array>"...)
	case []any:
		b = append(b, "<array><data>"...)
		for _, e := range x {
			if b, err = appendValue(b, e, depth+1); err != nil {
				return nil, err
			}
		}
		b = append(b, "</data></array>"...)
	case Struct:
		b = append(b, "<struct>"...)
		for _, m := range x {
			if b, err = appendMember(b, m.Name, m.Value, depth); err != nil {
				return nil, err
			}
		}
		b = append(b, "</struct>"...)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, "<struct>"...)
		for _, k := range keys {
			if b, err = appendMember(b, k, x[k], depth); err != nil {
				return nil, err
			}
		}
		b = append(b, "</struct>"...)
	default:
		return nil, fmt.Errorf("xmlrpc: encode: unsupported type %T", v)
	}
	return append(b, "</value>"...), nil
}

// appendMember appends one struct member.
func appendMember(b []byte, name string, v any, depth int) ([]byte, error) {
	b = append(b, "<member><name>"...)
	b = appendEscaped(b, name)
	b = append(b, "</name>"...)
	b, err := appendValue(b, v, depth+1)
	if err != nil {
		return nil, err
	}
	return append(b, "</member>"...), nil
}

// appendInt appends <int>n</int>, or <i8> when n needs more than 32 bits.
func appendInt(b []byte, n int64) []byte {
	if n < math.MinInt32 || n > math.MaxInt32 {
		b = append(b, "<i8>"...)
		b = strconv.AppendInt(b, n, 10)
		return append(b, "</i8>"...)
	}
	b = append(b, "<int>"...)
	b = strconv.AppendInt(b, n, 10)
	return append(b, "</int>"...)
}

// appendEscaped appends s as XML character data: markup characters are
// escaped, CR is kept as a character reference (XML would turn a literal CR
// into LF), and invalid UTF-8 and characters XML 1.0 forbids become U+FFFD.
// Newlines and tabs stay literal so FIFO output remains readable.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '<':
			b = append(b, "&lt;"...)
		case r == '>':
			b = append(b, "&gt;"...)
		case r == '&':
			b = append(b, "&amp;"...)
		case r == '\r':
			b = append(b, "&#13;"...)
		case r == '\n' || r == '\t':
			b = append(b, byte(r))
		case r == utf8.RuneError && size == 1, !xmlChar(r):
			b = utf8.AppendRune(b, utf8.RuneError)
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}

// xmlChar reports whether r is allowed in an XML 1.0 document.
func xmlChar(r rune) bool {
	return r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}
