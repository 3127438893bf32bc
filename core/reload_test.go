package core_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ser/core"
	_ "ser/core/modules/sl"
	_ "ser/core/modules/textops"
	"ser/core/modules/tm"
	"ser/core/rpc"
	"ser/core/sipmsg"
)

// reloadBase is the running configuration of the reload tests.
const reloadBase = `fork=no
children=2
mem_log=1
loadmodule "sl.so"
loadmodule "tm.so"
modparam("tm", "noisy_ctimer", 1)
route {
	sl_send_reply("200", "one");
}
`

// loadFile loads src from a file (so that cfg_reload reads it again) and
// starts the server on a free UDP port.
func loadFile(t *testing.T, src string) (*core.Instance, string, *strings.Builder) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ser.cfg")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var logb strings.Builder
	in, err := core.Load(path, []byte(src), core.LoadOptions{
		Log: slog.New(slog.NewTextHandler(&lockedWriter{w: &logb}, nil)),
		Override: func(o *core.Options) {
			o.Listen = []core.ListenAddr{{Proto: sipmsg.ProtoUDP, Host: "127.0.0.1", Port: 0, PortSet: true}}
		},
	})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := in.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Stop)
	return in, path, &logb
}

// lockedWriter is a log destination the test reads after the server
// wrote to it (the server logs from the reload's goroutine only here).
type lockedWriter struct{ w io.Writer }

func (l *lockedWriter) Write(p []byte) (int, error) { return l.w.Write(p) }

// optionsReason sends an OPTIONS and returns the reason phrase of the
// reply.
func optionsReason(t *testing.T, in *core.Instance) string {
	t.Helper()
	r, err := options(in)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// options sends an OPTIONS and returns the reason phrase of the reply
// (safe on any goroutine).
func options(in *core.Instance) (string, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return "", err
	}
	defer c.Close()
	sk := in.Server.Sockets()[0]
	id := time.Now().Format("150405.000000000")
	msg := "OPTIONS sip:ser@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP " + c.LocalAddr().String() + ";branch=z9hG4bK" + id +
		"\r\nFrom: <sip:t@x>;tag=1\r\nTo: <sip:ser@127.0.0.1>\r\nCall-ID: r-" + id + "\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if _, err := c.WriteToUDP([]byte(msg), &net.UDPAddr{IP: sk.IP.AsSlice(), Port: sk.Port}); err != nil {
		return "", err
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		return "", fmt.Errorf("no reply: %w", err)
	}
	line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
	return strings.TrimPrefix(line, "SIP/2.0 200 "), nil
}

