package e2e

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"ser/core/modules/usrloc"
	"ser/internal/testing/testutil"
)

// softphone is a headless baresip driven over its ctrl_tcp module
// (netstring-framed JSON commands and events).
type softphone struct {
	t      *testing.T
	name   string
	proc   *testutil.Proc
	ctrl   net.Conn
	events chan map[string]any
}

// twoFreePorts returns a port p with p and p+1 free (baresip binds its
// TLS transport on the SIP port + 1).
func twoFreePorts(t *testing.T) int {
	t.Helper()
	for i := 0; i < 50; i++ {
		p := testutil.FreePort(t)
		if p >= 65535 {
			continue
		}
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p+1))
		if err != nil {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+1))
		u.Close()
		if err != nil {
			continue
		}
		l.Close()
		return p
	}
	t.Fatal("no two free ports")
	return 0
}

// writeTone writes a 8 kHz mono 16-bit WAV file with a 440 Hz tone (the
// aufile audio source; baresip's ausine only runs at 48 kHz).
func writeTone(t *testing.T, path string) {
	t.Helper()
	const rate, secs = 8000, 5
	data := make([]byte, rate*secs*2)
	for i := 0; i < rate*secs; i++ {
		v := int16(8000 * math.Sin(2*math.Pi*440*float64(i)/rate))
		binary.LittleEndian.PutUint16(data[2*i:], uint16(v))
	}
	hdr := make([]byte, 44)
	copy(hdr, "RIFF")
	binary.LittleEndian.PutUint32(hdr[4:], uint32(36+len(data)))
	copy(hdr[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(hdr[16:], 16)
	binary.LittleEndian.PutUint16(hdr[20:], 1)
	binary.LittleEndian.PutUint16(hdr[22:], 1)
	binary.LittleEndian.PutUint32(hdr[24:], rate)
	binary.LittleEndian.PutUint32(hdr[28:], rate*2)
	binary.LittleEndian.PutUint16(hdr[32:], 2)
	binary.LittleEndian.PutUint16(hdr[34:], 16)
	copy(hdr[36:], "data")
	binary.LittleEndian.PutUint32(hdr[40:], uint32(len(data)))
	if err := os.WriteFile(path, append(hdr, data...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// startSoftphone runs baresip for user@server with an account registering
// to ser; answerAuto makes it answer calls by itself.
func startSoftphone(t *testing.T, srv *server, user, extraAccount string, answerAuto bool) *softphone {
	t.Helper()
	return startSoftphoneWith(t, srv, user, extraAccount, answerAuto, "", "")
}

// startSoftphoneWith is startSoftphone with extra config lines (modules)
// and a contacts file.
func startSoftphoneWith(t *testing.T, srv *server, user, extraAccount string, answerAuto bool, extraCfg, contacts string) *softphone {
	t.Helper()
	bin := testutil.RequireTool(t, "baresip")
	dir := t.TempDir()
	sipPort, ctrlPort := twoFreePorts(t), testutil.FreePort(t)
	tone := filepath.Join(dir, "tone.wav")
	writeTone(t, tone)
	cfg := fmt.Sprintf(`poll_method		epoll
sip_listen		127.0.0.1:%d
call_local_timeout	120
audio_player		aufile,%s
audio_source		aufile,%s
audio_alert		aufile,%s
module_path		/usr/lib/baresip/modules
module			g711.so
module			aufile.so
module_tmp		account.so
module_app		menu.so
module_app		ctrl_tcp.so
ctrl_tcp_listen		127.0.0.1:%d
`, sipPort, filepath.Join(dir, "play.wav"), tone, filepath.Join(dir, "alert.wav"), ctrlPort) + extraCfg
	mode := "manual"
	if answerAuto {
		mode = "auto"
	}
	account := fmt.Sprintf("<sip:%s@%s>;regint=600;answermode=%s%s\n", user, srv.addr(), mode, extraAccount)
	for name, content := range map[string]string{"config": cfg, "accounts": account, "contacts": contacts} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sp := &softphone{t: t, name: user, proc: testutil.Start(t, dir, bin, "-f", dir), events: make(chan map[string]any, 256)}
	var err error
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if sp.ctrl, err = net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(ctrlPort)); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("baresip %s: ctrl_tcp not reachable: %v\n%s", user, err, sp.proc.Output())
	}
	t.Cleanup(func() { sp.ctrl.Close() })
	go sp.read()
	return sp
}

// read decodes netstrings from the control connection.
func (sp *softphone) read() {
	r := bufio.NewReader(sp.ctrl)
	for {
		lenStr, err := r.ReadString(':')
		if err != nil {
			close(sp.events)
			return
		}
		n, err := strconv.Atoi(strings.TrimSpace(lenStr[:len(lenStr)-1]))
		if err != nil || n < 0 || n > 1<<20 {
			close(sp.events)
			return
		}
		buf := make([]byte, n+1)
		if _, err := io.ReadFull(r, buf); err != nil {
			close(sp.events)
			return
		}
		var m map[string]any
		if json.Unmarshal(buf[:n], &m) == nil {
			sp.events <- m
		}
	}
}

// command sends a ctrl_tcp command.
func (sp *softphone) command(cmd, params string) {
	sp.t.Helper()
	b, _ := json.Marshal(map[string]string{"command": cmd, "params": params, "token": cmd})
	if _, err := fmt.Fprintf(sp.ctrl, "%d:%s,", len(b), b); err != nil {
		sp.t.Fatalf("baresip %s: %v", sp.name, err)
	}
}

// waitEvent waits for an event of the given type.
func (sp *softphone) waitEvent(typ string, d time.Duration) map[string]any {
	sp.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case e, ok := <-sp.events:
			if !ok {
				sp.t.Fatalf("baresip %s: control connection closed waiting for %s\n%s", sp.name, typ, sp.proc.Output())
			}
			if e["type"] == typ {
				return e
			}
		case <-timeout:
			sp.t.Fatalf("baresip %s: no %s event within %v\n%s", sp.name, typ, d, tail(sp.proc.Output()))
		}
	}
}

// waitRegistered polls usrloc until user has a contact.
func waitRegistered(t *testing.T, srv *server, user string) {
	t.Helper()
	ul := srv.inst.Modules.Instance("usrloc").(*usrloc.Module)
	waitFor(t, func() bool {
		d, ok := ul.Domain("location")
		if !ok {
			return false
		}
		cs, found := d.Get(user)
		return found && len(cs) > 0
	})
}

// TestBaresipCall registers two real softphones (baresip, headless, audio
// from a WAV file) to ser running the Hello World config and calls one
// from the other: the call is set up and torn down through ser.
func TestBaresipCall(t *testing.T) {
	testutil.RequireTool(t, "baresip")
	srv := startSer(t, readCfg(t, "helloworld.cfg"))
	alice := startSoftphone(t, srv, "alice", "", false)
	bob := startSoftphone(t, srv, "bob", "", true)
	waitRegistered(t, srv, "alice")
	waitRegistered(t, srv, "bob")

	alice.command("dial", "sip:bob@"+srv.addr())
	alice.waitEvent("CALL_RINGING", 10*time.Second)
	alice.waitEvent("CALL_ESTABLISHED", 10*time.Second)
	bob.waitEvent("CALL_ESTABLISHED", 10*time.Second)
	time.Sleep(300 * time.Millisecond) // a little media
	alice.command("hangup", "")
	// bob learns about the hang-up from the BYE that ser relayed.
	bob.waitEvent("CALL_CLOSED", 10*time.Second)
	// bob's 200 for the BYE is relayed by ser just after bob reports the
	// end of the call.
	var st string
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if st = fifoCmd(t, srv, "t_stats"); strings.Contains(st, "2xx: 2") {
			return
		}
	}
	t.Fatalf("INVITE and BYE not completed through tm:\n%s", st)
}
