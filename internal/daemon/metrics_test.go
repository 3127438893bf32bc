package daemon

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ser/core"
	_ "ser/core/modules" // the modules the config loads
	"ser/core/sipmsg"
	"ser/internal/testing/testutil"
)

// TestMetricsExposition starts a registrar in process (tm, sl, usrloc on
// SQLite), sends it a REGISTER and garbage, and checks /metrics with
// Prometheus' promtool and for the families of every source: the core,
// the transport, tm, sl, usrloc, the commands, the database and the Go
// runtime.
func TestMetricsExposition(t *testing.T) {
	promtool := testutil.RequireTool(t, "promtool")
	dir := t.TempDir()
	inst, err := core.Load("test.cfg", []byte(`
fork=no
loadmodule "modules/sl/sl.so"
loadmodule "modules/tm/tm.so"
loadmodule "modules/usrloc/usrloc.so"
loadmodule "modules/registrar/registrar.so"
modparam("usrloc", "db_mode", 1)
route {
	if (method=="REGISTER") { save("location"); break; };
	t_relay();
}
`), core.LoadOptions{
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Override: func(o *core.Options) {
			o.Listen = []core.ListenAddr{{Host: "127.0.0.1", Port: 0, PortSet: true}}
			o.HTTP = "127.0.0.1:0"
			o.Web = false
			o.FIFO = ""
			o.DBURL = "sqlite://" + filepath.Join(dir, "ser.db")
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := Start(inst)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	var sip *net.UDPAddr
	for _, sk := range inst.Server.Sockets() {
		if sk.Proto == sipmsg.ProtoUDP {
			sip = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sk.Port}
		}
	}
	c, err := net.DialUDP("udp", nil, sip)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	me := c.LocalAddr().String()
	c.Write([]byte("REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP " + me + ";branch=z9hG4bKm1;rport\r\n" +
		"From: <sip:alice@127.0.0.1>;tag=1\r\nTo: <sip:alice@127.0.0.1>\r\nCall-ID: m1\r\nCSeq: 1 REGISTER\r\n" +
		"Contact: <sip:alice@" + me + ">\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n"))
	buf := make([]byte, 4096)
	if n, err := c.Read(buf); err != nil || !strings.HasPrefix(string(buf[:n]), "SIP/2.0 200") {
		t.Fatalf("REGISTER: %v %q", err, buf[:n])
	}
	c.Write([]byte("\x00\x01garbage\r\n\r\n"))

	// The transport counts a datagram once sendto returned, which can be
	// after the client already read it: scrape until the REGISTER's 200
	// is counted (bounded), then check everything on that scrape.
	var resp *http.Response
	var body []byte
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var err error
		resp, err = http.Get("http://" + d.HTTPAddr() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), `ser_sip_replies_sent_total{class="2xx",transport="udp"} 1`) || time.Now().After(deadline) {
			break
		}
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/plain; version=0.0.4; charset=utf-8" {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(string(body))
	if out, err := cmd.CombinedOutput(); err != nil || len(out) != 0 {
		t.Fatalf("promtool: %v\n%s", err, out)
	}
	m := string(body)
	for _, want := range []string{
		`ser_sip_requests_received_total{method="REGISTER",transport="udp"} 1`,
		`ser_sip_replies_sent_total{class="2xx",transport="udp"} 1`,
		`ser_tcp_connections 0`,
		`# TYPE ser_tm_transactions_completed_total counter`,
		`ser_sl_replies_total{code="200"}`,
		`ser_usrloc_contacts{table="location"} 1`,
		`ser_usrloc_aors{table="location"} 1`,
		`ser_commands_total{interface="local",outcome="2xx"} 0`, // the scrape's own t_stats & co. are not counted
		`# TYPE ser_db_query_duration_seconds histogram`,
		`# TYPE go_goroutines gauge`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// The garbage (no method) is dropped as other/udp by the worker,
	// maybe after the first scrape: poll.
	const dropped = `ser_sip_messages_dropped_total{method="other",transport="udp"} 1`
	for end := time.Now().Add(5 * time.Second); !strings.Contains(m, dropped); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("garbage not counted as dropped")
		}
		resp, err := http.Get("http://" + d.HTTPAddr() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m = string(b)
	}
	if err := inst.Server.Ready(context.Background()); err != nil {
		t.Errorf("ready: %v", err)
	}
}
