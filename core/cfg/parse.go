package cfg

import (
	"fmt"
	"os"
)

// maxErrors bounds the number of errors one parse reports.
const maxErrors = 100

// Parse parses a configuration file. name is used in positions. It returns
// the tree built so far even when there are errors; the errors are sorted
// by position.
func Parse(name string, src []byte) (*File, ErrorList) {
	l := lexAll(name, string(src))
	p := &parser{toks: l.toks, f: &File{Name: name}, routes: map[RouteKind]map[int]*RouteBlock{}}
	p.errs = l.errs
	p.parseFile()
	if open := l.eofInString; open.IsValid() {
		// A string ran to the end of the file: what the parser found
		// missing after it is a consequence.
		kept := p.errs[:0]
		for _, e := range p.errs {
			if !open.Before(e.Pos) {
				kept = append(kept, e)
			}
		}
		p.errs = kept
	}
	p.errs.Sort()
	if len(p.errs) > maxErrors {
		p.errs = append(p.errs[:maxErrors:maxErrors], &Error{Pos: p.errs[maxErrors].Pos, Msg: "too many errors"})
	}
	return p.f, p.errs
}

// ParseFile reads and parses the file at path.
func ParseFile(path string) (*File, ErrorList) {
	src, err := os.ReadFile(path)
	if err != nil {
		return &File{Name: path}, ErrorList{{Pos: Pos{File: path}, Msg: fmt.Sprintf("cfg: %v", err)}}
	}
	return Parse(path, src)
}

// parser is a recursive-descent parser over the token list.
type parser struct {
	toks   []token
	i      int
	errs   ErrorList
	f      *File
	routes map[RouteKind]map[int]*RouteBlock
}

// peek returns the next token without consuming it.
func (p *parser) peek() token { return p.toks[p.i] }

