package cfg

// Node is an element of the syntax tree. String returns canonical source
// text that parses back to an equal tree.
type Node interface {
	Position() Pos
	String() string
}

// File is a parsed configuration file.
type File struct {
	Name string
	// Items are the top-level items in source order.
	Items       []Node
	Options     []*Option
	LoadModules []*LoadModule
	ModParams   []*ModParam
	Routes      []*RouteBlock
}

// Position returns the start of the file.
func (f *File) Position() Pos { return Pos{File: f.Name, Line: 1, Col: 1} }

// Option is a global option: name = value. Options that take a list
// (listen, alias) may have several values on one line.
type Option struct {
	Pos    Pos // of the name
	Name   string
	Values []Value
}

// Position returns the position of the option's name.
func (o *Option) Position() Pos { return o.Pos }

// Value returns the option's (first) value.
func (o *Option) Value() Value {
	if len(o.Values) == 0 {
		return Value{Pos: o.Pos}
	}
	return o.Values[0]
}

// LoadModule is a loadmodule "path" directive.
type LoadModule struct {
	Pos  Pos // of the keyword
	Path Value
}

// Position returns the position of the keyword.
func (l *LoadModule) Position() Pos { return l.Pos }

// ModParam is a modparam("module", "param", value) directive.
type ModParam struct {
	Pos    Pos // of the keyword
	Module Value
	Param  Value
	Value  Value
}

// Position returns the position of the keyword.
func (m *ModParam) Position() Pos { return m.Pos }

// RouteKind is the kind of a route block.
type RouteKind uint8

// Route block kinds.
const (
	// RequestRoute is route{} / route[n]{}.
	RequestRoute RouteKind = iota + 1
	// FailureRoute is failure_route[n]{} (SER 0.8: reply_route[n]{}).
	FailureRoute
	// OnReplyRoute is onreply_route[n]{}.
	OnReplyRoute
)

// String returns the canonical keyword of the kind.
func (k RouteKind) String() string {
	switch k {
	case RequestRoute:
		return "route"
	case FailureRoute:
		return "failure_route"
	case OnReplyRoute:
		return "onreply_route"
	}
	return "route?"
}

// routeKeywords maps block keywords to kinds.
var routeKeywords = map[string]RouteKind{
	"route":         RequestRoute,
	"failure_route": FailureRoute,
	"reply_route":   FailureRoute,
	"onreply_route": OnReplyRoute,
}

// RouteBlock is a route, failure_route (reply_route) or onreply_route block.
type RouteBlock struct {
	Pos     Pos // of the keyword
	Kind    RouteKind
	Keyword string // as written: "route", "reply_route", …
	N       int    // block number; route{} is route[0]
	Indexed bool   // the number was written: route[0]{}
	Body    *Block
}

// Position returns the position of the keyword.
func (r *RouteBlock) Position() Pos { return r.Pos }

// Name returns "route[n]", "failure_route[n]" or "onreply_route[n]".
func (r *RouteBlock) Name() string { return r.Kind.String() + "[" + itoa(r.N) + "]" }

// Stmt is a statement of a route block.
type Stmt interface {
	Node
	stmtNode()
}

// Expr is a condition.
type Expr interface {
	Node
	exprNode()
}

// Block is { statements }.
type Block struct {
	Pos   Pos // of '{'
	Stmts []Stmt
}

// If is if (cond) stmt [else stmt].
type If struct {
	Pos  Pos // of "if"
	Cond Expr
	Then Stmt
	Else Stmt // nil without else
}

// Call is an action call: name(args), name() or a bare name. It is both a
// statement and a condition (its return value: >0 true, <0 false).
type Call struct {
	Pos    Pos // of the name
	Name   string
	Args   []Value
	Parens bool // written with parentheses
}

// Break is break (leave the current route block).
type Break struct {
	Pos    Pos
	Parens bool // break()
}

// Drop is drop (stop the script and drop the message).
type Drop struct {
	Pos    Pos
	Parens bool // drop()
}