// TestReloadRefused: a new configuration that does not pass the checks, or
// that changes global options, loadmodule lines or modparams, is refused
// with every reason at its file:line:col, and the running script stays.
func TestReloadRefused(t *testing.T) {
	in, path, _ := loadFile(t, reloadBase)
	cases := []struct {
		name, src string
		want      []string
	}{
		{"syntax error", strings.Replace(reloadBase, `sl_send_reply("200", "one");`, `if (method== { sl_send_reply("200", "one"); }`, 1),
			[]string{path + ":8:"}},
		{"unknown function", strings.Replace(reloadBase, `sl_send_reply("200", "one");`, `sl_send_reply("200", "one"); no_such_function();`, 1),
			[]string{path + ":8:31: unknown command 'no_such_function', missing loadmodule?"}},
		{"unknown failure route", strings.Replace(reloadBase, `sl_send_reply("200", "one");`, `t_on_failure("3"); t_relay();`, 1),
			[]string{path + ":8:2: t_on_failure: failure_route[3] is not defined"}},
		{"option changed", strings.Replace(reloadBase, "children=2", "children=4", 1),
			[]string{path + ":2:1: option 'children' changed from 2 to 4: the workers are started once, at start-up; restart ser to apply it"}},
		{"option added", "listen=udp:127.0.0.1:5099\n" + reloadBase,
			[]string{path + ":1:1: option 'listen' added: the SIP sockets, their addresses and limits are set up at start-up; restart ser to apply it"}},
		{"option removed", strings.Replace(reloadBase, "children=2\n", "", 1),
			[]string{path + ": option 'children' removed (line 2 of the running configuration)"}},
		{"modparam changed", strings.Replace(reloadBase, `"noisy_ctimer", 1`, `"noisy_ctimer", 0`, 1),
			[]string{path + `:6:32: modparam("tm", "noisy_ctimer") changed from 1 to 0: module parameters are applied when the module is initialised at start-up; restart ser to apply it`}},
		{"modparam added", strings.Replace(reloadBase, `route {`, `modparam("tm", "wt_timer", 20)`+"\n"+`modparam("tm", "ruri_matching", 0)`+"\nroute {", 1),
			[]string{path + `:8:1: modparam("tm", "ruri_matching") added`}},
		{"loadmodule added", strings.Replace(reloadBase, `loadmodule "tm.so"`, `loadmodule "tm.so"`+"\n"+`loadmodule "textops.so"`, 1),
			[]string{path + `:6:1: loadmodule "textops.so" added: modules are loaded and initialised once, at start-up; restart ser to load it`}},
		{"loadmodule removed", strings.Replace(strings.Replace(reloadBase, `loadmodule "tm.so"`+"\n", "", 1), `modparam("tm", "noisy_ctimer", 1)`+"\n", "", 1),
			[]string{path + `: loadmodule "tm.so" removed (line 5 of the running configuration)`, path + `: modparam("tm", "noisy_ctimer") removed (line 6`}},
		{"loadmodule moved", strings.Replace(reloadBase, `loadmodule "sl.so"`+"\n"+`loadmodule "tm.so"`, `loadmodule "tm.so"`+"\n"+`loadmodule "sl.so"`, 1),
			[]string{path + `:4:1: loadmodule "tm.so" moved: the order of loadmodule lines decides which module a function binds to and is fixed at start-up; restart ser to change it`}},
		{"unknown module", strings.Replace(reloadBase, `loadmodule "tm.so"`, `loadmodule "tm.so"`+"\n"+`loadmodule "nosuch.so"`, 1),
			[]string{path + `:6:12: loadmodule: unknown module 'nosuch'`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := in.Reload([]byte(c.src))
			if err == nil {
				t.Fatal("reload accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("errors\n%v\nlack %q", err, w)
				}
			}
			if strings.Contains(c.name, "unknown module") && strings.Contains(err.Error(), "added") {
				t.Errorf("an unknown module is reported twice:\n%v", err)
			}
			if got := optionsReason(t, in); got != "one" {
				t.Errorf("after a refused reload the server answers %q, want the old script's \"one\"", got)
			}
		})
	}
	if n := in.Server.Stats.Reloads.Load(); n != 0 {
		t.Errorf("%d reloads counted", n)
	}
}

