// Package cfg reads SER's configuration language (ser.cfg): global options,
// loadmodule and modparam directives, and the route blocks of the routing
// script. It knows the syntax only: which functions exist, which options are
// valid and what a function's arguments mean is decided later by the core and
// by package script.
//
// The lexer is a set of state functions and the parser is recursive descent,
// in the style of text/template/parse; each parse function carries its
// grammar production in its doc comment. Every token and node records its
// position (file, line, column; 1-based), and the parser reports every error
// it finds, not only the first, recovering at the next ';' or '}'.
//
// The grammar, in outline:
//
//	File       = { Item } .
//	Item       = Option | LoadModule | ModParam | RouteBlock | ";" .
//	Option     = ident "=" OptValue { OptValue } .      // extra values: same line
//	LoadModule = "loadmodule" string .
//	ModParam   = "modparam" "(" string "," string "," (string | number) ")" .
//	RouteBlock = RouteKw [ "[" number "]" ] Block .
//	RouteKw    = "route" | "failure_route" | "reply_route" | "onreply_route" .
//	Block      = "{" { Stmt | ";" } "}" .
//	Stmt       = Block | If | Simple [ ";" ] .
//	If         = "if" Expr Stmt [ "else" Stmt ] .
//	Simple     = "break" | "drop" | "return" [ "(" [ number ] ")" ] | Call .
//	Call       = ident [ "(" [ Arg { "," Arg } ] ")" ] .
//	Expr       = AndExpr { ( "||" | "|" | "or" ) AndExpr } .
//	AndExpr    = NotExpr { ( "&&" | "&" | "and" ) NotExpr } .
//	NotExpr    = ( "!" | "not" ) NotExpr | Primary .
//	Primary    = "(" Expr ")" | Operand CmpOp Value | Call | number .
//
// Values are quoted strings ("…" with \" \\ \n \r \t \a \xHH \ooo escapes
// and backslash-newline removed, or '…' taken literally; both may span
// lines, as in SER 0.9), numbers (decimal, negative, 0x hex, 0-prefixed octal),
// yes/no/on/off/true/false/enable/disable (numbers 1 and 0, as in SER's
// lexer), identifiers, and unquoted words such as 192.168.0.1, 10.0.0.0/8,
// gw.foo.bar, udp:127.0.0.1:5060, tcp:[::1]:5062 or uri:host.
package cfg
