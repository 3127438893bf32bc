package fifo

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"ser/core/rpc"
)

// pipeBuf is PIPE_BUF on Linux: writes up to this size are atomic, so a
// request that small is never split by the kernel.
const pipeBuf = 4096

// framer reads the FIFO byte stream the way SER's server did: the first
// line of a request, then the parameter lines as the command asks for them
// (SER's handlers read their own lines from the stream), then the
// request's terminator.
//
// Where SER blocked, the framer uses the fact that a client writes a
// request with one write(2) (atomic up to PIPE_BUF, and in practice up to
// the pipe's free space): when no more bytes are waiting, the request is
// over. A command asking for more lines than were sent therefore gets "no
// more lines" instead of waiting for, and eating, the next client's
// request (unless that request already waits in the pipe). A final empty
// line is the request's terminator, not a parameter, when nothing follows
// it or (for Line) when the first line of another request follows it. See
// finish for what happens to lines a command left unread.
type framer struct {
	f     *os.File
	rc    syscall.RawConn
	buf   []byte // unread bytes
	chunk []byte // read buffer

	partialWait time.Duration // for the rest of a line without its LF
	bigWait     time.Duration // for more of a request over PIPE_BUF
	maxRequest  int
	isCmd       func(name string) bool

	size int   // bytes of the current request read so far
	err  error // a read error met while serving a command
}

func newFramer(f *os.File, maxRequest int, isCmd func(string) bool) (*framer, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("fifo: %w", err)
	}
	return &framer{
		f: f, rc: rc, chunk: make([]byte, 64<<10),
		partialWait: time.Second, bigWait: 20 * time.Millisecond,
		maxRequest: maxRequest, isCmd: isCmd,
	}, nil
}

// fill reads once: blocking without a deadline when wait < 0, taking only
// what is there when wait == 0, waiting at most wait otherwise. got is
// false when nothing arrived in time.
func (fr *framer) fill(wait time.Duration) (got bool, err error) {
	var n int
	if wait == 0 {
		var rerr error
		err = fr.rc.Read(func(fd uintptr) bool {
			n, rerr = unix.Read(int(fd), fr.chunk)
			return true
		})
		if err == nil {
			err = rerr
		}
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			return false, nil
		}
	} else {
		var d time.Time
		if wait > 0 {
			d = time.Now().Add(wait)
		}
		if err = fr.f.SetReadDeadline(d); err != nil {
			return false, err
		}
		n, err = fr.f.Read(fr.chunk)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = nil
		}
		if wait > 0 {
			// An expired deadline would fail the next attempt-only
			// read (RawConn.Read checks it first).
			if derr := fr.f.SetReadDeadline(time.Time{}); err == nil {
				err = derr
			}
		}
	}
	if n > 0 {
		fr.buf = append(fr.buf, fr.chunk[:n]...)
	}
	return n > 0, err
}

// peek returns the next complete line (without its line feed) and the
// bytes it occupies; ok is false when no complete line is buffered. A
// line longer than maxRequest is cut there.
func (fr *framer) peek() (line string, size int, ok bool) {
	i := bytes.IndexByte(fr.buf, '\n')
	switch {
	case i >= 0 && i < fr.maxRequest:
		return string(fr.buf[:i]), i + 1, true
	case len(fr.buf) >= fr.maxRequest:
		return string(fr.buf[:fr.maxRequest]), fr.maxRequest, true
	}
	return "", 0, false
}

func (fr *framer) advance(n int) {
	fr.buf = fr.buf[n:]
	fr.size += n
	if len(fr.buf) == 0 {
		fr.buf = nil // let a big backing array go
	}
}

// line returns the next line without consuming it. With block set it
// waits for one; otherwise ok is false when the request is over: no more
// bytes are waiting (after a short wait for requests over PIPE_BUF).
func (fr *framer) line(block bool) (line string, size int, ok bool, err error) {
	for {
		if l, n, ok := fr.peek(); ok {
			return l, n, true, nil
		}
		got, err := fr.fill(0)
		if err != nil {
			return "", 0, false, err
		}
		if got {
			continue
		}
		switch {
		case len(fr.buf) > 0: // a line without its line feed yet
			if got, err = fr.fill(fr.partialWait); err != nil {
				return "", 0, false, err
			}
			if !got {
				return string(fr.buf), len(fr.buf), true, nil
			}
		case block:
			if _, err = fr.fill(-1); err != nil {
				return "", 0, false, err
			}
		case fr.size > pipeBuf:
			if got, err = fr.fill(fr.bigWait); err != nil || !got {
				return "", 0, false, err
			}
		default:
			return "", 0, false, nil
		}
	}
}

