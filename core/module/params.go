package module

import (
	"fmt"

	"ser/core/store"
)

// The setters below adapt a typed setter on a module's instance type M
// (the value its New returns) to Param.Set, so that modules declare their
// modparams in one line each:
//
//	{Name: "use_domain", Kind: module.Int, Set: module.BoolParam(func(m *Module, on bool) { m.useDomain = on })},

// BoolParam is an on/off modparam: any non-zero integer is on, as in SER.
func BoolParam[M any](set func(m M, on bool)) func(any, Value) error {
	return func(inst any, v Value) error {
		n, err := v.Int()
		if err != nil {
			return err
		}
		set(inst.(M), n != 0)
		return nil
	}
}

// IntParam is an integer modparam; set may refuse the value.
func IntParam[M any](set func(m M, n int) error) func(any, Value) error {
	return func(inst any, v Value) error {
		n, err := v.Int()
		if err != nil {
			return err
		}
		return set(inst.(M), n)
	}
}

// StrParam is a string modparam taken as written.
func StrParam[M any](set func(m M, s string)) func(any, Value) error {
	return func(inst any, v Value) error {
		set(inst.(M), v.String())
		return nil
	}
}

// IdentParam is a table or column name modparam: checked with
// store.ValidIdent at load time, so SQL built from it needs no check per
// request. what names the kind in the error ("column", "table", …).
func IdentParam[M any](what string, set func(m M, name string)) func(any, Value) error {
	return func(inst any, v Value) error {
		s := v.String()
		if !store.ValidIdent(s) {
			return fmt.Errorf("%q is not a valid %s name", s, what)
		}
		set(inst.(M), s)
		return nil
	}
}

// FixedParam is a table or column name modparam the module accepts only
// with its default value, because the store reads the standard schema; any
// other value is refused at load time rather than ignored.
func FixedParam(param, def string) func(any, Value) error {
	return func(_ any, v Value) error {
		if v.String() != def {
			return fmt.Errorf("%s %q is not supported: only the standard schema (%q) is read", param, v.String(), def)
		}
		return nil
	}
}
