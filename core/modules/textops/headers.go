package textops

import (
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/sipmsg"
)

// headerList is the part of sipgo's requests and replies the header
// functions need.
type headerList interface {
	Headers() []sip.Header
	RemoveHeader(name string) bool
	AppendHeader(h sip.Header)
}

func headersOf(msg *sipmsg.Msg) headerList {
	if msg.Req != nil {
		return msg.Req
	}
	if msg.Resp != nil {
		return msg.Resp
	}
	return nil
}

// canonical returns the lower-case full name of a header name.
func canonical(name string) string {
	long, _ := sipmsg.HeaderNames(strings.TrimSpace(name))
	return long
}

// headerName validates a header name argument ("Name" or "Name:").
func headerName(fn, arg string) (string, error) {
	n := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(arg), ":"))
	if !isToken(n) {
		return "", fmt.Errorf("%s: %q is not a header name", fn, arg)
	}
	return canonical(n), nil
}

// isToken reports whether s is a non-empty RFC 3261 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("-.!%*_+`'~", rune(c)) {
			return false
		}
	}
	return true
}

// headerLines splits header text as a script gives it ("Name: value\r\n",
// several lines, CRLF optional; a literal backslash-r-backslash-n is taken
// as CRLF) into logical lines, unfolding continuation lines. Every line
// must be "Name: value".
func headerLines(fn, text string) ([]string, error) {
	text = strings.ReplaceAll(text, `\r\n`, "\r\n")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if (l[0] == ' ' || l[0] == '\t') && len(lines) > 0 {
			lines[len(lines)-1] += " " + strings.TrimSpace(l)
			continue
		}
		lines = append(lines, strings.TrimRight(l, " \t"))
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%s: no header field in %q", fn, text)
	}
	for _, l := range lines {
		name, _, ok := strings.Cut(l, ":")
		if !ok || !isToken(strings.TrimSpace(name)) {
			return nil, fmt.Errorf("%s: %q is not a header field (Name: value)", fn, l)
		}
	}
	return lines, nil
}

// parseHeaderLine turns "Name: value" into sipgo headers (typed ones for
// the headers sipgo knows, several for a comma-separated list), or a
// generic header when sipgo's parser refuses the value.
func parseHeaderLine(line string) []sip.Header {
	hs, err := sip.HeadersParser(sip.DefaultHeadersParser()).ParseHeader(nil, []byte(line))
	if err == nil && len(hs) > 0 {
		return hs
	}
	name, val, _ := strings.Cut(line, ":")
	return []sip.Header{sip.NewHeader(strings.TrimSpace(name), strings.TrimSpace(val))}
}

// AppendHeaders appends header lines ("Name: value") after the last
// header of the message.
func AppendHeaders(msg *sipmsg.Msg, lines []string) error {
	hl := headersOf(msg)
	if hl == nil {
		return fmt.Errorf("textops: no message")
	}
	for _, l := range lines {
		for _, h := range parseHeaderLine(l) {
			hl.AppendHeader(h)
		}
	}
	return nil
}

func fixupAppendHF(_ any, env *module.Env, args []module.Value) (module.Handler, error) {
	lines, err := headerLines("append_hf", args[0].String())
	if err != nil {
		return nil, err
	}
	return func(msg *sipmsg.Msg) (int, error) {
		if err := AppendHeaders(msg, lines); err != nil {
			return -1, err
		}
		return 1, nil
	}, nil
}

func fixupAppendURIHF(_ any, env *module.Env, args []module.Value) (module.Handler, error) {
	prefix, suffix := args[0].String(), args[1].String()
	// Validate with a placeholder URI: the result must be header lines.
	if _, err := headerLines("append_urihf", prefix+"sip:x"+suffix); err != nil {
		return nil, err
	}
	return func(msg *sipmsg.Msg) (int, error) {
		if msg.Req == nil {
			return -1, nil
		}
		lines, err := headerLines("append_urihf", prefix+msg.OrigURI().String()+suffix)
		if err != nil {
			return -1, fmt.Errorf("textops: %w", err)
		}
		if err := AppendHeaders(msg, lines); err != nil {
			return -1, err
		}
		return 1, nil
	}, nil
}

func fixupAppendToReply(_ any, env *module.Env, args []module.Value) (module.Handler, error) {
	lines, err := headerLines("append_to_reply", args[0].String())
	if err != nil {
		return nil, err
	}
	return func(msg *sipmsg.Msg) (int, error) {
		msg.ReplyHeaders = append(msg.ReplyHeaders, lines...)
		return 1, nil
	}, nil
}

func fixupRemoveHF(_ any, env *module.Env, args []module.Value) (module.Handler, error) {
	name, err := headerName("remove_hf", args[0].String())
	if err != nil {
		return nil, err
	}
	return func(msg *sipmsg.Msg) (int, error) {
		if RemoveHeaders(msg, name) == 0 {
			return -1, nil
		}
		return 1, nil
	}, nil
}

func fixupIsPresentHF(_ any, env *module.Env, args []module.Value) (module.Handler, error) {
	name, err := headerName("is_present_hf", args[0].String())
	if err != nil {
		return nil, err
	}
	return func(msg *sipmsg.Msg) (int, error) {
		if findHeader(msg, name) == nil {
			return -1, nil
		}
		return 1, nil
	}, nil
}

// findHeader returns the first header whose name (compact forms
// expanded, any case) is name, which must be canonical.
func findHeader(msg *sipmsg.Msg, name string) sip.Header {
	hl := headersOf(msg)
	if hl == nil {
		return nil
	}
	for _, h := range hl.Headers() {
		if canonical(h.Name()) == name {
			return h
		}
	}
	return nil
}

// RemoveHeaders removes every header called name (any case, compact forms
// matching their full names) and returns how many it removed.
func RemoveHeaders(msg *sipmsg.Msg, name string) int {
	name = canonical(name)
	hl := headersOf(msg)
	n := 0
	for {
		h := findHeader(msg, name)
		if h == nil || !hl.RemoveHeader(h.Name()) {
			return n
		}
		n++
	}
}
