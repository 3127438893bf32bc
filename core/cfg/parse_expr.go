package cfg

// isOr, isAnd and isNot recognise the logical operators in both spellings.
func isOr(t token) bool  { return t.kind == tOr || (t.kind == tIdent && t.text == "or") }
func isAnd(t token) bool { return t.kind == tAnd || (t.kind == tIdent && t.text == "and") }
func isNot(t token) bool { return t.kind == tNot || (t.kind == tIdent && t.text == "not") }

// cmpOps maps comparison tokens to operators; a single '=' means '==' as in
// SER's lexer.
var cmpOps = map[tokenKind]CmpOp{
	tEq: Eq, tAssign: Eq, tNe: Ne, tMatch: Match, tNotMatch: NotMatch,
	tLt: Lt, tGt: Gt, tLe: Le, tGe: Ge,
}

// parseExpr parses a condition; it returns nil after an error.
//
//	Expr = AndExpr { ( "||" | "|" | "or" ) AndExpr } .
func (p *parser) parseExpr() Expr {
	x := p.parseAnd()
	for x != nil && isOr(p.peek()) {
		op := p.next()
		y := p.parseAnd()
		if y == nil {
			return nil
		}
		x = &Logic{Pos: op.pos, Op: Or, X: x, Y: y}
	}
	return x
}

// parseAnd parses a conjunction.
//
//	AndExpr = NotExpr { ( "&&" | "&" | "and" ) NotExpr } .
func (p *parser) parseAnd() Expr {
	x := p.parseNot()
	for x != nil && isAnd(p.peek()) {
		op := p.next()
		y := p.parseNot()
		if y == nil {
			return nil
		}
		x = &Logic{Pos: op.pos, Op: And, X: x, Y: y}
	}
	return x
}

// parseNot parses a negation. '!' binds to the comparison that follows:
// !uri=~"re" is !(uri=~"re").
//
//	NotExpr = ( "!" | "not" ) NotExpr | Primary .
func (p *parser) parseNot() Expr {
	if t := p.peek(); isNot(t) {
		p.next()
		x := p.parseNot()
		if x == nil {
			return nil
		}
		return &Not{Pos: t.pos, X: x}
	}
	return p.parsePrimary()
}

// parsePrimary parses a parenthesised condition, a comparison, an action
// call or a number.
//
//	Primary = "(" Expr ")" | Operand CmpOp Value
//	        | "myself" ( "==" | "!=" ) Operand | Call | number
//	        | Block | If .                       // SER 0.9's exp_stm
//	Operand = "method" | "uri" | "status" | "from_uri" | "to_uri" | "src_ip"
//	        | "dst_ip" | "src_port" | "dst_port" | "proto" | "af"
//	        | "msg:len" | "uri:host" | "uri:port" .
//	CmpOp   = "==" | "!=" | "=~" | "!~" | "<" | ">" | "<=" | ">=" .
//	Value   = string | number | ident | word .
func (p *parser) parsePrimary() Expr {
	t := p.peek()
	switch t.kind {
	case tLParen:
		p.next()
		x := p.parseExpr()
		if x == nil {
			return nil
		}
		if r := p.peek(); r.kind != tRParen {
			p.unexpected(r, "')' expected in condition, found %s", r.describe())
			return nil
		}
		p.next()
		return x
	case tNumber:
		p.next()
		return &Const{Value: value(t)}
	case tLBrace:
		return &StmtExpr{Stmt: p.parseBlock()}
	case tIdent, tWord:
		_, isCmp := cmpOps[p.peekN(1).kind]
		if IsOperand(t.text) && isCmp {
			return p.parseCompare()
		}
		if t.text == "myself" && (p.peekN(1).kind == tEq || p.peekN(1).kind == tNe) && IsOperand(p.peekN(2).text) {
			// SER's reversed form: myself==uri.
			p.next()
			op := p.next()
			operand := p.next()
			return &Compare{Pos: operand.pos, Operand: operand.text, Op: cmpOps[op.kind], OpPos: op.pos,
				Value: Value{Pos: t.pos, Kind: IdentValue, Text: t.text}}
		}
		if IsOperand(t.text) {
			n := p.peekN(1)
			p.unexpected(n, "'%s' needs a comparison operator (==, !=, =~, …), found %s", t.text, n.describe())
			return nil
		}
		if t.kind == tIdent && t.text == "if" {
			s := p.parseIf()
			if s == nil {
				return nil
			}
			return &StmtExpr{Stmt: s}
		}
		if t.kind == tIdent {
			c := p.parseCall()
			if c == nil {
				return nil
			}
			return c
		}
	}
	p.unexpected(t, "unexpected %s in condition", t.describe())
	return nil
}

// parseCompare parses operand CmpOp Value.
func (p *parser) parseCompare() Expr {
	operand := p.next()
	op := p.next()
	v := p.peek()
	if !isValueToken(v) {
		p.unexpected(v, "value expected after '%s %s', found %s", operand.text, cmpOps[op.kind], v.describe())
		return nil
	}
	p.next()
	return &Compare{Pos: operand.pos, Operand: operand.text, Op: cmpOps[op.kind], OpPos: op.pos, Value: value(v)}
}
