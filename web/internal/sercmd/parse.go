package sercmd

// This file is the only place where the console reads FIFO reply text.
// Every parser takes the reply body (rpc.Reply.Lines: the lines after the
// status line) and is tolerant of what it does not know: an unknown line
// is skipped, a missing figure stays zero.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// showContactRE is serweb's pattern for a ul_show_contact line.
var showContactRE = regexp.MustCompile(`<([^>]*)>;q=([0-9.]*);expires=(-?[0-9]*)`)

// parseShowContact reads ul_show_contact lines "<uri>;q=<q>;expires=<n>".
// A negative expires means a permanent contact ("never", serweb); so does
// 0: ul_show_contact lists valid contacts only, and an ordinary one has at
// least a second left, while a permanent one added with expires 0 shows 0
// in its first second and a growing negative value afterwards.
func parseShowContact(lines []string) []Contact {
	var out []Contact
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

// parseDump reads ul_dump's nested listing: "---Domain---" blocks with
// "name : '<table>'", "...Record(…)..." blocks with "aor : '<aor>'" and
// "~~~Contact(…)~~~" blocks with the contact's fields.
func parseDump(lines []string) ([]Table, error) {
	var (
		tables []Table
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
			t.Records = append(t.Records, Record{})
			rec, c = &t.Records[len(t.Records)-1], nil
			continue
		case trim == ".../Record...":
			rec, c = nil, nil
			continue
		case strings.HasPrefix(trim, "~~~Contact("):
			if rec == nil {
				return nil, fmt.Errorf("ser: ul_dump: line %d: contact outside a record", n+2)
			}
			rec.Contacts = append(rec.Contacts, Contact{})
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
			if label == "name" {
				t.Name = quoted(value)
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
		c.Replicate, _ = strconv.Atoi(value)
	case "User-Agent":
		c.UserAgent = quoted(value)
	case "received":
		c.Received = quoted(value)
	case "State":
		c.State = value
	case "Flags":
		c.Flags, _ = strconv.Atoi(value)
		c.Permanent = c.Flags&FlagPermanent != 0
	}
}

// TStats are tm's t_stats figures.
type TStats struct {
	Current, Waiting, Total, Local, RepliedLocally uint64
	// Completed counts transactions by final class: index 0 is 2xx, 4 is
	// 6xx.
	Completed [5]uint64
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

// SLStats are sl's sl_stats counters, by label ("200", "2xx", "4xx",
// "xxx", "failures" …).
type SLStats map[string]uint64

// Replies returns the number of replies sent, all classes together.
func (s SLStats) Replies() uint64 {
	return s["2xx"] + s["3xx"] + s["4xx"] + s["5xx"] + s["6xx"] + s["xxx"]
}

// parseSLStats reads sl_stats: "label: number" pairs, several per line.
func parseSLStats(lines []string) SLStats {
	s := SLStats{}
	for _, l := range lines {
		f := strings.Fields(l)
		for i := 0; i+1 < len(f); i++ {
			if label, ok := strings.CutSuffix(f[i], ":"); ok {
				if v, err := strconv.ParseUint(f[i+1], 10, 64); err == nil {
					s[label] = v
					i++
				}
			}
		}
	}
	return s
}

// ULStat is one table of ul_stats.
type ULStat struct {
	Table      string
	Registered int
	Expired    int
}

// parseULStats reads ul_stats: a "Domain Registered Expired" heading, then
// "'<table>' <registered> <expired>" per table.
func parseULStats(lines []string) []ULStat {
	var out []ULStat
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
		reg, err1 := strconv.Atoi(f[0])
		exp, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, ULStat{Table: l[1:j], Registered: reg, Expired: exp})
	}
	return out
}

// Uptime is the core's uptime reply.
type Uptime struct {
	Now, Since string // ctime() strings as ser printed them
	Seconds    int64
}

// parseUptime reads "Now: <ctime>", "Up Since: <ctime>", "Up time: <n> [sec]".
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

// parseVersion reads "Server: Sip EXpress router (0.9.6 (i386/linux))" and
// returns the text after "Server: ".
func parseVersion(lines []string) string {
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if v, ok := strings.CutPrefix(l, "Server:"); ok {
			return strings.TrimSpace(v)
		}
	}
	if len(lines) > 0 {
		return strings.TrimSpace(lines[0])
	}
	return ""
}

// atou converts digits matched by a regexp.
func atou(s string) uint64 {
	v, _ := strconv.ParseUint(s, 10, 64)
	return v
}
