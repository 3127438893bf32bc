package tm

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"ser/core/rpc"
	"ser/core/sipmsg"
)

func (nc *netCore) fifo(name string, lines ...string) *rpc.Reply {
	return nc.env.RPC.Execute(context.Background(), name, rpc.Lines(lines), rpc.FIFO)
}

// fifoAsync runs a command that waits for a transaction.
func (nc *netCore) fifoAsync(name string, lines ...string) chan *rpc.Reply {
	ch := make(chan *rpc.Reply, 1)
	go func() { ch <- nc.fifo(name, lines...) }()
	return ch
}

func TestStatsGolden(t *testing.T) {
	nc := newNetCore(t, nil)
	want := "200 ok\n" +
		"Current: 0 (0 waiting) Total: 0 (0 local)       \n" +
		"Replied localy: 0      \n" +
		"Completion status 6xx: 0, 5xx: 0, 4xx: 0, 3xx: 0,2xx: 0      \n"
	if got := nc.fifo("t_stats").Text; got != want {
		t.Errorf("t_stats:\n%q\nwant\n%q", got, want)
	}
	s := Stats{Current: 3, Waiting: 1, Total: 80845, Local: 71, RepliedLocally: 63106, Completed: [5]uint64{18205, 48, 62758, 1253, 81}}
	want = "200 ok\nCurrent: 3 (1 waiting) Total: 80845 (71 local)       \n" +
		"Replied localy: 63106      \n" +
		"Completion status 6xx: 81, 5xx: 1253, 4xx: 62758, 3xx: 48,2xx: 18205      \n"
	if got := rpc.Typed("200 ok", s.TStats()).Text; got != want {
		t.Errorf("t_stats text:\n%q\nwant\n%q", got, want)
	}
}

func TestHashGolden(t *testing.T) {
	nc := newNetCore(t, nil)
	// The transaction must outlive printing 65536 lines (slow under -race).
	tt := testTimers
	tt.FR, tt.FRInv = time.Hour, time.Hour
	nc.tm.SetTimers(tt)
	m := modtestRequest(t, "OPTIONS", "sip:x@127.0.0.1")
	nc.bind("t_newtran")(m)
	id, ok := nc.tm.TransID(m)
	if !ok {
		t.Fatal("no transaction id")
	}
	bucket, label, _ := parseTransID(id)
	if label != 1 {
		t.Errorf("first label %d", label)
	}
	rep := nc.fifo("t_hash")
	lines := strings.Split(strings.TrimSuffix(rep.Text, "\n"), "\n")
	if len(lines) != 2+Buckets || lines[0] != "200 ok" || lines[1] != "\tcurrent\ttotal" {
		t.Fatalf("t_hash: %d lines, head %q", len(lines), lines[:3])
	}
	for i, l := range lines[2:] {
		want := strconv.Itoa(i) + ".\t0\t0"
		if uint32(i) == bucket {
			want = strconv.Itoa(i) + ".\t1\t1"
		}
		if l != want {
			t.Fatalf("line %d = %q, want %q", i, l, want)
		}
	}
}

func TestFIFOReply(t *testing.T) {
	nc := newNetCore(t, nil)
	caller := newUA(t, "caller")
	ids := make(chan string, 1)
	newtran := nc.bind("t_newtran")
	nc.setScript(func(m *sipmsg.Msg) {
		if ret, _ := newtran(m); ret > 0 && m.Req.IsInvite() {
			id, _ := nc.tm.TransID(m)
			ids <- id
		}
	})
	inv := call{method: "INVITE", ruri: "sip:vm@" + nc.addr().String(), callID: "fifo-reply", branch: "z9hG4bKfr", from: caller}
	caller.send(nc.addr(), inv.text())
	id := <-ids
	got := nc.fifo("t_reply", "486", "Busy Here", id, "t0tag", "X-Test: 1", "", ".").Text
	if got != "200 fifo_t_reply succeeded\n" {
		t.Fatalf("t_reply: %q", got)
	}
	r := caller.expectReply(486, wait)
	if tag, _ := r.To().Params.Get("tag"); tag != "t0tag" || r.GetHeader("X-Test") == nil {
		t.Errorf("reply:\n%s", r.String())
	}
	tests := []struct {
		name  string
		lines []string
		want  string
	}{
		{name: "already replied", lines: []string{"200", "OK", id, "x", "", "."}, want: "500 fifo_t_reply: reply failed"},
		{name: "unknown id", lines: []string{"200", "OK", "1:999999", "x", "", "."}, want: "481 fifo_t_reply: no such transaction"},
		{name: "bad id", lines: []string{"200", "OK", "17", "x", "", "."}, want: "400 fifo_t_reply: invalid trans_id"},
		{name: "bad code", lines: []string{"abc"}, want: "400 fifo_t_reply: code(int) has wrong format"},
		{name: "no to-tag", lines: []string{"200", "OK", id}, want: "400 fifo_t_reply: to-ta expected"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := nc.fifo("t_reply", tc.lines...).Text; got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	// The unix socket flavour words it differently.
	rep := nc.env.RPC.Execute(context.Background(), "t_reply", rpc.DotLines([]string{"200", "OK", "1:999999", "x", ".", "."}), rpc.UnixSock)
	if rep.Text != "481 No such transaction\n" {
		t.Errorf("unixsock: %q", rep.Text)
	}
}
