package web

import (
	"context"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"ser/core/rpc"
	"ser/core/rpc/sercmd"
	"ser/core/store"
)

func TestValidators(t *testing.T) {
	tests := []struct {
		name string
		err  error
		ok   bool
	}{
		{"user plain", validUsername("alice"), true},
		{"user digits", validUsername("0123456"), true},
		{"user e164", validUsername("+4312345"), true},
		{"user dots", validUsername("john.doe_1-x"), true},
		{"user space", validUsername("a b"), false},
		{"user at", validUsername("a@b"), false},
		{"user newline", validUsername("a\nb"), false},
		{"user leading dot", validUsername(".a"), false},
		{"domain", validDomain("sip.example.com"), true},
		{"domain ip", validDomain("192.0.2.1"), true},
		{"domain ipv6", validDomain("[2001:db8::1]"), true},
		{"domain bad ipv6", validDomain("[2001:db8::zz]"), false},
		{"domain label", validDomain("-bad.example"), false},
		{"domain empty label", validDomain("a..b"), false},
		{"domain port", validDomain("example.com:5060"), false},
		{"uri", validSIPURI("sip:bob@example.com", 128), true},
		{"uri sips port params", validSIPURI("sips:bob@192.0.2.1:5061;transport=tls;lr", 128), true},
		{"uri no user", validSIPURI("sip:example.com", 128), true},
		{"uri ipv6", validSIPURI("sip:bob@[2001:db8::1]:5060", 128), true},
		{"uri upper scheme", validSIPURI("SIP:bob@example.com", 128), true},
		{"uri escaped user", validSIPURI("sip:b%20ob@example.com", 128), true},
		{"uri tel", validSIPURI("tel:+1234", 128), false},
		{"uri headers", validSIPURI("sip:bob@example.com?subject=x", 128), false},
		{"uri angle", validSIPURI("<sip:bob@example.com>", 128), false},
		{"uri space", validSIPURI("sip:bob@example.com x", 128), false},
		{"uri crlf", validSIPURI("sip:bob@example.com\r\nTo: x", 128), false},
		{"uri port 0", validSIPURI("sip:bob@example.com:0", 128), false},
		{"uri long", validSIPURI("sip:"+strings.Repeat("a", 130)+"@example.com", 128), false},
		{"email", validEmail("a.b+c@example.com"), true},
		{"email empty", validEmail(""), true},
		{"email name", validEmail("A <a@example.com>"), false},
		{"email bad", validEmail("a@"), false},
		{"phone", validPhone("+43 (1) 234-56"), true},
		{"phone letters", validPhone("abc"), false},
		{"password", validNewPassword("abcdefgh", "abcdefgh"), true},
		{"password short", validNewPassword("abcdefg", "abcdefg"), false},
		{"password mismatch", validNewPassword("abcdefgh", "abcdefgx"), false},
		{"password control", validNewPassword("abcd\x01efgh", "abcd\x01efgh"), false},
		{"group", validGroup("free-pstn"), true},
		{"group bad", validGroup("a b"), false},
		{"text", validText("Zoë", 25), true},
		{"text control", validText("a\tb", 25), false},
		{"text bad utf8", validText("\xff", 25), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if (tc.err == nil) != tc.ok {
				t.Errorf("err = %v, want ok=%v", tc.err, tc.ok)
			}
		})
	}
	if u, h := uriUserHost("sip:Bob@Example.COM:5060;transport=tcp"); u != "Bob" || h != "example.com" {
		t.Errorf("uriUserHost = %q %q", u, h)
	}
	if u, d := splitAOR(" alice@Example.COM ", "def.example"); u != "alice" || d != "example.com" {
		t.Errorf("splitAOR = %q %q", u, d)
	}
	if u, d := splitAOR("alice", "def.example"); u != "alice" || d != "def.example" {
		t.Errorf("splitAOR default = %q %q", u, d)
	}
	for p, want := range map[string]string{"/a?b=c": "/a?b=c", "//x": "", "/\\x": "", "http://x/": "", "": "", "/a\r\nb": ""} {
		if got := localPath(p); got != want {
			t.Errorf("localPath(%q) = %q", p, got)
		}
	}
	if csvSafe("-1") != "'-1" || csvSafe("@x") != "'@x" || csvSafe("sip:a") != "sip:a" || csvSafe("") != "" {
		t.Error("csvSafe")
	}
}

