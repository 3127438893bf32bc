package registrar

import (
	"fmt"

	"ser/core/module"
	"ser/core/modules/usrloc"
	"ser/core/sipmsg"
)

// lookup rewrites the R-URI to the first contact registered for its AOR
// (highest q, most recent among equal q) and, with append_branches, adds
// the other contacts to the destination set. A contact with a received
// address (registered from behind a NAT) becomes the next hop (DstURI)
// and sets nat_flag. A contact registered with a Path (use_path) is
// reached along it: the path becomes the request's route set (a Route
// header on top) and its first URI the next hop, in favour of the
// received address (the last proxy of the path handles the NAT), as in
// Kamailio. It returns 1, or SER 0.9's negative codes: -1 the
// R-URI has no usable AOR, -2 usrloc failed (a database error in
// db_mode 3), -3 the AOR is not registered, -4 the contact could not be
// used as R-URI, -5 all its contacts expired.
func (m *Module) lookup(msg *sipmsg.Msg, d *usrloc.Domain) (int, error) {
	aor, ok := m.ruriAOR(msg)
	if !ok {
		return -1, nil
	}
	cs, found, err := d.Lookup(aor)
	switch {
	case err != nil:
		// db_mode 3 reads the database: SER's "Error while querying
		// usrloc".
		m.log.ErrorContext(module.MsgCtx(msg), "lookup failed: usrloc database error", "table", d.Name(), "aor", aor, "err", err)
		return -2, nil
	case !found:
		return -3, nil
	case len(cs) == 0:
		return -5, nil
	}
	first := cs[0]
	if err := msg.SetURI(first.URI); err != nil {
		return -4, fmt.Errorf("registrar: lookup: %w", err)
	}
	dst, path := nextHop(&first)
	if dst != "" {
		msg.DstURI = dst
	}
	msg.Path = path
	msg.RURIQ = first.Q.Float()
	nat := first.Flags & usrloc.FlagNAT
	if m.appendBranches {
		for _, c := range cs[1:] {
			dst, path := nextHop(&c)
			msg.AppendBranch(sipmsg.Branch{URI: c.URI, DstURI: dst, Path: path, Q: c.Q.Float()})
			nat |= c.Flags & usrloc.FlagNAT
		}
	}
	if nat != 0 && m.natFlag >= 0 {
		msg.SetFlag(m.natFlag)
	}
	return 1, nil
}

// nextHop returns where requests to contact c go: the first URI of its
// path with the path as route set, else its received address (or "").
func nextHop(c *usrloc.Contact) (dst, path string) {
	if c.Path != "" {
		if hop := firstHop(c.Path); hop != "" {
			return hop, c.Path
		}
	}
	return c.Received, ""
}

// registered returns 1 when the R-URI's AOR has a valid contact in d,
// -1 otherwise.
func (m *Module) registered(msg *sipmsg.Msg, d *usrloc.Domain) int {
	aor, ok := m.ruriAOR(msg)
	if !ok {
		return -1
	}
	cs, _, err := d.Lookup(aor)
	if err != nil {
		m.log.ErrorContext(module.MsgCtx(msg), "registered failed: usrloc database error", "table", d.Name(), "aor", aor, "err", err)
		return -1
	}
	if len(cs) > 0 {
		return 1
	}
	return -1
}

// ruriAOR is the usrloc key of the current Request-URI.
func (m *Module) ruriAOR(msg *sipmsg.Msg) (string, bool) {
	u := msg.URI()
	if u == nil {
		return "", false
	}
	aor, f := m.aor(u)
	return aor, f == nil
}
