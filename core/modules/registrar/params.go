package registrar

import (
	"fmt"

	"ser/core/module"
	"ser/core/modules/usrloc"
	"ser/core/sipmsg"
)

func setDefaultExpires(m *Module, v module.Value) error {
	n, err := nonNegative("default_expires", v)
	if err != nil {
		return err
	}
	m.defaultExpires = n
	return nil
}

func setMinExpires(m *Module, v module.Value) error {
	n, err := nonNegative("min_expires", v)
	if err != nil {
		return err
	}
	m.minExpires = n
	return nil
}

func setMaxExpires(m *Module, v module.Value) error {
	n, err := nonNegative("max_expires", v)
	if err != nil {
		return err
	}
	m.maxExpires = n
	return nil
}

func setMaxContacts(m *Module, v module.Value) error {
	n, err := nonNegative("max_contacts", v)
	if err != nil {
		return err
	}
	m.maxContacts = int(n)
	return nil
}

func nonNegative(name string, v module.Value) (int64, error) {
	n, err := v.Int()
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, fmt.Errorf("%s must not be negative, not %d", name, n)
	}
	return int64(n), nil
}

// setDefaultQ takes SER 0.9's integer in thousandths (1000 = 1.0, -1 =
// none), clamped to 0…1000 as SER did.
func setDefaultQ(m *Module, v module.Value) error {
	n, err := v.Int()
	if err != nil {
		return err
	}
	switch {
	case n == -1:
		m.defaultQ = usrloc.QUnset
	case n < 0:
		m.defaultQ = usrloc.QMin
	case n > int(usrloc.QMax):
		m.defaultQ = usrloc.QMax
	default:
		m.defaultQ = usrloc.Q(n)
	}
	return nil
}

func setNATFlag(m *Module, v module.Value) error {
	n, err := v.Int()
	if err != nil {
		return err
	}
	if n < -1 || n > sipmsg.MaxFlag {
		return fmt.Errorf("nat_flag must be a flag number 0..%d or -1, not %d", sipmsg.MaxFlag, n)
	}
	m.natFlag = n
	return nil
}
