package auth

import (
	"fmt"

	"ser/core/module"
	"ser/core/store"
)

func setStr(set func(*Config, string)) func(any, module.Value) error {
	return func(inst any, v module.Value) error {
		set(&inst.(*Module).cfg, v.String())
		return nil
	}
}

// setColumn accepts an SQL identifier (checked now, not per request).
func setColumn(set func(*Config, string)) func(any, module.Value) error {
	return func(inst any, v module.Value) error {
		s := v.String()
		if !store.ValidIdent(s) {
			return fmt.Errorf("%q is not a valid column name", s)
		}
		set(&inst.(*Module).cfg, s)
		return nil
	}
}

func setBool(set func(*Config, bool)) func(any, module.Value) error {
	return func(inst any, v module.Value) error {
		n, err := v.Int()
		if err != nil {
			return err
		}
		set(&inst.(*Module).cfg, n != 0)
		return nil
	}
}

func setNonceExpire(inst any, v module.Value) error {
	n, err := v.Int()
	if err != nil {
		return err
	}
	if n <= 0 {
		return fmt.Errorf("nonce_expire must be positive, got %d", n)
	}
	inst.(*Module).cfg.NonceExpire = n
	return nil
}
