package script

import (
	"os"
	"strings"
	"testing"

	"ser/core/module"
	"ser/core/sipmsg"
)

// benchResults are the values the bench_* modules' functions return.
var benchResults = map[string]int{
	"sl_send_reply": 1, "sl_reply_error": 1,
	"t_relay":                  1,
	"record_route":             1,
	"loose_route":              -1, // no Route header: not loose-routed
	"mf_process_maxfwd_header": 1,
	"save":                     1,
	"lookup":                   1,
}

// benchCalls counts the calls the bench_* modules got.
var benchCalls = map[string]*int{}

func init() {
	mods := map[string][]string{
		"bench_sl":        {"sl_send_reply:2", "sl_reply_error:0"},
		"bench_tm":        {"t_relay:0"},
		"bench_rr":        {"record_route:0", "loose_route:0"},
		"bench_maxfwd":    {"mf_process_maxfwd_header:1"},
		"bench_usrloc":    nil,
		"bench_registrar": {"save:1", "lookup:1"},
	}
	params := map[string][]string{"bench_usrloc": {"db_mode"}, "bench_rr": {"enable_full_lr"}}
	for name, funcs := range mods {
		e := &module.Exports{Name: name, New: func() any { return new(int) }}
		for _, fn := range funcs {
			fname, nargs, _ := strings.Cut(fn, ":")
			n := int(nargs[0] - '0')
			ret := benchResults[fname]
			calls := new(int)
			benchCalls[fname] = calls
			e.Funcs = append(e.Funcs, module.Func{Name: fname, MinArgs: n, MaxArgs: n, Routes: module.Request | module.Failure,
				Fixup: func(any, *module.Env, []module.Value) (module.Handler, error) {
					return func(*sipmsg.Msg) (int, error) { *calls++; return ret, nil }, nil
				}})
		}
		for _, p := range params[name] {
			e.Params = append(e.Params, module.Param{Name: p, Kind: module.Int, Set: func(any, module.Value) error { return nil }})
		}
		module.Register(e)
	}
}

// helloWorld compiles testdata/cfg/helloworld.cfg with its modules
// replaced by the bench_* fakes (whose functions only return a value).
func helloWorld(tb testing.TB) (*Program, *fakeCore) {
	tb.Helper()
	src, err := os.ReadFile("../../testdata/cfg/helloworld.cfg")
	if err != nil {
		tb.Fatal(err)
	}
	s := string(src)
	for _, m := range []string{"sl", "tm", "rr", "maxfwd", "usrloc", "registrar"} {
		s = strings.ReplaceAll(s, "/"+m+".so\"", "/bench_"+m+".so\"")
		s = strings.ReplaceAll(s, "modparam(\""+m+"\"", "modparam(\"bench_"+m+"\"")
	}
	core := newFakeCore()
	core.quiet = true
	p, _ := build(tb, s, core)
	return p, core
}

var helloCases = []struct {
	name, method, uri string
	calls             []string // bench_* functions the script must call
}{
	{"INVITE-local", "INVITE", "sip:bob@ser.test", []string{"mf_process_maxfwd_header", "record_route", "loose_route", "lookup", "t_relay"}},
	{"INVITE-outbound", "INVITE", "sip:bob@elsewhere.test", []string{"mf_process_maxfwd_header", "record_route", "loose_route", "t_relay"}},
	{"REGISTER", "REGISTER", "sip:ser.test", []string{"mf_process_maxfwd_header", "loose_route", "save"}},
}

// TestHelloWorld runs the Hello World script on three requests, checks
// which module functions it called and that the interpreter allocated
// nothing on the way (conditions, flags, route calls).
func TestHelloWorld(t *testing.T) {
	p, _ := helloWorld(t)
	for _, hc := range helloCases {
		t.Run(hc.name, func(t *testing.T) {
			m := request(t, hc.method, hc.uri)
			for _, c := range benchCalls {
				*c = 0
			}
			if v := p.Run(module.Request, 0, m); v != 1 {
				t.Errorf("value %d", v)
			}
			var got []string
			for _, fn := range []string{"mf_process_maxfwd_header", "record_route", "loose_route", "lookup", "save", "t_relay", "sl_send_reply", "sl_reply_error"} {
				if *benchCalls[fn] > 0 {
					got = append(got, fn)
				}
			}
			if strings.Join(got, " ") != strings.Join(hc.calls, " ") {
				t.Errorf("called %v, want %v", got, hc.calls)
			}
			if allocs := testing.AllocsPerRun(100, func() { p.Run(module.Request, 0, m) }); allocs != 0 {
				t.Errorf("%v allocations per run", allocs)
			}
		})
	}
}

// BenchmarkHelloWorld measures the interpreter over the Hello World script
// with a fake core and modules whose functions only return a value: the
// cost of conditions (method, uri==myself, msg:len), flags and route
// calls. Target: < 2 µs and 0 allocations per message.
func BenchmarkHelloWorld(b *testing.B) {
	p, _ := helloWorld(b)
	for _, hc := range helloCases {
		b.Run(hc.name, func(b *testing.B) {
			m := request(b, hc.method, hc.uri)
			b.ReportAllocs()
			for b.Loop() {
				p.Run(module.Request, 0, m)
			}
		})
	}
}
