package cfg

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testdataDir = "../../testdata/cfg"

// TestTestdata parses every sample configuration (the Hello World script
// and the SER admin guide's examples) and round-trips it.
func TestTestdata(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testdataDir, "*.cfg"))
	if err != nil || len(files) < 20 {
		t.Fatalf("testdata: %v (%d files)", err, len(files))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, errs := ParseFile(path)
			if len(errs) > 0 {
				t.Fatalf("%v", errs)
			}
			if len(f.Routes) == 0 {
				t.Fatal("no route block")
			}
			checkRoundTrip(t, f)
		})
	}
}

// TestTypos parses the admin guide's examples as printed, typos included,
// and checks each error's position and message. Strings span lines, as in
// SER, so a missing quote pairs with the next one: the first error after
// such a string says so, and one that runs to the end of the file is
// reported at its opening quote alone.
func TestTypos(t *testing.T) {
	const eofString = "unterminated quoted string: no closing \" before the end of the file"
	afterString := func(line, col int) string {
		return fmt.Sprintf(" (after a string that spans lines, opened at %d:%d: is a quote missing?)", line, col)
	}
	tests := []struct {
		file  string
		fixed string // the corrected copy; default: same name
		want  []string
	}{
		{"static_forward.cfg", "", []string{"6:11: " + eofString}},
		{"search.cfg", "", []string{
			"12:26: search: ',' or ')' expected after argument, found 'mydomain.com'" + afterString(11, 13),
			"16:2: unexpected '}': expected an option (name=value), loadmodule, modparam or a route block",
		}},
		{"domain_regex.cfg", "", []string{
			"8:1: unexpected '}': expected an option (name=value), loadmodule, modparam or a route block",
		}},
		{"rewrite.cfg", "", []string{"8:3: missing ';' after 'rewriteuri(…)'"}},
		{"modules_404.cfg", "", []string{
			"6:17: unexpected '404': expected an option (name=value), loadmodule, modparam or a route block" + afterString(3, 12),
			"6:38: unexpected character '-'",
			"6:39: unexpected character '-'",
			"6:55: " + eofString,
		}},
		{"if_register.cfg", "reference.cfg", []string{
			"4:32: ')' expected in condition, found 'register'",
			"4:49: unexpected character '\\'",
			"4:51: " + eofString,
		}},
		{"routing_history.cfg", "", []string{
			"12:11: value expected after 'uri =~', found '['",
			"12:12: unexpected character '@'",
			"12:14: unexpected character '\\'",
			"18:28: unexpected character '\\'",
			"18:30: unexpected character '\\'",
			"22:30: unexpected character '\\'",
			"22:32: unexpected character '\\'",
			"22:34: " + eofString,
		}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(testdataDir, "typos", tt.file)
			_, errs := ParseFile(path)
			var got []string
			for _, e := range errs {
				got = append(got, strings.TrimPrefix(e.Error(), path+":"))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors\n got %q\nwant %q", got, tt.want)
			}
			// The corrected copy parses.
			fixed := tt.fixed
			if fixed == "" {
				fixed = tt.file
			}
			if _, errs := ParseFile(filepath.Join(testdataDir, fixed)); len(errs) > 0 {
				t.Errorf("corrected copy: %v", errs)
			}
		})
	}
	all, _ := filepath.Glob(filepath.Join(testdataDir, "typos", "*.cfg"))
	for _, p := range all {
		if !seen[filepath.Base(p)] {
			t.Errorf("typos/%s has no test case", filepath.Base(p))
		}
	}
}

// FuzzParse checks that the parser never panics and that whatever parses
// without errors round-trips through String.
func FuzzParse(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join(testdataDir, "*.cfg"))
	typos, _ := filepath.Glob(filepath.Join(testdataDir, "typos", "*.cfg"))
	for _, p := range append(paths, typos...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`route { if (!(a() | b()) && src_ip==10.0.0.0/8) { x(uri:host, -1, 'q'); } else drop; }`))
	f.Add([]byte("listen=tcp:[::1]:5062 udp:eth0:*\nroute[1]{return(1);}"))
	f.Add([]byte("route { log(1, \"a\\\nb\\x41\\101\n c\"); x('c\nd'); if ({ a(); }) b(); if (if (c()) d(); else e();) f(); }"))
	f.Fuzz(func(t *testing.T, src []byte) {
		file, errs := Parse("fuzz.cfg", src)
		if file == nil {
			t.Fatal("nil file")
		}
		for _, e := range errs {
			if !e.Pos.IsValid() {
				t.Fatalf("error without position: %v", e)
			}
		}
		if len(errs) == 0 {
			checkRoundTrip(t, file)
		}
	})
}
