package script

import (
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"

	"ser/core/cfg"
	"ser/core/module"
	"ser/core/sipmsg"
)

// rewrite returns a handler that edits the R-URI in place.
func rewrite(edit func(u *sip.Uri)) module.Handler {
	return func(m *sipmsg.Msg) (int, error) {
		if m.Req == nil {
			return -1, nil
		}
		edit(&m.Req.Recipient)
		m.URIChanged()
		return 1, nil
	}
}

// compileSetHost compiles rewritehost(host): the host changes, user,
// password, port and parameters stay.
func compileSetHost(c *compiler, call *cfg.Call) (module.Handler, error) {
	h, err := hostArg(call.Args[0])
	if err != nil {
		return nil, err
	}
	return rewrite(func(u *sip.Uri) { u.Host = h }), nil
}

// compileSetHostPort compiles rewritehostport("host:port"); without a port
// the URI's port is removed.
func compileSetHostPort(c *compiler, call *cfg.Call) (module.Handler, error) {
	s := textArg(call.Args[0])
	hostText, portText := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return nil, fmt.Errorf("bad host:port %q", s)
		}
		hostText = s[:end+1]
		if rest := s[end+1:]; rest != "" {
			if rest[0] != ':' {
				return nil, fmt.Errorf("bad host:port %q", s)
			}
			portText = rest[1:]
		}
	} else if i := strings.LastIndexByte(s, ':'); i >= 0 {
		hostText, portText = s[:i], s[i+1:]
	}
	h, err := hostArg(cfg.Value{Kind: cfg.StringValue, Text: hostText})
	if err != nil {
		return nil, err
	}
	port, err := parsePortText(portText)
	if err != nil {
		return nil, err
	}
	return rewrite(func(u *sip.Uri) { u.Host, u.Port = h, port }), nil
}

// compileSetUser compiles rewriteuser(user); the password stays. An empty
// user removes the user part.
func compileSetUser(c *compiler, call *cfg.Call) (module.Handler, error) {
	user := textArg(call.Args[0])
	return rewrite(func(u *sip.Uri) {
		u.User = user
		if user == "" {
			u.Password = ""
		}
	}), nil
}

// compileSetUserPass compiles rewriteuserpass("user:password").
func compileSetUserPass(c *compiler, call *cfg.Call) (module.Handler, error) {
	user, pass, _ := strings.Cut(textArg(call.Args[0]), ":")
	return rewrite(func(u *sip.Uri) { u.User, u.Password = user, pass }), nil
}

// compileSetPort compiles rewriteport("port"); "" removes the port.
func compileSetPort(c *compiler, call *cfg.Call) (module.Handler, error) {
	port, err := parsePortText(textArg(call.Args[0]))
	if err != nil {
		return nil, err
	}
	return rewrite(func(u *sip.Uri) { u.Port = port }), nil
}

// compileSetURI compiles rewriteuri(uri); the URI is parsed here, once.
func compileSetURI(c *compiler, call *cfg.Call) (module.Handler, error) {
	s := textArg(call.Args[0])
	var tmpl sip.Uri
	if err := sip.ParseUri(s, &tmpl); err != nil {
		return nil, fmt.Errorf("bad uri %q: %v", s, err)
	}
	return func(m *sipmsg.Msg) (int, error) {
		if m.Req == nil {
			return -1, nil
		}
		if tmpl.UriParams == nil && tmpl.Headers == nil {
			m.Req.Recipient = tmpl
		} else {
			m.Req.Recipient = *tmpl.Clone()
		}
		m.URIChanged()
		return 1, nil
	}, nil
}

// compileRevertURI compiles revert_uri(): back to the R-URI as received.
func compileRevertURI(c *compiler, call *cfg.Call) (module.Handler, error) {
	return func(m *sipmsg.Msg) (int, error) {
		if m.Req == nil {
			return -1, nil
		}
		m.RevertURI()
		return 1, nil
	}, nil
}

// compilePrefix compiles prefix(s): s goes in front of the user part.
func compilePrefix(c *compiler, call *cfg.Call) (module.Handler, error) {
	p := textArg(call.Args[0])
	return rewrite(func(u *sip.Uri) { u.User = p + u.User }), nil
}

// compileStrip compiles strip(n) (first n characters of the user part)
// and strip_tail(n) (last n). Asking for more removes the whole user part.
func compileStrip(tail bool) func(*compiler, *cfg.Call) (module.Handler, error) {
	return func(c *compiler, call *cfg.Call) (module.Handler, error) {
		n, err := intArg(call.Args[0])
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, fmt.Errorf("negative length %d", n)
		}
		return rewrite(func(u *sip.Uri) {
			k := min(n, len(u.User))
			if tail {
				u.User = u.User[:len(u.User)-k]
			} else {
				u.User = u.User[k:]
			}
		}), nil
	}
}
