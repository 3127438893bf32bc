package cfg

import "testing"

// TestNodes checks Position and String of every node type.
func TestNodes(t *testing.T) {
	src := "debug=3\nloadmodule \"tm.so\"\nmodparam(\"tm\", \"fr_timer\", 10)\n" +
		"route[1] {\n\tif (!a() && uri==myself || 1) { break; } else drop();\n\treturn(2);\n}\n"
	f, errs := Parse("n.cfg", []byte(src))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	r := f.Routes[0]
	ifs := r.Body.Stmts[0].(*If)
	or := ifs.Cond.(*Logic)
	and := or.X.(*Logic)
	not := and.X.(*Not)
	tests := []struct {
		n    Node
		pos  string
		text string
	}{
		{f, "n.cfg:1:1", src[:0] + "debug=3\nloadmodule \"tm.so\"\nmodparam(\"tm\", \"fr_timer\", 10)\n\nroute[1] {\n\tif (!a() && uri == myself || 1) {\n\t\tbreak;\n\t} else drop();\n\treturn(2);\n}\n"},
		{f.Options[0], "n.cfg:1:1", "debug=3"},
		{f.LoadModules[0], "n.cfg:2:1", `loadmodule "tm.so"`},
		{f.ModParams[0], "n.cfg:3:1", `modparam("tm", "fr_timer", 10)`},
		{r, "n.cfg:4:1", "route[1] {\n\tif (!a() && uri == myself || 1) {\n\t\tbreak;\n\t} else drop();\n\treturn(2);\n}"},
		{r.Body, "n.cfg:4:10", "{\n\tif (!a() && uri == myself || 1) {\n\t\tbreak;\n\t} else drop();\n\treturn(2);\n}"},
		{ifs, "n.cfg:5:2", "if (!a() && uri == myself || 1) {\n\tbreak;\n} else drop();"},
		{or, "n.cfg:5:26", "!a() && uri == myself || 1"},
		{and, "n.cfg:5:11", "!a() && uri == myself"},
		{not, "n.cfg:5:6", "!a()"},
		{not.X, "n.cfg:5:7", "a()"},
		{and.Y, "n.cfg:5:14", "uri == myself"},
		{or.Y, "n.cfg:5:29", "1"},
		{ifs.Then.(*Block).Stmts[0], "n.cfg:5:34", "break;"},
		{ifs.Else, "n.cfg:5:48", "drop();"},
		{r.Body.Stmts[1], "n.cfg:6:2", "return(2);"},
	}
	for _, tt := range tests {
		if got := tt.n.Position().String(); got != tt.pos {
			t.Errorf("%T at %s, want %s", tt.n, got, tt.pos)
		}
		if got := tt.n.String(); got != tt.text {
			t.Errorf("%T.String() = %q, want %q", tt.n, got, tt.text)
		}
	}
	if r.Name() != "route[1]" || RouteKind(9).String() != "route?" || CmpOp(99).String() != "?" || tokenKind(99).String() != "token(99)" {
		t.Error("names")
	}
	if (&Option{Pos: Pos{Line: 1}}).Value().Pos.Line != 1 {
		t.Error("empty option value")
	}
	for k, want := range map[ValueKind]string{NumberValue: "number", BoolValue: "boolean", StringValue: "string", IdentValue: "identifier", WordValue: "word", 0: "value"} {
		if k.String() != want {
			t.Errorf("%d.String() = %q", k, k.String())
		}
	}
}
