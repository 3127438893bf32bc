package usrloc

import (
	"fmt"

	"ser/core/module"
)

func initModule(inst any, env *module.Env) error {
	m := inst.(*Module)
	if m.cfg.TimerInterval == 0 && m.cfg.DBMode == 2 {
		return fmt.Errorf("usrloc: db_mode 2 writes the database on its timer: timer_interval must be positive")
	}
	if err := m.init(env); err != nil {
		return err
	}
	if env.RPC != nil {
		return m.registerCommands(env.RPC)
	}
	return nil
}

// setInt adapts an integer modparam setter to module.Param.Set.
func setInt(f func(c *Config, n int) error) func(any, module.Value) error {
	return func(inst any, v module.Value) error {
		n, err := v.Int()
		if err != nil {
			return err
		}
		return f(&inst.(*Module).cfg, n)
	}
}

// setStr adapts a string modparam setter to module.Param.Set.
func setStr(f func(c *Config, s string)) func(any, module.Value) error {
	return func(inst any, v module.Value) error {
		f(&inst.(*Module).cfg, v.String())
		return nil
	}
}
