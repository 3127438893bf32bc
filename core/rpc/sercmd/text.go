package sercmd

// This file is the one place where the management plane's structured
// results meet SER's reply text. Each result type writes its text
// (WriteBody, rpc.Body: what the commands send over the FIFO, the unix
// socket and XML-RPC's output, byte for byte as SER 0.9 printed it) and has
// a parser reading that text back, for replies that came over a transport.
// The As* functions take a reply's Value when the command ran in process,
// and parse its body lines (rpc.Reply.Lines) otherwise. The parsers are
// tolerant of what they do not know: an unknown line is skipped, a missing
// figure stays zero.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"ser/core/rpc"
)

// cleanupEOL is SER's CLEANUP_EOL, which ends the lines of t_stats and
// sl_stats: six spaces and a newline.
const cleanupEOL = "      \n"

// ptr formats an id the way SER's ul_dump printed pointers with %p: hex
// with 0x, "(nil)" for none.
func ptr(id uint64) string {
	if id == 0 {
		return "(nil)"
	}
	return fmt.Sprintf("%#x", id)
}

// parsePtr reads ptr's output (and SER's addresses); 0 when it is none.
func parsePtr(s string) uint64 {
	v, _ := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(s), "0x"), 16, 64)
	return v
}

// typed returns rep's Value when it is a T, else parse of its body.
func typed[T any](rep *rpc.Reply, parse func([]string) T) T {
	if v, ok := rep.Value.(T); ok {
		return v
	}
	return parse(rep.Lines())
}

// AsContacts returns ul_show_contact's result from its 200 reply.
func AsContacts(rep *rpc.Reply) Contacts { return typed(rep, parseShowContact) }

// AsDump returns ul_dump's result from its 200 reply; the text of a reply
// that nests blocks wrongly is an error.
func AsDump(rep *rpc.Reply) (Dump, error) {
	if v, ok := rep.Value.(Dump); ok {
		return v, nil
	}
	return parseDump(rep.Lines())
}

// AsTStats returns t_stats' result from its 200 reply.
func AsTStats(rep *rpc.Reply) TStats { return typed(rep, parseTStats) }

// AsSLStats returns sl_stats' result from its 200 reply.
func AsSLStats(rep *rpc.Reply) SLStats { return typed(rep, parseSLStats) }

// AsULStats returns ul_stats' result from its 200 reply.
func AsULStats(rep *rpc.Reply) ULStats { return typed(rep, parseULStats) }

// AsCoreStats returns core_stats' result from its 200 reply.
func AsCoreStats(rep *rpc.Reply) CoreStats { return typed(rep, parseCoreStats) }

// AsUptime returns uptime's result from its 200 reply.
func AsUptime(rep *rpc.Reply) Uptime { return typed(rep, parseUptime) }

// AsVersion returns version's result from its 200 reply.
func AsVersion(rep *rpc.Reply) Version { return typed(rep, parseVersion) }

// --- ul_show_contact

// WriteBody writes ul_show_contact's lines "<uri>;q=<q>;expires=<n>".
func (cs Contacts) WriteBody(b *strings.Builder) {
	for _, c := range cs {
		fmt.Fprintf(b, "<%s>;q=%s;expires=%d\n", c.URI, c.Q, c.Expires)
	}
}

// showContactRE is serweb's pattern for a ul_show_contact line.
var showContactRE = regexp.MustCompile(`<([^>]*)>;q=([0-9.]*);expires=(-?[0-9]*)`)

// parseShowContact reads ul_show_contact lines. A negative expires means a
// permanent contact ("never", serweb); so does 0: ul_show_contact lists
// valid contacts only, and an ordinary one has at least a second left,
// while a permanent one added with expires 0 shows 0 in its first second
// and a growing negative value afterwards.
func parseShowContact(lines []string) Contacts {
	var out Contacts
	for _, l := range lines {
		m := showContactRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		exp, _ := strconv.Atoi(m[3])
		out = append(out, Contact{URI: m[1], Q: m[2], Expires: exp, Permanent: exp <= 0})
	}
	return out
}

// --- ul_dump

// WriteBody writes SER 0.9's print_all_udomains output: every table, its
// records in creation order and their contacts (print_urecord,
// print_ucontact), ids where SER printed addresses.
func (d Dump) WriteBody(b *strings.Builder) {
	b.WriteString("===Domain list===\n")
	for _, t := range d {
		first, last := uint64(0), uint64(0)
		if len(t.Records) > 0 {
			first, last = t.Records[0].ID, t.Records[len(t.Records)-1].ID
		}
		b.WriteString("---Domain---\n")
		fmt.Fprintf(b, "name : '%s'\n", t.Name)
		fmt.Fprintf(b, "size : %d\n", t.Size)
		fmt.Fprintf(b, "table: %s\n", ptr(t.ID))
		b.WriteString("d_ll {\n")
		fmt.Fprintf(b, "    n    : %d\n", len(t.Records))
		fmt.Fprintf(b, "    first: %s\n", ptr(first))
		fmt.Fprintf(b, "    last : %s\n", ptr(last))
		b.WriteString("}\n")
		if len(t.Records) > 0 {
			b.WriteString("\n")
			for _, r := range t.Records {
				writeRecord(b, t.Name, r)
			}
			b.WriteString("\n")
		}
		b.WriteString("---/Domain---\n")
	}
	b.WriteString("===/Domain list===\n")
}

