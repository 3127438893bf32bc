package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ser/core"
	"ser/fifo"
)

// TestFIFODB drives the DB command (fifo_db_url) over the real FIFO and
// the unix socket: an insert with its empty reply, a select, a bad request,
// and a config without fifo_db_url where DB does not exist.
func TestFIFODB(t *testing.T) {
	cfg := "fifo=\"/tmp/ser_fifo\"\nunix_sock=\"/tmp/ser.sock\"\nfifo_db_url=\"sqlite://ser.db\"\nroute { drop; }\n"
	s := startSer(t, cfg, func(o *core.Options) { o.FIFODBURL = o.DBURL })
	ctx := context.Background()
	fc := &fifo.Client{Path: filepath.Join(s.dir, "ser_fifo"), ReplyDir: s.dir + "/", Timeout: 5 * time.Second}
	uc := &fifo.UnixClient{Path: filepath.Join(s.dir, "ser.sock"), Dir: s.dir}

	start := time.Now()
	rep, err := fc.Execute(ctx, "DB", []string{"insert", "grp", `username="alice"`, `domain="example.com"`, `grp="ld"`, "."})
	if err != nil || rep.Code != 200 || rep.Text != "" {
		t.Fatalf("insert over the FIFO: %v %+v", err, rep)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("the empty reply was only noticed at the client's timeout (%v)", d)
	}
	rep, err = uc.Execute(ctx, "DB", []string{"select", "username", "grp", ".", "grp", `domain="example.com"`, "."})
	if err != nil || rep.Code != 200 || rep.Text != "username grp \nalice ld \n" {
		t.Fatalf("select over the unix socket: %v %+v", err, rep)
	}
	rep, err = fc.Execute(ctx, "DB", []string{"select", ".", "grp", "username=alice", "."})
	if err != nil || rep.Code != 500 || rep.Text != "ERROR: Unable to recognize value type\n" {
		t.Fatalf("bad value over the FIFO: %v %+v", err, rep)
	}
	// The group is visible to the rest of ser: the same database.
	st, err := s.inst.Server.DB("")
	if err != nil {
		t.Fatal(err)
	}
	if gs, err := st.UserGroups(ctx, "alice", "example.com"); err != nil || len(gs) != 1 || gs[0] != "ld" {
		t.Fatalf("group written by DB not seen by the store: %v %v", gs, err)
	}

	plain := startSer(t, "fifo=\"/tmp/ser_fifo\"\nroute { drop; }\n")
	pc := &fifo.Client{Path: filepath.Join(plain.dir, "ser_fifo"), ReplyDir: plain.dir + "/", Timeout: 5 * time.Second}
	rep, err = pc.Execute(ctx, "DB", []string{"select", ".", "grp", "."})
	if err != nil || !strings.HasPrefix(rep.Text, "500 command 'DB' not available") {
		t.Fatalf("DB without fifo_db_url: %v %+v", err, rep)
	}
}
