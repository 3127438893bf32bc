package transport

import (
	"bufio"
	"errors"
	"strings"
	"testing"
)

func TestContentLengthStrict(t *testing.T) {
	head := "OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
	cases := []struct {
		name    string
		hdrs    string
		n       int
		present bool
		err     error
	}{
		{"none", "", 0, false, nil},
		{"plain", "Content-Length: 12\r\n", 12, true, nil},
		{"compact", "l: 7\r\n", 7, true, nil},
		{"spaces and tabs", "Content-Length: \t 5 \t\r\n", 5, true, nil},
		{"lower case, no space", "content-length:3\r\n", 3, true, nil},
		{"folded", "Content-Length:\r\n 4\r\n", 4, true, nil},
		{"leading zeros", "Content-Length: 007\r\n", 7, true, nil},
		{"two different", "Content-Length: 0\r\nContent-Length: 40\r\n", 0, true, ErrDupContentLength},
		{"full and compact", "Content-Length: 4\r\nl: 40\r\n", 0, true, ErrDupContentLength},
		{"two identical", "Content-Length: 4\r\nContent-Length: 4\r\n", 0, true, ErrDupContentLength},
		{"plus sign", "Content-Length: +5\r\n", 0, true, ErrBadContentLength},
		{"minus", "Content-Length: -1\r\n", 0, true, ErrBadContentLength},
		{"leading junk", "Content-Length: x5\r\n", 0, true, ErrBadContentLength},
		{"trailing junk", "Content-Length: 5x\r\n", 0, true, ErrBadContentLength},
		{"list", "Content-Length: 5, 6\r\n", 0, true, ErrBadContentLength},
		{"hex", "Content-Length: 0x10\r\n", 0, true, ErrBadContentLength},
		{"empty", "Content-Length:\r\n", 0, true, ErrBadContentLength},
		{"inner space", "Content-Length: 1 2\r\n", 0, true, ErrBadContentLength},
		{"huge", "Content-Length: 18446744073709551617\r\n", 0, true, ErrBigContentLength},
		{"ten digits", "Content-Length: 1000000000\r\n", 0, true, ErrBigContentLength},
		{"nine digits", "Content-Length: 999999999\r\n", 999999999, true, nil},
	}
	for _, c := range cases {
		for _, eol := range []string{"\r\n", "\n"} {
			msg := strings.ReplaceAll(head+c.hdrs+"\r\n"+"Content-Length: 99\r\n", "\r\n", eol)
			n, present, err := ContentLength([]byte(msg))
			if !errors.Is(err, c.err) || n != c.n || present != c.present {
				t.Errorf("%s (%q line ends): got %d %v %v, want %d %v %v", c.name, eol, n, present, err, c.n, c.present, c.err)
			}
		}
	}
}

// TestReadMessageFramingErrors: on a stream, a bad or repeated
// Content-Length, or one over the limit, is a FramingError carrying the
// header block (for the 400), never a message framed by one of the values.
func TestReadMessageFramingErrors(t *testing.T) {
	for _, hdr := range []string{
		"Content-Length: 0\r\nContent-Length: 30\r\n",
		"l: 30\r\nContent-Length: 0\r\n",
		"Content-Length: +5\r\n",
		"Content-Length: -1\r\n",
		"Content-Length: 99999\r\n",
	} {
		head := "OPTIONS sip:x SIP/2.0\r\nCall-ID: a\r\n" + hdr + "\r\n"
		r := bufio.NewReader(strings.NewReader(head + "OPTIONS sip:y SIP/2.0\r\nCall-ID: b\r\n\r\n"))
		raw, err := readMessage(r, 1000)
		var fe *FramingError
		if !errors.As(err, &fe) {
			t.Fatalf("%q: got %q, %v; want a framing error", hdr, raw, err)
		}
		if string(raw) != head {
			t.Errorf("%q: header block %q, want %q", hdr, raw, head)
		}
	}
}

// readMessage reads one message from r with frame (a test client's
// reader; byte by byte, so nothing after the message is consumed). A
// FramingError comes with the header block.
func readMessage(r *bufio.Reader, max int) ([]byte, error) {
	var buf []byte
	for {
		skip, n, err := frame(buf, max)
		switch {
		case skip > 0:
			buf = buf[skip:]
			continue
		case err != nil:
			var fe *FramingError
			if errors.As(err, &fe) {
				return fe.head, err
			}
			return nil, err
		case n > 0:
			return buf[:n], nil
		}
		c, err := r.ReadByte()
		if err != nil {
			return nil, err
		}
		buf = append(buf, c)
	}
}