// writeRecord writes one record and its contacts.
func writeRecord(b *strings.Builder, table string, r Record) {
	fmt.Fprintf(b, "...Record(%s)...\n", ptr(r.ID))
	fmt.Fprintf(b, "domain: '%s'\n", table)
	fmt.Fprintf(b, "aor   : '%s'\n", r.AOR)
	for i, c := range r.Contacts {
		next, prev := uint64(0), uint64(0)
		if i+1 < len(r.Contacts) {
			next = r.Contacts[i+1].ID
		}
		if i > 0 {
			prev = r.Contacts[i-1].ID
		}
		fmt.Fprintf(b, "~~~Contact(%s)~~~\n", ptr(c.ID))
		fmt.Fprintf(b, "domain    : '%s'\n", table)
		fmt.Fprintf(b, "aor       : '%s'\n", r.AOR)
		fmt.Fprintf(b, "Contact   : '%s'\n", c.URI)
		if c.Expires < 0 {
			fmt.Fprintf(b, "Expires   : -%d\n", uint32(-c.Expires))
		} else {
			fmt.Fprintf(b, "Expires   : %d\n", uint32(c.Expires))
		}
		fmt.Fprintf(b, "q         : %s\n", c.Q)
		fmt.Fprintf(b, "Call-ID   : '%s'\n", c.CallID)
		fmt.Fprintf(b, "CSeq      : %d\n", c.CSeq)
		fmt.Fprintf(b, "replic    : %d\n", c.Replicate)
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

// quoted returns the text between the first and the last single quote of
// v, or v trimmed when it is not quoted.
func quoted(v string) string {
	v = strings.TrimSpace(v)
	i, j := strings.IndexByte(v, '\''), strings.LastIndexByte(v, '\'')
	if i >= 0 && j > i {
		return v[i+1 : j]
	}
	return v
}

// dumpField splits a ul_dump line "label : value" (labels are padded).
func dumpField(l string) (label, value string, ok bool) {
	label, value, ok = strings.Cut(l, ":")
	if !ok {
		return "", "", false
	}
	return strings.TrimSpace(label), strings.TrimSpace(value), true
}

// blockID reads the id of "...Record(<id>)..." or "~~~Contact(<id>)~~~".
func blockID(l string) uint64 {
	i, j := strings.IndexByte(l, '('), strings.IndexByte(l, ')')
	if i < 0 || j < i {
		return 0
	}
	return parsePtr(l[i+1 : j])
}

// parseDump reads ul_dump's nested listing: "---Domain---" blocks with
// "name : '<table>'", "...Record(…)..." blocks with "aor : '<aor>'" and
// "~~~Contact(…)~~~" blocks with the contact's fields.
func parseDump(lines []string) (Dump, error) {
	var (
		tables Dump
		t      *Table
		rec    *Record
		c      *Contact
	)
	for n, l := range lines {
		l = strings.TrimRight(l, "\r")
		trim := strings.TrimSpace(l)
		switch {
		case trim == "===Domain list===" || trim == "===/Domain list===" || trim == "":
			continue
		case trim == "---Domain---":
			tables = append(tables, Table{})
			t, rec, c = &tables[len(tables)-1], nil, nil
			continue
		case trim == "---/Domain---":
			t, rec, c = nil, nil, nil
			continue
		case strings.HasPrefix(trim, "...Record("):
			if t == nil {
				return nil, fmt.Errorf("ser: ul_dump: line %d: record outside a domain", n+2)
			}
			t.Records = append(t.Records, Record{ID: blockID(trim)})
			rec, c = &t.Records[len(t.Records)-1], nil
			continue
		case trim == ".../Record...":
			rec, c = nil, nil
			continue
		case strings.HasPrefix(trim, "~~~Contact("):
			if rec == nil {
				return nil, fmt.Errorf("ser: ul_dump: line %d: contact outside a record", n+2)
			}
			rec.Contacts = append(rec.Contacts, Contact{ID: blockID(trim)})
			c = &rec.Contacts[len(rec.Contacts)-1]
			continue
		case strings.HasPrefix(trim, "~~~/Contact"):
			c = nil
			continue
		}
		label, value, ok := dumpField(l)
		if !ok {
			continue
		}
		switch {
		case c != nil:
			setContactField(c, label, value)
		case rec != nil:
			if label == "aor" {
				rec.AOR = quoted(value)
			}
		case t != nil:
			switch label {
			case "name":
				t.Name = quoted(value)
			case "size":
				t.Size, _ = strconv.Atoi(value)
			case "table":
				t.ID = parsePtr(value)
			}
		}
	}
	return tables, nil
}

// setContactField stores one "~~~Contact~~~" field.
func setContactField(c *Contact, label, value string) {
	switch label {
	case "Contact":
		c.URI = quoted(value)
	case "Expires":
		c.Expires, _ = strconv.Atoi(value)
	case "q":
		c.Q = value
	case "Call-ID":
		c.CallID = quoted(value)
	case "CSeq":
		c.CSeq, _ = strconv.Atoi(value)
	case "replic":
		v, _ := strconv.ParseUint(value, 10, 32)
		c.Replicate = uint32(v)
	case "User-Agent":
		c.UserAgent = quoted(value)
	case "received":
		c.Received = quoted(value)
	case "State":
		c.State = value
	case "Flags":
		v, _ := strconv.ParseUint(value, 10, 32)
		c.Flags = uint32(v)
		c.Permanent = c.Flags&FlagPermanent != 0
	}
}

// --- t_stats

// WriteBody writes t_stats as SER 0.9 printed it (t_stats.c).
func (s TStats) WriteBody(b *strings.Builder) {
	fmt.Fprintf(b, "Current: %d (%d waiting) Total: %d (%d local) "+cleanupEOL, s.Current, s.Waiting, s.Total, s.Local)
	fmt.Fprintf(b, "Replied localy: %d"+cleanupEOL, s.RepliedLocally)
	fmt.Fprintf(b, "Completion status 6xx: %d, 5xx: %d, 4xx: %d, 3xx: %d,2xx: %d"+cleanupEOL,
		s.Completed[4], s.Completed[3], s.Completed[2], s.Completed[1], s.Completed[0])
}

var (
	tCurrentRE = regexp.MustCompile(`Current:\s*(\d+)\s*\((\d+) waiting\)\s*Total:\s*(\d+)\s*\((\d+) local\)`)
	tRepliedRE = regexp.MustCompile(`Replied localy:\s*(\d+)`)
	tClassRE   = regexp.MustCompile(`([2-6])xx:\s*(\d+)`)
)

// parseTStats reads t_stats:
//
//	Current: 1 (0 waiting) Total: 12 (3 local)
//	Replied localy: 4
//	Completion status 6xx: 0, 5xx: 1, 4xx: 2, 3xx: 0,2xx: 9
func parseTStats(lines []string) TStats {
	var s TStats
	for _, l := range lines {
		if m := tCurrentRE.FindStringSubmatch(l); m != nil {
			s.Current, s.Waiting, s.Total, s.Local = atou(m[1]), atou(m[2]), atou(m[3]), atou(m[4])
		}
		if m := tRepliedRE.FindStringSubmatch(l); m != nil {
			s.RepliedLocally = atou(m[1])
		}
		if strings.HasPrefix(strings.TrimSpace(l), "Completion status") {
			for _, m := range tClassRE.FindAllStringSubmatch(l, -1) {
				s.Completed[m[1][0]-'2'] = atou(m[2])
			}
		}
	}
	return s
}

// --- sl_stats

// slLabels are sl_stats' counters in SER's order (sl_stats.h), and
// slLines how many of them each line of the reply holds.
var (
	slLabels = [...]string{"200", "202", "2xx", "300", "301", "302", "3xx", "400", "401", "403", "404", "407", "408",
		"483", "4xx", "500", "5xx", "6xx", "xxx", "failures"}
	slLines = [...]int{3, 4, 8, 2, 1, 1, 1}
)

// fields returns the counters in slLabels' order.
func (s *SLStats) fields() [len(slLabels)]*uint64 {
	return [...]*uint64{&s.R200, &s.R202, &s.R2xx, &s.R300, &s.R301, &s.R302, &s.R3xx,
		&s.R400, &s.R401, &s.R403, &s.R404, &s.R407, &s.R408, &s.R483, &s.R4xx,
		&s.R500, &s.R5xx, &s.R6xx, &s.Rxxx, &s.Failures}
}

// Counters returns the counters with sl_stats' labels ("200", "2xx", …,
// "xxx", "failures") in SER's order.
func (s SLStats) Counters() []Counter {
	out := make([]Counter, len(slLabels))
	for i, p := range s.fields() {
		out[i] = Counter{Name: slLabels[i], Value: *p}
	}
	return out
}

// WriteBody writes sl_stats as SER 0.9 printed it (sl_stats.c
// print_sl_stats): "label: number" pairs, several per line.
func (s SLStats) WriteBody(b *strings.Builder) {
	cs := s.Counters()
	for _, n := range slLines {
		for i, c := range cs[:n] {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(b, "%s: %d", c.Name, c.Value)
		}
		b.WriteString(cleanupEOL)
		cs = cs[n:]
	}
}

// parseSLStats reads sl_stats: "label: number" pairs, several per line.
func parseSLStats(lines []string) SLStats {
	var s SLStats
	fields := s.fields()
	for _, l := range lines {
		f := strings.Fields(l)
		for i := 0; i+1 < len(f); i++ {
			label, ok := strings.CutSuffix(f[i], ":")
			if !ok {
				continue
			}
			v, err := strconv.ParseUint(f[i+1], 10, 64)
			if err != nil {
				continue
			}
			for j, name := range slLabels {
				if name == label {
					*fields[j] = v
				}
			}
			i++
		}
	}
	return s
}

// --- ul_stats

// WriteBody writes ul_stats: a heading, then one line per table.
func (u ULStats) WriteBody(b *strings.Builder) {
	b.WriteString("Domain Registered Expired\n")
	for _, t := range u {
		fmt.Fprintf(b, "'%s' %d %d\n", t.Table, t.Registered, t.Expired)
	}
}

// parseULStats reads ul_stats: a "Domain Registered Expired" heading, then
// "'<table>' <registered> <expired>" per table.
func parseULStats(lines []string) ULStats {
	var out ULStats
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, "'") {
			continue
		}
		j := strings.LastIndexByte(l, '\'')
		if j <= 0 {
			continue
		}
		f := strings.Fields(l[j+1:])
		if len(f) < 2 {
			continue
		}
		reg, err1 := strconv.ParseInt(f[0], 10, 64)
		exp, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, ULStat{Table: l[1:j], Registered: reg, Expired: exp})
	}
	return out
}

