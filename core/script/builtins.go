package script

import (
	"fmt"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"ser/core/cfg"
	"ser/core/module"
	"ser/core/sipmsg"
)

// builtin is a core action of the script language, declared as a module
// function is (module.Func): its name, arity, the block kinds it is
// allowed in and a load-time step that returns the per-message handler.
// Compile gets the compiler and the call itself rather than module.Values:
// core actions read the config's argument forms (host:port, numbers) and
// the server's sockets.
type builtin struct {
	Name string
	// Also are further names of the action (SER's short forms: seth,
	// sethost for rewritehost).
	Also             []string
	MinArgs, MaxArgs int
	Routes           module.Route
	Compile          func(c *compiler, call *cfg.Call) (module.Handler, error)
}

// uriRoutes are the blocks that may touch the request: route and
// failure_route.
const uriRoutes = module.Request | module.Failure

// coreActions is the core's table of actions, the counterpart of a module's
// Funcs: one entry per action, every name it has.
var coreActions = []builtin{
	{Name: "forward", MaxArgs: 2, Routes: uriRoutes, Compile: compileForward(sipmsg.ProtoNone, false)},
	{Name: "forward_udp", MaxArgs: 2, Routes: uriRoutes, Compile: compileForward(sipmsg.ProtoUDP, false)},
	{Name: "forward_tcp", MaxArgs: 2, Routes: uriRoutes, Compile: compileForward(sipmsg.ProtoTCP, false)},
	{Name: "forward_tls", MaxArgs: 2, Routes: uriRoutes, Compile: compileForward(sipmsg.ProtoTLS, false)},
	{Name: "send", MinArgs: 1, MaxArgs: 2, Routes: uriRoutes, Compile: compileForward(sipmsg.ProtoNone, true)},
	{Name: "send_tcp", MinArgs: 1, MaxArgs: 2, Routes: uriRoutes, Compile: compileForward(sipmsg.ProtoTCP, true)},
	{Name: "log", MinArgs: 1, MaxArgs: 2, Routes: module.Any, Compile: compileLog},
	{Name: "setflag", MinArgs: 1, MaxArgs: 1, Routes: module.Any, Compile: compileFlag(flagSet)},
	{Name: "resetflag", MinArgs: 1, MaxArgs: 1, Routes: module.Any, Compile: compileFlag(flagReset)},
	{Name: "isflagset", MinArgs: 1, MaxArgs: 1, Routes: module.Any, Compile: compileFlag(flagTest)},
	{Name: "len_gt", MinArgs: 1, MaxArgs: 1, Routes: module.Any, Compile: compileLenGT},
	{Name: "force_rport", Also: []string{"add_rport"}, Routes: uriRoutes, Compile: compileForceRport},
	{Name: "rewritehost", Also: []string{"sethost", "seth"}, MinArgs: 1, MaxArgs: 1, Routes: uriRoutes, Compile: compileSetHost},
	{Name: "rewritehostport", Also: []string{"sethostport", "sethp"}, MinArgs: 1, MaxArgs: 1, Routes: uriRoutes, Compile: compileSetHostPort},
	{Name: "rewriteuser", Also: []string{"setuser", "setu"}, MinArgs: 1, MaxArgs: 1, Routes: uriRoutes, Compile: compileSetUser},
	{Name: "rewriteuserpass", Also: []string{"setuserpass", "setup"}, MinArgs: 1, MaxArgs: 1, Routes: uriRoutes, Compile: compileSetUserPass},
	{Name: "rewriteport", Also: []string{"setport", "setp"}, MinArgs: 1, MaxArgs: 1, Routes: uriRoutes, Compile: compileSetPort},
	{Name: "rewriteuri", Also: []string{"seturi"}, MinArgs: 1, MaxArgs: 1, Routes: uriRoutes, Compile: compileSetURI},
	{Name: "revert_uri", Routes: uriRoutes, Compile: compileRevertURI},
	{Name: "prefix", MinArgs: 1, MaxArgs: 1, Routes: uriRoutes, Compile: compilePrefix},
	{Name: "strip", MinArgs: 1, MaxArgs: 1, Routes: uriRoutes, Compile: compileStrip(false)},
	{Name: "strip_tail", MinArgs: 1, MaxArgs: 1, Routes: uriRoutes, Compile: compileStrip(true)},
	{Name: "append_branch", MaxArgs: 2, Routes: uriRoutes, Compile: compileAppendBranch},
	{Name: "force_send_socket", MinArgs: 1, MaxArgs: 1, Routes: uriRoutes, Compile: compileForceSendSocket},
	{Name: "error", MinArgs: 2, MaxArgs: 2, Routes: module.Any, Compile: compileError},
	{Name: "force_tcp_alias", Also: []string{"add_tcp_alias"}, MaxArgs: 1, Routes: uriRoutes, Compile: compileForceTCPAlias},
	{Name: "set_advertised_address", MinArgs: 1, MaxArgs: 1, Routes: uriRoutes, Compile: compileSetAdvAddress},
	{Name: "set_advertised_port", MinArgs: 1, MaxArgs: 1, Routes: uriRoutes, Compile: compileSetAdvPort},
	{Name: "exec", MinArgs: 1, MaxArgs: 1, Routes: module.Any, Compile: compileExec},
	{Name: "route", MinArgs: 1, MaxArgs: 1, Routes: module.Any}, // compiled by routeCall
}

