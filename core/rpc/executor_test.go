package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"
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

// TestCommandStats: commands count by interface and outcome; Local counts
// as "local" unless For or the context says otherwise.
func TestCommandStats(t *testing.T) {
	reg := NewRegistry()
	reg.MustRegister(Command{Name: "ok", Handler: func(ctx context.Context, req *Request) *Reply { return Raw("200 ok\n") }})
	ctx := context.Background()
	reg.Execute(ctx, "ok", nil, FIFO)
	reg.Execute(ctx, "nope", nil, UnixSock)
	NewLocal(reg).Execute(ctx, "ok", nil)
	NewLocal(reg).For("web").Execute(ctx, "ok", nil)
	NewLocal(reg).Execute(WithInterface(ctx, "jsonrpc"), "nope", nil)
	got := map[string]uint64{}
	reg.Stats().Each(func(iface, outcome string, n uint64) {
		if n != 0 {
			got[iface+"/"+outcome] = n
		}
	})
	want := map[string]uint64{"fifo/2xx": 1, "unixsock/5xx": 1, "local/2xx": 1, "web/2xx": 1, "jsonrpc/5xx": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// TestBounded: the limit holds (a stuck command keeps its slot), a
// waiting call gives up with ErrNoFreeSlot, a panic becomes ErrPanicked.
func TestBounded(t *testing.T) {
	release := make(chan struct{})
	exec := ExecutorFunc(func(ctx context.Context, cmd string, _ []string) (*Reply, error) {
		switch cmd {
		case "stuck":
			<-release
		case "boom":
			panic("boom")
		}
		return &Reply{Code: 200, Text: "200 ok\n"}, nil
	})
	b := NewBounded(exec, 1, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := b.Execute(ctx, "stuck", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stuck: %v", err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if _, err := b.Execute(ctx2, "x", nil); !errors.Is(err, ErrNoFreeSlot) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("while the slot is held: %v", err)
	}
	close(release)
	if rep, err := b.Execute(context.Background(), "x", nil); err != nil || rep.Code != 200 {
		t.Fatalf("after release: %v %v", rep, err)
	}
	if _, err := b.Execute(context.Background(), "boom", nil); !errors.Is(err, ErrPanicked) {
		t.Fatalf("panic: %v", err)
	}
}