// Return is return, return() or return(n): leave the current route block
// with a value.
type Return struct {
	Pos      Pos
	Parens   bool
	HasValue bool
	Value    Value // a number when HasValue
}

// Position returns the position of '{'.
func (b *Block) Position() Pos { return b.Pos }

// Position returns the position of "if".
func (s *If) Position() Pos { return s.Pos }

// Position returns the position of the name.
func (c *Call) Position() Pos { return c.Pos }

// Position returns the position of the keyword.
func (s *Break) Position() Pos { return s.Pos }

// Position returns the position of the keyword.
func (s *Drop) Position() Pos { return s.Pos }

// Position returns the position of the keyword.
func (s *Return) Position() Pos { return s.Pos }

func (*Block) stmtNode()  {}
func (*If) stmtNode()     {}
func (*Call) stmtNode()   {}
func (*Break) stmtNode()  {}
func (*Drop) stmtNode()   {}
func (*Return) stmtNode() {}

// LogicOp is && or ||.
type LogicOp uint8

// Logical operators.
const (
	And LogicOp = iota + 1
	Or
)

// String returns "&&" or "||".
func (o LogicOp) String() string {
	if o == And {
		return "&&"
	}
	return "||"
}

// CmpOp is a comparison operator.
type CmpOp uint8

// Comparison operators.
const (
	Eq       CmpOp = iota + 1 // ==
	Ne                        // !=
	Match                     // =~
	NotMatch                  // !~
	Lt                        // <
	Gt                        // >
	Le                        // <=
	Ge                        // >=
)

var cmpOpNames = [...]string{Eq: "==", Ne: "!=", Match: "=~", NotMatch: "!~", Lt: "<", Gt: ">", Le: "<=", Ge: ">="}

// String returns the operator as written in the config.
func (o CmpOp) String() string {
	if int(o) < len(cmpOpNames) && cmpOpNames[o] != "" {
		return cmpOpNames[o]
	}
	return "?"
}

// Not is !x (also written "not x").
type Not struct {
	Pos Pos // of '!'
	X   Expr
}

// Logic is x && y or x || y (also and/&, or/|).
type Logic struct {
	Pos  Pos // of the operator
	Op   LogicOp
	X, Y Expr
}

// Compare is operand op value: method=="INVITE", src_ip==10.0.0.0/8,
// uri==myself, msg:len>max_len. SER's reversed form myself==uri is stored
// as uri==myself.
type Compare struct {
	Pos     Pos // of the operand
	Operand string
	Op      CmpOp
	OpPos   Pos
	Value   Value
}

// Const is a number used as a condition: if (1).
type Const struct {
	Value Value
}

// StmtExpr is a block or an if statement used as a condition, which SER
// 0.9's grammar allowed (exp_stm): if ({ a(); b(); }) … — its value is the
// value of the statement (of the last action it executed).
type StmtExpr struct {
	Stmt Stmt // *Block or *If
}

// Position returns the position of '!'.
func (e *Not) Position() Pos { return e.Pos }

// Position returns the position of the operator.
func (e *Logic) Position() Pos { return e.Pos }

// Position returns the position of the operand.
func (e *Compare) Position() Pos { return e.Pos }

// Position returns the position of the number.
func (e *Const) Position() Pos { return e.Value.Pos }

// Position returns the position of the statement.
func (e *StmtExpr) Position() Pos { return e.Stmt.Position() }

func (*Not) exprNode()      {}
func (*Logic) exprNode()    {}
func (*Compare) exprNode()  {}
func (*Call) exprNode()     {}
func (*Const) exprNode()    {}
func (*StmtExpr) exprNode() {}

// operands are the left-hand sides a comparison may have.
var operands = map[string]bool{
	"method": true, "uri": true, "status": true, "from_uri": true, "to_uri": true,
	"src_ip": true, "dst_ip": true, "src_port": true, "dst_port": true,
	"proto": true, "af": true, "msg:len": true, "uri:host": true, "uri:port": true,
}

// IsOperand reports whether name is a comparison operand (method, uri,
// src_ip, msg:len, …).
func IsOperand(name string) bool { return operands[name] }
