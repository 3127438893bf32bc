package dispatcher

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"ser/core/rpc"
	"ser/core/store"
	"ser/internal/testing/modtest"
)

func TestFIFO(t *testing.T) {
	path := writeList(t, "2 sip:10.0.1.1:5060\n1 sip:10.0.0.1:5060 0 1\n1 sip:10.0.0.2:5060 12 7\n")
	inst, env := modtest.Load(t, Exports, modtest.NewCore(), map[string]any{"list_file": path, "ds_ping_interval": 0})
	d := inst.(*Dispatcher)
	run := func(cmd string, params ...string) string {
		t.Helper()
		return env.RPC.Execute(context.Background(), cmd, rpc.Lines(params), rpc.FIFO).Text
	}
	want := "200 OK\nSET_NO:: 2\nSET:: 1\n" +
		"\tURI:: sip:10.0.0.2:5060 flags=DP priority=7\n" +
		"\tURI:: sip:10.0.0.1:5060 flags=AX priority=1\n" +
		"SET:: 2\n" +
		"\tURI:: sip:10.0.1.1:5060 flags=AX priority=0\n"
	if got := run("ds_list"); got != want {
		t.Fatalf("ds_list\n got %q\nwant %q", got, want)
	}
	// In process (JSON-RPC) the sets come as a value.
	v, _ := json.Marshal(env.RPC.Execute(context.Background(), "ds_list", nil, rpc.FIFO).Value)
	if !strings.HasPrefix(string(v), `[{"id":1,"destinations":[{"uri":"sip:10.0.0.2:5060","state":"D","probing":true,"priority":7}`) {
		t.Errorf("ds_list value: %s", v)
	}

	tests := []struct {
		name   string
		params []string
		reply  string
		state  string // of sip:10.0.0.1:5060 afterwards
	}{
		{"kamailio order", []string{"ip", "1", "sip:10.0.0.1:5060"}, "200 OK\n", "IP"},
		{"set first", []string{"1", "SIP:10.0.0.1:5060", "a"}, "200 OK\n", "AX"},
		{"trying", []string{"t", "1", "sip:10.0.0.1:5060"}, "200 OK\n", "TX"},
		{"disabled", []string{"D", "1", "sip:10.0.0.1:5060"}, "200 OK\n", "DX"},
		{"unknown destination", []string{"a", "1", "sip:10.9.9.9"}, "404 destination not found\n", "DX"},
		{"unknown set", []string{"a", "5", "sip:10.0.0.1:5060"}, "404 destination not found\n", "DX"},
		{"bad state", []string{"x", "1", "sip:10.0.0.1:5060"}, "400 Bad parameter\n", "DX"},
		{"bad group", []string{"a", "one", "sip:10.0.0.1:5060"}, "400 Bad parameter\n", "DX"},
		{"missing address", []string{"a", "1"}, "400 Too few or too many arguments\n", "DX"},
		{"empty line", []string{"a", "", "sip:10.0.0.1:5060"}, "400 Too few or too many arguments\n", "DX"},
		{"kamailio 1.x digits", []string{"0", "1", "sip:10.0.0.1:5060"}, "200 OK\n", "IX"},
		{"set first, digit state", []string{"1", "sip:10.0.0.1:5060", "1"}, "200 OK\n", "AX"},
		{"active again", []string{"a", "1", "sip:10.0.0.1:5060"}, "200 OK\n", "AX"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := run("ds_set_state", tc.params...); got != tc.reply {
				t.Fatalf("reply %q, want %q", got, tc.reply)
			}
			if s := state(t, d, 1, "sip:10.0.0.1:5060"); s != tc.state {
				t.Fatalf("state %s, want %s", s, tc.state)
			}
		})
	}

	// ds_reload reads the changed file; a broken file keeps the sets.
	if err := os.WriteFile(path, []byte("3 sip:10.0.3.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := run("ds_reload"); got != "200 OK\n" {
		t.Fatalf("ds_reload: %q", got)
	}
	if got := run("ds_list"); got != "200 OK\nSET_NO:: 1\nSET:: 3\n\tURI:: sip:10.0.3.1 flags=AX priority=0\n" {
		t.Fatalf("ds_list after reload: %q", got)
	}
	if err := os.WriteFile(path, []byte("3 nonsense\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := run("ds_reload"); got != "500 ERROR Reloading data\n" {
		t.Fatalf("ds_reload of a broken file: %q", got)
	}
	if got := run("ds_list"); got != "200 OK\nSET_NO:: 1\nSET:: 3\n\tURI:: sip:10.0.3.1 flags=AX priority=0\n" {
		t.Fatalf("ds_list after a failed reload: %q", got)
	}
}

func TestDatabaseSource(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "ds.db"),
		store.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, r := range []store.DispatcherDest{
		{SetID: 1, Destination: "sip:10.0.0.1:5060", Description: "proxy 1"},
		{SetID: 1, Destination: "sip:10.0.0.2:5060", Priority: 3},
		{SetID: 2, Destination: "sip:10.0.1.1:5060", Flags: 1},
	} {
		if _, err := st.AddDispatcherDest(ctx, "", r); err != nil {
			t.Fatal(err)
		}
	}
	env := modtest.Env(t, modtest.NewCore(), nil)
	env.DB = func(url string) (*store.Store, error) {
		if url != "" {
			t.Errorf("db_url %q", url)
		}
		return st, nil
	}
	inst, err := modtest.LoadEnv(Exports, env, map[string]any{"db_url": "", "ds_ping_interval": 0})
	if err != nil {
		t.Fatal(err)
	}
	d := inst.(*Dispatcher)
	want := "SET_NO:: 2\nSET:: 1\n\tURI:: sip:10.0.0.2:5060 flags=AX priority=3\n\tURI:: sip:10.0.0.1:5060 flags=AX priority=0\n" +
		"SET:: 2\n\tURI:: sip:10.0.1.1:5060 flags=IX priority=0\n"
	if got := d.List(); got != want {
		t.Fatalf("list\n got %q\nwant %q", got, want)
	}
	// A bad row makes ds_reload fail with its id; the sets stay.
	id, err := st.AddDispatcherDest(ctx, "", store.DispatcherDest{SetID: 3, Destination: "bogus"})
	if err != nil {
		t.Fatal(err)
	}
	err = d.Reload(ctx)
	if err == nil || err.Error() != `dispatcher: table dispatcher: row id `+strconv.Itoa(id)+`: bad destination "bogus": missing protocol scheme` {
		t.Fatalf("reload error: %v", err)
	}
	if d.List() != want {
		t.Fatal("sets changed by a failed reload")
	}
	if err := st.DeleteDispatcherDest(ctx, "", id); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddDispatcherDest(ctx, "", store.DispatcherDest{SetID: 3, Destination: "sip:10.0.3.1"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.State(3, "sip:10.0.3.1"); !ok {
		t.Fatalf("set 3 not loaded:\n%s", d.List())
	}
}