// builtins are the core actions by every name they have.
var builtins = func() map[string]*builtin {
	m := map[string]*builtin{}
	for i := range coreActions {
		b := &coreActions[i]
		for _, n := range append([]string{b.Name}, b.Also...) {
			if _, dup := m[n]; dup {
				panic("script: core action " + n + " declared twice")
			}
			m[n] = b
		}
	}
	return m
}()

// SER's error phrases (err2reason_phrase) for m.SetError, as sl_reply_error
// prints them.
const (
	errBadAddress  = 478
	errSend        = 477
	errBadURI      = 479
	reasonBadAddr  = "Unresolveable destination (478/SL)"
	reasonSend     = "Unfortunately error on sending to next hop occured (477/SL)"
	reasonBadURI   = "Regretfuly, we were not able to process the URI (479/SL)"
	reasonBranches = "I'm terribly sorry, server error occurred (12/SL)"
)

// MaxBranches is the size limit of a destination set (SER's MAX_BRANCHES),
// R-URI included.
const MaxBranches = 12

// textArg returns an argument as text (numbers as written).
func textArg(v cfg.Value) string { return v.Text }

// hostArg checks a host argument: an IP address (IPv6 possibly in
// brackets) or a host name. It returns the host without brackets.
func hostArg(v cfg.Value) (string, error) {
	if v.IsNumber() {
		return "", fmt.Errorf("host expected, found number %s", v.Text)
	}
	h := v.Text
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	if strings.Contains(h, ":") || (h != "" && strings.Trim(h, "0123456789.") == "") {
		if _, err := netip.ParseAddr(h); err != nil {
			return "", fmt.Errorf("bad IP address '%s'", v.Text)
		}
		return h, nil
	}
	if !validHost(h) {
		return "", fmt.Errorf("bad host name '%s'", v.Text)
	}
	return h, nil
}

// portArg checks a port argument (0 means the protocol's default).
func portArg(v cfg.Value) (int, error) {
	n, err := intArg(v)
	if err != nil {
		return 0, fmt.Errorf("port number expected, found %s", v)
	}
	if n < 0 || n > 65535 {
		return 0, fmt.Errorf("port %d out of range", n)
	}
	return n, nil
}

// nextHop returns the URI a message goes to: the destination URI when one
// is set (loose_route, lookup), else the R-URI.
func nextHop(m *sipmsg.Msg) (*sip.Uri, error) {
	if m.DstURI != "" {
		var u sip.Uri
		if err := sip.ParseUri(m.DstURI, &u); err != nil {
			return nil, fmt.Errorf("bad destination uri %q: %w", m.DstURI, err)
		}
		return &u, nil
	}
	if u := m.URI(); u != nil {
		return u, nil
	}
	return nil, fmt.Errorf("no request uri")
}

