package e2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ser/internal/testing/testutil"
)

// checkCfg names a database (%[1]s) in every place a config can: the
// core's db_url and fifo_db_url, usrloc persistence, auth_db, group,
// uri_db, acc's SQL accounting, dispatcher and lcr tables; and a FIFO and
// a unix socket in %[2]s.
const checkCfg = `
debug=3
log_stderror=yes
listen=udp:127.0.0.1:5060
db_url="%[1]s"
fifo_db_url="%[1]s"
fifo="%[2]s/ser_fifo"
unix_sock="%[2]s/ser.sock"

loadmodule "modules/sl/sl.so"
loadmodule "modules/tm/tm.so"
loadmodule "modules/usrloc/usrloc.so"
loadmodule "modules/registrar/registrar.so"
loadmodule "modules/auth/auth.so"
loadmodule "modules/auth_db/auth_db.so"
loadmodule "modules/group/group.so"
loadmodule "modules/uri_db/uri_db.so"
loadmodule "modules/acc/acc.so"
loadmodule "modules/dispatcher/dispatcher.so"
loadmodule "modules/lcr/lcr.so"

modparam("usrloc", "db_mode", 1)
modparam("usrloc", "db_url", "%[1]s")
modparam("auth_db", "db_url", "%[1]s")
modparam("group", "db_url", "%[1]s")
modparam("uri_db", "db_url", "%[1]s")
modparam("acc", "db_url", "%[1]s")
modparam("acc", "db_flag", 2)
modparam("dispatcher", "db_url", "%[1]s")
modparam("lcr", "db_url", "%[1]s")

route {
	if (!www_authorize("foo.bar", "subscriber")) {
		www_challenge("foo.bar", "0");
		break;
	};
	if (!is_user_in("Credentials", "local") || !does_uri_exist()) {
		sl_send_reply("403", "Forbidden");
		break;
	};
	acc_db_request("checked", "acc");
	if (method=="REGISTER") {
		save("location");
		break;
	};
	if (!lookup("location")) {
		ds_select_dst("1", "0");
	};
	t_relay();
}
`

// checkNoSideEffects runs ser -c on checkCfg with the given database URL
// in an empty directory and checks that it passes and leaves the
// directory empty: no SQLite file, no FIFO, no socket.
func checkNoSideEffects(t *testing.T, dbURL string) {
	t.Helper()
	dir := t.TempDir()
	cfgDir := t.TempDir()
	path := filepath.Join(cfgDir, "ser.cfg")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(checkCfg, dbURL, dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := testutil.Run(t, 60*time.Second, dir, serBin, "-c", "-f", path)
	if code != 0 || !strings.Contains(out, "config file ok, exiting...") {
		t.Fatalf("ser -c: exit %d\n%s", code, out)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("ser -c created %s", e.Name())
	}
}

// TestCheckConfigNoSideEffects: ser -c parses, loads the modules, applies
// the modparams, initialises the modules and binds the script's calls,
// but opens nothing. An SQLite db_url in an empty directory creates no
// file (and no FIFO or unix socket appears); a MySQL URL pointing at a
// local listener gets no connection; a MySQL URL at an address nobody
// answers passes the check (nothing is sent there).
func TestCheckConfigNoSideEffects(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		checkNoSideEffects(t, "sqlite://"+filepath.Join(dir, "ser.db"))
		if _, err := os.Stat(filepath.Join(dir, "ser.db")); err == nil {
			t.Error("ser -c created the SQLite database")
		}
	})
	t.Run("default database", func(t *testing.T) {
		// db_url "" everywhere: the server's default, ./ser.db in the
		// working directory, which checkNoSideEffects looks at.
		checkNoSideEffects(t, "ser.db")
	})
	t.Run("mysql listener", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		var conns atomic.Int32
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				conns.Add(1)
				c.Close()
			}
		}()
		checkNoSideEffects(t, "mysql://ser:secret@"+ln.Addr().String()+"/ser")
		if n := conns.Load(); n != 0 {
			t.Errorf("ser -c connected to the database %d times", n)
		}
	})
	t.Run("mysql unreachable", func(t *testing.T) {
		// Nothing answers at 10.255.255.1: a connection attempt would
		// fail after the driver's timeout (ser -c then exits non-zero or
		// testutil.Run's limit fails the test).
		checkNoSideEffects(t, "mysql://ser:secret@10.255.255.1/ser?timeout=30s")
	})
	t.Run("bad url", func(t *testing.T) {
		cfgPath := filepath.Join(t.TempDir(), "ser.cfg")
		if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(checkCfg, "postgres://x/y", t.TempDir())), 0o644); err != nil {
			t.Fatal(err)
		}
		out, code := testutil.Run(t, 60*time.Second, t.TempDir(), serBin, "-c", "-f", cfgPath)
		if code == 0 || !strings.Contains(out, "unsupported database url scheme") {
			t.Fatalf("a malformed db_url passed the check: exit %d\n%s", code, out)
		}
	})
}
