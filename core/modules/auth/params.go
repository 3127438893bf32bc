package auth

import (
	"fmt"

	"ser/core/module"
)

func setNonceExpire(m *Module, v module.Value) error {
	n, err := v.Int()
	if err != nil {
		return err
	}
	if n <= 0 {
		return fmt.Errorf("nonce_expire must be positive, got %d", n)
	}
	m.cfg.NonceExpire = n
	return nil
}