// compileForward compiles forward, forward_udp/tcp/tls (asIs false: our Via
// on top, core.Forward) and send, send_tcp (asIs true: core.SendAsIs).
//
//	forward()                    the next hop of the message (dst uri, else R-URI)
//	forward(uri:host, uri:port)  the same
//	forward(uri:host[, port])    the next hop's host, the given port (default 5060)
//	forward(host[, port])        a fixed destination (default port 5060)
//
// proto forces the transport; otherwise the URI's transport parameter (or
// UDP) is used.
func compileForward(proto sipmsg.Proto, asIs bool) func(*compiler, *cfg.Call) (module.Handler, error) {
	return func(c *compiler, call *cfg.Call) (module.Handler, error) {
		core := c.core
		var (
			host            string
			port            int
			fromURI, uriPrt bool
			err             error
		)
		switch {
		case len(call.Args) == 0:
			fromURI, uriPrt = true, true
		case call.Args[0].Text == "uri:host":
			fromURI = true
		default:
			if host, err = hostArg(call.Args[0]); err != nil {
				return nil, err
			}
		}
		if len(call.Args) == 2 {
			if call.Args[1].Text == "uri:port" {
				uriPrt = true
			} else if port, err = portArg(call.Args[1]); err != nil {
				return nil, err
			}
		}
		send := func(m *sipmsg.Msg, dst sipmsg.Dest) error {
			if asIs {
				return core.SendAsIs(m, dst)
			}
			return core.Forward(m, dst)
		}
		return func(m *sipmsg.Msg) (int, error) {
			var (
				dst sipmsg.Dest
				err error
			)
			switch {
			case fromURI || uriPrt:
				u, uerr := nextHop(m)
				if uerr != nil {
					m.SetError(errBadURI, reasonBadURI)
					return -1, nil
				}
				h, p, pr := host, port, proto
				if fromURI {
					h = u.Host
				}
				if uriPrt {
					p = u.Port
				}
				if pr == sipmsg.ProtoNone {
					pr = uriProto(u)
				}
				if fromURI && uriPrt && proto == sipmsg.ProtoNone {
					dst, err = core.Resolve(u) // SRV when the URI has no port
				} else {
					dst, err = core.ResolveHost(h, p, pr)
				}
			default:
				dst, err = core.ResolveHost(host, port, proto)
			}
			if err != nil {
				m.SetError(errBadAddress, reasonBadAddr)
				return -1, nil
			}
			if err := send(m, dst); err != nil {
				m.SetError(errSend, reasonSend)
				return -1, nil
			}
			return 1, nil
		}, nil
	}
}

// compileLog compiles log([level,] text); the level defaults to 4 (debug).
func compileLog(c *compiler, call *cfg.Call) (module.Handler, error) {
	level, text := 4, call.Args[len(call.Args)-1]
	if len(call.Args) == 2 {
		if !call.Args[0].IsNumber() {
			return nil, fmt.Errorf("log level must be a number, found %s", call.Args[0])
		}
		level = call.Args[0].N
	}
	core, s := c.core, textArg(text)
	return func(m *sipmsg.Msg) (int, error) {
		core.Log(m, level, s)
		return 1, nil
	}, nil
}

// Flag operations.
const (
	flagSet = iota
	flagReset
	flagTest
)

// compileFlag compiles setflag, resetflag and isflagset; the flag number
// is checked here (0..31).
func compileFlag(op int) func(*compiler, *cfg.Call) (module.Handler, error) {
	return func(c *compiler, call *cfg.Call) (module.Handler, error) {
		n, err := intArg(call.Args[0])
		if err != nil {
			return nil, fmt.Errorf("flag number expected, found %s", call.Args[0])
		}
		if n < 0 || n > sipmsg.MaxFlag {
			return nil, fmt.Errorf("flag %d out of range 0..%d", n, sipmsg.MaxFlag)
		}
		switch op {
		case flagSet:
			return func(m *sipmsg.Msg) (int, error) { m.SetFlag(n); return 1, nil }, nil
		case flagReset:
			return func(m *sipmsg.Msg) (int, error) { m.ResetFlag(n); return 1, nil }, nil
		}
		return func(m *sipmsg.Msg) (int, error) { return truth(m.IsFlagSet(n)), nil }, nil
	}
}

