package acc

import (
	"fmt"
	"strings"

	"ser/core/module"
	"ser/core/sipmsg"
)

// allLogFmt lists the log_fmt letters SER 0.9 knows (acc/defs.h
// ALL_LOG_FMT); a format has at most that many letters.
const allLogFmt = "cdfimorstup01FTUSnDX"

// setLogLevel sets log_level (SER levels -3 alert … 4 debug).
func setLogLevel(a *Acc, v module.Value) error {
	n, err := v.Int()
	if err != nil {
		return fmt.Errorf("acc: log_level: %w", err)
	}
	if n < -3 || n > 9 {
		return fmt.Errorf("acc: log_level %d out of range -3..9", n)
	}
	a.level = n
	return nil
}

// checkFmt validates a log_fmt string: known letters only, at most
// len(allLogFmt) of them (SER: "too long formatting string").
func checkFmt(f string) error {
	if f == "" {
		return fmt.Errorf("acc: empty log_fmt")
	}
	if len(f) > len(allLogFmt) {
		return fmt.Errorf("acc: log_fmt %q too long (at most %d letters)", f, len(allLogFmt))
	}
	for i := 0; i < len(f); i++ {
		if !strings.ContainsRune(allLogFmt, rune(f[i])) {
			return fmt.Errorf("acc: log_fmt %q: unknown letter %q (known: %s)", f, f[i], allLogFmt)
		}
	}
	return nil
}

// setLogFmt sets log_fmt after checking its letters.
func setLogFmt(a *Acc, v module.Value) error {
	f := v.String()
	if err := checkFmt(f); err != nil {
		return err
	}
	a.fmt = f
	return nil
}

// flagNumber converts a flag modparam: 0 disables, 1..31 name a flag.
func flagNumber(v module.Value) (int, error) {
	n, err := v.Int()
	if err != nil {
		return 0, err
	}
	if n < 0 || n > sipmsg.MaxFlag {
		return 0, fmt.Errorf("flag %d out of range 0..%d", n, sipmsg.MaxFlag)
	}
	return n, nil
}

// setFlag adapts a flag modparam to module.Param.Set.
func setFlag(field func(*Acc) *int) func(any, module.Value) error {
	return module.SetOf(flagSetter(field))
}

// flagSetter stores a flag modparam's number in field.
func flagSetter(field func(*Acc) *int) func(*Acc, module.Value) error {
	return func(a *Acc, v module.Value) error {
		n, err := flagNumber(v)
		if err != nil {
			return fmt.Errorf("acc: %w", err)
		}
		*field(a) = n
		return nil
	}
}

// setDBFlag is setFlag that also turns SQL accounting on.
func setDBFlag(field func(*Acc) *int) func(any, module.Value) error {
	set := flagSetter(field)
	return module.SetOf(func(a *Acc, v module.Value) error {
		if err := set(a, v); err != nil {
			return err
		}
		a.dbOn = true
		return nil
	})
}

// setUnsupported accepts only 0 for a SER parameter whose feature the
// transaction layer cannot deliver, and refuses anything else at load time
// rather than silently ignoring it.
func setUnsupported(name, why string) func(any, module.Value) error {
	return func(_ any, v module.Value) error {
		n, err := v.Int()
		if err != nil {
			return fmt.Errorf("acc: %s: %w", name, err)
		}
		if n != 0 {
			return fmt.Errorf("acc: %s=%d is not supported (%s); only 0 is accepted", name, n, why)
		}
		return nil
	}
}

// setDBURL sets db_url and turns SQL accounting on.
func setDBURL(a *Acc, v module.Value) error {
	a.dbURL = v.String()
	a.dbOn = true
	return nil
}
