package xmlrpc

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"unicode"

	"ser/core/rpc"
)

// method is a built-in XML-RPC method.
type method struct {
	fn   func(ctx context.Context, params []any) (any, *Fault)
	help string
	sig  [][]string // XML-RPC introspection signatures: result type, param types
}

// builtins returns the bridge's own methods.
func (s *Server) builtins() map[string]method {
	return map[string]method{
		"fifo.execute": {fn: s.fifoExecute, sig: [][]string{{"struct", "struct"}},
			help: "Runs a FIFO command: fifo.execute({cmdname: string, cmdparams: array}). " +
				"cmdparams holds one value per FIFO parameter line (ints and other scalars are sent as text; " +
				"a string with newlines is several lines). Returns {code, reason, lines, output}; " +
				"a reply status of 400 or more is a fault with that code and the reason as faultString."},
		"system.listMethods": {fn: s.listMethods, sig: [][]string{{"array"}},
			help: "Lists the methods: the system.* and fifo.execute methods, then every FIFO command."},
		"system.methodHelp": {fn: s.methodHelp, sig: [][]string{{"string", "string"}},
			help: "Returns the help text of a method."},
		"system.methodSignature": {fn: s.methodSignature, sig: [][]string{{"array", "string"}},
			help: "Returns the signatures of a method: arrays of type names, the result type first; " +
				"\"undef\" when the parameters of a command are not known."},
		"system.multicall": {fn: s.multicall, sig: [][]string{{"array", "array"}},
			help: "Runs several calls: an array of {methodName, params} structs. Returns an array " +
				"holding [result] for each call that succeeded and a {faultCode, faultString} struct " +
				"for each that failed."},
	}
}

// lookup finds a built-in or test method.
func (s *Server) lookup(name string) (method, bool) {
	if m, ok := s.methods[name]; ok {
		return m, true
	}
	return method{}, false
}

// dispatch runs one call: a built-in method, else the FIFO command of that
// name (case-insensitive, as the FIFO matches names).
func (s *Server) dispatch(ctx context.Context, name string, params []any, inMulticall bool) (any, *Fault) {
	if m, ok := s.lookup(name); ok {
		if inMulticall && name == "system.multicall" {
			return nil, invalidf("system.multicall cannot be nested")
		}
		return m.fn(ctx, params)
	}
	info, f := s.command(ctx, name)
	if f != nil {
		return nil, f
	}
	lines := make([]string, len(params))
	for i, p := range params {
		l, err := paramLine(p)
		if err != nil {
			return nil, faultf(FaultInvalidParams, "invalid method parameters: %s: param %d: %v", name, i+1, err)
		}
		lines[i] = l
	}
	return s.run(ctx, info.Name, lines)
}

// command finds a FIFO command by name.
func (s *Server) command(ctx context.Context, name string) (rpc.CommandInfo, *Fault) {
	cmds, err := s.cmds.Commands(ctx)
	if err != nil {
		return rpc.CommandInfo{}, s.execFault(ctx, "listing commands", err)
	}
	for _, c := range cmds {
		if strings.EqualFold(c.Name, name) {
			return c, nil
		}
	}
	return rpc.CommandInfo{}, faultf(FaultMethodNotFound, "requested method not found: %s", name)
}

