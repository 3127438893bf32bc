package cfg

import "strings"

// parseBlock parses a statement block. Empty statements (the ';' of
// SER's "};") are skipped.
//
//	Block = "{" { Stmt | ";" } "}" .
func (p *parser) parseBlock() *Block {
	lb := p.next() // '{'
	return p.parseBlockBody(lb)
}

// parseBlockBody parses the statements of a block whose '{' (lb) has been
// consumed, up to and including its '}'.
func (p *parser) parseBlockBody(lb token) *Block {
	b := &Block{Pos: lb.pos}
	for {
		t := p.peek()
		switch {
		case t.kind == tRBrace:
			p.next()
			return b
		case t.kind == tEOF:
			p.errorf(t.pos, "unexpected end of file: missing '}' (block opened at %s)", lb.pos)
			return b
		case t.kind == tSemi:
			p.next()
			continue
		case t.kind == tIdent && (t.text == "loadmodule" || t.text == "modparam" ||
			routeKeywords[t.text] != 0 && (p.peekN(1).kind == tLBrack || p.peekN(1).kind == tLBrace)):
			// A route block or a directive: the '}' of this block is
			// missing.
			p.errorf(t.pos, "unexpected %s: missing '}' (block opened at %s)", t.describe(), lb.pos)
			return b
		}
		if s := p.parseStmt(); s != nil {
			b.Stmts = append(b.Stmts, s)
		}
	}
}

// syncStmt skips the rest of a bad statement: up to and including the next
// ';', or up to the next '}' of the enclosing block (blocks met on the way
// are skipped whole).
func (p *parser) syncStmt() {
	depth := 0
	for {
		switch t := p.peek(); t.kind {
		case tEOF:
			return
		case tError:
			// An unterminated string swallowed the rest of its line,
			// possibly the ';' that ended this statement.
			p.next()
			depth += strings.Count(t.text, "{") - strings.Count(t.text, "}")
			if depth < 0 {
				depth = 0
			}
			if depth == 0 && strings.Contains(t.text, ";") {
				return
			}
			continue
		case tSemi:
			p.next()
			if depth == 0 {
				return
			}
			continue
		case tLBrace:
			depth++
		case tRBrace:
			if depth == 0 {
				return
			}
			depth--
			if depth == 0 {
				p.next()
				return
			}
		}
		p.next()
	}
}

// parseStmt parses one statement; it returns nil after an error (the bad
// statement was skipped).
//
//	Stmt   = Block | If | Simple [ ";" ] .
//	Simple = "break" | "drop" | "return" | Call .
func (p *parser) parseStmt() Stmt {
	t := p.peek()
	var s Stmt
	switch {
	case t.kind == tLBrace:
		return p.parseBlock()
	case t.kind == tIdent && t.text == "if":
		return p.parseIf()
	case t.kind == tIdent && t.text == "else":
		p.errorf(t.pos, "else without if")
		p.next()
		return nil
	case t.kind == tIdent && (t.text == "break" || t.text == "drop" || t.text == "return"):
		s = p.parseControl()
	case t.kind == tIdent:
		if c := p.parseCall(); c != nil {
			s = c
		}
	default:
		p.unexpected(t, "unexpected %s, expected a statement", t.describe())
	}
	if s == nil {
		p.syncStmt()
		return nil
	}
	p.endSimple(s)
	return s
}

// endSimple consumes the ';' after a simple statement. It may be left out
// before '}' (and before else), as SER admins' scripts do; elsewhere a
// missing ';' is reported and parsing goes on with the next statement.
func (p *parser) endSimple(s Stmt) {
	switch t := p.peek(); {
	case t.kind == tSemi:
		p.next()
	case t.kind == tRBrace || t.kind == tEOF || (t.kind == tIdent && t.text == "else"):
	default:
		p.unexpected(t, "missing ';' after %s", describeStmt(s))
		if t.kind != tIdent && t.kind != tLBrace {
			// Not the start of the next statement: skip the rest.
			p.syncStmt()
		}
	}
}

