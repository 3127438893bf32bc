package sercmd

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// The results' JSON forms (JSON-RPC's structured results): field names in
// lower case with underscores, tables and contacts as arrays of objects
// (struct tags), and the counter sets below as objects keyed by their SER
// names.

// MarshalJSON writes t_stats as {"current", "waiting", "total", "local",
// "replied_locally", "completed": {"2xx" … "6xx"}, "timeouts"}.
func (t TStats) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Current        uint64            `json:"current"`
		Waiting        uint64            `json:"waiting"`
		Total          uint64            `json:"total"`
		Local          uint64            `json:"local"`
		RepliedLocally uint64            `json:"replied_locally"`
		Completed      map[string]uint64 `json:"completed"`
		Timeouts       uint64            `json:"timeouts"`
	}{t.Current, t.Waiting, t.Total, t.Local, t.RepliedLocally, map[string]uint64{
		"2xx": t.Completed[0], "3xx": t.Completed[1], "4xx": t.Completed[2], "5xx": t.Completed[3], "6xx": t.Completed[4],
	}, t.Timeouts})
}

// MarshalJSON writes sl_stats as an object of its counters in SER's order
// ({"200": n, "202": n, "2xx": n, …, "xxx": n, "failures": n}).
func (s SLStats) MarshalJSON() ([]byte, error) { return counterObject(s.Counters()), nil }

// MarshalJSON writes core_stats as an object {"requests": n, …} in the
// order printed.
func (c CoreStats) MarshalJSON() ([]byte, error) { return counterObject(c), nil }

func counterObject(cs []Counter) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, c := range cs {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(c.Name)
		b.Write(k)
		b.WriteByte(':')
		b.WriteString(strconv.FormatUint(c.Value, 10))
	}
	b.WriteByte('}')
	return b.Bytes()
}

// MarshalJSON writes a table with "records": [] when it has none.
func (t Table) MarshalJSON() ([]byte, error) {
	type plain Table
	if t.Records == nil {
		t.Records = []Record{}
	}
	return json.Marshal(plain(t))
}

// MarshalJSON writes a record with "contacts": [] when it has none.
func (r Record) MarshalJSON() ([]byte, error) {
	type plain Record
	if r.Contacts == nil {
		r.Contacts = []Contact{}
	}
	return json.Marshal(plain(r))
}