// peekN returns the token n places ahead (the final tEOF past the end).
func (p *parser) peekN(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

// next consumes and returns the next token; it never moves past tEOF.
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// errorf records an error at pos.
func (p *parser) errorf(pos Pos, format string, args ...any) {
	p.errs.Addf(pos, format, args...)
}

// unexpected records an error about token t, unless t is a lexical error
// that the lexer reported already.
func (p *parser) unexpected(t token, format string, args ...any) {
	if t.kind == tError {
		return
	}
	p.errs.Addf(t.pos, format+p.quoteHint(t), args...)
}

// quoteHint explains an error at token t that follows a string spanning
// lines (SER's strings may): most likely a quote is missing and the string
// ran on to the next one.
func (p *parser) quoteHint(t token) string {
	for i := len(p.toks) - 1; i > 0; i-- {
		if p.toks[i].pos != t.pos {
			continue
		}
		return multiLineHint(p.toks[i-1])
	}
	return ""
}

// multiLineHint returns the hint for an error right after token prev when
// prev is a string that spans lines.
func multiLineHint(prev token) string {
	if prev.kind == tString && prev.lines > 0 {
		return fmt.Sprintf(" (after a string that spans lines, opened at %d:%d: is a quote missing?)", prev.pos.Line, prev.pos.Col)
	}
	return ""
}

// isValueToken reports whether t can be a value.
func isValueToken(t token) bool {
	switch t.kind {
	case tString, tNumber, tIdent, tWord:
		return true
	}
	return false
}

// value converts a value token.
func value(t token) Value {
	v := Value{Pos: t.pos, Text: t.text}
	switch t.kind {
	case tString:
		v.Kind = StringValue
	case tNumber:
		v.Kind, v.N = NumberValue, t.num
	case tIdent:
		v.Kind = IdentValue
		if n, ok := boolWords[t.text]; ok {
			v.Kind, v.N = BoolValue, n
		}
	default:
		v.Kind = WordValue
	}
	return v
}

// isTopKeyword reports whether an identifier starts a top-level item
// other than an option.
func isTopKeyword(s string) bool {
	_, route := routeKeywords[s]
	return route || s == "loadmodule" || s == "modparam"
}

// parseFile parses the whole input.
//
//	File = { Item } .
func (p *parser) parseFile() {
	for p.peek().kind != tEOF {
		p.parseItem()
	}
}

// parseItem parses one top-level item.
//
//	Item = Option | LoadModule | ModParam | RouteBlock | ";" .
func (p *parser) parseItem() {
	t := p.peek()
	switch {
	case t.kind == tSemi:
		p.next()
	case t.kind == tIdent && t.text == "loadmodule":
		p.parseLoadModule()
	case t.kind == tIdent && t.text == "modparam":
		p.parseModParam()
	case t.kind == tIdent && routeKeywords[t.text] != 0:
		p.parseRouteBlock()
	case t.kind == tIdent && p.peekN(1).kind == tAssign:
		p.parseOption()
	default:
		p.unexpected(t, "unexpected %s: expected an option (name=value), loadmodule, modparam or a route block", t.describe())
		p.syncTop(t)
	}
}

// syncTop skips tokens after an error at top level, up to the next
// identifier that starts a later line (balanced braces are skipped whole).
func (p *parser) syncTop(from token) {
	depth := 0
	for {
		t := p.peek()
		if t.kind == tEOF {
			return
		}
		if depth == 0 && t.kind == tIdent && t.pos.Line > from.pos.Line {
			return
		}
		switch t.kind {
		case tLBrace:
			depth++
		case tRBrace:
			if depth > 0 {
				depth--
			}
		}
		p.next()
	}
}

// parseOption parses a global option. Further values are taken from the
// same line (listen=udp:10.0.0.1 tcp:10.0.0.1:5060).
//
//	Option   = ident "=" OptValue { OptValue } [ ";" ] .
//	OptValue = string | number | ident | word .
func (p *parser) parseOption() {
	name := p.next()
	eq := p.next()
	o := &Option{Pos: name.pos, Name: name.text}
	t := p.peek()
	if !isValueToken(t) || (t.kind == tIdent && p.peekN(1).kind == tAssign) {
		switch {
		case t.kind == tError:
			p.next()
		case t.pos.Line > eq.pos.Line || t.kind == tEOF:
			p.errorf(eq.pos, "missing value for option '%s'", name.text)
		default:
			p.errorf(t.pos, "bad value for option '%s': %s", name.text, t.describe())
			p.syncTop(t)
		}
		return
	}
	for {
		o.Values = append(o.Values, value(p.next()))
		t = p.peek()
		if !isValueToken(t) || t.pos.Line != o.Values[len(o.Values)-1].Pos.Line ||
			(t.kind == tIdent && p.peekN(1).kind == tAssign) {
			break
		}
	}
	if t.kind == tSemi {
		p.next()
	}
	p.f.Options = append(p.f.Options, o)
	p.f.Items = append(p.f.Items, o)
}

// parseLoadModule parses a loadmodule directive.
//
//	LoadModule = "loadmodule" string .
func (p *parser) parseLoadModule() {
	kw := p.next()
	t := p.peek()
	if t.kind != tString && t.kind != tWord {
		p.unexpected(t, "loadmodule: quoted module path expected, found %s", t.describe())
		p.syncTop(kw)
		return
	}
	l := &LoadModule{Pos: kw.pos, Path: value(p.next())}
	if p.peek().kind == tSemi {
		p.next()
	}
	p.f.LoadModules = append(p.f.LoadModules, l)
	p.f.Items = append(p.f.Items, l)
}

// parseModParam parses a modparam directive. yes/no/on/off/true/false are
// numbers, as in SER.
//
//	ModParam = "modparam" "(" string "," string "," ( string | number ) ")" .
func (p *parser) parseModParam() {
	kw := p.next()
	m := &ModParam{Pos: kw.pos}
	fail := func(t token, format string, args ...any) {
		p.unexpected(t, format, args...)
		p.syncTop(kw)
	}
	if t := p.peek(); t.kind != tLParen {
		fail(t, "modparam: '(' expected, found %s", t.describe())
		return
	}
	p.next()
	for i, dst := range []*Value{&m.Module, &m.Param, &m.Value} {
		t := p.peek()
		switch {
		case i < 2 && (t.kind == tString || t.kind == tIdent):
		case i == 2 && (t.kind == tString || t.kind == tNumber || (t.kind == tIdent && value(t).Kind == BoolValue)):
		case i < 2:
			fail(t, "modparam: quoted %s name expected, found %s", []string{"module", "parameter"}[i], t.describe())
			return
		default:
			fail(t, "modparam: value must be a quoted string or a number, found %s", t.describe())
			return
		}
		*dst = value(p.next())
		want := tComma
		if i == 2 {
			want = tRParen
		}
		if t := p.peek(); t.kind != want {
			fail(t, "modparam: %s expected, found %s", want, t.describe())
			return
		}
		p.next()
	}
	if p.peek().kind == tSemi {
		p.next()
	}
	p.f.ModParams = append(p.f.ModParams, m)
	p.f.Items = append(p.f.Items, m)
}

// parseRouteBlock parses a route block. route{} is route[0]{}; reply_route
// is SER 0.8's name of failure_route.
//
//	RouteBlock = RouteKw [ "[" number "]" ] Block .
//	RouteKw    = "route" | "failure_route" | "reply_route" | "onreply_route" .
func (p *parser) parseRouteBlock() {
	kw := p.next()
	r := &RouteBlock{Pos: kw.pos, Kind: routeKeywords[kw.text], Keyword: kw.text}
	if p.peek().kind == tLBrack {
		p.next()
		n := p.peek()
		if n.kind != tNumber {
			p.unexpected(n, "%s: route number expected in [], found %s", kw.text, n.describe())
			p.syncTop(kw)
			return
		}
		p.next()
		if n.num < 0 {
			p.errorf(n.pos, "%s: route number must not be negative", kw.text)
		}
		if t := p.peek(); t.kind != tRBrack {
			p.unexpected(t, "%s: ']' expected, found %s", kw.text, t.describe())
			p.syncTop(kw)
			return
		}
		p.next()
		r.N, r.Indexed = n.num, true
	} else if r.Kind != RequestRoute {
		p.errorf(kw.pos, "%s needs a number: %s[n] { … }", kw.text, kw.text)
	}
	if t := p.peek(); t.kind != tLBrace {
		p.unexpected(t, "%s: '{' expected, found %s", kw.text, t.describe())
		p.syncTop(kw)
		return
	}
	r.Body = p.parseBlock()
	if p.routes[r.Kind] == nil {
		p.routes[r.Kind] = map[int]*RouteBlock{}
	}
	if prev, dup := p.routes[r.Kind][r.N]; dup {
		p.errorf(kw.pos, "duplicate %s (first defined at %s)", r.Name(), prev.Pos)
	} else {
		p.routes[r.Kind][r.N] = r
	}
	if p.peek().kind == tSemi {
		p.next()
	}
	p.f.Routes = append(p.f.Routes, r)
	p.f.Items = append(p.f.Items, r)
}
