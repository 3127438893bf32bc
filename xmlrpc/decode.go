package xmlrpc

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
)

// maxDepth bounds the nesting of arrays and structs in a request.
const maxDepth = 64

// Call is a decoded XML-RPC methodCall.
type Call struct {
	Method string
	Params []any
}

// DecodeCall decodes one methodCall document. Values decode to the Go types
// listed in value.go. A body that is not well-formed XML gives a *Fault with
// FaultParse, an unreadable charset FaultEncoding, and anything else that is
// not an XML-RPC methodCall FaultInvalidRequest.
func DecodeCall(r io.Reader) (*Call, error) {
	d := xml.NewDecoder(r)
	d.CharsetReader = charsetReader
	dec := &decoder{d: d}
	c, err := dec.call()
	if err != nil {
		return nil, err
	}
	// Only comments, processing instructions and white space may follow.
	for {
		tok, err := dec.next()
		if errors.Is(err, io.EOF) {
			return c, nil
		}
		if err != nil {
			return nil, err
		}
		if cd, ok := tok.(xml.CharData); ok && len(bytes.TrimSpace(cd)) == 0 {
			continue
		}
		return nil, faultf(FaultParse, "parse error: not well formed: content after </methodCall>")
	}
}

// decoder walks the token stream of one request.
type decoder struct {
	d     *xml.Decoder
	depth int
}

// invalidf builds a FaultInvalidRequest fault.
func invalidf(format string, a ...any) *Fault {
	f := faultf(FaultInvalidRequest, format, a...)
	f.String = "invalid xml-rpc: " + f.String
	return f
}

// next returns the next start, end or character-data token, skipping
// comments, processing instructions and directives. XML errors become
// FaultParse (or FaultEncoding) faults; the end of input is io.EOF.
func (dec *decoder) next() (xml.Token, error) {
	for {
		tok, err := dec.d.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
			if errors.Is(err, errCharset) {
				return nil, faultf(FaultEncoding, "parse error: unsupported encoding: %v", err)
			}
			return nil, faultf(FaultParse, "parse error: not well formed: %v", err)
		}
		switch tok.(type) {
		case xml.StartElement, xml.EndElement, xml.CharData:
			return tok, nil
		}
	}
}

// mustNext is next where the end of input is a parse error.
func (dec *decoder) mustNext() (xml.Token, error) {
	tok, err := dec.next()
	if errors.Is(err, io.EOF) {
		return nil, faultf(FaultParse, "parse error: not well formed: unexpected end of document")
	}
	return tok, err
}

// element returns the next start or end element, skipping white space.
func (dec *decoder) element() (xml.Token, error) {
	for {
		tok, err := dec.mustNext()
		if err != nil {
			return nil, err
		}
		if cd, ok := tok.(xml.CharData); ok {
			if len(bytes.TrimSpace(cd)) != 0 {
				return nil, invalidf("unexpected text %q", shorten(string(cd)))
			}
			continue
		}
		return tok, nil
	}
}

// expectStart reads the next element, which must be <name>.
func (dec *decoder) expectStart(name string) error {
	tok, err := dec.element()
	if err != nil {
		return err
	}
	if se, ok := tok.(xml.StartElement); !ok || se.Name.Local != name {
		return invalidf("<%s> expected, got %s", name, describe(tok))
	}
	return nil
}

// expectEnd reads the next element, which must close the current one.
func (dec *decoder) expectEnd(name string) error {
	tok, err := dec.element()
	if err != nil {
		return err
	}
	if _, ok := tok.(xml.EndElement); !ok {
		return invalidf("</%s> expected, got %s", name, describe(tok))
	}
	return nil
}

// text reads character data up to the end of the current element, which
// must not contain child elements.
func (dec *decoder) text(name string) (string, error) {
	var b strings.Builder
	for {
		tok, err := dec.mustNext()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.EndElement:
			return b.String(), nil
		default:
			return "", invalidf("<%s> must hold text, got %s", name, describe(tok))
		}
	}
}

// call decodes <methodCall><methodName>…</methodName><params>…</params></methodCall>.
func (dec *decoder) call() (*Call, error) {
	for { // the root element; text before it is not XML
		tok, err := dec.mustNext()
		if err != nil {
			return nil, err
		}
		if cd, ok := tok.(xml.CharData); ok && len(bytes.TrimSpace(cd)) == 0 {
			continue
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Local != "methodCall" {
				return nil, invalidf("<methodCall> expected, got %s", describe(tok))
			}
			break
		}
		return nil, faultf(FaultParse, "parse error: not well formed: no root element")
	}
	c := &Call{Params: []any{}}
	seenName, seenParams := false, false
	for {
		tok, err := dec.element()
		if err != nil {
			return nil, err
		}
		se, ok := tok.(xml.StartElement)
		if !ok { // </methodCall>
			if !seenName {
				return nil, invalidf("<methodName> missing")
			}
			return c, nil
		}
		switch {
		case se.Name.Local == "methodName" && !seenName:
			name, err := dec.text("methodName")
			if err != nil {
				return nil, err
			}
			c.Method = strings.TrimSpace(name)
			if c.Method == "" {
				return nil, invalidf("empty <methodName>")
			}
			seenName = true
		case se.Name.Local == "params" && !seenParams:
			if c.Params, err = dec.params(); err != nil {
				return nil, err
			}
			seenParams = true
		default:
			return nil, invalidf("unexpected %s in <methodCall>", describe(tok))
		}
	}
}