// endsAt reports whether the request ends after its next n buffered
// bytes: nothing follows them, or (with lookahead) the line after them
// begins another request.
func (fr *framer) endsAt(n int, lookahead bool) (bool, error) {
	for {
		rest := fr.buf[n:]
		if len(rest) == 0 {
			got, err := fr.fill(0)
			if err != nil || got {
				if err != nil {
					return false, err
				}
				continue
			}
			if fr.size+n > pipeBuf {
				if got, err = fr.fill(fr.bigWait); err != nil || got {
					if err != nil {
						return false, err
					}
					continue
				}
			}
			return true, nil
		}
		if !lookahead {
			return false, nil
		}
		i := bytes.IndexByte(rest, '\n')
		if i < 0 && len(rest) < fr.maxRequest {
			got, err := fr.fill(fr.partialWait)
			if err != nil {
				return false, err
			}
			if got {
				continue
			}
			i = len(rest)
		}
		if i < 0 {
			i = len(rest)
		}
		return fr.startsRequest(rpc.TrimLine(string(rest[:i]))), nil
	}
}

// first reads the first line of the next request (raw, without its line
// feed), skipping empty lines; it blocks until one arrives.
func (fr *framer) first() (string, error) {
	for {
		fr.size = 0
		l, n, _, err := fr.line(true)
		if err != nil {
			return "", err
		}
		fr.advance(n)
		if rpc.TrimLine(l) != "" {
			return l, nil
		}
	}
}

// startsRequest reports whether a trimmed line begins a request: the
// ":<name>:<reply>" shape with a reply name or a registered command.
func (fr *framer) startsRequest(t string) bool {
	name, reply, ok := requestShape(t)
	return ok && (reply != "" || fr.isCmd(name))
}

// finish ends the current request once its command is done reading. Like
// SER it reads one more line, the terminating empty line, but only if it
// is one: when the client left the terminator out and the next request
// follows at once, nothing is consumed. Lines the command did not read
// (or the lines after a malformed first line) are skipped through the
// next empty line, as SER's server ended up doing; skipped counts them.
func (fr *framer) finish() (skipped int, err error) {
	l, n, ok, err := fr.line(false)
	if !ok || err != nil {
		return 0, err
	}
	t := rpc.TrimLine(l)
	if t == "" {
		fr.advance(n)
		return 0, nil
	}
	if fr.startsRequest(t) {
		return 0, nil
	}
	for ok {
		fr.advance(n)
		if t == "" {
			break
		}
		skipped++
		if l, n, ok, err = fr.line(false); err != nil {
			return skipped, err
		}
		t = rpc.TrimLine(l)
	}
	return skipped, nil
}

// streamParams serves a command's parameter lines from the stream, with
// FIFO rules (rpc.Lines'): header sets end at an empty line or ".", bodies
// at "."; a set or body cut short by the end of the request is accepted.
// After revoke it reports no more lines: the reader has moved on.
type streamParams struct {
	fr      *framer
	mu      sync.Mutex
	revoked bool
	last    time.Time // of the last read
	tooBig  bool
	// done is closed by DoneReading.
	done     chan struct{}
	doneOnce sync.Once
}

func newStreamParams(fr *framer) *streamParams {
	return &streamParams{fr: fr, last: time.Now(), done: make(chan struct{})}
}

// DoneReading implements rpc.DoneReading: the command reads no more lines.
func (p *streamParams) DoneReading() {
	p.doneOnce.Do(func() { close(p.done) })
}

// next returns the next trimmed line. With final set, an empty line that
// ends the request is its terminator, not a line; with lookahead also one
// followed by the first line of another request (a client's request
// terminator, for a command reading single lines).
func (p *streamParams) next(final, lookahead bool) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fr := p.fr
	if p.revoked || fr.err != nil {
		return "", false
	}
	defer func() { p.last = time.Now() }()
	l, n, ok, err := fr.line(false)
	if err != nil {
		fr.err = err
		return "", false
	}
	if !ok {
		return "", false
	}
	if fr.size+n > fr.maxRequest {
		p.tooBig = true
		return "", false
	}
	t := rpc.TrimLine(l)
	if t == "" && final {
		end, err := fr.endsAt(n, lookahead)
		if err != nil {
			fr.err = err
			return "", false
		}
		if end {
			return "", false
		}
	}
	fr.advance(n)
	return t, true
}

// revoke ends the command's access to the stream.
func (p *streamParams) revoke() {
	p.mu.Lock()
	p.revoked = true
	p.mu.Unlock()
}

// idle returns how long ago the command last read a line.
func (p *streamParams) idle() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return time.Since(p.last)
}

// Line implements rpc.Params.
func (p *streamParams) Line() (string, bool) { return p.next(true, true) }

// LineSet implements rpc.Params.
func (p *streamParams) LineSet() ([]string, bool) {
	var set []string
	for {
		l, ok := p.next(false, false)
		if !ok || l == "" || l == "." {
			return set, true
		}
		set = append(set, l)
	}
}

// Body implements rpc.Params.
func (p *streamParams) Body() ([]string, bool) {
	var body []string
	for {
		l, ok := p.next(true, false)
		if !ok || l == "." {
			return body, true
		}
		body = append(body, l)
	}
}
