package fifo

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
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
// All clients share the one pipe, and nothing in it says where one
// client's bytes end and another's begin — except that a write of up to
// PIPE_BUF bytes is atomic, and that one read takes everything waiting (the
// read buffer is the pipe's capacity). So the framer remembers where each
// read ended (bounds): a client's request written in one write lies inside
// the read that brought its first line, its "region"; anything after that
// read came from later writes — the same client writing line by line, or
// other clients.
//
// The request being read (the owner, see streamParams) owns the stream: a
// command asking for a line that has not arrived waits for it, up to the
// request's deadline, as SER's blocking fgets did. While it waits, and in
// the bytes of later reads, a line that begins another request
// (startsRequest) is another client's request written in one write: it is
// served at once (Server.interlude), and the owner goes on waiting for its
// own lines. A request served so (an interloper) reads only its own region:
// it never waits.
type framer struct {
	f     *os.File
	rc    syscall.RawConn
	buf   []byte // unread bytes
	chunk []byte // read buffer, the pipe's capacity: one read drains the pipe

	partialWait time.Duration // for the rest of a first line without its LF
	bigWait     time.Duration // for more of a request over PIPE_BUF
	maxRequest  int
	isCmd       func(name string) bool

	off    int64   // stream offset of buf[0]
	bounds []int64 // stream offsets at which a read ended, none below off
	size   int     // bytes of the current request read so far
	err    error   // a read error met while serving a command
}

func newFramer(f *os.File, maxRequest int, isCmd func(string) bool) (*framer, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("fifo: %w", err)
	}
	size := 64 << 10 // Linux's default pipe capacity
	rc.Control(func(fd uintptr) {
		if n, err := unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0); err == nil && n > size {
			size = n
		}
	})
	return &framer{
		f: f, rc: rc, chunk: make([]byte, size),
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
		fr.bounds = append(fr.bounds, fr.off+int64(len(fr.buf)))
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
	fr.off += int64(n)
	i := 0
	for i < len(fr.bounds) && fr.bounds[i] < fr.off {
		i++
	}
	fr.bounds = fr.bounds[i:]
	if len(fr.buf) == 0 {
		fr.buf = nil // let a big backing array go
	}
}

// regionEnd returns where the read that brought the byte before stream
// offset o ended: the end of the region of a request whose first line
// ends at o.
func (fr *framer) regionEnd(o int64) int64 {
	for _, b := range fr.bounds {
		if b >= o {
			return b
		}
	}
	return o
}

// boundaryAt reports whether a read ended at stream offset o.
func (fr *framer) boundaryAt(o int64) bool {
	for _, b := range fr.bounds {
		if b == o {
			return true
		}
	}
	return false
}

// hold takes a partial line (one without its line feed yet) out of the
// buffer while the owner waits for the rest, so that another client's
// request arriving meanwhile is seen at the head of the buffer; unhold
// puts it back in front of what arrived.
func (fr *framer) hold() []byte {
	h := fr.buf
	fr.buf = nil
	fr.off += int64(len(h))
	return h
}

func (fr *framer) unhold(h []byte) {
	if len(h) == 0 {
		return
	}
	fr.buf = append(h[:len(h):len(h)], fr.buf...)
	fr.off -= int64(len(h))
}

// dropPartial discards a line without its line feed at the head of the
// buffer.
func (fr *framer) dropPartial() {
	if _, _, ok := fr.peek(); !ok && len(fr.buf) > 0 {
		fr.advance(len(fr.buf))
	}
}

// endsAt reports whether the empty line of n bytes at the head of the
// buffer ends the request: the client's write ended with it (a read ended
// right after it; for a request over PIPE_BUF, which the kernel may split,
// only if nothing more came within bigWait), or (with lookahead) the line
// after it begins another request.
func (fr *framer) endsAt(n int, lookahead bool) (bool, error) {
	if fr.boundaryAt(fr.off + int64(n)) {
		if len(fr.buf) > n || fr.size+n <= pipeBuf {
			return true, nil
		}
		got, err := fr.fill(fr.bigWait)
		return !got, err
	}
	if !lookahead {
		return false, nil
	}
	rest := fr.buf[n:]
	i := bytes.IndexByte(rest, '\n')
	if i < 0 {
		i = len(rest)
	}
	return fr.startsRequest(rpc.TrimLine(string(rest[:i]))), nil
}

