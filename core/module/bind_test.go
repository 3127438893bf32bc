package module

import (
	"context"
	"errors"
	"strings"
	"testing"

	"ser/core/rpc"
	"ser/core/sipmsg"
)

type counter struct {
	inits, starts, stops, seen int
	failInit                   bool
}

func (c *counter) commands() []rpc.Command {
	return []rpc.Command{{Name: "c_show", Help: "show the counter", Handler: func(context.Context, *rpc.Request) *rpc.Reply {
		return rpc.NewReply(200, "OK", "")
	}}}
}
func (c *counter) start(context.Context) error { c.starts++; return nil }
func (c *counter) stop()                       { c.stops++ }
func (c *counter) hook(*sipmsg.Msg) bool       { c.seen++; return true }
func initCounter(inst any, _ *Env) error {
	c := inst.(*counter)
	if c.failInit {
		return errors.New("no database")
	}
	c.inits++
	return nil
}

var counterExports = &Exports{
	Name: "counter", New: func() any { return &counter{} }, Init: initCounter,
	Commands: CommandsOf((*counter).commands), Start: StartOf((*counter).start), Stop: StopOf((*counter).stop),
	OnRequest: MsgHookOf((*counter).hook),
}

// TestInitialize: Init, then the table's commands in the registry; a
// failed Init registers nothing; a command name taken fails with the
// module's name.
func TestInitialize(t *testing.T) {
	reg := rpc.NewRegistry()
	c := &counter{}
	if err := counterExports.Initialize(c, &Env{RPC: reg}); err != nil {
		t.Fatal(err)
	}
	if c.inits != 1 {
		t.Fatalf("Init ran %d times", c.inits)
	}
	if _, ok := reg.Lookup("c_show"); !ok {
		t.Fatal("c_show not registered")
	}
	if err := counterExports.Initialize(&counter{}, &Env{RPC: reg}); err == nil || !strings.Contains(err.Error(), "counter") {
		t.Fatalf("second registration: %v", err)
	}
	reg2 := rpc.NewRegistry()
	if err := counterExports.Initialize(&counter{failInit: true}, &Env{RPC: reg2}); err == nil {
		t.Fatal("failed Init not reported")
	}
	if _, ok := reg2.Lookup("c_show"); ok {
		t.Fatal("commands registered after a failed Init")
	}
	if err := counterExports.Initialize(&counter{}, &Env{}); err != nil {
		t.Fatalf("without a registry: %v", err)
	}
}

// TestOfAdapters: the adapters call the instance's methods.
func TestOfAdapters(t *testing.T) {
	c := &counter{}
	if err := counterExports.Start(c, context.Background()); err != nil || c.starts != 1 {
		t.Fatalf("Start: %v, %d", err, c.starts)
	}
	counterExports.Stop(c)
	if !counterExports.OnRequest(c, nil) || c.stops != 1 || c.seen != 1 {
		t.Fatalf("stops %d seen %d", c.stops, c.seen)
	}
}

// TestGet: the typed accessor finds a loaded module of the right type only.
func TestGet(t *testing.T) {
	c := &counter{}
	env := &Env{Instance: func(name string) any {
		if name == "counter" {
			return c
		}
		return nil
	}}
	if got, ok := Get[*counter](env, "counter"); !ok || got != c {
		t.Fatalf("Get = %v, %v", got, ok)
	}
	if _, ok := Get[*counter](env, "tm"); ok {
		t.Fatal("a module not loaded found")
	}
	if _, ok := Get[*Env](env, "counter"); ok {
		t.Fatal("a module of another type found")
	}
	if _, ok := Get[*counter](&Env{}, "counter"); ok {
		t.Fatal("found without Instance")
	}
}