// describeStmt names a simple statement for an error message.
func describeStmt(s Stmt) string {
	switch s := s.(type) {
	case *Call:
		if s.Parens {
			return "'" + s.Name + "(…)'"
		}
		return "'" + s.Name + "'"
	case *Break:
		return "'break'"
	case *Drop:
		return "'drop'"
	case *Return:
		return "'return'"
	}
	return "statement"
}

// parseIf parses a conditional statement. A ';' between the then-block and
// else is tolerated ("}; else {").
//
//	If = "if" Expr Stmt [ "else" Stmt ] .
func (p *parser) parseIf() Stmt {
	kw := p.next()
	s := &If{Pos: kw.pos}
	s.Cond = p.parseExpr()
	if s.Cond == nil {
		// Skip the rest of the condition; go on with a block if one
		// follows so that errors inside it are found too.
	skip:
		for {
			t := p.peek()
			switch t.kind {
			case tEOF, tRBrace:
				return nil
			case tSemi:
				p.next()
				return nil
			case tLBrace:
				break skip
			case tError:
				p.next()
				if strings.Contains(t.text, "{") {
					// An unterminated string swallowed the '{':
					// the block's statements follow.
					s.Then = p.parseBlockBody(t)
					break skip
				}
				continue
			}
			p.next()
		}
	}
	if s.Then == nil {
		s.Then = p.parseStmt()
	}
	j := p.i
	for p.toks[j].kind == tSemi {
		j++
	}
	if t := p.toks[j]; t.kind == tIdent && t.text == "else" {
		p.i = j + 1
		s.Else = p.parseStmt()
		if s.Else == nil {
			s.Else = &Block{Pos: t.pos}
		}
	}
	if s.Cond == nil || s.Then == nil {
		return nil
	}
	return s
}

// parseControl parses break, drop and return.
//
//	Control = ( "break" | "drop" ) [ "(" ")" ]
//	        | "return" [ "(" [ number ] ")" | number ] .
func (p *parser) parseControl() Stmt {
	kw := p.next()
	parens, hasValue := false, false
	var v Value
	if p.peek().kind == tLParen {
		p.next()
		parens = true
		if kw.text == "return" && p.peek().kind == tNumber {
			v, hasValue = value(p.next()), true
		}
		if t := p.peek(); t.kind != tRParen {
			if kw.text == "return" && !hasValue {
				p.unexpected(t, "return: number expected, found %s", t.describe())
			} else {
				p.unexpected(t, "%s: ')' expected, found %s", kw.text, t.describe())
			}
			return nil
		}
		p.next()
	} else if kw.text == "return" && p.peek().kind == tNumber && p.peek().pos.Line == kw.pos.Line {
		v, hasValue = value(p.next()), true
	}
	switch kw.text {
	case "break":
		return &Break{Pos: kw.pos, Parens: parens}
	case "drop":
		return &Drop{Pos: kw.pos, Parens: parens}
	}
	return &Return{Pos: kw.pos, Parens: parens, HasValue: hasValue, Value: v}
}

// parseCall parses an action call. Arguments may be quoted strings,
// numbers, identifiers (max_len, yes) or unquoted words (IP addresses,
// host names, uri:host); comments may appear between them.
//
//	Call = ident [ "(" [ Arg { "," Arg } ] ")" ] .
//	Arg  = string | number | ident | word .
func (p *parser) parseCall() *Call {
	name := p.next()
	c := &Call{Pos: name.pos, Name: name.text}
	if p.peek().kind != tLParen {
		return c
	}
	p.next()
	c.Parens = true
	if p.peek().kind == tRParen {
		p.next()
		return c
	}
	for {
		t := p.peek()
		if !isValueToken(t) {
			p.unexpected(t, "%s: argument expected, found %s", name.text, t.describe())
			return nil
		}
		c.Args = append(c.Args, value(p.next()))
		switch t := p.peek(); t.kind {
		case tComma:
			p.next()
		case tRParen:
			p.next()
			return c
		default:
			p.unexpected(t, "%s: ',' or ')' expected after argument, found %s", name.text, t.describe())
			return nil
		}
	}
}
