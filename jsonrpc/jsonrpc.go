// Package jsonrpc is the JSON-RPC 2.0 bridge to ser's command registry:
// beside XML-RPC on the same HTTP listener (POST /jsonrpc), over the same
// rpc.Executor, behind the same access control. Method names are the FIFO
// command names (ul_show_contact, t_stats, …); params are the FIFO
// parameter lines, as an array or, by the command's parameter names, as
// an object. A command with a structured result (rpc.Typed: ul_dump,
// ul_show_contact, the statistics, uptime, version, ps, which) returns
// that value as JSON; any other returns {code, reason, lines}. A reply
// status of 400 or more is an error object with SER's code. Notifications
// (no id) run without an answer; batches are bounded.
//
// The bridge is a codec: it knows no command. In the ser process it runs
// them through rpc.NewLocal; in front of a FIFO (ser xmlrpc) through the
// FIFO client, whose replies have text only, so every result is then
// {code, reason, lines}.
package jsonrpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"ser/core/rpc"
)

// Defaults of Options.
const (
	DefaultPath         = "/jsonrpc"
	DefaultMaxBodyBytes = 1 << 20
	DefaultMaxBatch     = 100
	DefaultMaxInFlight  = 32
	DefaultCallTimeout  = 10 * time.Second
)

// Error codes: JSON-RPC 2.0's, and the bridge's own in the range the
// specification leaves to implementations. A command's own failure (its
// reply status is 400 or more) is an error with SER's status as code
// (404, 400, 500, …).
const (
	CodeParse          = -32700
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeInternal       = -32603
	// CodeTimeout: the command did not finish within the call timeout, or
	// no execution slot became free in time.
	CodeTimeout = -32000
	// CodeUnavailable: the server could not be asked (a FIFO nobody reads).
	CodeUnavailable = -32001
)

// Options configures the bridge; the zero value is usable.
type Options struct {
	// Path is where Mount serves the bridge (default "/jsonrpc").
	Path string
	// MaxBodyBytes bounds a request body (default 1 MiB; larger: 413).
	MaxBodyBytes int64
	// MaxBatch bounds the requests of one batch (default 100).
	MaxBatch int
	// MaxInFlight bounds the commands running at once (default 32).
	MaxInFlight int
	// CallTimeout is the deadline of one HTTP request, a batch's calls
	// together (default 10 s).
	CallTimeout time.Duration
	Logger      *slog.Logger
}

// Server is the bridge; it is an http.Handler. Access control is the
// listener's (internal/frontend puts it behind the XML-RPC bridge's
// Guard); the bridge itself checks the method, the media type and the
// size.
type Server struct {
	exec rpc.Executor
	gate *rpc.Bounded // exec, at most MaxInFlight commands at once
	opts Options
	log  *slog.Logger
}

// New returns a bridge running commands through exec.
func New(exec rpc.Executor, opts Options) (*Server, error) {
	if exec == nil {
		return nil, errors.New("jsonrpc: new: nil executor")
	}
	if opts.MaxBodyBytes < 0 || opts.MaxBatch < 0 || opts.MaxInFlight < 0 || opts.CallTimeout < 0 {
		return nil, errors.New("jsonrpc: new: negative limit")
	}
	if opts.Path == "" {
		opts.Path = DefaultPath
	}
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxBatch == 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if opts.MaxInFlight == 0 {
		opts.MaxInFlight = DefaultMaxInFlight
	}
	if opts.CallTimeout == 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("module", "jsonrpc")
	return &Server{exec: exec, gate: rpc.NewBounded(exec, opts.MaxInFlight, log), opts: opts, log: log}, nil
}

// Path returns where the bridge is served.
func (s *Server) Path() string { return s.opts.Path }

// Error is a JSON-RPC error object.
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