func TestCharts(t *testing.T) {
	for in, want := range map[float64]float64{0: 1, 0.5: 0.5, 0.3: 0.5, 1: 1, 1.5: 2, 3: 5, 7: 10, 10: 10, 11: 20, 260: 500, 999: 1000} {
		if got := niceCeil(in); got != want {
			t.Errorf("niceCeil(%v) = %v, want %v", in, got, want)
		}
	}
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	samples := []sample{
		{T: at(0), HasT: true, TM: sercmd.TStats{Total: 100}},
		{T: at(1), HasT: true, TM: sercmd.TStats{Total: 160}},
		{T: at(2)}, // t_stats failed
		{T: at(4), HasT: true, TM: sercmd.TStats{Total: 220}},
		{T: at(5), HasT: true, TM: sercmd.TStats{Total: 20}}, // restart: counter went down
		{T: at(6), HasT: true, TM: sercmd.TStats{Total: 50}},
	}
	pts := rate(samples, func(s sample) bool { return s.HasT }, func(s sample) uint64 { return s.TM.Total })
	if len(pts) != 2 || pts[0].V != 60 || pts[1].V != 30 {
		t.Errorf("rate = %+v", pts)
	}
	g := gauge(samples, func(s sample) bool { return s.HasT }, func(s sample) float64 { return float64(s.TM.Total) })
	if len(g) != 5 {
		t.Errorf("gauge = %+v", g)
	}
	c := drawChart(`A <b> & "c"`, countMeasure, g, at(0), at(10), time.Minute)
	svg := string(c.SVG)
	if !strings.Contains(svg, `aria-label="A &lt;b&gt; &amp; &#34;c&#34;"`) || strings.Contains(svg, "<b>") {
		t.Errorf("title not escaped: %s", svg)
	}
	// The gap between minutes 1 and 4 (over 2.5 intervals) breaks the line.
	if d := regexp.MustCompile(` d="([^"]*)"`).FindStringSubmatch(svg); d == nil || strings.Count(d[1], "M") != 2 {
		t.Errorf("path %v", d)
	}
	if c.Last != "50" {
		t.Errorf("last %q", c.Last)
	}
	if c := drawChart("empty", countMeasure, nil, at(0), at(10), time.Minute); !strings.Contains(string(c.SVG), "no data yet") || c.Last != "–" || strings.Contains(string(c.SVG), "data-pts") {
		t.Errorf("empty chart %+v", c)
	}
	// Counts get whole-number axes: a highest value of 1 gives 0 and 1,
	// never 0.5; 7 gives steps of 2 up to 8.
	for _, tc := range []struct {
		max       float64
		integer   bool
		top, step float64
	}{{1, true, 1, 1}, {0, true, 1, 1}, {3, true, 3, 1}, {7, true, 8, 2}, {260, true, 300, 100}, {1, false, 1, 0.5}, {0.3, false, 0.3, 0.1}} {
		if top, step := axisScale(tc.max, tc.integer); math.Abs(top-tc.top) > 1e-9 || math.Abs(step-tc.step) > 1e-9 {
			t.Errorf("axisScale(%v, %v) = %v, %v; want %v, %v", tc.max, tc.integer, top, step, tc.top, tc.step)
		}
	}
	one := drawChart("one", countMeasure, []point{{at(5), 1}}, at(0), at(10), time.Minute)
	svg = string(one.SVG)
	for _, want := range []string{`<circle class="dot"`, `data-pts="`, `,09:31 1"`, `<title>one: 1 at 09:31 UTC, highest 1</title>`, `>1</text>`, `>0</text>`} {
		if !strings.Contains(svg, want) {
			t.Errorf("single sample: no %q in %s", want, svg)
		}
	}
	if strings.Contains(svg, ">0.5") || strings.Contains(svg, "1.00") || one.Last != "1" {
		t.Errorf("fractional count axis or headline %q: %s", one.Last, svg)
	}
	if got := drawChart("r", perMinMeasure, []point{{at(1), 2.5}, {at(2), 60}}, at(0), at(10), time.Minute).Last; got != "60/min" {
		t.Errorf("rate headline %q", got)
	}
	for v, want := range map[float64]string{2.5: "2.5/min", 12.25: "12.2/min", 7: "7/min", 0.25: "0.25/min", 0: "0/min"} {
		if got := perMinMeasure.format(v); got != want {
			t.Errorf("format(%v) = %q, want %q", v, got, want)
		}
	}
	for d, want := range map[time.Duration]string{time.Second: "every second", time.Minute: "every minute", 30 * time.Second: "every 30 seconds", 5 * time.Minute: "every 5 minutes"} {
		if got := everyText(d); got != want {
			t.Errorf("everyText(%v) = %q", d, got)
		}
	}
	// The window starts with the data when they are younger than the
	// range (at least ten intervals), else with the range.
	now := at(60)
	if got := chartWindow([]sample{{T: at(58)}}, now, time.Hour, time.Minute); !got.Equal(at(50)) {
		t.Errorf("window for fresh data starts %v", got)
	}
	if got := chartWindow([]sample{{T: at(30)}}, now, time.Hour, time.Minute); !got.Equal(at(29)) {
		t.Errorf("window for half an hour of data starts %v", got)
	}
	if got := chartWindow([]sample{{T: at(0)}}, now, time.Hour, time.Minute); !got.Equal(at(0)) {
		t.Errorf("window for an hour of data starts %v", got)
	}
	for sec, want := range map[int64]string{5: "5s", 65: "1m 5s", 3700: "1h 1m", 90000: "1d 1h", -5: "5s"} {
		if got := humanDuration(sec); got != want {
			t.Errorf("humanDuration(%d) = %q", sec, got)
		}
	}
	if contactExpires(sercmd.Contact{Permanent: true}) != "never" || contactExpires(sercmd.Contact{Expires: -3}) != "expired" {
		t.Error("contactExpires")
	}
}