// fifoExecute is fifo.execute({cmdname, cmdparams}).
func (s *Server) fifoExecute(ctx context.Context, params []any) (any, *Fault) {
	if len(params) != 1 {
		return nil, faultf(FaultInvalidParams, "invalid method parameters: fifo.execute takes 1 parameter, a struct {cmdname, cmdparams}; got %d", len(params))
	}
	arg, ok := params[0].(map[string]any)
	if !ok {
		return nil, faultf(FaultInvalidParams, "invalid method parameters: fifo.execute: struct {cmdname, cmdparams} expected, got %s", typeName(params[0]))
	}
	for k := range arg {
		if k != "cmdname" && k != "cmdparams" {
			return nil, faultf(FaultInvalidParams, "invalid method parameters: fifo.execute: unknown member %q", k)
		}
	}
	name, ok := arg["cmdname"].(string)
	if !ok {
		return nil, faultf(FaultInvalidParams, "invalid method parameters: fifo.execute: cmdname must be a string, got %s", typeName(arg["cmdname"]))
	}
	name = strings.TrimSpace(name)
	if name == "" || strings.ContainsFunc(name, func(r rune) bool { return r == ':' || unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return nil, faultf(FaultInvalidParams, "invalid method parameters: fifo.execute: invalid cmdname %q", name)
	}
	var lines []string
	switch ps := arg["cmdparams"].(type) {
	case nil: // absent or <nil/>: no parameters
	case []any:
		lines = make([]string, len(ps))
		for i, p := range ps {
			l, err := paramLine(p)
			if err != nil {
				return nil, faultf(FaultInvalidParams, "invalid method parameters: fifo.execute: cmdparams[%d]: %v", i, err)
			}
			lines[i] = l
		}
	default:
		return nil, faultf(FaultInvalidParams, "invalid method parameters: fifo.execute: cmdparams must be an array, got %s", typeName(ps))
	}
	return s.run(ctx, name, lines)
}

// run executes a command through the bounded Executor (rpc.Bounded: at
// most MaxInFlight at once, a stuck command cannot hold the request past
// its deadline) and maps its reply: status 400 and above → fault (code =
// status, string = reason), else the result struct {code, reason, lines,
// output}.
func (s *Server) run(ctx context.Context, cmd string, lines []string) (any, *Fault) {
	rep, err := s.gate.Execute(ctx, cmd, lines)
	if errors.Is(err, rpc.ErrNoFreeSlot) {
		return nil, s.execFault(ctx, rpc.ErrNoFreeSlot.Error(), ctx.Err())
	}
	if errors.Is(err, rpc.ErrPanicked) {
		return nil, faultf(FaultInternal, "internal error: command %s failed", cmd)
	}
	if err != nil {
		return nil, s.execFault(ctx, cmd, err)
	}
	if rep == nil {
		return nil, faultf(FaultInternal, "internal error: %s returned no reply", cmd)
	}
	if rep.Code >= 400 {
		reason := rep.Reason()
		if reason == "" {
			reason = strings.TrimSpace(strings.SplitN(rep.Text, "\n", 2)[0])
		}
		return nil, &Fault{Code: rep.Code, String: reason}
	}
	return Struct{
		{"code", rep.Code},
		{"reason", rep.Reason()},
		{"lines", rep.Lines()},
		{"output", rep.Text},
	}, nil
}

// execFault maps an Executor or deadline error to FaultTimeout or
// FaultUnavailable.
func (s *Server) execFault(ctx context.Context, what string, err error) *Fault {
	s.log.Warn("command failed", "command", what, "err", err)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return faultf(FaultTimeout, "server unavailable: timeout after %s (%s)", s.opts.CallTimeout, what)
	}
	return faultf(FaultUnavailable, "server unavailable: %v", err)
}

// listMethods is system.listMethods().
func (s *Server) listMethods(ctx context.Context, params []any) (any, *Fault) {
	if len(params) != 0 {
		return nil, faultf(FaultInvalidParams, "invalid method parameters: system.listMethods takes no parameters")
	}
	cmds, err := s.cmds.Commands(ctx)
	if err != nil {
		return nil, s.execFault(ctx, "listing commands", err)
	}
	names := slices.Sorted(maps.Keys(s.methods))
	for _, c := range cmds {
		if _, builtin := s.methods[c.Name]; !builtin {
			names = append(names, c.Name)
		}
	}
	return names, nil
}

// nameParam checks the one string parameter of the introspection methods.
func nameParam(method string, params []any) (string, *Fault) {
	if len(params) != 1 {
		return "", faultf(FaultInvalidParams, "invalid method parameters: %s takes 1 parameter, a method name; got %d", method, len(params))
	}
	name, ok := params[0].(string)
	if !ok {
		return "", faultf(FaultInvalidParams, "invalid method parameters: %s: method name must be a string, got %s", method, typeName(params[0]))
	}
	return name, nil
}