// compileLenGT compiles len_gt(n | max_len).
func compileLenGT(c *compiler, call *cfg.Call) (module.Handler, error) {
	a := call.Args[0]
	n := sipmsg.MaxMsgLen
	if !(a.Kind == cfg.IdentValue && a.Text == "max_len") {
		var err error
		if n, err = intArg(a); err != nil {
			return nil, fmt.Errorf("length or max_len expected, found %s", a)
		}
	}
	return func(m *sipmsg.Msg) (int, error) { return truth(len(m.Raw) > n), nil }, nil
}

// compileForceRport compiles force_rport(): the core answers the request
// as if its top Via had rport (sipmsg.Msg.ForceRport).
func compileForceRport(c *compiler, call *cfg.Call) (module.Handler, error) {
	return func(m *sipmsg.Msg) (int, error) {
		if m.Req == nil {
			return -1, nil
		}
		m.SetForceRport()
		return 1, nil
	}, nil
}

// compileAppendBranch compiles append_branch() (the current R-URI and
// destination URI) and append_branch(uri).
func compileAppendBranch(c *compiler, call *cfg.Call) (module.Handler, error) {
	if len(call.Args) == 0 {
		return func(m *sipmsg.Msg) (int, error) {
			if m.Req == nil {
				return -1, nil
			}
			if len(m.Branches)+1 >= MaxBranches {
				m.SetError(500, reasonBranches)
				return -1, nil
			}
			m.AppendBranch(sipmsg.Branch{URI: m.URIString(), DstURI: m.DstURI, Path: m.Path, Q: m.RURIQ})
			return 1, nil
		}, nil
	}
	s := textArg(call.Args[0])
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil {
		return nil, fmt.Errorf("bad uri %q: %v", s, err)
	}
	q := float32(-1)
	if len(call.Args) == 2 {
		v, err := parseQ(textArg(call.Args[1]))
		if err != nil {
			return nil, err
		}
		q = v
	}
	return func(m *sipmsg.Msg) (int, error) {
		if len(m.Branches)+1 >= MaxBranches {
			m.SetError(500, reasonBranches)
			return -1, nil
		}
		m.AppendBranch(sipmsg.Branch{URI: s, Q: q})
		return 1, nil
	}, nil
}

// parseQ parses a q value as SER's str2q: 0 to 1 with at most three
// decimals ("0.5", "1", "1.0").
func parseQ(s string) (float32, error) {
	ip, frac, _ := strings.Cut(s, ".")
	v, err := strconv.ParseFloat(s, 32)
	if err != nil || ip == "" || len(frac) > 3 || strings.ContainsAny(s, "eE+-") || v < 0 || v > 1 {
		return 0, fmt.Errorf("bad argument, q value expected, found %q", s)
	}
	return float32(v), nil
}

// compileForceSendSocket compiles force_send_socket([proto:]addr[:port]):
// requests forwarded from now on leave through that listening socket
// (when the protocol matches). The socket must be one ser listens on.
func compileForceSendSocket(c *compiler, call *cfg.Call) (module.Handler, error) {
	hp, err := call.Args[0].HostPort()
	if err != nil {
		return nil, err
	}
	ip, err := netip.ParseAddr(hp.Host)
	if err != nil {
		return nil, fmt.Errorf("%s: an IP address of ours expected", hp)
	}
	proto, _ := sipmsg.ParseProto(hp.Proto)
	var sock *sipmsg.Socket
	for _, sk := range c.core.Sockets() {
		if sk.IP == ip.Unmap() && (hp.Port == 0 || sk.Port == hp.Port) && (proto == sipmsg.ProtoNone || sk.Proto == proto) {
			sock = sk
			break
		}
	}
	if sock == nil {
		return nil, fmt.Errorf("%s: ser does not listen on it", hp)
	}
	return func(m *sipmsg.Msg) (int, error) {
		m.ForceSocket = sock
		return 1, nil
	}, nil
}