func TestNewOptions(t *testing.T) {
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "ser.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reg := rpc.NewRegistry()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{name: "no store", opts: Options{Exec: rpc.NewLocal(reg)}, want: "web: no store"},
		{name: "no exec", opts: Options{Store: st}, want: "web: no command executor"},
		{name: "bad domain", opts: Options{Store: st, Exec: rpc.NewLocal(reg), Domain: "a b"}, want: `web: domain "a b"`},
		{name: "bad proxy", opts: Options{Store: st, Exec: rpc.NewLocal(reg), Domain: "x.example", OutboundProxy: "udp://x"}, want: "outbound proxy"},
		{name: "bad admin name", opts: Options{Store: st, Exec: rpc.NewLocal(reg), Domain: "x.example", AdminName: "a b"}, want: "admin name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Logger = quiet
			if _, err := New(tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	// Defaults: the host name as domain, SER's groups.
	a, err := New(Options{Store: st, Exec: rpc.NewLocal(reg), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if a.opts.Domain == "" || len(a.opts.Groups) != 6 || a.opts.LocationTable != "location" || a.opts.SampleInterval != time.Minute {
		t.Errorf("defaults %+v", a.opts)
	}
	// rpc.NewLocal runs commands as the FIFO does.
	rep, err := rpc.NewLocal(reg).Execute(context.Background(), "nosuch", nil)
	if err != nil || rep.Code != 500 || !strings.Contains(rep.Text, "command 'nosuch' not available") {
		t.Errorf("rpc.NewLocal: %+v %v", rep, err)
	}
}

func TestRun(t *testing.T) {
	e := newEnv(t, "")
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, "127.0.0.1:0", Options{Store: e.st, Exec: e.exec, Domain: "example.com",
			Logger: slog.New(slog.NewTextHandler(logs, nil)), Hosts: []string{"console.example"}})
	}()
	addrRE := regexp.MustCompile(`addr=(127\.0\.0\.1:\d+)`)
	var addr string
	for i := 0; i < 200 && addr == ""; i++ {
		if m := addrRE.FindStringSubmatch(logs.String()); m != nil {
			addr = m[1]
		}
		time.Sleep(10 * time.Millisecond)
	}
	if addr == "" {
		cancel()
		t.Fatalf("no listen address logged:\n%s", logs.String())
	}
	resp, err := http.Get("http://" + addr + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d", resp.StatusCode)
	}
	// Anti DNS rebinding (internal/hostcheck): a Host that is not a name
	// of this server gets 403, a name in Options.Hosts is served.
	_, port, _ := net.SplitHostPort(addr)
	for host, want := range map[string]int{"rebind.test:" + port: 403, "console.example:" + port: 200, "localhost:" + port: 200} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/login", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %q: status %d, want %d", host, resp.StatusCode, want)
		}
	}
	resp, err = http.Get("http://" + addr + "/nosuch")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("not found: status %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	if err := Run(context.Background(), "256.0.0.1:1", Options{Store: e.st, Exec: e.exec, Domain: "example.com",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}); err == nil || !strings.Contains(err.Error(), "web: listen") {
		t.Errorf("bad address: %v", err)
	}
}

func TestBreakableURI(t *testing.T) {
	got := string(breakableURI(`sip:bob@example.com:5060;transport=tcp;x="<b>"`))
	want := `sip:bob@<wbr>example.<wbr>com<wbr>:5060<wbr>;transport=tcp<wbr>;x=&#34;&lt;b&gt;&#34;`
	if got != want {
		t.Errorf("breakableURI = %s\nwant %s", got, want)
	}
}
