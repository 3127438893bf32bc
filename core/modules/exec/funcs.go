package exec

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/sipmsg"
)

// fixupMsg binds exec_msg(cmd): run cmd with the request as received on
// its standard input; true when the command exits with status 0.
func fixupMsg(e *Exec, _ *module.Env, args []module.Value) (module.Handler, error) {
	cmd := args[0].String()
	if strings.TrimSpace(cmd) == "" {
		return nil, fmt.Errorf("exec_msg: empty command")
	}
	return func(m *sipmsg.Msg) (int, error) {
		if m.Req == nil {
			return -1, nil
		}
		body := m.Raw
		if len(body) == 0 {
			body = m.Bytes()
		}
		if err := e.run(cmd, e.environ(m), body, nil); err != nil {
			e.log.ErrorContext(module.MsgCtx(m), "exec: exec_msg: command failed", "cmd", cmd, "err", err)
			return -1, nil
		}
		return 1, nil
	}, nil
}

// paramURI and paramUser pick what exec_uri / exec_user pass to the
// command: the current Request-URI or its user part.
func paramURI(m *sipmsg.Msg) string  { return m.URIString() }
func paramUser(m *sipmsg.Msg) string { return m.URI().User }

// fixupDset binds exec_uri / exec_dset / exec_user(cmd): run
// "cmd '<param>'" and make the non-empty output lines the destination
// set — the first the new Request-URI, the others branches (the old
// branches are dropped). False when the command fails, is killed, prints
// no URI or an unparsable one; the destination set is then unchanged.
func fixupDset(param func(*sipmsg.Msg) string) func(any, *module.Env, []module.Value) (module.Handler, error) {
	return module.FixupOf(func(e *Exec, _ *module.Env, args []module.Value) (module.Handler, error) {
		cmd := args[0].String()
		if strings.TrimSpace(cmd) == "" {
			return nil, fmt.Errorf("exec: empty command")
		}
		return func(m *sipmsg.Msg) (int, error) {
			if m.Req == nil {
				return -1, nil
			}
			line := cmd + " " + shellQuote(param(m))
			out := &capBuffer{max: maxOutput}
			if err := e.run(line, e.environ(m), nil, out); err != nil {
				e.log.ErrorContext(module.MsgCtx(m), "exec: command failed", "cmd", line, "err", err)
				return -1, nil
			}
			if out.overflow {
				e.log.ErrorContext(module.MsgCtx(m), "exec: command printed too much", "cmd", line, "limit", maxOutput)
				return -1, nil
			}
			uris, err := parseURIs(out.b.Bytes())
			if err != nil {
				e.log.ErrorContext(module.MsgCtx(m), "exec: bad command output", "cmd", line, "err", err)
				return -1, nil
			}
			if err := m.SetURI(uris[0]); err != nil {
				e.log.ErrorContext(module.MsgCtx(m), "exec: bad command output", "cmd", line, "err", err)
				return -1, nil
			}
			m.ClearBranches()
			for _, u := range uris[1:] {
				m.AppendBranch(sipmsg.Branch{URI: u, Q: -1})
			}
			return 1, nil
		}, nil
	})
}

// parseURIs splits a command's output into URIs: lines right-trimmed of
// CR, LF, tab and space, empty lines skipped, each checked to parse.
func parseURIs(out []byte) ([]string, error) {
	var uris []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 4096), maxOutput+1)
	for sc.Scan() {
		l := strings.TrimRight(sc.Text(), "\r\n\t ")
		if l == "" {
			continue
		}
		if len(l) > maxURILine {
			return nil, fmt.Errorf("line of %d bytes exceeds %d", len(l), maxURILine)
		}
		var u sip.Uri
		if err := sip.ParseUri(l, &u); err != nil {
			return nil, fmt.Errorf("%q is not a URI: %w", l, err)
		}
		uris = append(uris, l)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(uris) == 0 {
		return nil, fmt.Errorf("no uri in the output")
	}
	return uris, nil
}
