package module

import (
	"context"

	"ser/core/rpc"
	"ser/core/sipmsg"
)

// The Of adapters put an implementation's methods into its export table
// without a type assertion in the module: the loader always passes the
// instance New returned, so T is the instance's type.
//
//	Commands: module.CommandsOf((*TM).commands),
//	OnReply:  module.MsgHookOf((*TM).HandleReply),
//	Stop:     module.StopOf((*TM).Stop),
//	Init:     module.InitOf(initTM),          // func initTM(t *TM, env *module.Env) error
//	Fixup:    module.FixupOf(fixupRelay),     // func fixupRelay(t *TM, env *module.Env, args []module.Value) (module.Handler, error)
//	Set:      module.SetOf(setFrTimer),       // func setFrTimer(t *TM, v module.Value) error

// InitOf binds an Init function written against the instance's type.
func InitOf[T any](f func(T, *Env) error) func(any, *Env) error {
	return func(inst any, env *Env) error { return f(inst.(T), env) }
}

// FixupOf binds a function's Fixup written against the instance's type.
func FixupOf[T any](f func(T, *Env, []Value) (Handler, error)) func(any, *Env, []Value) (Handler, error) {
	return func(inst any, env *Env, args []Value) (Handler, error) { return f(inst.(T), env, args) }
}

// SetOf binds a modparam setter written against the instance's type (the
// one-line setters BoolParam, IntParam, StrParam and IdentParam cover the
// common cases).
func SetOf[T any](f func(T, Value) error) func(any, Value) error {
	return func(inst any, v Value) error { return f(inst.(T), v) }
}

// CommandsOf binds a method returning the instance's commands.
func CommandsOf[T any](f func(T) []rpc.Command) func(any) []rpc.Command {
	return func(inst any) []rpc.Command { return f(inst.(T)) }
}

// MsgHookOf binds a request or reply hook (Exports.OnRequest, OnReply).
func MsgHookOf[T any](f func(T, *sipmsg.Msg) bool) func(any, *sipmsg.Msg) bool {
	return func(inst any, m *sipmsg.Msg) bool { return f(inst.(T), m) }
}

// StartOf binds a Start method.
func StartOf[T any](f func(T, context.Context) error) func(any, context.Context) error {
	return func(inst any, ctx context.Context) error { return f(inst.(T), ctx) }
}

// StopOf binds a Stop method.
func StopOf[T any](f func(T)) func(any) {
	return func(inst any) { f(inst.(T)) }
}

// Get returns the instance of another loaded module as its type: the
// typed way for one module to reach another (lcr, acc and dispatcher reach
// tm, auth reaches sl). ok is false when the module is not loaded or is
// not a T.
//
//	t, ok := module.Get[*tm.TM](env, "tm")
func Get[T any](env *Env, name string) (T, bool) {
	var zero T
	if env == nil || env.Instance == nil {
		return zero, false
	}
	t, ok := env.Instance(name).(T)
	return t, ok
}
