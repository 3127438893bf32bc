package auth

import (
	"fmt"
	"strconv"
	"strings"

	"ser/core/module"
	"ser/core/sipmsg"
	"ser/core/store"
)

// setAVPColumns is auth_db's avps_column_int (str false) or
// avps_column_str: subscriber columns separated by "|" whose values a
// successful www_authorize/proxy_authorize turns into AVPs named after
// the column (s:column), integer or string. Empty: none.
func setAVPColumns(str bool) func(*Module, module.Value) error {
	return func(a *Module, v module.Value) error {
		var cols []string
		for _, c := range strings.Split(v.String(), "|") {
			c = strings.TrimSpace(c)
			if c == "" {
				continue
			}
			if !store.ValidIdent(c) {
				return fmt.Errorf("%q is not a valid column name", c)
			}
			cols = append(cols, c)
		}
		if str {
			a.cfg.AVPColumnsStr = cols
		} else {
			a.cfg.AVPColumnsInt = cols
		}
		return nil
	}
}

// addAVPs adds the authorized subscriber's avps_column_int and
// avps_column_str values to m (vals in that order). An empty (or NULL)
// column adds nothing; an integer column that is not a number is logged
// and skipped.
func (a *Module) addAVPs(m *sipmsg.Msg, vals []string) {
	nInt := len(a.cfg.AVPColumnsInt)
	for i, v := range vals {
		if v == "" {
			continue
		}
		var (
			name = a.cfg.AVPColumnsStr
			val  = sipmsg.StrValue(v)
			j    = i - nInt
		)
		if i < nInt {
			name, j = a.cfg.AVPColumnsInt, i
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				a.log.ErrorContext(module.MsgCtx(m), "auth: avps_column_int column is not a number", "column", name[j], "value", v)
				continue
			}
			val = sipmsg.IntValue(n)
		}
		if err := m.AddAVP(sipmsg.StrName(name[j]), val); err != nil {
			a.log.ErrorContext(module.MsgCtx(m), "auth: cannot add the AVP", "column", name[j], "err", err)
			return
		}
	}
}
