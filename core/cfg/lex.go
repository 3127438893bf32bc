package cfg

import (
	"strconv"
	"strings"
)

// stateFn is a lexer state: it consumes input and returns the next state
// (nil at the end of the input).
type stateFn func(*lexer) stateFn

// lexer turns a configuration file into tokens. It runs to the end of the
// input at once (configuration files are small) and records lexical errors
// as it goes; a bad token becomes a tError token so that the parser can
// recover without reporting it a second time.
type lexer struct {
	file  string
	input string
	pos   int // current offset
	line  int // line of pos
	col   int // column of pos
	start int // start of the current token
	spos  Pos // position of start
	toks  []token
	errs  ErrorList
	// eofInString is where a string that ran to the end of the input
	// started (invalid when none did).
	eofInString Pos
}

// lex tokenises input; the last token is always tEOF.
func lex(file, input string) ([]token, ErrorList) {
	l := lexAll(file, input)
	return l.toks, l.errs
}

// lexAll runs the lexer over input.
func lexAll(file, input string) *lexer {
	l := &lexer{file: file, input: input, line: 1, col: 1}
	for state := lexAny; state != nil; {
		state = state(l)
	}
	return l
}

// here returns the position of the next byte.
func (l *lexer) here() Pos { return Pos{File: l.file, Line: l.line, Col: l.col} }

// peekAt returns the byte i bytes ahead, or 0 past the end.
func (l *lexer) peekAt(i int) byte {
	if l.pos+i < len(l.input) {
		return l.input[l.pos+i]
	}
	return 0
}

// advance consumes n bytes, keeping line and column.
func (l *lexer) advance(n int) {
	for ; n > 0 && l.pos < len(l.input); n-- {
		if l.input[l.pos] == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
		l.pos++
	}
}

// mark starts a new token at the current position.
func (l *lexer) mark() {
	l.start = l.pos
	l.spos = l.here()
}

// emit appends a token spanning start..pos.
func (l *lexer) emit(k tokenKind) {
	l.toks = append(l.toks, token{kind: k, pos: l.spos, text: l.input[l.start:l.pos]})
}

// errorf records a lexical error at pos and emits a tError token.
func (l *lexer) errorf(pos Pos, format string, args ...any) {
	l.errs.Addf(pos, format, args...)
	l.toks = append(l.toks, token{kind: tError, pos: pos, text: l.input[l.start:l.pos]})
}

// lexAny skips blanks, newlines and comments and dispatches on the next
// character.
func lexAny(l *lexer) stateFn {
	for {
		if l.pos >= len(l.input) {
			l.mark()
			l.emit(tEOF)
			return nil
		}
		c := l.input[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\b' || c == '\f' || c == '\v':
			l.advance(1)
			continue
		case c == '\\' && (l.peekAt(1) == '\n' || (l.peekAt(1) == '\r' && l.peekAt(2) == '\n')):
			l.advance(1) // an escaped line end continues the line
			continue
		}
		l.mark()
		switch {
		case c == '#':
			return lexLineComment
		case c == '/' && l.peekAt(1) == '*':
			return lexBlockComment
		case c == '"':
			return lexQuote
		case c == '\'':
			return lexTick
		case c == '-' && isDigit(l.peekAt(1)):
			return lexWord
		case c == '[' && l.ipv6Bracket() > 0:
			return lexWord
		case isWordStart(c):
			return lexWord
		}
		return lexPunct
	}
}