// --- core_stats

// WriteBody writes core_stats: "name: value" per line.
func (cs CoreStats) WriteBody(b *strings.Builder) {
	for _, c := range cs {
		fmt.Fprintf(b, "%s: %d\n", c.Name, c.Value)
	}
}

// parseCoreStats reads core_stats' "name: value" lines.
func parseCoreStats(lines []string) CoreStats {
	var out CoreStats
	for _, l := range lines {
		name, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil {
			continue
		}
		out = append(out, Counter{Name: strings.TrimSpace(name), Value: n})
	}
	return out
}

// --- uptime, version

// WriteBody writes uptime: "Now: <ctime>", "Up Since: <ctime>", "Up time:
// <n> [sec]".
func (u Uptime) WriteBody(b *strings.Builder) {
	fmt.Fprintf(b, "Now: %s\nUp Since: %s\nUp time: %d [sec]\n", u.Now, u.Since, u.Seconds)
}

// parseUptime reads uptime's lines.
func parseUptime(lines []string) Uptime {
	var u Uptime
	for _, l := range lines {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "Now:"):
			u.Now = strings.TrimSpace(strings.TrimPrefix(l, "Now:"))
		case strings.HasPrefix(l, "Up Since:"):
			u.Since = strings.TrimSpace(strings.TrimPrefix(l, "Up Since:"))
		case strings.HasPrefix(l, "Up time:"):
			f := strings.Fields(strings.TrimPrefix(l, "Up time:"))
			if len(f) > 0 {
				u.Seconds, _ = strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	return u
}

// WriteBody writes SER's Server header line, ended by CRLF:
// "Server: Sip EXpress router (0.9.6 (i386/linux))\r\n".
func (v Version) WriteBody(b *strings.Builder) {
	fmt.Fprintf(b, "Server: %s\r\n", v.Server)
}

// parseVersion reads "Server: <description>"; a reply without that line
// gives its first line.
func parseVersion(lines []string) Version {
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if v, ok := strings.CutPrefix(l, "Server:"); ok {
			return Version{Server: strings.TrimSpace(v)}
		}
	}
	if len(lines) > 0 {
		return Version{Server: strings.TrimSpace(lines[0])}
	}
	return Version{}
}

// atou converts digits matched by a regexp.
func atou(s string) uint64 {
	v, _ := strconv.ParseUint(s, 10, 64)
	return v
}

// The result types are rpc.Body values.
var (
	_ rpc.Body = Contacts(nil)
	_ rpc.Body = Dump(nil)
	_ rpc.Body = TStats{}
	_ rpc.Body = SLStats{}
	_ rpc.Body = ULStats(nil)
	_ rpc.Body = CoreStats(nil)
	_ rpc.Body = Uptime{}
	_ rpc.Body = Version{}
	_ rpc.Body = Domains(nil)
)
