package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	kolo "github.com/kolo/xmlrpc"

	"ser/fifo"
)

// tcpRegister sends a REGISTER for user over c and returns the answer.
func tcpRegister(t *testing.T, c net.Conn, r *bufio.Reader, target, user string, cseq int) string {
	t.Helper()
	local := c.LocalAddr().String()
	if _, err := io.WriteString(c, crlf(fmt.Sprintf(`REGISTER sip:%[1]s SIP/2.0
Via: SIP/2.0/TCP %[2]s;branch=z9hG4bKtcp%[3]s%[4]d
Max-Forwards: 70
From: <sip:%[3]s@%[1]s>;tag=t%[4]d
To: <sip:%[3]s@%[1]s>
Call-ID: tcp-%[3]s
CSeq: %[4]d REGISTER
Contact: <sip:%[3]s@%[2]s;transport=tcp>
Expires: 600
Content-Length: 0

`, target, local, user, cseq))); err != nil {
		t.Fatalf("tcp register %s: %v", user, err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	return readSIP(t, r)
}

// vmRSS returns a process's resident set size in KiB.
func vmRSS(pid int) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}

// TestTCPIdleFlood holds 1,000 idle TCP connections against a ser whose
// tcp_max_connections is 200 (issue 14: idle connections used to exhaust
// memory and descriptors): connections over the cap are reset at once,
// and meanwhile UDP, a TCP connection opened before the flood, the FIFO,
// XML-RPC and the web console all answer. After the flood a new TCP
// connection works again. (20,000 connections and the RSS figure: go run
// ./bench -mode idle-tcp.)
func TestTCPIdleFlood(t *testing.T) {
	const flood = 1000
	p := startSerBinary(t, "tcp_max_connections=200\n"+readCfg(t, "helloworld.cfg"))
	fc := fifo.NewClient(p.fifo)
	fc.ReplyDir = p.dir + "/"
	fifoCmd := func(cmd string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r, err := fc.Execute(ctx, cmd, nil)
		if err != nil {
			t.Fatalf("fifo %s: %v", cmd, err)
		}
		return r.Text
	}
	stat := func(name string) int {
		t.Helper()
		for _, l := range strings.Split(fifoCmd("core_stats"), "\n") {
			if v, ok := strings.CutPrefix(l, name+": "); ok {
				n, _ := strconv.Atoi(v)
				return n
			}
		}
		t.Fatalf("core_stats has no %s", name)
		return 0
	}

	legit, err := net.Dial("tcp", p.sipAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer legit.Close()
	lr := bufio.NewReader(legit)
	if r := tcpRegister(t, legit, lr, p.sipAddr, "early", 1); !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("TCP REGISTER before the flood: %s", r)
	}
	rssBefore := vmRSS(p.proc.Cmd.Process.Pid)

	var idle []net.Conn
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	for i := 0; i < flood; i++ {
		c, err := net.Dial("tcp", p.sipAddr)
		if err != nil {
			continue // reset before the handshake ended: refused too
		}
		idle = append(idle, c)
	}
	waitFor(t, func() bool { return stat("tcp_connections") == 200 && stat("tcp_refused") >= flood-200 })
	rssFlood := vmRSS(p.proc.Cmd.Process.Pid)
	t.Logf("ser RSS: %d KiB before, %d KiB with %d idle connections held (200 accepted, %d refused)",
		rssBefore, rssFlood, flood, stat("tcp_refused"))

	// UDP answers.
	u := newUA(t)
	registerAt(t, p, u, "udpuser")
	// The connection opened before the flood answers.
	if r := tcpRegister(t, legit, lr, p.sipAddr, "early", 2); !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("TCP REGISTER during the flood: %s", r)
	}
	// FIFO, XML-RPC, console.
	if out := fifoCmd("uptime"); !strings.HasPrefix(out, "200 ") {
		t.Fatalf("fifo uptime: %s", out)
	}
	xc, err := kolo.NewClient(p.url(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer xc.Close()
	var res map[string]any
	if err := xc.Call("ul_show_contact", []any{"location", "udpuser"}, &res); err != nil {
		t.Fatalf("xmlrpc during the flood: %v", err)
	}
	resp, err := http.Get("http://" + p.httpAddr + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("console: %d", resp.StatusCode)
	}
	// A new connection over the cap is refused at once.
	if c, err := net.Dial("tcp", p.sipAddr); err == nil {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || strings.Contains(err.Error(), "timeout") {
			t.Fatalf("connection over the cap not refused: %v", err)
		}
		c.Close()
	}

	for _, c := range idle {
		c.Close()
	}
	idle = nil
	waitFor(t, func() bool { return stat("tcp_connections") == 1 })
	c, err := net.Dial("tcp", p.sipAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if r := tcpRegister(t, c, bufio.NewReader(c), p.sipAddr, "late", 1); !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("TCP REGISTER after the flood: %s", r)
	}
}
