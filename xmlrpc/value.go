package xmlrpc

import (
	"fmt"
	"strconv"
	"time"
)

// Decoded XML-RPC values are plain Go values:
//
//	<i4>, <int>, <i8>        int64
//	<boolean>                bool
//	<string>, untyped text   string
//	<double>                 float64
//	<dateTime.iso8601>       time.Time
//	<base64>                 []byte (decoded)
//	<struct>                 map[string]any
//	<array>                  []any
//	<nil/>                   nil
//
// The encoder accepts the same types plus int, int32, []string, Struct (a
// struct with ordered members) and *Fault inside system.multicall results.

// iso8601 is the XML-RPC dateTime layout ("19980717T14:08:55").
const iso8601 = "20060102T15:04:05"

// Member is one named member of an ordered Struct.
type Member struct {
	Name  string
	Value any
}

// Struct is an XML-RPC struct whose members are encoded in order (a
// map[string]any is encoded with sorted member names).
type Struct []Member

// typeName returns the XML-RPC type name of a decoded value, for messages.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "nil"
	case string:
		return "string"
	case int64, int, int32:
		return "int"
	case bool:
		return "boolean"
	case float64:
		return "double"
	case time.Time:
		return "dateTime.iso8601"
	case []byte:
		return "base64"
	case map[string]any, Struct:
		return "struct"
	case []any, []string:
		return "array"
	}
	return fmt.Sprintf("%T", v)
}

// paramLine converts a scalar value to the text of one FIFO parameter line:
// strings as they are, integers in decimal, booleans as 1/0, doubles in the
// shortest decimal form, dates as 20060102T15:04:05, base64 as its decoded
// bytes, nil as an empty line. Structs and arrays have no line form.
func paramLine(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case bool:
		if x {
			return "1", nil
		}
		return "0", nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case time.Time:
		return x.Format(iso8601), nil
	case []byte:
		return string(x), nil
	}
	return "", fmt.Errorf("%s is not a FIFO parameter line (string, int, boolean, double, dateTime or base64 expected)", typeName(v))
}
