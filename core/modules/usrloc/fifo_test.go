package usrloc

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"ser/core/module"
	"ser/core/rpc"
	"ser/core/store"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata/ with the current replies")

// t0 is the fake clock's start (2004-11-09, SER 0.9 times).
var t0 = time.Unix(1100000000, 0)

// fakeClock is a settable clock for tests.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time          { return c.now }
func (c *fakeClock) Advance(d time.Duration) { c.now = c.now.Add(d) }

// newTestModule returns an initialised module with a fake clock and its
// command registry. params are modparam name/value pairs.
func newTestModule(t testing.TB, params ...string) (*Module, *rpc.Registry, *fakeClock) {
	t.Helper()
	m := New()
	for i := 0; i+1 < len(params); i += 2 {
		p, ok := Exports.FindParam(params[i])
		if !ok {
			t.Fatalf("unknown modparam %q", params[i])
		}
		v := module.Value{S: params[i+1]}
		if n, err := strconv.Atoi(params[i+1]); err == nil && p.Kind == module.Int {
			v = module.Value{N: n, IsInt: true}
		}
		if err := p.Set(m, v); err != nil {
			t.Fatalf("modparam %s: %v", params[i], err)
		}
	}
	clk := &fakeClock{now: t0}
	m.SetClock(clk.Now)
	reg := rpc.NewRegistry()
	env := &module.Env{RPC: reg, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := Exports.Initialize(m, env); err != nil {
		t.Fatalf("init: %v", err)
	}
	return m, reg, clk
}

// A transcript is a golden file of FIFO commands and their exact replies:
//
//	# comment
//	@param use_domain 1       modparam, before the first command
//	@register location        create a table (what save("location") does)
//	@advance 30               move the clock 30 seconds on
//	>>> ul_add                a command over the FIFO (">>> unixsock ul_dump"
//	location                  for the unix socket), then its parameter lines
//	<<<                       its reply, up to the next >>>, @ or # line;
//	200 Added to table        "<<< nonl" marks a reply without a final
//	…                         newline. Replies never end with an empty line.
type transcriptStep struct {
	directive []string // @name args
	flavor    rpc.Flavor
	cmd       string
	params    []string
	nonl      bool
	reply     string
	lineNo    int
}

func parseTranscript(t *testing.T, text string) (steps []transcriptStep, prolog []string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	const (
		none = iota
		inParams
		inReply
	)
	state := none
	var cur *transcriptStep
	var reply []string
	flush := func() {
		if cur != nil && state == inReply {
			for len(reply) > 0 && reply[len(reply)-1] == "" {
				reply = reply[:len(reply)-1]
			}
			cur.reply = strings.Join(reply, "\n")
			if !cur.nonl {
				cur.reply += "\n"
			}
		}
		reply = nil
	}
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, ">>> "):
			flush()
			f := strings.Fields(l[4:])
			st := transcriptStep{cmd: f[len(f)-1], lineNo: i + 1}
			if len(f) == 2 && f[0] == "unixsock" {
				st.flavor = rpc.UnixSock
			}
			steps = append(steps, st)
			cur, state = &steps[len(steps)-1], inParams
		case strings.HasPrefix(l, "<<<") && state == inParams:
			cur.nonl = strings.TrimSpace(l[3:]) == "nonl"
			state = inReply
		case state == inParams:
			cur.params = append(cur.params, l)
		case state == inReply && !strings.HasPrefix(l, "@") && !strings.HasPrefix(l, "#"):
			reply = append(reply, l)
		case strings.HasPrefix(l, "@"):
			flush()
			state, cur = none, nil
			steps = append(steps, transcriptStep{directive: strings.Fields(l[1:]), lineNo: i + 1})
		default:
			flush()
			state, cur = none, nil
		}
	}
	flush()
	for _, s := range steps {
		if s.directive != nil && s.directive[0] == "param" {
			prolog = append(prolog, s.directive[1], s.directive[2])
		}
	}
	return steps, prolog
}

