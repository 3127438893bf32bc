package xmlrpc

import (
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

// errCharset reports an XML encoding declaration the decoder cannot read.
var errCharset = errors.New("unsupported charset")

// cp1252 maps windows-1252 bytes 0x80..0x9F (0 = undefined, kept as the
// latin-1 control character).
var cp1252 = [32]rune{
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
}

// charsetReader is xml.Decoder.CharsetReader: PHP's xmlrpc extension
// declares encoding="iso-8859-1" on every request, so latin-1 (and its
// windows-1252 superset and US-ASCII subset) is converted to UTF-8.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf8":
		return in, nil
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "iso-ir-100", "latin1", "latin-1", "l1",
		"us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us":
		return &latin1Reader{r: in}, nil
	case "windows-1252", "cp1252", "x-cp1252":
		return &latin1Reader{r: in, win: true}, nil
	}
	return nil, errCharset
}

// latin1Reader converts an ISO-8859-1 (or windows-1252) byte stream to UTF-8.
type latin1Reader struct {
	r       io.Reader
	win     bool
	scratch []byte
	pending []byte // converted bytes not yet returned
	err     error  // source error, returned once pending is drained
}

// Read implements io.Reader.
func (l *latin1Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if len(l.pending) > 0 {
		n := copy(p, l.pending)
		l.pending = l.pending[n:]
		return n, nil
	}
	if l.err != nil {
		return 0, l.err
	}
	want := max(len(p)/2, 1)
	if cap(l.scratch) < want {
		l.scratch = make([]byte, want)
	}
	n, err := l.r.Read(l.scratch[:want])
	out := p[:0]
	for _, b := range l.scratch[:n] {
		r := rune(b)
		if l.win && b >= 0x80 && b <= 0x9F && cp1252[b-0x80] != 0 {
			r = cp1252[b-0x80]
		}
		if r < utf8.RuneSelf {
			out = l.add(p, out, byte(r))
			continue
		}
		var enc [utf8.UTFMax]byte
		for _, c := range enc[:utf8.EncodeRune(enc[:], r)] {
			out = l.add(p, out, c)
		}
	}
	if err != nil && len(l.pending) > 0 {
		l.err, err = err, nil
	}
	return len(out), err
}

// add appends c to out while p has room, else to the pending buffer.
func (l *latin1Reader) add(p, out []byte, c byte) []byte {
	if len(out) < len(p) && len(l.pending) == 0 {
		return append(out, c)
	}
	l.pending = append(l.pending, c)
	return out
}