// response is one JSON-RPC response object.
type response struct {
	JSONRPC string          `json:"jsonrpc"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *Error          `json:"error,omitempty"`
	ID      json.RawMessage `json:"id"`
}

// Reply is the result of a command without a structured value, and the
// data of an application error.
type Reply struct {
	Code   int      `json:"code"`
	Reason string   `json:"reason"`
	Lines  []string `json:"lines"`
}

var null = json.RawMessage("null")

// ServeHTTP answers one HTTP request: POST only (405), a JSON body
// (415), within the size limit (413); then one response object, an array
// of them for a batch, or 204 and nothing when every request was a
// notification.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "405 method not allowed: JSON-RPC takes a POST of application/json", http.StatusMethodNotAllowed)
		return
	}
	// application/json cannot be sent cross-site by a web page without a
	// CORS preflight, which this listener never grants.
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		s.log.Warn("request refused", "remote", r.RemoteAddr, "status", http.StatusUnsupportedMediaType, "content_type", r.Header.Get("Content-Type"))
		http.Error(w, fmt.Sprintf("415 unsupported media type %q: JSON-RPC takes application/json", r.Header.Get("Content-Type")), http.StatusUnsupportedMediaType)
		return
	}
	if r.ContentLength > s.opts.MaxBodyBytes {
		s.tooLarge(w, r)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.tooLarge(w, r)
			return
		}
		http.Error(w, "400 cannot read request body", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(rpc.WithInterface(r.Context(), "jsonrpc"), s.opts.CallTimeout)
	defer cancel()
	out := s.Handle(ctx, body)
	if out == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) tooLarge(w http.ResponseWriter, r *http.Request) {
	msg := fmt.Sprintf("request too large: over %d bytes", s.opts.MaxBodyBytes)
	s.log.Warn("request refused", "remote", r.RemoteAddr, "status", http.StatusRequestEntityTooLarge, "reason", msg)
	b, _ := json.Marshal(response{JSONRPC: "2.0", Error: &Error{Code: CodeInvalidRequest, Message: msg}, ID: null})
	writeJSON(w, http.StatusRequestEntityTooLarge, b)
}

// Handle answers a request body: the response document, or nil when
// nothing is to be answered (notifications only).
func (s *Server) Handle(ctx context.Context, body []byte) []byte {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var batch []json.RawMessage
		if err := json.Unmarshal(trimmed, &batch); err != nil {
			return mustMarshal(errorResponse(null, CodeParse, "Parse error: "+err.Error(), nil))
		}
		if len(batch) == 0 {
			return mustMarshal(errorResponse(null, CodeInvalidRequest, "Invalid Request: empty batch", nil))
		}
		if len(batch) > s.opts.MaxBatch {
			return mustMarshal(errorResponse(null, CodeInvalidRequest, fmt.Sprintf("Invalid Request: batch of %d requests, at most %d", len(batch), s.opts.MaxBatch), nil))
		}
		var out []*response
		for _, raw := range batch {
			if resp := s.one(ctx, raw); resp != nil {
				out = append(out, resp)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return mustMarshal(out)
	}
	if !json.Valid(trimmed) {
		var v any
		err := json.Unmarshal(trimmed, &v)
		return mustMarshal(errorResponse(null, CodeParse, "Parse error: "+errString(err), nil))
	}
	resp := s.one(ctx, trimmed)
	if resp == nil {
		return nil
	}
	return mustMarshal(resp)
}

func errString(err error) string {
	if err == nil {
		return "invalid JSON"
	}
	return err.Error()
}

// request is one decoded request object.
type request struct {
	method string
	params json.RawMessage
	id     json.RawMessage // nil: a notification
}

// decode checks one request object (JSON-RPC 2.0 §4); on error it returns
// the id it could read (null otherwise).
func decode(raw json.RawMessage) (request, json.RawMessage, *Error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return request{}, null, &Error{Code: CodeInvalidRequest, Message: "Invalid Request: not an object"}
	}
	var req request
	id, hasID := obj["id"]
	errID := null
	if hasID {
		if !validID(id) {
			return req, null, &Error{Code: CodeInvalidRequest, Message: "Invalid Request: id must be a string, a number or null"}
		}
		req.id, errID = id, id
	}
	var version string
	if err := json.Unmarshal(obj["jsonrpc"], &version); err != nil || version != "2.0" {
		return req, errID, &Error{Code: CodeInvalidRequest, Message: `Invalid Request: "jsonrpc" must be "2.0"`}
	}
	if err := json.Unmarshal(obj["method"], &req.method); err != nil || obj["method"] == nil {
		return req, errID, &Error{Code: CodeInvalidRequest, Message: `Invalid Request: "method" must be a string`}
	}
	for k := range obj {
		switch k {
		case "jsonrpc", "method", "params", "id":
		default:
			return req, errID, &Error{Code: CodeInvalidRequest, Message: fmt.Sprintf("Invalid Request: unknown member %q", k)}
		}
	}
	if p, ok := obj["params"]; ok {
		t := bytes.TrimLeft(p, " \t\r\n")
		if len(t) == 0 || (t[0] != '[' && t[0] != '{') {
			return req, errID, &Error{Code: CodeInvalidRequest, Message: `Invalid Request: "params" must be an array or an object`}
		}
		req.params = t
	}
	return req, errID, nil
}

func validID(id json.RawMessage) bool {
	t := bytes.TrimSpace(id)
	if len(t) == 0 {
		return false
	}
	switch t[0] {
	case '"':
		var s string
		return json.Unmarshal(t, &s) == nil
	case 'n':
		return string(t) == "null"
	default:
		var n json.Number
		return json.Unmarshal(t, &n) == nil
	}
}

// one runs one request object; nil for a notification.
func (s *Server) one(ctx context.Context, raw json.RawMessage) *response {
	req, id, e := decode(raw)
	if e != nil {
		// An invalid request is answered even without an id (§5).
		return &response{JSONRPC: "2.0", Error: e, ID: id}
	}
	result, e := s.call(ctx, req.method, req.params)
	if req.id == nil {
		return nil
	}
	if e != nil {
		return &response{JSONRPC: "2.0", Error: e, ID: req.id}
	}
	return &response{JSONRPC: "2.0", Result: result, ID: req.id}
}

func errorResponse(id json.RawMessage, code int, msg string, data any) *response {
	return &response{JSONRPC: "2.0", Error: &Error{Code: code, Message: msg, Data: data}, ID: id}
}

// call runs one method.
func (s *Server) call(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, *Error) {
	name := strings.TrimSpace(method)
	if name == "" || strings.ContainsFunc(name, func(r rune) bool { return r == ':' || unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return nil, notFound(method)
	}
	info, known, e := s.command(ctx, name)
	if e != nil {
		return nil, e
	}
	if !known {
		return nil, notFound(name)
	}
	lines, e := paramLines(info, params)
	if e != nil {
		return nil, e
	}
	cmd := info.Name
	rep, e := s.run(ctx, cmd, lines)
	if e != nil {
		return nil, e
	}
	if _, unknown := notAvailable(rep, cmd); unknown {
		return nil, notFound(cmd)
	}
	if rep.Code >= 400 {
		return nil, &Error{Code: rep.Code, Message: reason(rep), Data: Reply{Code: rep.Code, Reason: reason(rep), Lines: rep.Lines()}}
	}
	var v any = Reply{Code: rep.Code, Reason: rep.Reason(), Lines: rep.Lines()}
	if rep.Value != nil {
		v = rep.Value
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, &Error{Code: CodeInternal, Message: "Internal error: " + err.Error()}
	}
	return b, nil
}

func reason(rep *rpc.Reply) string {
	if r := rep.Reason(); r != "" {
		return r
	}
	return strings.TrimSpace(strings.SplitN(rep.Text, "\n", 2)[0])
}

// notFound is -32601 with SER's FIFO answer for an unknown command as
// data.
func notFound(name string) *Error {
	return &Error{Code: CodeMethodNotFound, Message: "Method not found: " + name,
		Data: strings.TrimSuffix(rpc.NotFound(name, rpc.FIFO).Text, "\n")}
}

// notAvailable recognises SER's answer for an unknown command from a
// server whose command list the bridge does not have (a FIFO client).
func notAvailable(rep *rpc.Reply, name string) (string, bool) {
	if rep.Code != 500 {
		return "", false
	}
	r := rep.Reason()
	return r, r == fmt.Sprintf("command '%s' not available", name) || r == fmt.Sprintf("Command %s not found", name)
}

// command finds a command in the executor's list (rpc.Lister). Without a
// list every name is tried (known, zero info): the server answers for
// unknown ones.
func (s *Server) command(ctx context.Context, name string) (rpc.CommandInfo, bool, *Error) {
	l, ok := s.exec.(rpc.Lister)
	if !ok {
		return rpc.CommandInfo{Name: name}, true, nil
	}
	cmds, err := l.Commands(ctx)
	if err != nil {
		return rpc.CommandInfo{}, false, &Error{Code: CodeUnavailable, Message: "server unavailable: " + err.Error()}
	}
	for _, c := range cmds {
		if strings.EqualFold(c.Name, name) {
			return c, true, nil
		}
	}
	return rpc.CommandInfo{}, false, nil
}

// paramLines turns params into the command's FIFO parameter lines: an
// array gives one line per element, an object one per parameter name of
// the command, in the command's order ("[x]" names are optional).
func paramLines(info rpc.CommandInfo, params json.RawMessage) ([]string, *Error) {
	if len(params) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, invalidParams("%v", err)
	}
	switch p := v.(type) {
	case []any:
		lines := make([]string, len(p))
		for i, x := range p {
			l, err := line(x)
			if err != nil {
				return nil, invalidParams("params[%d]: %v", i, err)
			}
			lines[i] = l
		}
		return lines, nil
	case map[string]any:
		if len(p) == 0 {
			return nil, nil
		}
		if info.Params == nil {
			return nil, invalidParams("%s: parameters by name need the command's parameter names; give an array", info.Name)
		}
		var lines []string
		used := 0
		missing := ""
		for _, n := range info.Params {
			key, optional := strings.CutPrefix(n, "[")
			key = strings.TrimSuffix(key, "]")
			x, ok := p[key]
			if !ok {
				if !optional {
					return nil, invalidParams("%s: missing parameter %q (parameters: %s)", info.Name, key, strings.Join(info.Params, ", "))
				}
				missing = key
				continue
			}
			if missing != "" {
				return nil, invalidParams("%s: parameter %q given without %q before it", info.Name, key, missing)
			}
			l, err := line(x)
			if err != nil {
				return nil, invalidParams("%s: %s: %v", info.Name, key, err)
			}
			lines = append(lines, l)
			used++
		}
		if used != len(p) {
			for k := range p {
				if !hasParam(info.Params, k) {
					return nil, invalidParams("%s: unknown parameter %q (parameters: %s)", info.Name, k, strings.Join(info.Params, ", "))
				}
			}
		}
		return lines, nil
	}
	return nil, invalidParams("params must be an array or an object")
}

func hasParam(names []string, k string) bool {
	for _, n := range names {
		if strings.Trim(n, "[]") == k {
			return true
		}
	}
	return false
}

func invalidParams(format string, a ...any) *Error {
	return &Error{Code: CodeInvalidParams, Message: "Invalid params: " + fmt.Sprintf(format, a...)}
}

// line converts a JSON scalar to a parameter line: strings as they are
// (newlines make several lines, as over XML-RPC), numbers as written,
// true/false as 1/0, null as an empty line.
func line(x any) (string, error) {
	switch v := x.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case bool:
		if v {
			return "1", nil
		}
		return "0", nil
	}
	return "", errors.New("a parameter must be a string, a number, a boolean or null")
}

// run executes a command through the bounded Executor (rpc.Bounded: at
// most MaxInFlight at once, a stuck command cannot hold the request past
// its deadline) and maps its failures to JSON-RPC errors.
func (s *Server) run(ctx context.Context, cmd string, lines []string) (*rpc.Reply, *Error) {
	rep, err := s.gate.Execute(ctx, cmd, lines)
	switch {
	case errors.Is(err, rpc.ErrNoFreeSlot):
		return nil, s.execError(ctx, rpc.ErrNoFreeSlot.Error(), ctx.Err())
	case errors.Is(err, rpc.ErrPanicked):
		return nil, &Error{Code: CodeInternal, Message: "Internal error: command " + cmd + " failed"}
	case err != nil:
		return nil, s.execError(ctx, cmd, err)
	case rep == nil:
		return nil, &Error{Code: CodeInternal, Message: "Internal error: " + cmd + " returned no reply"}
	}
	return rep, nil
}

func (s *Server) execError(ctx context.Context, what string, err error) *Error {
	s.log.Warn("command failed", "command", what, "err", err)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &Error{Code: CodeTimeout, Message: fmt.Sprintf("server unavailable: timeout after %s (%s)", s.opts.CallTimeout, what)}
	}
	return &Error{Code: CodeUnavailable, Message: "server unavailable: " + err.Error()}
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own response types are marshalled
	}
	return b
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