// lexPunct reads an operator or a delimiter.
func lexPunct(l *lexer) stateFn {
	c, c2 := l.input[l.pos], l.peekAt(1)
	two := func(k tokenKind) stateFn { l.advance(2); l.emit(k); return lexAny }
	one := func(k tokenKind) stateFn { l.advance(1); l.emit(k); return lexAny }
	switch c {
	case '(':
		return one(tLParen)
	case ')':
		return one(tRParen)
	case '{':
		return one(tLBrace)
	case '}':
		return one(tRBrace)
	case '[':
		return one(tLBrack)
	case ']':
		return one(tRBrack)
	case ',':
		return one(tComma)
	case ';':
		return one(tSemi)
	case '=':
		switch c2 {
		case '=':
			return two(tEq)
		case '~':
			return two(tMatch)
		}
		return one(tAssign)
	case '!':
		switch c2 {
		case '=':
			return two(tNe)
		case '~':
			return two(tNotMatch)
		}
		return one(tNot)
	case '<':
		if c2 == '=' {
			return two(tLe)
		}
		return one(tLt)
	case '>':
		if c2 == '=' {
			return two(tGe)
		}
		return one(tGt)
	case '&':
		if c2 == '&' {
			return two(tAnd)
		}
		return one(tAnd)
	case '|':
		if c2 == '|' {
			return two(tOr)
		}
		return one(tOr)
	}
	l.advance(1)
	hint := ""
	if n := len(l.toks); n > 0 {
		hint = multiLineHint(l.toks[n-1])
	}
	if c >= 0x20 && c < 0x7f {
		l.errorf(l.spos, "unexpected character '%c'%s", c, hint)
	} else {
		l.errorf(l.spos, "unexpected character %q%s", string(c), hint)
	}
	return lexAny
}

// lexLineComment skips a '#' comment up to the end of the line.
func lexLineComment(l *lexer) stateFn {
	i := strings.IndexByte(l.input[l.pos:], '\n')
	if i < 0 {
		i = len(l.input) - l.pos
	}
	l.advance(i)
	return lexAny
}

// lexBlockComment skips a /* … */ comment; comments nest, as in SER.
func lexBlockComment(l *lexer) stateFn {
	depth := 0
	for l.pos < len(l.input) {
		switch {
		case l.input[l.pos] == '/' && l.peekAt(1) == '*':
			depth++
			l.advance(2)
		case l.input[l.pos] == '*' && l.peekAt(1) == '/':
			depth--
			l.advance(2)
			if depth == 0 {
				return lexAny
			}
		default:
			l.advance(1)
		}
	}
	l.errorf(l.spos, "unterminated comment")
	return lexAny
}

// lexQuote reads a double-quoted string, as SER 0.9's lexer does. The
// escapes \n \r \t \a \" \\ are replaced, \xH and \xHH are a byte in hex,
// \ooo and \oo a byte in octal (a single octal digit is left alone, so a
// back-reference "\1" survives), and a backslash at the end of a line is
// removed with the line end. Any other backslash is kept with the character
// after it ("\." stays a regular-expression escape). The string may span
// lines; its line ends are kept.
func lexQuote(l *lexer) stateFn {
	l.advance(1)
	var b strings.Builder
	for l.pos < len(l.input) {
		c := l.input[l.pos]
		if c == '"' {
			l.advance(1)
			l.emitString(b.String())
			return lexAny
		}
		if c != '\\' {
			b.WriteByte(c)
			l.advance(1)
			continue
		}
		e := l.peekAt(1)
		n := 2 // bytes consumed
		switch {
		case e == 'n':
			b.WriteByte('\n')
		case e == 'r':
			b.WriteByte('\r')
		case e == 't':
			b.WriteByte('\t')
		case e == 'a':
			b.WriteByte('\a')
		case e == '"' || e == '\\':
			b.WriteByte(e)
		case e == '\n':
		case e == '\r' && l.peekAt(2) == '\n':
			n = 3 // an escaped CRLF line end
		case e == 'x' && isHex(l.peekAt(2)):
			v := unhex(l.peekAt(2))
			n = 3
			if isHex(l.peekAt(3)) {
				v, n = v<<4|unhex(l.peekAt(3)), 4
			}
			b.WriteByte(v)
		case isOctal(e) && isOctal(l.peekAt(2)):
			v := (e-'0')<<3 | (l.peekAt(2) - '0')
			n = 3
			if d := l.peekAt(3); isOctal(d) {
				v, n = v<<3|(d-'0'), 4
			}
			b.WriteByte(v)
		default:
			b.WriteByte('\\')
			n = 1
		}
		l.advance(n)
	}
	l.unterminated()
	return lexAny
}

// lexTick reads a single-quoted string, taken literally; it may span lines.
func lexTick(l *lexer) stateFn {
	l.advance(1)
	i := strings.IndexByte(l.input[l.pos:], '\'')
	if i < 0 {
		l.unterminated()
		return lexAny
	}
	text := l.input[l.pos : l.pos+i]
	l.advance(i + 1)
	l.emitString(text)
	return lexAny
}

