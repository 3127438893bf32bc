package script

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"

	"ser/core/cfg"
)

// Regexp compiles a regular expression as SER's script does: POSIX
// extended syntax (in a bracket expression a backslash is an ordinary
// character) matched case-insensitively. Go's RE2 syntax covers the rest:
// \. \+ and character classes such as [[:digit:]] mean what they meant in
// SER. Modules can use it for their own regular-expression arguments.
func Regexp(expr string) (*regexp.Regexp, error) {
	re, err := regexp.Compile("(?i)" + posixToRE2(expr))
	if err != nil {
		var se *syntax.Error
		if errors.As(err, &se) {
			return nil, fmt.Errorf("bad regular expression %q: %s", expr, se.Code)
		}
		return nil, fmt.Errorf("bad regular expression %q: %w", expr, err)
	}
	return re, nil
}

// posixToRE2 rewrites the bracket expressions of a POSIX ERE for RE2: a
// backslash or '[' in them is literal.
func posixToRE2(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			b.WriteByte(c)
			b.WriteByte(s[i+1])
			i++
			continue
		}
		if c != '[' {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		var cls strings.Builder
		cls.WriteByte('[')
		if j < len(s) && s[j] == '^' {
			cls.WriteByte('^')
			j++
		}
		if j < len(s) && s[j] == ']' {
			cls.WriteString(`\]`)
			j++
		}
		closed := false
		for ; j < len(s); j++ {
			switch d := s[j]; {
			case d == ']':
				closed = true
			case d == '[' && j+1 < len(s) && (s[j+1] == ':' || s[j+1] == '.' || s[j+1] == '='):
				end := strings.Index(s[j+2:], string(s[j+1])+"]")
				if end < 0 {
					cls.WriteString(s[j:])
					j = len(s)
					continue
				}
				cls.WriteString(s[j : j+2+end+2])
				j += 2 + end + 1
			case d == '\\':
				cls.WriteString(`\\`)
			case d == '[':
				cls.WriteString(`\[`)
			default:
				cls.WriteByte(d)
			}
			if closed {
				break
			}
		}
		if !closed {
			// Unterminated: leave it to regexp to report.
			b.WriteString(s[i:])
			return b.String()
		}
		cls.WriteByte(']')
		b.WriteString(cls.String())
		i = j
	}
	return b.String()
}

// regexp compiles (once per script) the regular expression of a value,
// reporting an error at its position.
func (c *compiler) regexp(v cfg.Value) *regexp.Regexp {
	if re, ok := c.regexes[v.Text]; ok {
		return re
	}
	re, err := Regexp(v.Text)
	if err != nil {
		c.errs.Addf(v.Pos, "%v", err)
		return nil
	}
	c.regexes[v.Text] = re
	return re
}
