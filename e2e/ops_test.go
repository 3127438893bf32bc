package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"ser/internal/testing/mariadb"
	"ser/internal/testing/testutil"
)

// httpGet fetches url from the local address from (e.g. "127.0.0.2"),
// with basic credentials when user is set and another Host header when
// host is set; it returns the status and body.
func httpGet(t *testing.T, from, url, user, pass, host string) (int, string) {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metricValue returns the value of the sample whose name and labels are
// given exactly as exposed (`name{a="b"}`), -1 when there is none.
func metricValue(exposition, sample string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` (\S+)$`)
	m := re.FindStringSubmatch(exposition)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// promtoolCheck validates an exposition with Prometheus' own parser.
func promtoolCheck(t *testing.T, exposition string) {
	t.Helper()
	cmd := exec.Command(testutil.RequireTool(t, "promtool"), "check", "metrics")
	cmd.Stdin = strings.NewReader(exposition)
	if out, err := cmd.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "" {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestMetricsHealthReady (issue 18 item 2) runs the ser binary as a
// registrar with usrloc db_mode 3 on a private MariaDB, XML-RPC
// credentials, xmlrpc_allow=127.0.0.1 and metrics_allow=127.0.0.2. /metrics passes promtool and
// shows the REGISTER, the malformed request, the contact, the XML-RPC
// command and the database's statements; it needs the credentials from
// 127.0.0.1 but not from 127.0.0.2; /health and /ready need none; a
// rebound Host is refused. Then MariaDB is killed: /ready answers 503 with
// the reason and the database errors are counted, while /health stays
// 200; once MariaDB is back /ready is 200 again without restarting ser.
func TestMetricsHealthReady(t *testing.T) {
	db := mariadb.Start(t)
	url := db.URL(mariadb.Database) + "?readTimeout=1s&writeTimeout=1s&timeout=1s"
	p := startSerBinaryDB(t, "web=no\nxmlrpc_user=\"admin\"\nxmlrpc_password=\"s3cret\"\nxmlrpc_allow=\"127.0.0.1\"\nmetrics_allow=\"127.0.0.2\"\n"+
		fmt.Sprintf(mysqlRegistrar, url, 3), url)
	base := "http://" + p.httpAddr
	u := newUA(t)
	registerAt(t, p, u, "alice")
	// A request the parser refuses (answered 400).
	u.send(p.udpAddr(), "INVITE sip:bob@example.com SIP/2.0\nVia: SIP/2.0/UDP "+u.hostport()+";branch=z9hG4bKbad\nFrom: <sip:a@b>;tag=1\nTo: <sip:b@c>\nCall-ID: bad-1\nCSeq: notanumber INVITE\nContent-Length: 0\n\n")
	if r, _ := u.recv(); !strings.HasPrefix(r, "SIP/2.0 400") {
		t.Fatalf("malformed INVITE: %s", firstLine(r))
	}
	// One XML-RPC command, to be counted.
	if code, _ := httpPostXML(t, "http://admin:s3cret@"+p.httpAddr+"/xmlrpc", "<?xml version=\"1.0\"?><methodCall><methodName>uptime</methodName></methodCall>"); code != 200 {
		t.Fatalf("xmlrpc uptime: %d", code)
	}

	for _, path := range []string{"/health", "/ready"} {
		if code, body := httpGet(t, "127.0.0.1", base+path, "", "", ""); code != 200 {
			t.Fatalf("%s: %d %s", path, code, body)
		}
	}
	if code, _ := httpGet(t, "127.0.0.1", base+"/metrics", "", "", ""); code != 401 {
		t.Fatalf("/metrics without credentials from 127.0.0.1: %d, want 401", code)
	}
	if code, _ := httpGet(t, "127.0.0.1", base+"/metrics", "admin", "wrong", ""); code != 401 {
		t.Fatalf("/metrics with a wrong password: %d, want 401", code)
	}
	if code, _ := httpGet(t, "127.0.0.2", base+"/metrics", "", "", "rebind.test:"+strings.Split(p.httpAddr, ":")[1]); code != 403 {
		t.Fatalf("/metrics under a rebound Host name: %d, want 403", code)
	}
	for _, path := range []string{"/health", "/metrics"} {
		if code, _ := httpGet(t, "127.0.0.3", base+path, "admin", "s3cret", ""); code != 403 {
			t.Fatalf("%s from 127.0.0.3 (neither xmlrpc_allow nor metrics_allow): %d, want 403", path, code)
		}
	}
	// metrics_allow opens the read-only endpoints, nothing else.
	if code, _ := httpGet(t, "127.0.0.2", base+"/health", "", "", ""); code != 200 {
		t.Fatalf("/health from metrics_allow: %d", code)
	}
	if code, _ := httpGet(t, "127.0.0.2", base+"/xmlrpc", "admin", "s3cret", ""); code != 403 {
		t.Fatalf("/xmlrpc from metrics_allow (not xmlrpc_allow): %d, want 403", code)
	}
	code, m := httpGet(t, "127.0.0.1", base+"/metrics", "admin", "s3cret", "")
	if code != 200 {
		t.Fatalf("/metrics with credentials: %d %s", code, m)
	}
	promtoolCheck(t, m)
	code, m2 := httpGet(t, "127.0.0.2", base+"/metrics", "", "", "")
	if code != 200 || !strings.Contains(m2, "ser_sip_requests_received_total") {
		t.Fatalf("/metrics from metrics_allow: %d", code)
	}
	for sample, want := range map[string]float64{
		`ser_sip_requests_received_total{method="REGISTER",transport="udp"}`: 1,
		`ser_sip_messages_malformed_total{method="INVITE",transport="udp"}`:  1,
		`ser_sip_replies_sent_total{class="2xx",transport="udp"}`:            1,
		`ser_sip_replies_sent_total{class="4xx",transport="udp"}`:            1,
		`ser_usrloc_contacts{table="location"}`:                              1,
		`ser_usrloc_aors{table="location"}`:                                  1,
		`ser_commands_total{interface="xmlrpc",outcome="2xx"}`:               1,
	} {
		if got := metricValue(m, sample); got != want {
			t.Errorf("%s = %v, want %v", sample, got, want)
		}
	}
	dbLabel := fmt.Sprintf(`{db="mysql://ser:xxxxx@%s/ser?readTimeout=1s&writeTimeout=1s&timeout=1s"}`, db.Addr())
	if n := metricValue(m, "ser_db_query_duration_seconds_count"+dbLabel); n < 2 {
		t.Errorf("database statements counted: %v (label %s)\n%s", n, dbLabel, grepLines(m, "ser_db_"))
	}
	errsBefore := metricValue(m, "ser_db_errors_total"+dbLabel)

	db.Kill()
	code, body := httpGet(t, "127.0.0.1", base+"/ready", "", "", "")
	if code != 503 || !strings.Contains(body, "not ready: database mysql://ser:xxxxx@"+db.Addr()) || !strings.Contains(body, "does not answer") {
		t.Fatalf("/ready with the database down: %d %q", code, body)
	}
	if strings.Contains(body, "heslo") {
		t.Fatalf("/ready shows the database password: %q", body)
	}
	if code, _ := httpGet(t, "127.0.0.1", base+"/health", "", "", ""); code != 200 {
		t.Fatalf("/health with the database down: %d", code)
	}
	_, m = httpGet(t, "127.0.0.2", base+"/metrics", "", "", "")
	promtoolCheck(t, m)
	if n := metricValue(m, "ser_db_errors_total"+dbLabel); n <= errsBefore {
		t.Errorf("database errors %v → %v with the database down", errsBefore, n)
	}

	db.Restart(t)
	waitFor(t, func() bool {
		code, _ := httpGet(t, "127.0.0.1", base+"/ready", "", "", "")
		return code == 200
	})
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// httpPostXML posts an XML-RPC body and returns the status and body.
func httpPostXML(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "text/xml", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
