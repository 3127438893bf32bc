package core_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"ser/core"
	"ser/core/module"
	_ "ser/core/modules/sl"
	"ser/core/sipmsg"
	"ser/internal/testing/testutil"
)

// TestSyslogPriorities logs through a real unixgram socket standing in for
// /dev/log and checks the <PRI> of every level (facility LOG_LOCAL3 = 19):
// SER's LOG macro's mapping, L_ALERT → LOG_ALERT … L_DBG → LOG_DEBUG, and
// no time stamp of ours inside the line (syslog adds its own).
func TestSyslogPriorities(t *testing.T) {
	dir, err := os.MkdirTemp("", "sersl") // short: sun_path is 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "log")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	log := core.NewLogger(core.LogConfig{Debug: 9, Facility: "LOG_LOCAL3", SyslogSocket: path})
	const local3 = 19 << 3
	cases := []struct {
		ser  int // SER level, as log(level, …) and log_level use
		pri  int
		name string
	}{
		{module.LAlert, local3 | 1, "ALERT"},
		{module.LCrit, local3 | 2, "CRIT"},
		{module.LErr, local3 | 3, "ERROR"},
		{module.LWarn, local3 | 4, "WARN"},
		{module.LNotice, local3 | 5, "NOTICE"},
		{module.LInfo, local3 | 6, "INFO"},
		{module.LDbg, local3 | 7, "DEBUG"},
	}
	line := regexp.MustCompile(`^<(\d+)>[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d ser\[\d+\]: (.*)$`)
	buf := make([]byte, 4096)
	for _, c := range cases {
		msg := fmt.Sprintf("level %d test", c.ser)
		log.Log(module.CallIDCtx("c-1@h"), module.SlogLevel(c.ser), msg, "module", "test")
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("SER level %d: nothing received: %v", c.ser, err)
		}
		got := strings.TrimSuffix(string(buf[:n]), "\n")
		mm := line.FindStringSubmatch(got)
		if mm == nil {
			t.Fatalf("SER level %d: not a local syslog line: %q", c.ser, got)
		}
		if mm[1] != fmt.Sprint(c.pri) {
			t.Errorf("SER level %d: <%s>, want <%d>: %q", c.ser, mm[1], c.pri, got)
		}
		want := fmt.Sprintf("level=%s msg=%q module=test call_id=c-1@h", c.name, msg)
		if mm[2] != want {
			t.Errorf("SER level %d: body %q, want %q", c.ser, mm[2], want)
		}
		if strings.Contains(got, "time=") {
			t.Errorf("second time stamp in %q", got)
		}
	}

	// debug=1 lets errors and warnings through, not notices and info: the
	// first datagram after an info and a warning is the warning.
	quiet := core.NewLogger(core.LogConfig{Debug: 1, Facility: "LOG_LOCAL3", SyslogSocket: path})
	quiet.Info("not sent")
	quiet.Log(nil, module.LevelNotice, "not sent either")
	quiet.Warn("sent")
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(buf[:n]); !strings.HasPrefix(got, fmt.Sprintf("<%d>", local3|4)) || !strings.Contains(got, `msg=sent`) {
		t.Errorf("debug=1: got %q, want the warning", got)
	}
}

// TestJSONLogCallID runs a server with log_format=json on stderr: every
// line is a JSON object, and the lines about a SIP message — the script's
// log() and a module's (sl_reply_error) — carry its Call-ID.
func TestJSONLogCallID(t *testing.T) {
	out := &testutil.LockedBuffer{}
	cfg := `
debug=4
log_stderror=yes
log_format=json
fork=no
loadmodule "modules/sl/sl.so"
route {
	log(1, "script saw the request");
	sl_reply_error();
}
`
	in, err := core.Load("json.cfg", []byte(cfg), core.LoadOptions{
		Override: func(o *core.Options) {
			o.Listen = []core.ListenAddr{{Proto: sipmsg.ProtoUDP, Host: "127.0.0.1", Port: 0, PortSet: true}}
			if o.LogFormat != core.LogJSON {
				t.Errorf("log_format = %q", o.LogFormat)
			}
		},
		LogWriter: out,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Start(); err != nil {
		t.Fatal(err)
	}
	defer in.Stop()
	sk := in.Server.Sockets()[0]
	c, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IP(sk.IP.AsSlice()), Port: sk.Port})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	la := c.LocalAddr().(*net.UDPAddr)
	req := fmt.Sprintf("OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKlog1;rport\r\n"+
		"Max-Forwards: 70\r\nFrom: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: json-log-1@test\r\n"+
		"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", la.Port)
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	if _, err := c.Read(buf); err != nil {
		t.Fatalf("no reply: %v", err)
	}
	// A malformed request (CSeq without a number) is answered 400 by the
	// core; its log line has the Call-ID found in the raw text.
	bad := strings.Replace(strings.Replace(req, "CSeq: 1 OPTIONS", "CSeq: x OPTIONS", 1), "json-log-1@test", "json-log-bad@test", 1)
	if _, err := c.Write([]byte(bad)); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Read(buf); err != nil || !strings.HasPrefix(string(buf[:n]), "SIP/2.0 400") {
		t.Fatalf("malformed request: %v %q", err, buf[:n])
	}
	want := map[string]string{"script saw the request": "script", "sl_reply_error used": "sl", "malformed request answered 400": "core"}
	wantID := map[string]string{"malformed request answered 400": "json-log-bad@test"}
	deadline := time.Now().Add(10 * time.Second)
	for len(want) > 0 && time.Now().Before(deadline) {
		sc := bufio.NewScanner(strings.NewReader(out.String()))
		for sc.Scan() {
			var rec map[string]any
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
			}
			for _, k := range []string{"time", "level", "msg"} {
				if _, ok := rec[k]; !ok {
					t.Errorf("no %q in %q", k, sc.Text())
				}
			}
			msg, _ := rec["msg"].(string)
			if mod, ok := want[msg]; ok {
				id := "json-log-1@test"
				if w, ok := wantID[msg]; ok {
					id = w
				}
				if rec["call_id"] != id || rec["module"] != mod {
					t.Errorf("line %q: want call_id %s and module %s", sc.Text(), id, mod)
				}
				if msg == "script saw the request" && rec["level"] != "WARN" {
					t.Errorf("log(1, …) at level %v, want WARN", rec["level"])
				}
				delete(want, msg)
			}
		}
		if len(want) > 0 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if len(want) > 0 {
		t.Errorf("lines not logged: %v\n%s", want, out.String())
	}
}