// emitString appends a string token with its unescaped value; lines counts
// the line ends between its quotes as written.
func (l *lexer) emitString(val string) {
	l.toks = append(l.toks, token{kind: tString, pos: l.spos, text: val, lines: l.line - l.spos.Line})
}

// unterminated reports a string whose closing quote is missing: it ran to
// the end of the file. Later errors are consequences and are dropped by
// Parse.
func (l *lexer) unterminated() {
	l.advance(len(l.input) - l.pos)
	l.errorf(l.spos, "unterminated quoted string: no closing %c before the end of the file", l.input[l.start])
	l.eofInString = l.spos
}

// lexWord reads an unquoted word and classifies it as a number, an
// identifier or another word (address, host name, socket, uri:host …).
func lexWord(l *lexer) stateFn {
	if l.input[l.pos] == '-' {
		l.advance(1)
	}
	for l.pos < len(l.input) {
		c := l.input[l.pos]
		if c == '[' {
			n := l.ipv6Bracket()
			if n == 0 || (l.pos > l.start && l.input[l.pos-1] != ':') {
				break
			}
			l.advance(n)
			continue
		}
		if c == '/' && l.peekAt(1) == '*' {
			break
		}
		if !isWordChar(c) {
			break
		}
		l.advance(1)
	}
	text := l.input[l.start:l.pos]
	switch {
	case isIdent(text):
		l.emit(tIdent)
	case isNumberLike(text):
		n, err := parseNumber(text)
		if err != "" {
			l.errorf(l.spos, "%s", err)
			return lexAny
		}
		l.toks = append(l.toks, token{kind: tNumber, pos: l.spos, text: text, num: n})
	default:
		l.emit(tWord)
	}
	return lexAny
}

// ipv6Bracket returns the length of a bracketed IPv6 address ("[::1]") at
// the current position, or 0 when the '[' starts something else (route[1]).
func (l *lexer) ipv6Bracket() int {
	rest := l.input[l.pos:]
	end := strings.IndexByte(rest, ']')
	if end < 2 {
		return 0
	}
	inner := rest[1:end]
	if !strings.Contains(inner, ":") {
		return 0
	}
	for i := 0; i < len(inner); i++ {
		if c := inner[i]; !(isHex(c) || c == ':' || c == '.') {
			return 0
		}
	}
	return end + 1
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isHex(c byte) bool    { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
func isOctal(c byte) bool  { return c >= '0' && c <= '7' }

// unhex returns the value of a hex digit.
func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

func isWordStart(c byte) bool {
	return isLetter(c) || isDigit(c) || c == '.' || c == ':' || c == '/' || c == '*'
}

func isWordChar(c byte) bool { return isWordStart(c) || c == '-' }

// isIdent reports whether s is an identifier: [A-Za-z_][A-Za-z0-9_]*.
func isIdent(s string) bool {
	if s == "" || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isLetter(s[i]) && !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// isNumberLike reports whether s looks like a number: an optional '-'
// followed by digits, or 0x and hex digits.
func isNumberLike(s string) bool {
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		for i := 2; i < len(s); i++ {
			if !isHex(s[i]) {
				return false
			}
		}
		return true
	}
	if strings.HasPrefix(s, "-") {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// parseNumber converts a number as SER's lexer does: decimal, 0x hex and
// 0-prefixed octal. It returns an error message for malformed numbers.
func parseNumber(s string) (int, string) {
	var (
		v   int64
		err error
	)
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		v, err = strconv.ParseInt(s[2:], 16, 64)
	case len(s) > 1 && s[0] == '0':
		v, err = strconv.ParseInt(s[1:], 8, 64)
		if err != nil && strings.ContainsAny(s, "89") {
			return 0, "invalid octal number '" + s + "'"
		}
	default:
		v, err = strconv.ParseInt(s, 10, 64)
	}
	if err != nil || v > 1<<31-1 || v < -(1<<31) {
		return 0, "number '" + s + "' out of range"
	}
	return int(v), ""
}