// tcpAliaser is the core's side of force_tcp_alias (core.Server).
type tcpAliaser interface {
	AddTCPAlias(connID uint64, port int) error
}

// compileForceTCPAlias compiles force_tcp_alias([port]) / add_tcp_alias:
// for a request received over TCP, the connection also stands for port
// (default: the top Via's port, 5060 when it has none) on the peer's
// address, so requests ser sends there reuse it (SER 0.9). Over UDP it
// does nothing.
func compileForceTCPAlias(c *compiler, call *cfg.Call) (module.Handler, error) {
	al, ok := c.core.(tcpAliaser)
	if !ok {
		return nil, fmt.Errorf("TCP connection aliases are not available")
	}
	port := -1 // the Via's
	if len(call.Args) == 1 {
		n, err := intArg(call.Args[0])
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("port number expected, found %s", call.Args[0])
		}
		port = n
	}
	core := c.core
	return func(m *sipmsg.Msg) (int, error) {
		if m.Req == nil || m.Rcv.ConnID == 0 {
			return 1, nil
		}
		p := port
		if p < 0 {
			p = 0
			if v := m.Req.Via(); v != nil {
				p = v.Port
			}
		}
		if err := al.AddTCPAlias(m.Rcv.ConnID, p); err != nil {
			core.Log(m, -1, "ERROR: force_tcp_alias: "+err.Error())
			return -1, nil
		}
		return 1, nil
	}, nil
}

// compileSetAdvAddress compiles set_advertised_address(addr): the requests
// forwarded for this message name addr in our Via instead of the sending
// socket's address (SER 0.9; an IP address or a host name).
func compileSetAdvAddress(c *compiler, call *cfg.Call) (module.Handler, error) {
	host, err := hostArg(call.Args[0])
	if err != nil {
		return nil, err
	}
	return func(m *sipmsg.Msg) (int, error) {
		m.SetAdvertisedAddress(host)
		return 1, nil
	}, nil
}

// compileSetAdvPort compiles set_advertised_port(port).
func compileSetAdvPort(c *compiler, call *cfg.Call) (module.Handler, error) {
	port, err := intArg(call.Args[0])
	if err != nil || port < 1 || port > 65535 {
		return nil, fmt.Errorf("port number expected, found %s", call.Args[0])
	}
	return func(m *sipmsg.Msg) (int, error) {
		m.SetAdvertisedPort(port)
		return 1, nil
	}, nil
}

// compileError compiles error("class", "text"), which SER 0.9 accepted but
// never implemented: it logs a notice saying so and is true.
func compileError(c *compiler, call *cfg.Call) (module.Handler, error) {
	text := fmt.Sprintf("WARNING: do_action: error(%q, %q) not implemented yet", textArg(call.Args[0]), textArg(call.Args[1]))
	core := c.core
	return func(m *sipmsg.Msg) (int, error) {
		core.Log(m, 2, text)
		return 1, nil
	}, nil
}

// compileExec compiles the core's exec("command"): the command runs through
// /bin/sh and the script waits for it (SER's system()); a failing command
// is logged and the action is still true, as in SER.
func compileExec(c *compiler, call *cfg.Call) (module.Handler, error) {
	cmd := textArg(call.Args[0])
	if cmd == "" {
		return nil, fmt.Errorf("empty command")
	}
	core := c.core
	return func(m *sipmsg.Msg) (int, error) {
		if err := exec.Command("/bin/sh", "-c", cmd).Run(); err != nil {
			core.Log(m, 2, fmt.Sprintf("WARNING: exec() returned %v", err))
		}
		return 1, nil
	}, nil
}

// parsePortText parses the port of a rewrite ("" removes the port).
func parsePortText(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("bad port %q", s)
	}
	return n, nil
}
