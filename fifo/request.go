package fifo

import (
	"errors"
	"fmt"
	"strings"

	"ser/core/rpc"
)

// MaxCommandLine is SER's MAX_FIFO_COMMAND: the first line of a FIFO
// request, with its line feed and C's NUL, must fit 512 bytes.
const MaxCommandLine = 512

// ErrMalformed marks a request whose first line is not ":<cmd>:<reply>".
var ErrMalformed = errors.New("malformed first line")

// ErrForbiddenReply marks a reply name holding '.', '/' or '\'.
var ErrForbiddenReply = errors.New("forbidden reply file name")

// Request is one parsed FIFO or unix-socket request.
type Request struct {
	// Cmd is the command name as sent (commands match case-insensitively).
	Cmd string
	// Reply is the reply FIFO's file name, relative to the reply
	// directory; empty means no reply. Always empty for the unix socket.
	Reply string
	// Lines are the parameter lines, right-trimmed of CR, LF, space and
	// tab, without the request's terminating empty line.
	Lines []string
}

// Params returns the request's parameters with the framing rules of the
// flavor: header sets end at an empty line or "." over the FIFO, only at
// "." over the unix socket.
func (r *Request) Params(f rpc.Flavor) rpc.Params {
	if f == rpc.UnixSock {
		return rpc.DotLines(r.Lines)
	}
	return rpc.Lines(r.Lines)
}

// ParseFIFO parses one complete FIFO request: empty lines before the
// command are skipped, the first line is ":<cmd>:<reply_name>", the
// parameter lines follow, and one terminating empty line (if present) ends
// the request.
func ParseFIFO(b []byte) (*Request, error) {
	lines := splitLines(string(b))
	for len(lines) > 0 && rpc.TrimLine(lines[0]) == "" {
		lines = lines[1:]
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("fifo: %w: empty request", ErrMalformed)
	}
	cmd, reply, err := parseFIFOFirst(lines[0])
	if err != nil {
		return nil, err
	}
	params := make([]string, 0, len(lines)-1)
	for _, l := range lines[1:] {
		params = append(params, rpc.TrimLine(l))
	}
	if n := len(params); n > 0 && params[n-1] == "" {
		params = params[:n-1] // the terminator
	}
	return &Request{Cmd: cmd, Reply: reply, Lines: params}, nil
}

// splitLines splits text at line feeds; a final line feed does not start
// another line.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// parseFIFOFirst applies fifo_server.c's checks to the first line.
func parseFIFOFirst(raw string) (cmd, reply string, err error) {
	// fgets into a 512-byte buffer: at most 511 bytes, the last being the
	// line feed (or a CR when the line ends in CRLF).
	max := MaxCommandLine - 2
	if len(raw) > max && !(len(raw) == max+1 && raw[max] == '\r') {
		return "", "", fmt.Errorf("fifo: %w: longer than %d characters", ErrMalformed, max)
	}
	line := rpc.TrimLine(raw)
	switch {
	case len(line) < 3:
		return "", "", fmt.Errorf("fifo: %w: %q: command must have at least 3 chars", ErrMalformed, line)
	case line[0] != ':':
		return "", "", fmt.Errorf("fifo: %w: %q: command must begin with ':'", ErrMalformed, line)
	}
	cmd, reply, found := strings.Cut(line[1:], ":")
	switch {
	case !found:
		return "", "", fmt.Errorf("fifo: %w: %q: file separator missing", ErrMalformed, line)
	case cmd == "":
		return "", "", fmt.Errorf("fifo: %w: %q: empty command", ErrMalformed, line)
	case strings.ContainsAny(reply, `./\`):
		return "", "", fmt.Errorf("fifo: %w: %q", ErrForbiddenReply, reply)
	}
	return cmd, reply, nil
}

// ParseDatagram parses a unix-socket request (SER 0.9 unixsock_server.c):
// the first line starts with ":<cmd>:" and the rest of it (a reply name) is
// ignored; CR characters are filtered out; one terminating empty line, if
// present, is dropped. A request that does not start so is ErrMalformed,
// answered "400 First line malformed".
func ParseDatagram(b []byte) (*Request, error) {
	s := strings.ReplaceAll(string(b), "\r", "")
	first, rest, _ := strings.Cut(s, "\n")
	if len(s) < 3 || s[0] != ':' {
		return nil, fmt.Errorf("fifo: unixsock: %w", ErrMalformed)
	}
	cmd, _, found := strings.Cut(first[1:], ":")
	if !found {
		return nil, fmt.Errorf("fifo: unixsock: %w: closing ':' missing", ErrMalformed)
	}
	var params []string
	for _, l := range splitLines(rest) {
		params = append(params, rpc.TrimLine(l))
	}
	if n := len(params); n > 0 && params[n-1] == "" {
		params = params[:n-1]
	}
	return &Request{Cmd: cmd, Lines: params}, nil
}

// requestShape reports whether a trimmed line looks like the first line of
// a request, for finding where one request ends and the next begins in
// the byte stream: ":<name>:<reply>" with a name of letters, digits, '_'
// and '-' and a reply name without white space.
func requestShape(line string) (name, reply string, ok bool) {
	if len(line) < 3 || line[0] != ':' {
		return "", "", false
	}
	name, reply, found := strings.Cut(line[1:], ":")
	if !found || name == "" || strings.ContainsAny(reply, " \t") {
		return "", "", false
	}
	for _, c := range name {
		if !(c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return "", "", false
		}
	}
	return name, reply, true
}