// params decodes the <param> children of <params>.
func (dec *decoder) params() ([]any, error) {
	out := []any{}
	for {
		tok, err := dec.element()
		if err != nil {
			return nil, err
		}
		se, ok := tok.(xml.StartElement)
		if !ok { // </params>
			return out, nil
		}
		if se.Name.Local != "param" {
			return nil, invalidf("<param> expected, got %s", describe(tok))
		}
		if err := dec.expectStart("value"); err != nil {
			return nil, err
		}
		v, err := dec.value()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		if err := dec.expectEnd("param"); err != nil {
			return nil, err
		}
	}
}

// value decodes the content of a <value> element (its start already read)
// through its end tag. A value without a type element is a string.
func (dec *decoder) value() (any, error) {
	dec.depth++
	defer func() { dec.depth-- }()
	if dec.depth > maxDepth {
		return nil, invalidf("values nested deeper than %d levels", maxDepth)
	}
	var text strings.Builder
	for {
		tok, err := dec.mustNext()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			return text.String(), nil
		case xml.StartElement:
			if strings.TrimSpace(text.String()) != "" {
				return nil, invalidf("text mixed with <%s> in <value>", t.Name.Local)
			}
			v, err := dec.typed(t.Name.Local)
			if err != nil {
				return nil, err
			}
			return v, dec.expectEnd("value")
		}
	}
}

// dateLayouts are the dateTime.iso8601 spellings accepted.
var dateLayouts = []string{
	iso8601, "20060102T15:04:05Z07:00", "20060102T150405", "20060102T150405Z07:00",
	"2006-01-02T15:04:05", "2006-01-02T15:04:05Z07:00",
}

// typed decodes a typed value whose start element <name> was just read.
func (dec *decoder) typed(name string) (any, error) {
	switch name {
	case "struct":
		return dec.structValue()
	case "array":
		return dec.arrayValue()
	case "nil":
		if _, err := dec.text(name); err != nil {
			return nil, err
		}
		return nil, nil
	}
	raw, err := dec.text(name)
	if err != nil {
		return nil, err
	}
	s := strings.TrimSpace(raw)
	switch name {
	case "string":
		return raw, nil
	case "i4", "int", "i8":
		n, err := strconv.ParseInt(strings.TrimPrefix(s, "+"), 10, 64)
		if err != nil {
			return nil, invalidf("bad <%s> %q", name, shorten(s))
		}
		return n, nil
	case "boolean":
		switch s {
		case "1", "true":
			return true, nil
		case "0", "false":
			return false, nil
		}
		return nil, invalidf("bad <boolean> %q", shorten(s))
	case "double":
		f, err := strconv.ParseFloat(s, 64)
		low := strings.ToLower(s)
		if err != nil || strings.Contains(low, "inf") || strings.Contains(low, "nan") {
			return nil, invalidf("bad <double> %q", shorten(s))
		}
		return f, nil
	case "dateTime.iso8601":
		for _, layout := range dateLayouts {
			if t, err := time.Parse(layout, s); err == nil {
				return t, nil
			}
		}
		return nil, invalidf("bad <dateTime.iso8601> %q", shorten(s))
	case "base64":
		clean := strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, s)
		b, err := base64.StdEncoding.DecodeString(clean)
		if err != nil {
			if b, err = base64.RawStdEncoding.DecodeString(clean); err != nil {
				return nil, invalidf("bad <base64>: %v", err)
			}
		}
		return b, nil
	}
	return nil, invalidf("unknown value type <%s>", name)
}

// structValue decodes <member>s up to </struct>.
func (dec *decoder) structValue() (any, error) {
	out := map[string]any{}
	for {
		tok, err := dec.element()
		if err != nil {
			return nil, err
		}
		se, ok := tok.(xml.StartElement)
		if !ok { // </struct>
			return out, nil
		}
		if se.Name.Local != "member" {
			return nil, invalidf("<member> expected in <struct>, got %s", describe(tok))
		}
		var (
			name              string
			v                 any
			hasName, hasValue bool
		)
		for {
			tok, err := dec.element()
			if err != nil {
				return nil, err
			}
			se, ok := tok.(xml.StartElement)
			if !ok { // </member>
				break
			}
			switch {
			case se.Name.Local == "name" && !hasName:
				if name, err = dec.text("name"); err != nil {
					return nil, err
				}
				hasName = true
			case se.Name.Local == "value" && !hasValue:
				if v, err = dec.value(); err != nil {
					return nil, err
				}
				hasValue = true
			default:
				return nil, invalidf("unexpected %s in <member>", describe(tok))
			}
		}
		if !hasName || !hasValue {
			return nil, invalidf("<member> needs <name> and <value>")
		}
		out[name] = v
	}
}

// arrayValue decodes <data><value>…</value>…</data></array>.
func (dec *decoder) arrayValue() (any, error) {
	if err := dec.expectStart("data"); err != nil {
		return nil, err
	}
	out := []any{}
	for {
		tok, err := dec.element()
		if err != nil {
			return nil, err
		}
		se, ok := tok.(xml.StartElement)
		if !ok { // </data>
			break
		}
		if se.Name.Local != "value" {
			return nil, invalidf("<value> expected in <data>, got %s", describe(tok))
		}
		v, err := dec.value()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, dec.expectEnd("array")
}

// describe names a token for error messages.
func describe(tok xml.Token) string {
	switch t := tok.(type) {
	case xml.StartElement:
		return "<" + t.Name.Local + ">"
	case xml.EndElement:
		return "</" + t.Name.Local + ">"
	}
	return "text"
}

// shorten cuts s for error messages.
func shorten(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}
