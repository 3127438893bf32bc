package usrloc

import (
	"fmt"

	"ser/core/module"
)

func initModule(m *Module, env *module.Env) error {
	if m.cfg.TimerInterval == 0 && m.cfg.DBMode == 2 {
		return fmt.Errorf("usrloc: db_mode 2 writes the database on its timer: timer_interval must be positive")
	}
	if err := m.init(env); err != nil {
		return err
	}
	return nil
}
