package sipmsg

// forceRportKey is the per-message slot of the script's force_rport()
// (core/script).
var forceRportKey = NewKey()

// SetForceRport records that the script called force_rport(): the core
// must treat the request's top Via as if it carried an rport parameter
// (RFC 3581), so that the reply goes back to the source port.
func (m *Msg) SetForceRport() { m.Set(forceRportKey, true) }

// ForceRport reports whether the script called force_rport() for m.
func (m *Msg) ForceRport() bool {
	v, _ := m.Get(forceRportKey).(bool)
	return v
}
