package rpc

import "strings"

// lineParams serves parameter lines from a slice with FIFO framing rules.
type lineParams struct {
	lines []string
	// dotOnly makes header sets end only at "." (unix socket rules).
	dotOnly bool
}

// Lines returns Params over a list of lines (FIFO rules: header sets end at
// an empty line or "."). A line containing newlines is split, so a whole
// multi-line message can be passed as one string, as serweb's XML-RPC
// client did. Each line is right-trimmed of CR, LF, space and tab.
func Lines(lines []string) Params { return &lineParams{lines: splitLines(lines)} }

// DotLines is Lines with unix-socket rules: header sets end only at ".".
func DotLines(lines []string) Params {
	return &lineParams{lines: splitLines(lines), dotOnly: true}
}

func splitLines(in []string) []string {
	var out []string
	for _, l := range in {
		if strings.ContainsAny(l, "\n") {
			parts := strings.Split(strings.TrimSuffix(l, "\n"), "\n")
			for _, p := range parts {
				out = append(out, TrimLine(p))
			}
			continue
		}
		out = append(out, TrimLine(l))
	}
	return out
}

// TrimLine right-trims CR, LF, space and tab, as SER's FIFO reader does.
func TrimLine(s string) string { return strings.TrimRight(s, "\r\n \t") }

func (p *lineParams) Line() (string, bool) {
	if len(p.lines) == 0 {
		return "", false
	}
	l := p.lines[0]
	p.lines = p.lines[1:]
	return l, true
}

func (p *lineParams) LineSet() ([]string, bool) {
	var set []string
	for {
		l, ok := p.Line()
		if !ok {
			// The request ended: accept the set read so far (an XML-RPC
			// array ends the set as well as a terminator line would).
			return set, true
		}
		if l == "." || (l == "" && !p.dotOnly) {
			return set, true
		}
		set = append(set, l)
	}
}

func (p *lineParams) Body() ([]string, bool) {
	var body []string
	for {
		l, ok := p.Line()
		if !ok {
			return body, true
		}
		if l == "." {
			return body, true
		}
		body = append(body, l)
	}
}