// TestReloadCommand reloads through cfg_reload (the registry every
// frontend serves): a changed route block is installed, an option that
// has no effect may change, and a broken file is refused with its
// positions in the reply and the log.
func TestReloadCommand(t *testing.T) {
	in, path, logb := loadFile(t, reloadBase)
	ex := rpc.NewLocal(in.Server.RPC())
	if got := optionsReason(t, in); got != "one" {
		t.Fatalf("before: %q", got)
	}
	v2 := strings.NewReplacer(`"one"`, `"two"`, "mem_log=1", "mem_log=0").Replace(reloadBase) + "failure_route[1] {\n\tt_reply(\"500\", \"x\");\n}\n"
	if err := os.WriteFile(path, []byte(v2), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := ex.Execute(context.Background(), core.CmdCfgReload, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Code != 200 || r.Text != "200 ok\n"+path+": route[0] failure_route[1]\n" {
		t.Fatalf("reply %q", r.Text)
	}
	if res, ok := r.Value.(*core.ReloadResult); !ok || !res.Reloaded || len(res.Routes) != 2 {
		t.Fatalf("value %#v", r.Value)
	}
	if got := optionsReason(t, in); got != "two" {
		t.Fatalf("after the reload: %q, want the new script's \"two\"", got)
	}
	broken := strings.Replace(v2, `"two"`, `"two", "three"`, 1)
	if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err = ex.Execute(context.Background(), core.CmdCfgReload, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "400 configuration not reloaded, the running one is kept\n" + path + ":8:2: 'sl_send_reply' takes 2 arguments, 3 given\n"
	if r.Code != 400 || r.Text != want {
		t.Fatalf("reply %q, want %q", r.Text, want)
	}
	if got := optionsReason(t, in); got != "two" {
		t.Fatalf("after a refused reload: %q", got)
	}
	if !strings.Contains(logb.String(), path+":8:2: 'sl_send_reply' takes 2 arguments, 3 given") || !strings.Contains(logb.String(), "configuration not reloaded") {
		t.Errorf("log lacks the refusal:\n%s", logb.String())
	}
	os.Remove(path)
	r, _ = ex.Execute(context.Background(), core.CmdCfgReload, nil)
	if r.Code != 400 || !strings.Contains(r.Text, "cannot read config file") {
		t.Fatalf("missing file: %q", r.Text)
	}
	if n := in.Server.Stats.Reloads.Load(); n != 1 {
		t.Errorf("%d reloads counted, want 1", n)
	}
}

// TestReloadParams: a modparam the module can take at run time (tm's
// fr_timer, fr_inv_timer, wt_timer) is applied by the reload and named in
// the reply; removing it is refused (a reload does not restore defaults).
func TestReloadParams(t *testing.T) {
	base := strings.Replace(reloadBase, `route {`, `modparam("tm", "fr_timer", 10)`+"\nroute {", 1)
	in, path, _ := loadFile(t, base)
	tmi := in.Modules.Instance("tm").(*tm.TM)
	if got := tmi.Timers().FR; got != 10*time.Second {
		t.Fatalf("fr_timer %v", got)
	}
	v2 := strings.Replace(base, `"fr_timer", 10`, `"fr_timer", 4`, 1) + `modparam("tm", "fr_inv_timer", 60)` + "\n"
	if err := os.WriteFile(path, []byte(v2), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := rpc.NewLocal(in.Server.RPC()).Execute(context.Background(), core.CmdCfgReload, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "200 ok\n" + path + ": route[0]\n" + `modparam("tm", "fr_timer") changed from 10 to 4` + "\n" + `modparam("tm", "fr_inv_timer") changed from its default to 60` + "\n"
	if r.Text != want {
		t.Fatalf("reply %q, want %q", r.Text, want)
	}
	if tt := tmi.Timers(); tt.FR != 4*time.Second || tt.FRInv != 60*time.Second {
		t.Fatalf("timers after the reload: fr %v, fr_inv %v", tt.FR, tt.FRInv)
	}
	err = in.Reload([]byte(strings.Replace(v2, `modparam("tm", "fr_timer", 4)`+"\n", "", 1)))
	if err == nil || !strings.Contains(err.Error(), path+`: modparam("tm", "fr_timer") removed (line 7 of the running configuration): a reload does not restore a parameter's default`) {
		t.Fatalf("removal: %v", err)
	}
	if err := in.Reload([]byte(strings.Replace(v2, `"fr_timer", 4`, `"fr_timer", -1`, 1))); err == nil || !strings.Contains(err.Error(), "must be positive") {
		t.Fatalf("a bad value: %v", err)
	}
	if tt := tmi.Timers(); tt.FR != 4*time.Second {
		t.Fatalf("a refused reload changed fr_timer to %v", tt.FR)
	}
}

// TestReloadWhileServing reloads 40 times while a client keeps sending
// requests: every request is answered, by one version or the other, and
// the last answers come from the last version (run with -race, it checks
// that the swap needs no lock on the message path).
func TestReloadWhileServing(t *testing.T) {
	in, _, _ := loadFile(t, reloadBase)
	stop := make(chan struct{})
	done := make(chan map[string]int)
	go func() {
		seen := map[string]int{}
		for {
			select {
			case <-stop:
				done <- seen
				return
			default:
			}
			r, err := options(in)
			if err != nil {
				r = err.Error()
			}
			seen[r]++
		}
	}()
	v := []string{strings.Replace(reloadBase, `"one"`, `"two"`, 1), reloadBase}
	for i := 0; i < 40; i++ {
		if err := in.Reload([]byte(v[i%2])); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	seen := <-done
	if len(seen) != 2 || seen["one"] == 0 || seen["two"] == 0 {
		t.Fatalf("answers %v, want both versions only", seen)
	}
	if got := optionsReason(t, in); got != "one" {
		t.Fatalf("after the last reload: %q", got)
	}
}
