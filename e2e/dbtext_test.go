package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ser/core/store"
	"ser/internal/testing/testutil"
)

// dbtextLocationHeader is the location table of SER's dbtext README.
const dbtextLocationHeader = "username(str) domain(str,null) contact(str,null) expires(int,null) q(double,null) callid(str,null) " +
	"cseq(int,null) last_modified(str) replicate(int,null) state(int,null) flags(int) user_agent(str) received(str)\n"

// TestSERDBTextConfig runs SER 0.9.6's etc/dbtext.cfg, unchanged but for
// its paths (the dbtext directory, the FIFO) and port, on a dbtext
// directory written as SER's dbtext README shows: sipsak registers alice
// with digest authentication against her subscriber row and sends herself
// a MESSAGE through ser (usrloc mode: REGISTER, lookup, relay); bob
// registers from a UA that then gets a MESSAGE relayed to it. The
// location file holds bob's binding in SER's format, and a restarted ser
// (usrloc db_mode 1) loads it again from the file.
func TestSERDBTextConfig(t *testing.T) {
	testutil.RequireTool(t, "sipsak")
	cfgText, err := os.ReadFile(filepath.Join("..", "testdata", "ser-0.9.6", "etc", "dbtext.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	db := t.TempDir()
	files := map[string]string{
		"subscriber": "username(str) domain(str) password(str) ha1(str) ha1b(str)\n" +
			"alice:127.0.0.1:alice\\:pw:" + store.HA1("alice", "127.0.0.1", "alice:pw") + ":x\n" +
			"bob:127.0.0.1:bobpw:" + store.HA1("bob", "127.0.0.1", "bobpw") + ":x\n",
		"location": dbtextLocationHeader,
		"version":  "table_name(str) table_version(int)\nsubscriber:5\nlocation:6\naliases:6\n",
	}
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(db, n), []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	p := &serProcess{
		sipAddr: fmt.Sprintf("127.0.0.1:%d", testutil.FreeLowPort(t)), httpAddr: fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t)),
		fifo: filepath.Join(dir, "ser_fifo"), dir: dir,
	}
	cfg := strings.NewReplacer(`"/home/janakj/ser"`, `"`+db+`"`, `fifo="/tmp/ser_fifo"`, "", "port=5060", "").Replace(string(cfgText))
	cfg = fmt.Sprintf("fifo=%q\nfifo_dir=%q\ndb_url=%q\n", p.fifo, dir+"/", "sqlite://"+dir+"/ser.db") + cfg
	if err := os.WriteFile(filepath.Join(dir, "ser.cfg"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p.start(t)

	// sipsak's usrloc mode: REGISTER (401, then with credentials), a
	// MESSAGE to itself through ser (lookup, relay), then removal.
	out, code := testutil.Run(t, 30*time.Second, "", "sipsak", "-U", "-i", "-s", "sip:alice@"+p.sipAddr, "-a", "alice:pw", "-vv")
	if code != 0 || !strings.Contains(out, "All usrloc tests completed successful") || !strings.Contains(out, "authorizing") {
		t.Fatalf("sipsak usrloc mode: exit %d\n%s\nser:\n%s", code, out, p.proc.Output())
	}

	// bob registers; a MESSAGE for him is relayed to his UA.
	bob := newUA(t)
	register := func(cseq int, auth string) string {
		if auth != "" {
			auth += "\n"
		}
		bob.send(p.udpAddr(), fmt.Sprintf(`REGISTER sip:%[1]s SIP/2.0
Via: SIP/2.0/UDP %[2]s;branch=z9hG4bKdbt%[3]d;rport
Max-Forwards: 70
From: <sip:bob@%[1]s>;tag=dbt%[3]d
To: <sip:bob@%[1]s>
Call-ID: dbtext-bob
CSeq: %[3]d REGISTER
Contact: <sip:bob@%[2]s>
Expires: 3600
%[4]sContent-Length: 0

`, p.sipAddr, bob.hostport(), cseq, auth))
		r, _ := bob.recvFor("SIP/2.0")
		return r
	}
	r := register(1, "")
	if !strings.HasPrefix(r, "SIP/2.0 401") {
		t.Fatalf("REGISTER without credentials: %s", firstLine(r))
	}
	if r := register(2, digestAnswer(t, challengeIn(t, r), "bob", "wrong", "REGISTER", "sip:"+p.sipAddr)); !strings.HasPrefix(r, "SIP/2.0 401") {
		t.Errorf("REGISTER with a wrong password: %s", firstLine(r))
	}
	if r := register(3, digestAnswer(t, challengeIn(t, r), "bob", "bobpw", "REGISTER", "sip:"+p.sipAddr)); !strings.HasPrefix(r, "SIP/2.0 200") {
		t.Fatalf("REGISTER with bob's password: %s", firstLine(r))
	}
	message := func(body string) {
		t.Helper()
		caller := newUA(t)
		caller.send(p.udpAddr(), fmt.Sprintf(`MESSAGE sip:bob@%[1]s SIP/2.0
Via: SIP/2.0/UDP %[2]s;branch=z9hG4bKdbtm%[3]s;rport
Max-Forwards: 70
From: <sip:carol@example.net>;tag=m1
To: <sip:bob@%[1]s>
Call-ID: dbtext-msg-%[3]s
CSeq: 1 MESSAGE
Content-Type: text/plain
Content-Length: %%CL%%

%[3]s`, p.sipAddr, caller.hostport(), body))
		m, _ := bob.recvFor("MESSAGE")
		if !strings.HasSuffix(m, "\r\n\r\n"+body) {
			t.Errorf("MESSAGE relayed as\n%s", m)
		}
		bob.send(p.udpAddr(), replyTo(m, "200 OK", "tag=bob"))
		if r, _ := caller.recvFor("SIP/2.0"); firstLine(r) != "SIP/2.0 200 OK" {
			t.Errorf("MESSAGE: %s", firstLine(r))
		}
	}
	message("hello")

	// The location file: SER's header, then alice's binding (sipsak's)
	// and bob's, with expires in seconds and SER's escapes.
	loc, err := os.ReadFile(filepath.Join(db, "location"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(loc), "\n"), "\n")
	contact := strings.ReplaceAll("sip:bob@"+bob.hostport(), ":", "\\:")
	if len(lines) != 3 || lines[0]+"\n" != dbtextLocationHeader || !strings.HasPrefix(lines[1], "alice::sip\\:alice@127.0.0.1\\:") ||
		!strings.HasPrefix(lines[2], "bob::"+contact+":") || !strings.Contains(lines[2], ":dbtext-bob:3:") {
		t.Fatalf("location file:\n%s", loc)
	}
	var expires int64
	fmt.Sscanf(lines[2][len("bob::"+contact+":"):], "%d", &expires)
	if d := expires - time.Now().Unix(); d < 3500 || d > 3700 {
		t.Errorf("expires %d is %d s away (line %q)", expires, d, lines[2])
	}
	if got, err := os.ReadFile(filepath.Join(db, "subscriber")); err != nil || string(got) != files["subscriber"] {
		t.Errorf("subscriber file changed: %q, %v", got, err)
	}

	// serctl adds carol to the same directory while ser runs (both lock
	// it for their writes); ser reads the changed file within a second
	// and carol registers with her password.
	sc := &serctlTool{t: t, bin: buildSerctl(t, t.TempDir()), env: []string{
		"SER_DB_URL=dbtext://" + db, "SIP_DOMAIN=127.0.0.1", "STORE_PLAINTEXT_PASSWORDS=1",
		"SER_FIFO=" + p.fifo, "SER_FIFO_DIR=" + dir + "/",
	}}
	sc.ok(`^new user added\n$`, "add", "carol", "carolpw", "carol@example.net")
	sub, _ := os.ReadFile(filepath.Join(db, "subscriber"))
	if want := files["subscriber"] + "carol:127.0.0.1:carolpw:" + store.HA1("carol", "127.0.0.1", "carolpw") + ":" +
		store.HA1B("carol", "127.0.0.1", "127.0.0.1", "carolpw") + "\n"; string(sub) != want {
		t.Errorf("subscriber file after serctl add:\n%s\nwant\n%s", sub, want)
	}
	carol := newUA(t)
	deadline := time.Now().Add(10 * time.Second)
	for seq := 1; ; seq += 2 {
		carol.send(p.udpAddr(), fmt.Sprintf(`REGISTER sip:%[1]s SIP/2.0
Via: SIP/2.0/UDP %[2]s;branch=z9hG4bKdbc%[3]d;rport
Max-Forwards: 70
From: <sip:carol@%[1]s>;tag=c%[3]d
To: <sip:carol@%[1]s>
Call-ID: dbtext-carol
CSeq: %[3]d REGISTER
Contact: <sip:carol@%[2]s>
%[4]sContent-Length: 0

`, p.sipAddr, carol.hostport(), seq, ""))
		r, _ := carol.recvFor("SIP/2.0")
		carol.send(p.udpAddr(), fmt.Sprintf(`REGISTER sip:%[1]s SIP/2.0
Via: SIP/2.0/UDP %[2]s;branch=z9hG4bKdbc%[3]d;rport
Max-Forwards: 70
From: <sip:carol@%[1]s>;tag=c%[3]d
To: <sip:carol@%[1]s>
Call-ID: dbtext-carol
CSeq: %[3]d REGISTER
Contact: <sip:carol@%[2]s>
%[4]s
Content-Length: 0

`, p.sipAddr, carol.hostport(), seq+1, digestAnswer(t, challengeIn(t, r), "carol", "carolpw", "REGISTER", "sip:"+p.sipAddr)))
		r, _ = carol.recvFor("SIP/2.0")
		if strings.HasPrefix(r, "SIP/2.0 200") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("carol's REGISTER after serctl add: %s", firstLine(r))
		}
		time.Sleep(200 * time.Millisecond)
	}

	// A restart (SIGKILL: db_mode 1 wrote through) loads bob's binding
	// from the file.
	p.proc.Kill()
	p.start(t)
	message("after restart")
}
