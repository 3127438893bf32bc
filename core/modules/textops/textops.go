// Package textops is SER's textual message operations module: regular
// expression search over the received message, textual edits (replace,
// search_append, subst) of the current message, header field
// manipulation (append_hf, remove_hf, is_present_hf, append_urihf) and
// extra header lines for local replies (append_to_reply).
//
// Regular expressions are POSIX extended ones compiled once at load time,
// case-insensitively and with REG_NEWLINE semantics as in SER ("." and
// [^…] do not cross a line end, "^" and "$" anchor at lines); subst
// expressions are case-sensitive unless flagged i.
//
// Textual edits work on the current message text — sipgo's serialisation
// of the message with every change so far (Msg.Bytes()) — starting after
// the first line, which they never touch; the result is re-parsed
// (Msg.ReplaceText) with Content-Length adjusted to the new body. search
// looks at the message as received (Msg.Raw), or as left by the last
// textual edit.
package textops

import (
	"bytes"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"time"

	"ser/core/module"
	"ser/core/sipmsg"
)

// Module is one server's textops instance (the module has no parameters).
type Module struct {
	log *slog.Logger
}

// New returns a textops instance.
func New() *Module { return &Module{log: slog.Default()} }

func initModule(m *Module, env *module.Env) error {
	if env.Log != nil {
		m.log = env.Log
	}
	return nil
}

func fixupSearch(_ any, env *module.Env, args []module.Value) (module.Handler, error) {
	re, err := scriptRE(args[0].String())
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return func(msg *sipmsg.Msg) (int, error) { return Search(msg, re), nil }, nil
}

// Search reports (1 / -1) whether re matches the message text as
// received (Msg.Raw), first line included.
func Search(msg *sipmsg.Msg, re *regexp.Regexp) int {
	text := msg.Raw
	if text == nil {
		text = msg.Bytes()
	}
	if re.Match(text) {
		return 1
	}
	return -1
}

func fixupSearchAppend(_ any, env *module.Env, args []module.Value) (module.Handler, error) {
	re, err := scriptRE(args[0].String())
	if err != nil {
		return nil, fmt.Errorf("search_append: %w", err)
	}
	txt := args[1].String()
	return func(msg *sipmsg.Msg) (int, error) {
		return editText(msg, func(region []byte) ([]byte, bool) {
			loc := re.FindIndex(region)
			if loc == nil {
				return nil, false
			}
			return splice(region, loc[1], loc[1], txt), true
		})
	}, nil
}

func fixupReplace(_ any, env *module.Env, args []module.Value) (module.Handler, error) {
	re, err := scriptRE(args[0].String())
	if err != nil {
		return nil, fmt.Errorf("replace: %w", err)
	}
	txt := args[1].String()
	return func(msg *sipmsg.Msg) (int, error) {
		return editText(msg, func(region []byte) ([]byte, bool) {
			loc := re.FindIndex(region)
			if loc == nil {
				return nil, false
			}
			return splice(region, loc[0], loc[1], txt), true
		})
	}, nil
}

func fixupReplaceAll(_ any, env *module.Env, args []module.Value) (module.Handler, error) {
	re, err := scriptRE(args[0].String())
	if err != nil {
		return nil, fmt.Errorf("replace_all: %w", err)
	}
	txt := args[1].String()
	return func(msg *sipmsg.Msg) (int, error) {
		return editText(msg, func(region []byte) ([]byte, bool) {
			locs := re.FindAllIndex(region, -1)
			if len(locs) == 0 {
				return nil, false
			}
			out := make([]byte, 0, len(region))
			prev := 0
			for _, l := range locs {
				out = append(out, region[prev:l[0]]...)
				out = append(out, txt...)
				prev = l[1]
			}
			return append(out, region[prev:]...), true
		})
	}, nil
}

func fixupSubst(_ any, env *module.Env, args []module.Value) (module.Handler, error) {
	se, err := parseSubst(args[0].String())
	if err != nil {
		return nil, fmt.Errorf("subst: %w", err)
	}
	return func(msg *sipmsg.Msg) (int, error) {
		return editText(msg, func(region []byte) ([]byte, bool) {
			return se.apply(region, msg.URIString())
		})
	}, nil
}

