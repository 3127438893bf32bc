package textops

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// substExpr is a compiled sed-like substitution "/re/replacement/flags"
// (SER's re.c subst_parser).
type substExpr struct {
	re  *regexp.Regexp
	all bool // flag g
	// parts make up the replacement: literal text, match references or
	// the Request-URI.
	parts []replPart
	src   string
}

type replKind uint8

const (
	replText replKind = iota
	replGroup
	replURI
)

type replPart struct {
	kind  replKind
	text  string
	group int
}

// parseSubst parses "/re/repl/flags". The first character is the
// separator (not a backslash); in re an escaped separator stands for
// itself; in repl the escapes are \\ \n \r \t, \u (the current
// Request-URI), \0..\9 (the whole match and subexpressions) and \c for any
// other c. Flags: i (case-insensitive), g (replace all), s (no newline
// special-casing: "." matches a newline, "^"/"$" only at the ends). The
// expression is case-sensitive by default, as in SER.
func parseSubst(expr string) (*substExpr, error) {
	if len(expr) < 3 {
		return nil, fmt.Errorf("subst expression %q is too short", expr)
	}
	sep := expr[0]
	if sep == '\\' {
		return nil, fmt.Errorf("subst expression %q: invalid separator %q", expr, sep)
	}
	// The regular expression ends at the first separator not preceded by a
	// backslash.
	rest := expr[1:]
	reEnd := -1
	for i := 0; i < len(rest); i++ {
		if rest[i] == sep && (i == 0 || rest[i-1] != '\\') {
			reEnd = i
			break
		}
	}
	if reEnd < 0 {
		return nil, fmt.Errorf("subst expression %q: no separator after the regular expression", expr)
	}
	pattern := rest[:reEnd]
	if unicode.IsLetter(rune(sep)) || unicode.IsDigit(rune(sep)) {
		// "\x" would mean something else to the regexp parser.
		pattern = strings.ReplaceAll(pattern, `\`+string(sep), string(sep))
	}
	rest = rest[reEnd+1:]

	se := &substExpr{src: expr}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			se.parts = append(se.parts, replPart{kind: replText, text: lit.String()})
			lit.Reset()
		}
	}
	end := -1
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if c == sep {
			end = i
			break
		}
		if c != '\\' {
			lit.WriteByte(c)
			continue
		}
		i++
		if i == len(rest) {
			break
		}
		switch e := rest[i]; {
		case e == 'n':
			lit.WriteByte('\n')
		case e == 'r':
			lit.WriteByte('\r')
		case e == 't':
			lit.WriteByte('\t')
		case e == 'u':
			flush()
			se.parts = append(se.parts, replPart{kind: replURI})
		case e >= '0' && e <= '9':
			flush()
			se.parts = append(se.parts, replPart{kind: replGroup, group: int(e - '0')})
		default: // \\, the separator, any other character: itself
			lit.WriteByte(e)
		}
	}
	if end < 0 {
		return nil, fmt.Errorf("subst expression %q: missing separator after the replacement", expr)
	}
	flush()
	f := reFlags{newline: true}
	for _, c := range rest[end+1:] {
		switch c {
		case 'i':
			f.icase = true
		case 'g':
			se.all = true
		case 's':
			f.newline = false
		default:
			return nil, fmt.Errorf("subst expression %q: unknown flag %q", expr, c)
		}
	}
	re, err := compileRE(pattern, f)
	if err != nil {
		return nil, fmt.Errorf("subst expression %q: %w", expr, err)
	}
	for _, p := range se.parts {
		if p.kind == replGroup && p.group > re.NumSubexp() {
			return nil, fmt.Errorf("subst expression %q: \\%d refers to a missing subexpression", expr, p.group)
		}
	}
	se.re = re
	return se, nil
}

// apply substitutes in text: the first match, or all with flag g. uri is
// what \u expands to. It returns the new text and whether anything
// matched.
func (se *substExpr) apply(text []byte, uri string) ([]byte, bool) {
	n := 1
	if se.all {
		n = -1
	}
	matches := se.re.FindAllSubmatchIndex(text, n)
	if len(matches) == 0 {
		return text, false
	}
	out := make([]byte, 0, len(text)+64)
	prev := 0
	for _, mt := range matches {
		out = append(out, text[prev:mt[0]]...)
		for _, p := range se.parts {
			switch p.kind {
			case replText:
				out = append(out, p.text...)
			case replURI:
				out = append(out, uri...)
			case replGroup:
				if s, e := mt[2*p.group], mt[2*p.group+1]; s >= 0 {
					out = append(out, text[s:e]...)
				}
			}
		}
		prev = mt[1]
	}
	return append(out, text[prev:]...), true
}
