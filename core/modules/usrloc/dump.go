package usrloc

import (
	"ser/core/rpc/sercmd"
)

// dump returns ul_dump's result (SER 0.9's print_all_udomains): every
// table, its records in creation order and their contacts, expired ones
// included. sercmd.Dump writes it as SER's text, ids where SER printed
// addresses.
func (m *Module) dump() (sercmd.Dump, error) {
	now := m.now().Unix()
	var out sercmd.Dump
	for _, d := range m.Domains() {
		recs, err := d.snapshot(true)
		if err != nil {
			return nil, err
		}
		t := sercmd.Table{ID: d.id, Name: d.name, Size: tableSize}
		if len(recs) > 0 {
			t.Records = make([]sercmd.Record, len(recs))
		}
		for i, r := range recs {
			rec := sercmd.Record{ID: r.id, AOR: r.aor}
			if len(r.contacts) > 0 {
				rec.Contacts = make([]sercmd.Contact, len(r.contacts))
			}
			for j := range r.contacts {
				c := &r.contacts[j]
				rec.Contacts[j] = sercmd.Contact{
					ID: c.id, URI: c.URI, Q: c.Q.String(), Expires: int(c.Expires - now), Permanent: c.Permanent(),
					CallID: c.CallID, CSeq: int(c.CSeq), UserAgent: c.UserAgent, Received: c.Received,
					State: c.State.String(), Flags: c.Flags, Replicate: uint32(c.Replicate),
				}
			}
			t.Records[i] = rec
		}
		out = append(out, t)
	}
	return out, nil
}
