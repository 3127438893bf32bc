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
func initCounter(c *counter, _ *Env) error {
	if c.failInit {
		return errors.New("no database")
	}
	c.inits++
	return nil
}

var counterExports = &Exports{
	Name: "counter", New: func() any { return &counter{} }, Init: InitOf(initCounter),
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

// TestTypedAdapters: InitOf, FixupOf and SetOf hand the instance over as
// its own type.
func TestTypedAdapters(t *testing.T) {
	c := &counter{}
	var inst any = c
	if err := InitOf(func(c *counter, _ *Env) error { c.inits++; return nil })(inst, nil); err != nil || c.inits != 1 {
		t.Fatalf("InitOf: %v, inits %d", err, c.inits)
	}
	if err := SetOf(func(c *counter, v Value) error { c.seen = v.N; return nil })(inst, Value{N: 7, IsInt: true}); err != nil || c.seen != 7 {
		t.Fatalf("SetOf: %v, seen %d", err, c.seen)
	}
	h, err := FixupOf(func(c *counter, _ *Env, args []Value) (Handler, error) {
		return func(*sipmsg.Msg) (int, error) { c.starts += len(args); return 1, nil }, nil
	})(inst, nil, []Value{{S: "a"}, {S: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := h(nil); r != 1 || c.starts != 2 {
		t.Fatalf("FixupOf handler: %d, starts %d", r, c.starts)
	}
}
