package dispatcher

import (
	"strings"
	"testing"

	"ser/internal/testing/modtest"
)

func TestParseList(t *testing.T) {
	list := "# comment\n\n1 sip:10.0.0.1:5060\n 1\tsip:10.0.0.2 8 5 # trailing comment\r\n2 sips:[::1]:5061;transport=tls 4 -1\n"
	entries, err := parseList("ds.list", []byte(list))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		set      int
		uri      string
		flags    uint32
		priority int
		pos      string
	}{
		{1, "sip:10.0.0.1:5060", 0, 0, "ds.list:3"},
		{1, "sip:10.0.0.2", 8, 5, "ds.list:4"},
		{2, "sips:[::1]:5061;transport=tls", 4, -1, "ds.list:5"},
	}
	if len(entries) != len(want) {
		t.Fatalf("got %d entries, want %d", len(entries), len(want))
	}
	for i, w := range want {
		e := entries[i]
		if e.set != w.set || e.uri != w.uri || e.flags != w.flags || e.priority != w.priority || e.pos != w.pos {
			t.Errorf("entry %d = %+v, want %+v", i, e, w)
		}
	}
}

func TestParseListErrors(t *testing.T) {
	tests := []struct {
		name string
		list string
		want []string
	}{
		{"missing destination", "1\n", []string{"ds.list:1:1: missing destination (the format is: setid destination [flags [priority]])"}},
		{"bad set id", "x sip:a\n", []string{`ds.list:1:1: bad set id "x": want a number >= 0`}},
		{"negative set id", "-1 sip:a\n", []string{`ds.list:1:1: bad set id "-1": want a number >= 0`}},
		{"not a uri", "1 10.0.0.1:5060\n", []string{`ds.list:1:3: bad destination "10.0.0.1:5060": invalid uri scheme`}},
		{"not sip", "1 http://x\n", []string{`ds.list:1:3: bad destination "http://x": not a sip: or sips: URI`}},
		{"no host", "1  sip:\n", []string{`ds.list:1:4: bad destination "sip:": no host`}},
		{"bad port", "1 sip:a:x\n", []string{`ds.list:1:3: bad destination "sip:a:x"`}},
		{"bad flags", "1 sip:a x\n", []string{`ds.list:1:9: bad flags "x": want a number`}},
		{"unknown flag bits", "1 sip:a 16\n", []string{`ds.list:1:9: flags 16: want a combination of 1 inactive, 2 trying, 4 disabled, 8 probing`}},
		{"bad priority", "1 sip:a 0 high\n", []string{`ds.list:1:11: bad priority "high": want a number`}},
		{"extra field", "1 sip:a 0 0 attrs\n", []string{`ds.list:1:13: unexpected field "attrs"`}},
		{"every error reported", "1 sip:ok\nx sip:a\n2 sip:b\n3 foo\n", []string{"ds.list:2:1: bad set id", "ds.list:4:3: bad destination"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseList("ds.list", []byte(tc.list))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "dispatcher: list file: ") {
				t.Errorf("error %q lacks the prefix", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error\n%s\nlacks %q", msg, w)
				}
			}
			if n := strings.Count(msg, "ds.list:"); n != len(tc.want) {
				t.Errorf("%d errors reported, want %d:\n%s", n, len(tc.want), msg)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	bad := writeList(t, "1 sip:a\n1 sip:b zz\n")
	tests := []struct {
		name   string
		params map[string]any
		want   string
	}{
		{"bad list file", map[string]any{"list_file": bad}, bad + ":2:9: bad flags"},
		{"missing list file", map[string]any{"list_file": bad + ".nope"}, "dispatcher: list_file: open " + bad + ".nope"},
		{"both sources", map[string]any{"list_file": bad, "db_url": ""}, "set either list_file or db_url"},
		{"probing without tm", map[string]any{"list_file": writeList(t, "1 sip:a\n"), "ds_ping_interval": 5}, "probing (ds_ping_interval 5) needs the tm module"},
		{"bad ping from", map[string]any{"ds_ping_from": "nobody"}, `ds_ping_from "nobody" is not a SIP URI`},
		{"bad ping method", map[string]any{"ds_ping_method": "OPT IONS"}, "is not a SIP method"},
		{"bad threshold", map[string]any{"ds_probing_threshold": 0}, "at least 1"},
		{"bad mode", map[string]any{"ds_probing_mode": 2}, "0 or 1"},
		{"bad flags", map[string]any{"flags": 4}, "flags must be a combination"},
		{"custom column", map[string]any{"setid_col": "grp"}, `setid_col "grp" is not supported`},
		{"bad table name", map[string]any{"table_name": "a b"}, "not a valid table name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			params := map[string]any{"ds_ping_interval": 0}
			for k, v := range tc.params {
				params[k] = v
			}
			_, err := modtest.LoadEnv(Exports, modtest.Env(t, modtest.NewCore(), nil), params)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
