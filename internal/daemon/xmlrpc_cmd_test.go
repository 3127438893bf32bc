package daemon

import (
	"context"
	"errors"
	"strings"
	"testing"

	"ser/core/rpc"
)

// TestSerAnswers: the stand-alone bridge's /ready check asks ser for its
// version through the FIFO client and names what went wrong.
func TestSerAnswers(t *testing.T) {
	ctx := context.Background()
	ok := rpc.ExecutorFunc(func(context.Context, string, []string) (*rpc.Reply, error) { return rpc.Raw("200 ok\nser\n"), nil })
	if err := serAnswers(ctx, ok); err != nil {
		t.Fatal(err)
	}
	down := rpc.ExecutorFunc(func(context.Context, string, []string) (*rpc.Reply, error) {
		return nil, errors.New("fifo /tmp/ser_fifo: no such file")
	})
	if err := serAnswers(ctx, down); err == nil || !strings.Contains(err.Error(), "ser does not answer: fifo /tmp/ser_fifo") {
		t.Fatalf("down: %v", err)
	}
}