// rewriteTranscript replaces each reply block of text with got[i].
func rewriteTranscript(text string, got []string) string {
	var out []string
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	k := 0
	skipping := false
	for _, l := range lines {
		if skipping {
			if strings.HasPrefix(l, ">>> ") || strings.HasPrefix(l, "@") || strings.HasPrefix(l, "#") {
				skipping = false
				out = append(out, "")
			} else {
				continue
			}
		}
		if strings.HasPrefix(l, "<<<") {
			r := got[k]
			k++
			if strings.HasSuffix(r, "\n") {
				out = append(out, "<<<", strings.TrimSuffix(r, "\n"))
			} else {
				out = append(out, "<<< nonl", r)
			}
			skipping = true
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n") + "\n"
}

func TestFIFOTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			steps, params := parseTranscript(t, string(raw))
			m, reg, clk := newTestModule(t, params...)
			var got []string
			for _, s := range steps {
				if s.directive != nil {
					switch s.directive[0] {
					case "param":
					case "register":
						m.Register(s.directive[1])
					case "advance":
						n, _ := strconv.Atoi(s.directive[1])
						clk.Advance(time.Duration(n) * time.Second)
					default:
						t.Fatalf("%s:%d: unknown directive %v", file, s.lineNo, s.directive)
					}
					continue
				}
				p := rpc.Lines(s.params)
				if s.flavor == rpc.UnixSock {
					p = rpc.DotLines(s.params)
				}
				rep := reg.Execute(context.Background(), s.cmd, p, s.flavor)
				got = append(got, rep.Text)
				if !*update && rep.Text != s.reply {
					t.Errorf("%s:%d: %s\n got: %q\nwant: %q", file, s.lineNo, s.cmd, rep.Text, s.reply)
				}
			}
			if *update {
				if err := os.WriteFile(file, []byte(rewriteTranscript(string(raw), got)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestInitDBModes(t *testing.T) {
	okDB := func(string) (*store.Store, error) { return openStore(t, filepath.Join(t.TempDir(), "ser.db")), nil }
	mysqlDB := func(string) (*store.Store, error) {
		return nil, fmt.Errorf("core: store: open: cannot connect to mysql ser@dbhost:3306/ser: connection refused")
	}
	tests := []struct {
		name    string
		dbMode  int
		params  []string
		db      func(string) (*store.Store, error)
		wantErr string
	}{
		{name: "memory", dbMode: 0},
		{name: "memory ignores columns", dbMode: 0, params: []string{"contact_column", "c"}},
		{name: "write-through", dbMode: 1, db: okDB},
		{name: "write-back", dbMode: 2, db: okDB},
		{name: "db only", dbMode: 3, db: okDB},
		{name: "no database layer", dbMode: 1, wantErr: "usrloc: db_mode 1 needs a database, but the server provides none"},
		{name: "mysql url", dbMode: 1, db: mysqlDB, params: []string{"db_url", "sql://ser:secret@dbhost/ser"},
			wantErr: `usrloc: db_mode 1 needs a database: db_url "sql://ser:xxxxx@dbhost/ser": core: store: open: cannot connect to mysql ser@dbhost:3306/ser: connection refused`},
		{name: "default url", dbMode: 3, db: mysqlDB,
			wantErr: `usrloc: db_mode 3 needs a database: db_url "" (the server's default database): core: store: open: cannot connect to mysql ser@dbhost:3306/ser: connection refused`},
		{name: "custom column", dbMode: 2, db: okDB, params: []string{"contact_column", "c"},
			wantErr: "usrloc: db_mode 2: the *_column parameters must keep SER's column names (username, domain, contact, …): the database layer does not support others"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New()
			p, _ := Exports.FindParam("db_mode")
			if err := p.Set(m, module.Value{N: tt.dbMode, IsInt: true}); err != nil {
				t.Fatal(err)
			}
			for i := 0; i+1 < len(tt.params); i += 2 {
				p, _ := Exports.FindParam(tt.params[i])
				if err := p.Set(m, module.Value{S: tt.params[i+1]}); err != nil {
					t.Fatal(err)
				}
			}
			err := Exports.Initialize(m, &module.Env{RPC: rpc.NewRegistry(), DB: tt.db})
			if got := fmt.Sprint(err); (err == nil) != (tt.wantErr == "") || (err != nil && got != tt.wantErr) {
				t.Fatalf("Init: %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestParamErrors(t *testing.T) {
	tests := []struct {
		name, param string
		value       module.Value
		wantErr     string
	}{
		{name: "db_mode too big", param: "db_mode", value: module.Value{N: 4, IsInt: true}, wantErr: "db_mode must be 0, 1, 2 or 3, not 4"},
		{name: "timer negative", param: "timer_interval", value: module.Value{N: -1, IsInt: true}, wantErr: "timer_interval must not be negative, not -1"},
		{name: "not a number", param: "use_domain", value: module.Value{S: "x"}, wantErr: `"x" is not a number`},
		{name: "column", param: "contact_column", value: module.Value{S: "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := Exports.FindParam(tt.param)
			if !ok {
				t.Fatalf("no modparam %s", tt.param)
			}
			err := p.Set(New(), tt.value)
			if (err == nil) != (tt.wantErr == "") || (err != nil && err.Error() != tt.wantErr) {
				t.Fatalf("Set: %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestCommandsRegistered(t *testing.T) {
	_, reg, _ := newTestModule(t)
	want := []string{"ul_show_contact", "ul_add", "ul_flush", "ul_dump", "ul_rm_contact", "ul_rm", "ul_stats"}
	if got := reg.Names(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("commands %v, want %v", got, want)
	}
}
