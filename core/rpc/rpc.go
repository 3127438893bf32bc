// Package rpc is the one registry of management commands (SER's FIFO
// commands: ps, which, uptime, ul_show_contact, t_uac_dlg, …). The core and
// the modules declare each command once; the FIFO named pipe, the unix
// socket, XML-RPC and the web console are codecs around this registry.
//
// A command reads its parameters as the FIFO delivers them — single lines,
// header sets and bodies — and returns SER's reply text: a "NNN reason"
// status line followed by body lines, byte for byte as SER 0.9 printed it.
// A command with a structured result (ul_dump, ul_show_contact, the
// statistics) returns it as Reply.Value too (Typed), rendered to that text
// by the value itself, so in-process callers never parse text.
//
// Clients run commands through the one Executor interface: NewLocal in
// process, the FIFO and unix-socket clients of package fifo remotely.
// Package core/rpc/sercmd is the typed client over any Executor: it takes
// a reply's Value when there is one and parses the text otherwise.
package rpc

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Flavor selects the transport-specific wording SER used: the FIFO server
// and the unix socket server answered some things differently ("200 ok" vs
// "200 OK", "500 command 'x' not available" vs "500 Command x not found").
type Flavor uint8

// Flavors.
const (
	FIFO Flavor = iota
	UnixSock
)

// Params delivers a command's parameter lines.
type Params interface {
	// Line returns the next parameter line; ok is false when the request
	// has no more lines.
	Line() (line string, ok bool)
	// LineSet returns a header set: lines up to an empty line or a "."
	// line (FIFO), or up to a "." line (unix socket). ok is false when the
	// request ended before the set was terminated.
	LineSet() (lines []string, ok bool)
	// Body returns lines up to a "." line.
	Body() (lines []string, ok bool)
}

// DoneReading tells the transport that the command has read all the
// parameters it will read. A command that then waits (t_uac_dlg for its
// transaction) calls it first, so that the FIFO reader, which serves the
// parameter lines from the stream, moves on to the next request at once.
// Transports that hold the parameters in memory ignore it.
func DoneReading(p Params) {
	if d, ok := p.(interface{ DoneReading() }); ok {
		d.DoneReading()
	}
}

// Request is one command invocation.
type Request struct {
	Name   string
	Params Params
	Flavor Flavor
}

// OK returns the success status line text of the request's flavor:
// "200 ok" over the FIFO, "200 OK" over the unix socket (SER 0.9).
func (r *Request) OK() string {
	if r.Flavor == UnixSock {
		return "200 OK"
	}
	return "200 ok"
}

// Reply is a command's answer: its exact text and the parsed status.
type Reply struct {
	Code int
	Text string
	// Bare marks a reply without a status line: SER's DB command printed
	// only its results (or "ERROR: …"). Code is then 200 for success and
	// 4xx/5xx for an error, and every line of Text is a body line.
	Bare bool
	// Value is the command's result as a Go value, for commands that have
	// one (ul_dump, ul_show_contact, the statistics: the types of package
	// core/rpc/sercmd), set by Typed. Text is then its SER rendering. A
	// reply that came over a transport (a FIFO or unix-socket client) has
	// only its text: Value is nil.
	Value any
}

// Body is a command's structured result: a Go value that writes its SER
// text, the reply lines after the status line.
type Body interface {
	WriteBody(b *strings.Builder)
}

// Typed returns the reply "status\n" followed by v's text, carrying v as
// its Value: the text codecs (FIFO, unix socket, XML-RPC's output) send the
// text, in-process callers take the value and parse nothing. status is
// the whole status line, e.g. req.OK().
func Typed(status string, v Body) *Reply {
	var b strings.Builder
	b.WriteString(status)
	b.WriteByte('\n')
	v.WriteBody(&b)
	r := Raw(b.String())
	r.Value = v
	return r
}

// NewReply builds "code reason\n" followed by body (SER's usual layout).
func NewReply(code int, reason, body string) *Reply {
	return &Reply{Code: code, Text: fmt.Sprintf("%d %s\n%s", code, reason, body)}
}

// Raw wraps an exact reply text (for SER replies that end without a
// newline, such as "200 killing now..."). The code is read from the text;
// a text that does not start with one is a bare reply (see Reply.Bare):
// 500 when it starts with "ERROR:", else 200.
func Raw(text string) *Reply {
	if len(text) >= 3 {
		if n, err := strconv.Atoi(text[:3]); err == nil && n >= 100 && n <= 999 && (len(text) == 3 || text[3] == ' ' || text[3] == '\n') {
			return &Reply{Code: n, Text: text}
		}
	}
	if strings.HasPrefix(text, "ERROR:") {
		return &Reply{Code: 500, Text: text, Bare: true}
	}
	return &Reply{Code: 200, Text: text, Bare: true}
}

// Errorf builds a status-line-only reply: "code reason\n".
func Errorf(code int, format string, a ...any) *Reply {
	return NewReply(code, fmt.Sprintf(format, a...), "")
}

// Reason returns the status line without the code.
func (r *Reply) Reason() string {
	if r.Bare {
		return ""
	}
	line, _, _ := strings.Cut(r.Text, "\n")
	if len(line) > 4 {
		return line[4:]
	}
	return ""
}

// Lines returns the body lines (after the status line), without a trailing
// empty line.
func (r *Reply) Lines() []string {
	body, found := r.Text, true
	if !r.Bare {
		_, body, found = strings.Cut(r.Text, "\n")
	}
	if !found || body == "" {
		return []string{}
	}
	body = strings.TrimSuffix(body, "\n")
	return strings.Split(body, "\n")
}