// first reads the first line of the next request (raw, without its line
// feed), skipping empty lines; it blocks until one arrives. A first line
// whose line feed does not follow within partialWait is taken as it is.
func (fr *framer) first() (string, error) {
	for {
		l, n, ok := fr.peek()
		if !ok {
			wait := time.Duration(-1)
			if len(fr.buf) > 0 {
				wait = fr.partialWait
			}
			got, err := fr.fill(wait)
			if err != nil {
				return "", err
			}
			if got || len(fr.buf) == 0 {
				continue
			}
			l, n = string(fr.buf), len(fr.buf)
		}
		fr.advance(n)
		if rpc.TrimLine(l) != "" {
			fr.size = n
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
// finish never waits: only lines already read are looked at. An
// interloper's lines end with its region (regionEnd); the owner's go on,
// but stop at a later line that begins another request.
func (fr *framer) finish(regionEnd int64, owner bool) (skipped int) {
	mine := func(t string) bool {
		if fr.off < regionEnd {
			return true
		}
		return owner && !fr.startsRequest(t)
	}
	l, n, ok := fr.peek()
	t := rpc.TrimLine(l)
	switch {
	case !ok || !mine(t) || fr.startsRequest(t):
		return 0
	case t == "":
		fr.advance(n)
		return 0
	}
	for ok && mine(t) {
		fr.advance(n)
		if t == "" {
			break
		}
		skipped++
		l, n, ok = fr.peek()
		t = rpc.TrimLine(l)
	}
	return skipped
}

// streamParams serves a command's parameter lines from the stream, with
// FIFO rules (rpc.Lines'): header sets end at an empty line or ".", bodies
// at "."; a set or body cut short by the end of the request is accepted.
//
// The owner (the request the reader loop took) waits for lines still to
// come, until the request's deadline; then the command is aborted
// (incomplete) and the request answered 408. It never waits for what the
// command does not ask for, nor past the request's terminator: an empty
// line ending a write where a line or a body line is asked for. An interloper
// (another client's request served while the owner waits) reads only its
// region. After revoke it reports no more lines: the reader has moved on.
type streamParams struct {
	fr        *framer
	owner     bool
	regionEnd int64     // end of the read that brought the request's first line
	deadline  time.Time // for the owner's lines
	// interlude serves another client's request at the head of the
	// buffer; false when the server is closing.
	interlude func() bool
	log       *slog.Logger

	mu       sync.Mutex
	revoked  bool
	tooBig   bool
	timedOut bool

	last    atomic.Int64 // time of the last read (UnixNano)
	waiting atomic.Bool  // waiting for the client, or serving an interloper
	// done is closed by DoneReading.
	done     chan struct{}
	doneOnce sync.Once
}

func newStreamParams(fr *framer, owner bool, deadline time.Time, interlude func() bool, log *slog.Logger) *streamParams {
	p := &streamParams{fr: fr, owner: owner, regionEnd: fr.regionEnd(fr.off),
		deadline: deadline, interlude: interlude, log: log, done: make(chan struct{})}
	p.last.Store(time.Now().UnixNano())
	return p
}

// incomplete is the panic value that aborts a command whose request did
// not arrive whole before its deadline (recovered by Server.execute).
type incomplete struct{}

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
	defer func() { p.last.Store(time.Now().UnixNano()) }()
	fr := p.fr
	for {
		if p.revoked || fr.err != nil {
			return "", false
		}
		l, n, ok := fr.peek()
		later := fr.off >= p.regionEnd
		switch {
		case !ok:
			// Nothing complete to read: an interloper's request is
			// over; the owner's client has more to write (the command
			// asks for it, and the request's terminator, an empty line
			// ending a write, has not come: see endsAt).
			if !p.owner {
				return "", false
			}
			if !p.await() {
				return "", false
			}
			continue
		case !later:
		case !p.owner:
			return "", false
		case fr.startsRequest(rpc.TrimLine(l)):
			// Another client's request, written while this client
			// was between writes.
			if !p.serveOther() {
				return "", false
			}
			continue
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
}

// await waits for the client's next write until the request's deadline,
// then aborts the command. A partial line is held aside meanwhile: a
// request of another client arriving in between is served, not glued to
// it. It returns false when the read failed (the server is closing).
func (p *streamParams) await() bool {
	fr := p.fr
	p.waiting.Store(true)
	defer p.waiting.Store(false)
	held := fr.hold()
	defer fr.unhold(held)
	p.log.Debug("waiting for the rest of the request", "partial", len(held))
	for {
		wait := time.Until(p.deadline)
		if wait <= 0 {
			p.timedOut = true
			panic(incomplete{})
		}
		got, err := fr.fill(wait)
		if err != nil {
			fr.err = err
			return false
		}
		if !got {
			continue
		}
		if len(held) == 0 {
			return true
		}
		for {
			l, _, ok := fr.peek()
			if !ok || !fr.startsRequest(rpc.TrimLine(l)) {
				break
			}
			if !p.serveOther() {
				return false
			}
		}
		if len(fr.buf) > 0 {
			return true
		}
	}
}

// serveOther serves the request at the head of the buffer.
func (p *streamParams) serveOther() bool {
	if p.waiting.Swap(true) {
		return p.interlude()
	}
	defer p.waiting.Store(false)
	return p.interlude()
}

// revoke ends the command's access to the stream.
func (p *streamParams) revoke() {
	p.mu.Lock()
	p.revoked = true
	p.mu.Unlock()
}

// idle returns how long ago the command last read a line; zero while it
// waits for its client (or serves another client's request meanwhile).
func (p *streamParams) idle() time.Duration {
	if p.waiting.Load() {
		return 0
	}
	return time.Since(time.Unix(0, p.last.Load()))
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
