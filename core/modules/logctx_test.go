package modules

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestMessageLogsCarryCallID: inside every function that has a SIP
// message (a *sipmsg.Msg parameter) — module functions, the script
// interpreter, the core — a log call names the message's context
// (log.ErrorContext(module.MsgCtx(m), …)), so the line carries its
// Call-ID. A plain log.Error(…) there is reported.
func TestMessageLogsCarryCallID(t *testing.T) {
	var files []string
	for _, pat := range []string{"*/*.go", "*/*/*.go", "../*.go", "../script/*.go"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || strings.Contains(f, "internal/modtest") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			var typ *ast.FuncType
			var body *ast.BlockStmt
			switch fn := n.(type) {
			case *ast.FuncDecl:
				typ, body = fn.Type, fn.Body
			case *ast.FuncLit:
				typ, body = fn.Type, fn.Body
			default:
				return true
			}
			if body == nil || !hasMsgParam(typ) {
				return true
			}
			checked++
			ast.Inspect(body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				switch sel.Sel.Name {
				case "Error", "Warn", "Info", "Debug":
				default:
					return true
				}
				if isLogger(sel.X) {
					t.Errorf("%s: %s without the message's context: use %sContext(module.MsgCtx(…), …)",
						fset.Position(call.Pos()), sel.Sel.Name, sel.Sel.Name)
				}
				return true
			})
			return false
		})
	}
	if checked < 50 {
		t.Fatalf("only %d functions with a message found: the file patterns are wrong", checked)
	}
}

func hasMsgParam(t *ast.FuncType) bool {
	for _, p := range t.Params.List {
		if star, ok := p.Type.(*ast.StarExpr); ok {
			if sel, ok := star.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "Msg" {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "sipmsg" {
					return true
				}
			}
		}
	}
	return false
}

// isLogger reports whether x names a logger: log, x.log, x.y.log.
func isLogger(x ast.Expr) bool {
	switch e := x.(type) {
	case *ast.Ident:
		return e.Name == "log"
	case *ast.SelectorExpr:
		return e.Sel.Name == "log"
	}
	return false
}
