package permissions

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"
)

// SER's permissions files (permissions.allow, permissions.deny, …), one
// rule a line:
//
//	from_list [EXCEPT from_list] : req_uri_list [EXCEPT req_uri_list]
//
// Lists are comma-separated expressions, each optionally in double quotes:
// case-insensitive POSIX extended regular expressions; ALL matches
// anything. '#' starts a comment (outside quotes); the last ':' outside
// quotes separates the two sides.

// exprList is a list of expressions; nil (ALL) matches anything.
type exprList []*regexp.Regexp

func (l exprList) match(s string) bool {
	for _, re := range l {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// rule is one line.
type rule struct {
	left, leftExcept   exprList
	right, rightExcept exprList
	leftAll, rightAll  bool
}

// matches reports whether the rule covers the pair.
func (r *rule) matches(left, right string) bool {
	return (r.leftAll || r.left.match(left)) && !r.leftExcept.match(left) &&
		(r.rightAll || r.right.match(right)) && !r.rightExcept.match(right)
}

// ruleSet is a parsed file; an absent file is an empty set.
type ruleSet struct {
	path  string
	rules []*rule
}

func (rs *ruleSet) search(left, right string) bool {
	for _, r := range rs.rules {
		if r.matches(left, right) {
			return true
		}
	}
	return false
}

// lineMax is SER's LINE_LENGTH: longer lines are an error here (SER cut
// them).
const lineMax = 500

// parseFile reads a permissions file. A missing file is an empty rule set
// (ok false); a line that does not parse is an error naming file:line.
func parseFile(path string) (rs *ruleSet, ok bool, err error) {
	rs = &ruleSet{path: path}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return rs, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4096), 64*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if len(line) > lineMax {
			return nil, false, fmt.Errorf("%s:%d: line longer than %d characters", path, n, lineMax)
		}
		r, err := parseLine(line)
		if err != nil {
			return nil, false, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		if r != nil {
			rs.rules = append(rs.rules, r)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	return rs, true, nil
}

// parseLine parses one line; nil for a blank or comment line.
func parseLine(line string) (*rule, error) {
	colon, end, quoted, content := -1, len(line), false, false
scan:
	for i := 0; i < len(line); i++ {
		switch c := line[i]; c {
		case '"':
			quoted, content = !quoted, true
		case ':':
			if !quoted {
				colon = i
			}
			content = true
		case '#':
			if !quoted {
				end = i
				break scan
			}
			content = true
		case ' ', '\t':
		default:
			content = true
		}
	}
	if !content {
		return nil, nil
	}
	if colon <= 0 || colon+1 >= end {
		return nil, fmt.Errorf("expected \"from_list : req_uri_list\"")
	}
	r := &rule{}
	var err error
	if r.left, r.leftExcept, r.leftAll, err = parseExpression(line[:colon]); err != nil {
		return nil, err
	}
	if r.right, r.rightExcept, r.rightAll, err = parseExpression(line[colon+1 : end]); err != nil {
		return nil, err
	}
	return r, nil
}

// parseExpression parses "list [EXCEPT list]"; all is set for ALL.
func parseExpression(s string) (list, except exprList, all bool, err error) {
	if i := strings.Index(s, " EXCEPT "); i >= 0 {
		if except, err = parseList(s[i+len(" EXCEPT "):]); err != nil {
			return nil, nil, false, err
		}
		s = s[:i]
	}
	s = strings.TrimLeft(s, " \t")
	if strings.HasPrefix(s, "ALL") {
		return nil, except, true, nil
	}
	list, err = parseList(s)
	return list, except, false, err
}

// parseList splits a comma-separated list (commas inside quotes do not
// count), trims blanks and one pair of quotes, and compiles each
// expression, case-insensitively.
func parseList(s string) (exprList, error) {
	var out exprList
	start, quoted := 0, false
	for i := 0; i <= len(s); i++ {
		if i < len(s) {
			if s[i] == '"' {
				quoted = !quoted
			}
			if s[i] != ',' || quoted {
				continue
			}
		}
		w := strings.Trim(s[start:i], " \t")
		w = strings.TrimPrefix(w, "\"")
		w = strings.TrimSuffix(w, "\"")
		if w == "" {
			return nil, fmt.Errorf("empty expression in %q", strings.TrimSpace(s))
		}
		re, err := regexp.Compile("(?i)" + w)
		if err != nil {
			return nil, fmt.Errorf("bad regular expression %q: %v", w, err)
		}
		out = append(out, re)
		start = i + 1
	}
	return out, nil
}

// compileBRE compiles a POSIX basic regular expression (the trusted
// table's from_pattern, compiled by SER with regcomp without
// REG_EXTENDED): \( \) \{ \} are groups and intervals, ( ) { } + ? | are
// literal characters; case-sensitive.
func compileBRE(p string) (*regexp.Regexp, error) {
	var b strings.Builder
	inBracket := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case inBracket:
			b.WriteByte(c)
			if c == ']' && !(i > 0 && (p[i-1] == '[' || (p[i-1] == '^' && i > 1 && p[i-2] == '['))) {
				inBracket = false
			}
		case c == '[':
			inBracket = true
			b.WriteByte(c)
		case c == '\\' && i+1 < len(p):
			i++
			switch n := p[i]; n {
			case '(', ')', '{', '}':
				b.WriteByte(n)
			default:
				b.WriteByte('\\')
				b.WriteByte(n)
			}
		case c == '*' && (i == 0 || (i == 1 && p[0] == '^') || strings.HasSuffix(b.String(), "(")):
			b.WriteString(`\*`) // a leading * is literal in a BRE
		case strings.IndexByte("(){}+?|", c) >= 0:
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return regexp.Compile(b.String())
}
