package cfg

import "fmt"

// tokenKind identifies the type of a lexical token.
type tokenKind uint8

const (
	tEOF      tokenKind = iota
	tError              // a lexical error, already reported by the lexer
	tIdent              // letters, digits and '_', starting with a letter or '_'
	tNumber             // 5060, -1, 0x1f, 0777
	tString             // "…" or '…'; text is the unescaped value
	tWord               // other unquoted text: 10.0.0.1, gw.foo.bar, uri:host, udp:[::1]:5060
	tLParen             // (
	tRParen             // )
	tLBrace             // {
	tRBrace             // }
	tLBrack             // [
	tRBrack             // ]
	tComma              // ,
	tSemi               // ;
	tAssign             // =
	tEq                 // ==
	tNe                 // !=
	tMatch              // =~
	tNotMatch           // !~
	tLt                 // <
	tGt                 // >
	tLe                 // <=
	tGe                 // >=
	tNot                // !
	tAnd                // && or &
	tOr                 // || or |
)

var tokenNames = [...]string{
	tEOF: "end of file", tError: "error", tIdent: "identifier", tNumber: "number",
	tString: "string", tWord: "word", tLParen: "'('", tRParen: "')'", tLBrace: "'{'",
	tRBrace: "'}'", tLBrack: "'['", tRBrack: "']'", tComma: "','", tSemi: "';'",
	tAssign: "'='", tEq: "'=='", tNe: "'!='", tMatch: "'=~'", tNotMatch: "'!~'",
	tLt: "'<'", tGt: "'>'", tLe: "'<='", tGe: "'>='", tNot: "'!'", tAnd: "'&&'", tOr: "'||'",
}

func (k tokenKind) String() string {
	if int(k) < len(tokenNames) {
		return tokenNames[k]
	}
	return fmt.Sprintf("token(%d)", k)
}

// token is one lexical item.
type token struct {
	kind tokenKind
	pos  Pos
	text string // as written; for tString the unescaped contents
	num  int    // value of a tNumber
	// lines is the number of line ends inside a tString as written.
	lines int
}

// describe names the token for an error message: "'foo'", "string \"x\"",
// "'}'", "end of file".
func (t token) describe() string {
	switch t.kind {
	case tIdent, tWord, tNumber:
		return "'" + t.text + "'"
	case tString:
		return fmt.Sprintf("string %q", t.text)
	case tAnd, tOr:
		return "'" + t.text + "'"
	}
	return t.kind.String()
}
