package cfg

import (
	"strconv"
	"strings"
)

func itoa(n int) string { return strconv.Itoa(n) }

// printer writes canonical source text.
type printer struct {
	b strings.Builder
}

func (p *printer) indent(depth int) {
	for i := 0; i < depth; i++ {
		p.b.WriteByte('\t')
	}
}

// String returns the whole file as canonical source.
func (f *File) String() string {
	var p printer
	for i, it := range f.Items {
		if _, ok := it.(*RouteBlock); ok && i > 0 {
			p.b.WriteByte('\n')
		}
		p.b.WriteString(it.String())
		p.b.WriteByte('\n')
	}
	return p.b.String()
}

// String returns "name=value [value …]".
func (o *Option) String() string {
	parts := make([]string, len(o.Values))
	for i, v := range o.Values {
		parts[i] = v.String()
	}
	return o.Name + "=" + strings.Join(parts, " ")
}

// String returns `loadmodule "path"`.
func (l *LoadModule) String() string { return "loadmodule " + l.Path.String() }

// String returns `modparam("mod", "param", value)`.
func (m *ModParam) String() string {
	return "modparam(" + m.Module.String() + ", " + m.Param.String() + ", " + m.Value.String() + ")"
}

// String returns the block with its keyword as written.
func (r *RouteBlock) String() string {
	var p printer
	p.b.WriteString(r.Keyword)
	if r.Indexed {
		p.b.WriteString("[" + itoa(r.N) + "]")
	}
	p.b.WriteByte(' ')
	p.stmt(r.Body, 0)
	return p.b.String()
}

// stmt writes s (without leading indentation or trailing newline); depth is
// the indentation of the line s starts on.
func (p *printer) stmt(s Stmt, depth int) {
	switch s := s.(type) {
	case *Block:
		p.b.WriteString("{\n")
		for _, c := range s.Stmts {
			p.indent(depth + 1)
			p.stmt(c, depth+1)
			p.b.WriteByte('\n')
		}
		p.indent(depth)
		p.b.WriteByte('}')
	case *If:
		p.b.WriteString("if (")
		p.expr(s.Cond, 0)
		p.b.WriteString(") ")
		then := s.Then
		if inner, ok := then.(*If); ok && s.Else != nil && inner.Else == nil {
			// Keep the else with this if: brace the inner one.
			then = &Block{Pos: inner.Pos, Stmts: []Stmt{inner}}
		}
		p.stmt(then, depth)
		if s.Else != nil {
			if _, ok := then.(*Block); ok {
				p.b.WriteString(" else ")
			} else {
				p.b.WriteByte('\n')
				p.indent(depth)
				p.b.WriteString("else ")
			}
			p.stmt(s.Else, depth)
		}
	case *Call:
		p.call(s)
		p.b.WriteByte(';')
	case *Break:
		p.b.WriteString("break")
		if s.Parens {
			p.b.WriteString("()")
		}
		p.b.WriteByte(';')
	case *Drop:
		p.b.WriteString("drop")
		if s.Parens {
			p.b.WriteString("()")
		}
		p.b.WriteByte(';')
	case *Return:
		p.b.WriteString("return")
		switch {
		case s.Parens && s.HasValue:
			p.b.WriteString("(" + s.Value.Text + ")")
		case s.Parens:
			p.b.WriteString("()")
		case s.HasValue:
			p.b.WriteString(" " + s.Value.Text)
		}
		p.b.WriteByte(';')
	}
}

func (p *printer) call(c *Call) {
	p.b.WriteString(c.Name)
	if !c.Parens && len(c.Args) == 0 {
		return
	}
	p.b.WriteByte('(')
	for i, a := range c.Args {
		if i > 0 {
			p.b.WriteString(", ")
		}
		p.b.WriteString(a.String())
	}
	p.b.WriteByte(')')
}

// Precedence levels of conditions.
const (
	precOr = iota + 1
	precAnd
	precNot
	precPrimary
)

func exprPrec(e Expr) int {
	switch e := e.(type) {
	case *Logic:
		if e.Op == Or {
			return precOr
		}
		return precAnd
	case *Not:
		return precNot
	}
	return precPrimary
}

// expr writes e, parenthesised when its precedence is below min.
func (p *printer) expr(e Expr, min int) {
	prec := exprPrec(e)
	if prec < min {
		p.b.WriteByte('(')
		defer p.b.WriteByte(')')
	}
	switch e := e.(type) {
	case *Logic:
		// Left-associative: a right operand of the same level needs
		// parentheses to keep its grouping.
		p.expr(e.X, prec)
		p.b.WriteString(" " + e.Op.String() + " ")
		p.expr(e.Y, prec+1)
	case *Not:
		p.b.WriteByte('!')
		p.expr(e.X, precNot)
	case *Compare:
		p.b.WriteString(e.Operand + " " + e.Op.String() + " " + e.Value.String())
	case *Call:
		p.call(e)
	case *Const:
		p.b.WriteString(e.Value.Text)
	case *StmtExpr:
		p.stmt(e.Stmt, 0)
	}
}

func stmtString(s Stmt) string {
	var p printer
	p.stmt(s, 0)
	return p.b.String()
}

func exprString(e Expr) string {
	var p printer
	p.expr(e, 0)
	return p.b.String()
}

// String returns the block as source.
func (b *Block) String() string { return stmtString(b) }

// String returns the statement as source.
func (s *If) String() string { return stmtString(s) }

// String returns the call as source (without ';').
func (c *Call) String() string {
	var p printer
	p.call(c)
	return p.b.String()
}

// String returns the statement as source.
func (s *Break) String() string { return stmtString(s) }

// String returns the statement as source.
func (s *Drop) String() string { return stmtString(s) }

// String returns the statement as source.
func (s *Return) String() string { return stmtString(s) }

// String returns the condition as source.
func (e *Not) String() string { return exprString(e) }

// String returns the condition as source.
func (e *Logic) String() string { return exprString(e) }

// String returns the comparison as source.
func (e *Compare) String() string { return exprString(e) }

// String returns the number.
func (e *Const) String() string { return e.Value.Text }

// String returns the statement as source.
func (e *StmtExpr) String() string { return exprString(e) }