func fixupSubstURI(_ any, env *module.Env, args []module.Value) (module.Handler, error) {
	se, err := parseSubst(args[0].String())
	if err != nil {
		return nil, fmt.Errorf("subst_uri: %w", err)
	}
	return func(msg *sipmsg.Msg) (int, error) {
		if msg.Req == nil {
			return -1, nil
		}
		uri := msg.URIString()
		out, ok := se.apply([]byte(uri), uri)
		if !ok {
			return -1, nil
		}
		if err := msg.SetURI(string(out)); err != nil {
			return -1, fmt.Errorf("textops: subst_uri: %w", err)
		}
		return 1, nil
	}, nil
}

// fixupSubstUser binds subst_user('/re/repl/flags'): the substitution runs
// on the user part of the Request-URI ("" when it has none) and its result
// becomes the user part, as rewriteuser does ("" removes the user and its
// password). False when the expression does not match (SER 0.9).
func fixupSubstUser(_ any, env *module.Env, args []module.Value) (module.Handler, error) {
	se, err := parseSubst(args[0].String())
	if err != nil {
		return nil, fmt.Errorf("subst_user: %w", err)
	}
	return func(msg *sipmsg.Msg) (int, error) {
		u := msg.URI()
		if u == nil {
			return -1, nil
		}
		out, ok := se.apply([]byte(u.User), msg.URIString())
		if !ok {
			return -1, nil
		}
		u.User = string(out)
		if u.User == "" {
			u.Password = ""
		}
		msg.URIChanged()
		return 1, nil
	}, nil
}

// fixupAppendTime binds append_time(): the reply ser will send to this
// request gets a "Date: Mon, 02 Jan 2006 15:04:05 GMT" header (SER 0.9's
// strftime format), e.g. before save() so that phones can set their clock.
func fixupAppendTime(_ any, env *module.Env, args []module.Value) (module.Handler, error) {
	return func(msg *sipmsg.Msg) (int, error) {
		msg.ReplyHeaders = append(msg.ReplyHeaders, "Date: "+time.Now().UTC().Format("Mon, 02 Jan 2006 15:04:05")+" GMT")
		return 1, nil
	}, nil
}

// splice replaces region[from:to] with txt.
func splice(region []byte, from, to int, txt string) []byte {
	out := make([]byte, 0, len(region)+len(txt))
	out = append(out, region[:from]...)
	out = append(out, txt...)
	return append(out, region[to:]...)
}

// editText applies edit to the current message text after its first line
// and re-parses the result. It returns -1 when edit found nothing to do.
func editText(msg *sipmsg.Msg, edit func(region []byte) ([]byte, bool)) (int, error) {
	text := msg.Bytes()
	start := bytes.IndexByte(text, '\n') + 1
	region, changed := edit(text[start:])
	if !changed {
		return -1, nil
	}
	out := make([]byte, 0, start+len(region))
	out = append(out, text[:start]...)
	out = append(out, region...)
	if err := msg.ReplaceText(FixContentLength(out)); err != nil {
		return -1, fmt.Errorf("textops: %w", err)
	}
	return 1, nil
}

// FixContentLength sets the Content-Length header (or its compact form l)
// of a message text to the length of its body. Text without a
// Content-Length header or without the empty line ending the header is
// returned unchanged.
func FixContentLength(text []byte) []byte {
	hdrEnd, bodyStart := headerEnd(text)
	if hdrEnd < 0 {
		return text
	}
	bodyLen := strconv.Itoa(len(text) - bodyStart)
	pos := bytes.IndexByte(text, '\n') + 1 // skip the first line
	for pos < hdrEnd {
		eol := bytes.IndexByte(text[pos:], '\n')
		if eol < 0 {
			break
		}
		line := text[pos : pos+eol]
		colon := bytes.IndexByte(line, ':')
		if colon > 0 && isContentLength(bytes.TrimSpace(line[:colon])) {
			vs := pos + colon + 1
			ve := pos + eol
			if ve > vs && text[ve-1] == '\r' {
				ve--
			}
			out := make([]byte, 0, len(text)+8)
			out = append(out, text[:vs]...)
			out = append(out, ' ')
			out = append(out, bodyLen...)
			return append(out, text[ve:]...)
		}
		pos += eol + 1
	}
	return text
}

func isContentLength(name []byte) bool {
	return bytes.EqualFold(name, []byte("content-length")) || bytes.EqualFold(name, []byte("l"))
}

// headerEnd returns the offset of the empty line that ends the header and
// the offset of the body, or -1.
func headerEnd(text []byte) (int, int) {
	if i := bytes.Index(text, []byte("\r\n\r\n")); i >= 0 {
		return i + 2, i + 4
	}
	if i := bytes.Index(text, []byte("\n\n")); i >= 0 {
		return i + 1, i + 2
	}
	return -1, -1
}
