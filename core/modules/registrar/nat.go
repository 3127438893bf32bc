package registrar

import "ser/core/sipmsg"

// natKey is the per-message mark set by nathelper's fix_nated_register().
var natKey = sipmsg.NewKey()

// SetNATed marks a REGISTER as coming from behind a NAT (nathelper's
// fix_nated_register()): save() then stores the address it came from as
// the contacts' received address and flags them FL_NAT, exactly as when
// the message has nat_flag set — also when nat_flag is not configured.
func SetNATed(m *sipmsg.Msg) { m.Set(natKey, true) }

// NATed reports whether SetNATed was called for m.
func NATed(m *sipmsg.Msg) bool {
	v, _ := m.Get(natKey).(bool)
	return v
}
