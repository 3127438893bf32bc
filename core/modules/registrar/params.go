package registrar

import (
	"fmt"

	"ser/core/module"
	"ser/core/modules/usrloc"
	"ser/core/sipmsg"
)

func setDefaultExpires(inst any, v module.Value) error {
	n, err := nonNegative("default_expires", v)
	if err != nil {
		return err
	}
	inst.(*Module).defaultExpires = n
	return nil
}

func setMinExpires(inst any, v module.Value) error {
	n, err := nonNegative("min_expires", v)
	if err != nil {
		return err
	}
	inst.(*Module).minExpires = n
	return nil
}

func setMaxExpires(inst any, v module.Value) error {
	n, err := nonNegative("max_expires", v)
	if err != nil {
		return err
	}
	inst.(*Module).maxExpires = n
	return nil
}

func setMaxContacts(inst any, v module.Value) error {
	n, err := nonNegative("max_contacts", v)
	if err != nil {
		return err
	}
	inst.(*Module).maxContacts = int(n)
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
func setDefaultQ(inst any, v module.Value) error {
	m := inst.(*Module)
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

func setNATFlag(inst any, v module.Value) error {
	n, err := v.Int()
	if err != nil {
		return err
	}
	if n < -1 || n > sipmsg.MaxFlag {
		return fmt.Errorf("nat_flag must be a flag number 0..%d or -1, not %d", sipmsg.MaxFlag, n)
	}
	inst.(*Module).natFlag = n
	return nil
}
