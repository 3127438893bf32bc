package transport

import (
	"bytes"
	"errors"
)

// Framing errors: a message whose Content-Length cannot be trusted is
// answered 400 (a request) or dropped, never forwarded — a downstream
// that read another Content-Length than ours would take part of the body
// for a second message coming from us (request smuggling).
var (
	// ErrDupContentLength: more than one Content-Length (full or compact
	// "l:" form). Content-Length is a single-instance header (RFC 3261
	// §7.3.1, §20.14), so a repeated one is refused even when the values
	// agree.
	ErrDupContentLength = errors.New("more than one Content-Length header")
	// ErrBadContentLength: the value is not 1*DIGIT (RFC 3261 §20.14):
	// a sign, junk, an empty value or a list.
	ErrBadContentLength = errors.New("Content-Length is not a decimal number")
	// ErrBigContentLength: the value has more than 9 digits.
	ErrBigContentLength = errors.New("Content-Length out of range")
)

// maxCLDigits bounds a Content-Length value (999,999,999 bytes); every
// larger value is refused before any arithmetic.
const maxCLDigits = 9

// ContentLength returns the Content-Length of a message from its header
// lines (msg may hold just the header block or the whole message; the scan
// stops at the first empty line). present is false when there is no such
// header. Folded continuation lines of the header are part of its value.
// The value must be digits only (surrounding spaces and tabs allowed); a
// second Content-Length, full or compact, is ErrDupContentLength.
func ContentLength(msg []byte) (n int, present bool, err error) {
	inCL := false // the previous header line was Content-Length
	var val []byte
	finish := func() error {
		if !inCL {
			return nil
		}
		inCL = false
		v, err := parseCL(val)
		n = v
		return err
	}
	for len(msg) > 0 {
		var line []byte
		if i := bytes.IndexByte(msg, '\n'); i >= 0 {
			line, msg = msg[:i], msg[i+1:]
		} else {
			line, msg = msg, nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if inCL {
				val = append(append(val, ' '), line...)
			}
			continue
		}
		if err := finish(); err != nil {
			return 0, true, err
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			continue
		}
		name := bytes.TrimRight(line[:colon], " \t")
		if !bytes.EqualFold(name, []byte("content-length")) && !bytes.EqualFold(name, []byte("l")) {
			continue
		}
		if present {
			return 0, true, ErrDupContentLength
		}
		present, inCL = true, true
		val = append(val[:0], line[colon+1:]...)
	}
	if err := finish(); err != nil {
		return 0, true, err
	}
	return n, present, nil
}

// parseCL parses a Content-Length value: optional white space around
// 1..9 digits.
func parseCL(v []byte) (int, error) {
	v = bytes.Trim(v, " \t")
	if len(v) == 0 {
		return 0, ErrBadContentLength
	}
	n := 0
	for i, c := range v {
		if c < '0' || c > '9' {
			return 0, ErrBadContentLength
		}
		if i >= maxCLDigits {
			return 0, ErrBigContentLength
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}
