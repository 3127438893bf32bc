package rpc

import (
	"context"
	"reflect"
	"testing"
)

// TestLocal: the in-process executor runs commands with FIFO framing and
// wording, and lists them with their parameters and help.
func TestLocal(t *testing.T) {
	reg := NewRegistry()
	reg.MustRegister(Command{Name: "echo", Params: []string{"text"}, Help: "echo a line",
		Handler: func(_ context.Context, req *Request) *Reply {
			l, _ := req.Params.Line()
			return Raw(req.OK() + "\n" + l + "\n")
		}})
	var exec Executor = NewLocal(reg)
	rep, err := exec.Execute(context.Background(), "ECHO", []string{"hi  \r"})
	if err != nil || rep.Text != "200 ok\nhi\n" {
		t.Fatalf("echo: %+v, %v", rep, err)
	}
	rep, _ = exec.Execute(context.Background(), "nosuch", nil)
	if rep.Text != "500 command 'nosuch' not available\n" {
		t.Errorf("unknown: %q", rep.Text)
	}
	cmds, err := exec.(Lister).Commands(context.Background())
	if want := []CommandInfo{{Name: "echo", Params: []string{"text"}, Help: "echo a line"}}; err != nil || !reflect.DeepEqual(cmds, want) {
		t.Errorf("Commands = %+v, %v", cmds, err)
	}
	f := ExecutorFunc(func(_ context.Context, cmd string, _ []string) (*Reply, error) { return Errorf(404, "%s", cmd), nil })
	if rep, _ := f.Execute(context.Background(), "x", nil); rep.Code != 404 {
		t.Errorf("ExecutorFunc: %+v", rep)
	}
}
