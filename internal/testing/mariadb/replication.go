package mariadb

import (
	"database/sql"
	"fmt"
	"testing"
	"time"
)

// replicationTimeout bounds waiting for a replica.
const replicationTimeout = 30 * time.Second

// StartReplicated starts a primary with a binary log (server-id 1) and a
// read-only replica of it (server-id 2), both removed when t ends, and
// returns once the replica's I/O and SQL threads run. See the package
// documentation.
func StartReplicated(t testing.TB) (primary, replica *Server) {
	t.Helper()
	primary, err := start(t, 1, true)
	if err != nil {
		t.Fatalf("mariadb: primary: %v", err)
	}
	t.Cleanup(primary.remove)
	replica, err = start(t, 2, false)
	if err != nil {
		t.Fatalf("mariadb: replica: %v", err)
	}
	t.Cleanup(replica.remove)
	replica.ReplicateFrom(t, primary)
	return primary, replica
}

// ReplicateFrom makes s a read-only replica of primary (which must write
// a binary log: a server of StartReplicated), starting at the primary's
// current GTID position: s must hold the same data as primary had then
// (both fresh from the template). It returns once replication runs.
//
// Replication uses MariaDB's global transaction ids (MASTER_USE_GTID=
// slave_pos): the replica keeps its position in the transactional table
// mysql.gtid_slave_pos, so a killed replica resumes exactly where it
// stopped.
func (s *Server) ReplicateFrom(t testing.TB, primary *Server) {
	t.Helper()
	gtid := primary.gtidPos(t)
	s.Exec(t, "STOP SLAVE")
	s.Exec(t, "SET GLOBAL gtid_slave_pos = ?", gtid)
	s.Exec(t, fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER='%s', "+
		"MASTER_PASSWORD='%s', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1",
		primary.Port, replUser, replPassword))
	s.Exec(t, "SET GLOBAL read_only = 1")
	s.Exec(t, "START SLAVE")
	s.mu.Lock()
	s.primary = primary
	s.args = append(s.args, "--read-only") // after a restart too
	s.mu.Unlock()
	deadline := time.Now().Add(replicationTimeout)
	for {
		st := s.slaveStatus(t)
		if st["Slave_IO_Running"] == "Yes" && st["Slave_SQL_Running"] == "Yes" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("mariadb: replication from port %d does not run: IO %s (%s), SQL %s (%s)", primary.Port,
				st["Slave_IO_Running"], st["Last_IO_Error"], st["Slave_SQL_Running"], st["Last_SQL_Error"])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// CatchUp waits until the replica s has applied everything its primary
// had written when CatchUp was called (MASTER_GTID_WAIT on the primary's
// gtid_binlog_pos), failing t after 30 s.
func (s *Server) CatchUp(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	primary := s.primary
	s.mu.Unlock()
	if primary == nil {
		t.Fatal("mariadb: CatchUp on a server that is not a replica")
	}
	gtid := primary.gtidPos(t)
	var res sql.NullInt64
	err := s.RootDB().QueryRow("SELECT MASTER_GTID_WAIT(?, ?)", gtid, int(replicationTimeout/time.Second)).Scan(&res)
	if err != nil || !res.Valid || res.Int64 != 0 {
		st := s.slaveStatus(t)
		t.Fatalf("mariadb: replica on port %d did not reach %q (%v, %v): IO %s %s, SQL %s %s", s.Port, gtid, res, err,
			st["Slave_IO_Running"], st["Last_IO_Error"], st["Slave_SQL_Running"], st["Last_SQL_Error"])
	}
}

// gtidPos returns the GTID position of the server's binary log.
func (s *Server) gtidPos(t testing.TB) string {
	t.Helper()
	var pos string
	if err := s.RootDB().QueryRow("SELECT @@GLOBAL.gtid_binlog_pos").Scan(&pos); err != nil {
		t.Fatalf("mariadb: gtid_binlog_pos: %v", err)
	}
	return pos
}

// slaveStatus returns SHOW SLAVE STATUS as column → value.
func (s *Server) slaveStatus(t testing.TB) map[string]string {
	t.Helper()
	rows, err := s.RootDB().Query("SHOW SLAVE STATUS")
	if err != nil {
		t.Fatalf("mariadb: SHOW SLAVE STATUS: %v", err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	out := map[string]string{}
	if !rows.Next() {
		return out
	}
	vals := make([]sql.NullString, len(cols))
	dest := make([]any, len(cols))
	for i := range vals {
		dest[i] = &vals[i]
	}
	if err := rows.Scan(dest...); err != nil {
		t.Fatal(err)
	}
	for i, c := range cols {
		out[c] = vals[i].String
	}
	return out
}
