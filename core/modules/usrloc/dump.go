package usrloc

import (
	"fmt"
	"strings"
)

// ptr formats an object id the way SER's ul_dump printed pointers with
// %p: hex with 0x, "(nil)" for none.
func ptr(id uint64) string {
	if id == 0 {
		return "(nil)"
	}
	return fmt.Sprintf("%#x", id)
}

// writeDump writes SER 0.9's print_all_udomains output: every table, its
// records in creation order and their contacts, expired ones included.
func (m *Module) writeDump(b *strings.Builder) error {
	now := m.now().Unix()
	b.WriteString("===Domain list===\n")
	for _, d := range m.Domains() {
		recs, err := d.snapshot(true)
		if err != nil {
			return err
		}
		first, last := uint64(0), uint64(0)
		if len(recs) > 0 {
			first, last = recs[0].id, recs[len(recs)-1].id
		}
		b.WriteString("---Domain---\n")
		fmt.Fprintf(b, "name : '%s'\n", d.name)
		fmt.Fprintf(b, "size : %d\n", tableSize)
		fmt.Fprintf(b, "table: %s\n", ptr(d.id))
		b.WriteString("d_ll {\n")
		fmt.Fprintf(b, "    n    : %d\n", len(recs))
		fmt.Fprintf(b, "    first: %s\n", ptr(first))
		fmt.Fprintf(b, "    last : %s\n", ptr(last))
		b.WriteString("}\n")
		if len(recs) > 0 {
			b.WriteString("\n")
			for _, r := range recs {
				writeRecord(b, d.name, r, now)
			}
			b.WriteString("\n")
		}
		b.WriteString("---/Domain---\n")
	}
	b.WriteString("===/Domain list===\n")
	return nil
}

// writeRecord writes SER 0.9's print_urecord and print_ucontact output.
func writeRecord(b *strings.Builder, table string, r snapRecord, now int64) {
	fmt.Fprintf(b, "...Record(%s)...\n", ptr(r.id))
	fmt.Fprintf(b, "domain: '%s'\n", table)
	fmt.Fprintf(b, "aor   : '%s'\n", r.aor)
	for i, c := range r.contacts {
		next, prev := uint64(0), uint64(0)
		if i+1 < len(r.contacts) {
			next = r.contacts[i+1].id
		}
		if i > 0 {
			prev = r.contacts[i-1].id
		}
		fmt.Fprintf(b, "~~~Contact(%s)~~~\n", ptr(c.id))
		fmt.Fprintf(b, "domain    : '%s'\n", table)
		fmt.Fprintf(b, "aor       : '%s'\n", r.aor)
		fmt.Fprintf(b, "Contact   : '%s'\n", c.URI)
		if now > c.Expires {
			fmt.Fprintf(b, "Expires   : -%d\n", uint32(now-c.Expires))
		} else {
			fmt.Fprintf(b, "Expires   : %d\n", uint32(c.Expires-now))
		}
		fmt.Fprintf(b, "q         : %s\n", c.Q)
		fmt.Fprintf(b, "Call-ID   : '%s'\n", c.CallID)
		fmt.Fprintf(b, "CSeq      : %d\n", c.CSeq)
		fmt.Fprintf(b, "replic    : %d\n", uint32(c.Replicate))
		fmt.Fprintf(b, "User-Agent: '%s'\n", c.UserAgent)
		fmt.Fprintf(b, "received  : '%s'\n", c.Received)
		fmt.Fprintf(b, "State     : %s\n", c.State)
		fmt.Fprintf(b, "Flags     : %d\n", c.Flags)
		fmt.Fprintf(b, "next      : %s\n", ptr(next))
		fmt.Fprintf(b, "prev      : %s\n", ptr(prev))
		b.WriteString("~~~/Contact~~~~\n")
	}
	b.WriteString(".../Record...\n")
}