// methodHelp is system.methodHelp(name).
func (s *Server) methodHelp(ctx context.Context, params []any) (any, *Fault) {
	name, f := nameParam("system.methodHelp", params)
	if f != nil {
		return nil, f
	}
	if m, ok := s.lookup(name); ok {
		return m.help, nil
	}
	info, f := s.command(ctx, name)
	if f != nil {
		return nil, f
	}
	help := "FIFO command " + info.Name + "."
	if info.Help != "" {
		help = info.Help
	}
	if len(info.Params) > 0 {
		help += "\nParameters (one per FIFO line): " + strings.Join(info.Params, ", ")
	}
	return help + "\nReturns {code, reason, lines, output}; a status of 400 or more is a fault.", nil
}

// methodSignature is system.methodSignature(name).
func (s *Server) methodSignature(ctx context.Context, params []any) (any, *Fault) {
	name, f := nameParam("system.methodSignature", params)
	if f != nil {
		return nil, f
	}
	if m, ok := s.lookup(name); ok {
		return signatures(m.sig), nil
	}
	info, f := s.command(ctx, name)
	if f != nil {
		return nil, f
	}
	if info.Params == nil {
		return "undef", nil
	}
	// One signature per accepted arity: required params, then each
	// optional "[x]" one in turn.
	required := 0
	for _, p := range info.Params {
		if !strings.HasPrefix(p, "[") {
			required++
		}
	}
	var sigs [][]string
	for n := required; n <= len(info.Params); n++ {
		sig := []string{"struct"}
		for range n {
			sig = append(sig, "string")
		}
		sigs = append(sigs, sig)
	}
	return signatures(sigs), nil
}

// signatures converts signatures to an encodable array of arrays.
func signatures(sigs [][]string) []any {
	out := make([]any, len(sigs))
	for i, s := range sigs {
		out[i] = s
	}
	return out
}

// multicall is system.multicall([{methodName, params}, …]).
func (s *Server) multicall(ctx context.Context, params []any) (any, *Fault) {
	if len(params) != 1 {
		return nil, faultf(FaultInvalidParams, "invalid method parameters: system.multicall takes 1 parameter, an array of {methodName, params}; got %d", len(params))
	}
	calls, ok := params[0].([]any)
	if !ok {
		return nil, faultf(FaultInvalidParams, "invalid method parameters: system.multicall: array expected, got %s", typeName(params[0]))
	}
	if len(calls) > s.opts.MaxMulticall {
		return nil, faultf(FaultInvalidParams, "invalid method parameters: system.multicall: %d calls, at most %d allowed", len(calls), s.opts.MaxMulticall)
	}
	out := make([]any, len(calls))
	for i, c := range calls {
		res, f := s.oneOfMulticall(ctx, c)
		if f != nil {
			out[i] = f
			continue
		}
		out[i] = []any{res}
	}
	return out, nil
}

// oneOfMulticall runs one {methodName, params} entry of a multicall.
func (s *Server) oneOfMulticall(ctx context.Context, c any) (any, *Fault) {
	m, ok := c.(map[string]any)
	if !ok {
		return nil, faultf(FaultInvalidParams, "invalid method parameters: system.multicall: struct {methodName, params} expected, got %s", typeName(c))
	}
	name, ok := m["methodName"].(string)
	if !ok || name == "" {
		return nil, faultf(FaultInvalidParams, "invalid method parameters: system.multicall: methodName must be a non-empty string")
	}
	var ps []any
	switch p := m["params"].(type) {
	case nil:
	case []any:
		ps = p
	default:
		return nil, faultf(FaultInvalidParams, "invalid method parameters: system.multicall: params must be an array, got %s", typeName(p))
	}
	return s.dispatch(ctx, name, ps, true)
}