// Handler executes a command.
type Handler func(ctx context.Context, req *Request) *Reply

// Command is a registered management command.
type Command struct {
	Name string
	// Params names the parameter lines in order ("table", "aor", …); a
	// trailing "[x]" marks an optional one. Used by help texts and by
	// XML-RPC's system.methodSignature.
	Params []string
	Help   string
	// Handler runs the command.
	Handler Handler
}

// Registry holds the commands of one server.
type Registry struct {
	mu    sync.RWMutex
	cmds  map[string]*Command
	order []string // newest first, as SER's which prints them
	stats CommandStats
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{cmds: map[string]*Command{}} }

// Register adds a command. Names are case-insensitive; a duplicate is an
// error.
func (r *Registry) Register(c Command) error {
	if c.Name == "" || c.Handler == nil {
		return fmt.Errorf("rpc: register: incomplete command %q", c.Name)
	}
	key := strings.ToLower(c.Name)
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.cmds[key]; dup {
		return fmt.Errorf("rpc: register: command %q already registered", c.Name)
	}
	cc := c
	r.cmds[key] = &cc
	r.order = append([]string{c.Name}, r.order...)
	return nil
}

// MustRegister is Register that panics on error (for built-in tables).
func (r *Registry) MustRegister(cs ...Command) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

// Lookup finds a command by name, ignoring case.
func (r *Registry) Lookup(name string) (*Command, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c, ok := r.cmds[strings.ToLower(name)]
	return c, ok
}

// Names returns the command names, newest registration first.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]string(nil), r.order...)
}

// Sorted returns the commands sorted by name.
func (r *Registry) Sorted() []*Command {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*Command, 0, len(r.cmds))
	for _, c := range r.cmds {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// NotFound returns the reply for an unknown command in the given flavor.
func NotFound(name string, f Flavor) *Reply {
	if f == UnixSock {
		return Errorf(500, "Command %s not found", name)
	}
	return Errorf(500, "command '%s' not available", name)
}

// Execute runs the named command. An unknown name gets SER's 500 reply.
// Every command is counted by interface (WithInterface) and outcome
// (Stats).
func (r *Registry) Execute(ctx context.Context, name string, p Params, f Flavor) *Reply {
	rep := r.execute(ctx, name, p, f)
	if i := interfaceOf(ctx, f); i >= 0 {
		r.stats.add(i, rep.Code)
	}
	return rep
}

func (r *Registry) execute(ctx context.Context, name string, p Params, f Flavor) *Reply {
	c, ok := r.Lookup(name)
	if !ok {
		return NotFound(name, f)
	}
	if p == nil {
		p = Lines(nil)
	}
	rep := c.Handler(ctx, &Request{Name: name, Params: p, Flavor: f})
	if rep == nil {
		return Errorf(500, "command '%s' returned no reply", name)
	}
	return rep
}

// Interfaces are the management interfaces commands are counted by
// (CommandStats): the FIFO and unix socket servers, the XML-RPC and
// JSON-RPC bridges, the web console and other in-process callers.
var Interfaces = [nInterfaces]string{"fifo", "unixsock", "xmlrpc", "jsonrpc", "web", "local"}

const (
	ifaceFIFO = iota
	ifaceUnix
	nInterfaces = 6
	ifaceLocal  = 5
)

// Outcomes are the classes of reply status commands are counted by:
// "1xx" … "6xx", "other" for a status out of that range.
var Outcomes = [nOutcomes]string{"other", "1xx", "2xx", "3xx", "4xx", "5xx", "6xx"}

const nOutcomes = 7

type ifaceKey struct{}

// WithInterface marks ctx as coming through the named interface (one of
// Interfaces), so that the registry counts the commands run with it
// there. Without a mark a command counts by its flavor: "fifo" or
// "unixsock" (Local marks its calls "local").
func WithInterface(ctx context.Context, name string) context.Context {
	for i, n := range Interfaces {
		if n == name {
			return context.WithValue(ctx, ifaceKey{}, i)
		}
	}
	return ctx
}

// Uncounted marks ctx so that the commands run with it are not counted:
// the metrics endpoint reads t_stats, ul_stats … at every scrape, which
// would otherwise show up as commands.
func Uncounted(ctx context.Context) context.Context {
	return context.WithValue(ctx, ifaceKey{}, -1)
}

func interfaceOf(ctx context.Context, f Flavor) int {
	if i, ok := ctx.Value(ifaceKey{}).(int); ok {
		return i
	}
	if f == UnixSock {
		return ifaceUnix
	}
	return ifaceFIFO
}

// CommandStats count the commands a registry ran, by interface and
// outcome (the reply's status class).
type CommandStats struct {
	c [nInterfaces][nOutcomes]atomic.Uint64
}

func (s *CommandStats) add(iface, code int) {
	o := code / 100
	if code < 100 || code > 699 {
		o = 0
	}
	s.c[iface][o].Add(1)
}

// Each calls fn for every interface and outcome.
func (s *CommandStats) Each(fn func(iface, outcome string, n uint64)) {
	for i := range s.c {
		for j := range s.c[i] {
			fn(Interfaces[i], Outcomes[j], s.c[i][j].Load())
		}
	}
}

// Stats returns the registry's command counters.
func (r *Registry) Stats() *CommandStats { return &r.stats }
