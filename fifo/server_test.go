package fifo_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"ser/core/corecmd"
	"ser/core/rpc"
	"ser/fifo"
)

// coreInfo is a fixed corecmd.Info.
type coreInfo struct{ down chan struct{} }

func (coreInfo) Version() string      { return "0.9.6-go" }
func (coreInfo) Arch() string         { return "amd64" }
func (coreInfo) OS() string           { return "linux" }
func (coreInfo) StartTime() time.Time { return time.Now().Add(-3 * time.Second) }
func (coreInfo) Args() []string       { return []string{"ser", "-f", "ser.cfg"} }
func (coreInfo) Processes() []corecmd.Process {
	return []corecmd.Process{{PID: os.Getpid(), Desc: "attendant"}, {PID: os.Getpid(), Desc: fifo.ProcessDesc}}
}
func (c coreInfo) Shutdown() {
	if c.down != nil {
		close(c.down)
	}
}

func coreRegistry(t *testing.T) *rpc.Registry {
	t.Helper()
	reg := testRegistry(nil)
	if err := corecmd.Register(reg, coreInfo{}); err != nil {
		t.Fatal(err)
	}
	return reg
}

// TestShellTranscripts drives the FIFO the way serctl does: mkfifo a reply
// FIFO, start reading it, cat the request into the server FIFO, print the
// reply. The requests and replies are testdata/shell/*.txt transcripts.
func TestShellTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/shell/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	s, dir, _ := startFIFO(t, coreRegistry(t), nil)
	script := `set -e
cd "$DIR"
mkfifo "$REPLY"
cat "$REPLY" > "$REPLY.out" &
cat > "$FIFO" < "$REQ"
wait
cat "$REPLY.out"
rm -f "$REPLY" "$REPLY.out"
`
	for i, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			tr := readTranscript(t, file)
			reply := fmt.Sprintf("ser_receiver_%d", i)
			req := filepath.Join(dir, reply+".req")
			os.WriteFile(req, []byte(strings.ReplaceAll(tr["request"], "REPLY", reply)), 0600)
			got := runShell(t, 10*time.Second, script, "DIR="+dir, "FIFO="+s.Path(), "REPLY="+reply, "REQ="+req)
			want := strings.ReplaceAll(tr["reply"], "%PID%", fmt.Sprint(os.Getpid()))
			if got != want {
				t.Fatalf("reply\n got %q\nwant %q", got, want)
			}
		})
	}
}

// TestShellHereDocument runs the admin guide's "Sending IM From Shell
// Script" (a here-document with no final empty line) and its uptime
// example with sh itself: testdata/send_im.sh.
func TestShellHereDocument(t *testing.T) {
	reg := coreRegistry(t)
	reg.MustRegister(rpc.Command{Name: "t_uac_from", Handler: func(_ context.Context, req *rpc.Request) *rpc.Reply {
		method, _ := req.Params.Line()
		from, _ := req.Params.Line()
		dst, _ := req.Params.Line()
		hdrs, _ := req.Params.LineSet()
		body, _ := req.Params.Body()
		return rpc.NewReply(200, "ok", fmt.Sprintf("%s|%s|%s|%q|%q\n", method, from, dst, hdrs, body))
	}})
	s, dir, _ := startFIFO(t, reg, nil)
	script, err := os.ReadFile("testdata/send_im.sh")
	if err != nil {
		t.Fatal(err)
	}
	out := runShell(t, 10*time.Second, string(script), "DIR="+dir, "FIFO="+s.Path())
	want := "200 ok\nNOTIFY|sip:originator@foo.bar|sip:receiver@127.0.0.1|" +
		`["foo: bar_special_header" "x: y" "p_header: p_value" "Contact: <sip:devnull@192.168.0.100:9>" "Content-Type: text/plain; charset=UTF-8"]|["Hello world!!!! from sh"]` + "\n"
	if !strings.HasPrefix(out, want) {
		t.Fatalf("t_uac_from reply\n got %q\nwant %q…", out, want)
	}
	up := strings.TrimPrefix(out, want)
	if !strings.HasPrefix(up, "200 ok\nNow: ") || !strings.Contains(up, "\nUp Since: ") || !strings.HasSuffix(up, " [sec]\n") {
		t.Fatalf("uptime reply %q", up)
	}
}

// TestConcurrentProcesses: 50 processes write requests at once; every
// reply arrives intact at its own reply FIFO (testdata/concurrent.sh).
func TestConcurrentProcesses(t *testing.T) {
	s, dir, _ := startFIFO(t, coreRegistry(t), nil)
	script, err := os.ReadFile("testdata/concurrent.sh")
	if err != nil {
		t.Fatal(err)
	}
	runShell(t, 30*time.Second, string(script), "DIR="+dir, "FIFO="+s.Path(), "N=50")
	for i := 0; i < 50; i++ {
		got, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("ser_receiver_%d.out", i)))
		if err != nil {
			t.Fatal(err)
		}
		var want strings.Builder
		want.WriteString("200 ok\n")
		for j := 0; j < 20; j++ {
			fmt.Fprintf(&want, "process %d line %d\n", i, j)
		}
		if string(got) != want.String() {
			t.Errorf("process %d: reply\n got %q\nwant %q", i, got, want.String())
		}
	}
}

// TestFramingRobustness: requests arriving together in one write are cut
// correctly, whatever the handler reads.
func TestFramingRobustness(t *testing.T) {
	tests := []struct {
		name    string
		stream  string // requests in one write; R1, R2 are reply names
		replies map[string]string
	}{
		{name: "handler reads fewer lines than sent",
			stream: ":ps:R1\nextra\nlines\nnot read\n\n:print:R2\nsecond\n\n",
			replies: map[string]string{"R1": "200 ok\n0\t%PID%\tattendant\n1\t%PID%\tfifo server\n",
				"R2": "200 ok\nsecond\n"}},
		{name: "no terminating empty lines",
			stream:  ":print:R1\nfirst\n:print:R2\nsecond\n",
			replies: map[string]string{"R1": "200 ok\nfirst\n", "R2": "200 ok\nsecond\n"}},
		{name: "parameterless requests back to back",
			stream:  ":pwd:R1\n:print:R2\nz\n\n",
			replies: map[string]string{"R2": "200 ok\nz\n"}},
		{name: "body with an empty line and a colon line",
			stream: ":sets:R1\nMESSAGE\nA: 1\n.\nsee you\n\n:smile:\n.\n\n:print:R2\nafter\n\n",
			replies: map[string]string{"R1": "200 ok\nline=MESSAGE\nset=[\"A: 1\"]\nbody=[\"see you\" \"\" \":smile:\"]\n",
				"R2": "200 ok\nafter\n"}},
		{name: "malformed request then a good one",
			stream:  "garbage line\nmore garbage\n\n:print:R2\nok\n\n",
			replies: map[string]string{"R2": "200 ok\nok\n"}},
		{name: "malformed line directly followed by a request",
			stream:  "hello\n:print:R2\nok\n\n",
			replies: map[string]string{"R2": "200 ok\nok\n"}},
		{name: "a request line inside a body is body text",
			stream: ":sets:R1\nMESSAGE\nA: 1\n.\nhi\n\n:print:R2\ninjected\n.\n\n",
			replies: map[string]string{"R1": "200 ok\nline=MESSAGE\nset=[\"A: 1\"]\nbody=[\"hi\" \"\" \":print:R2\" \"injected\"]\n",
				"R2": ""}},
		{name: "unread lines are skipped through the next empty line",
			stream:  ":ps:R1\nextra\n.\n\n:print:R2\nok\n\n",
			replies: map[string]string{"R2": "200 ok\nok\n"}},
		{name: "a body without its dot ends with the request",
			stream:  ":sets:R1\nM\nA: 1\n\nbody line\n\n",
			replies: map[string]string{"R1": "200 ok\nline=M\nset=[\"A: 1\"]\nbody=[\"body line\"]\n"}},
		{name: "forbidden reply name is not run",
			stream:  ":print:../R1\nx\n\n:print:R2\nok\n\n",
			replies: map[string]string{"R1": "", "R2": "200 ok\nok\n"}},
		{name: "extra empty lines between requests",
			stream:  ":echo:R1\na\n\n\n\n:echo:R2\nb\n\n",
			replies: map[string]string{"R1": "200 ok\na\n\n\n", "R2": "200 ok\nb\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, dir, _ := startFIFO(t, coreRegistry(t), nil)
			readers := map[string]func(time.Duration) string{}
			for _, r := range []string{"R1", "R2"} {
				readers[r] = replyReader(t, filepath.Join(dir, r))
			}
			writeFIFO(t, s.Path(), tt.stream)
			for r, want := range tt.replies {
				want = strings.ReplaceAll(want, "%PID%", fmt.Sprint(os.Getpid()))
				wait := 3 * time.Second
				if want == "" {
					wait = 300 * time.Millisecond
				}
				if got := readers[r](wait); got != want {
					t.Errorf("%s: reply\n got %q\nwant %q", r, got, want)
				}
			}
		})
	}
}

// TestSlowCommandDoesNotBlock: a command still running after SyncWait, or
// one that has read its parameters and says so (rpc.DoneReading) however
// long SyncWait is, goes on in the background; later requests are
// answered meanwhile.
func TestSlowCommandDoesNotBlock(t *testing.T) {
	for _, tc := range []struct {
		name, req, want string
		syncWait        time.Duration
	}{
		{"sync wait over", ":slow:slowreply\n\n", "200 ok\nslow done\n", 20 * time.Millisecond},
		{"done reading", ":waiter:slowreply\nmessage\n\n", "200 ok\nmessage done\n", time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			s, dir, _ := startFIFO(t, testRegistry(release), func(c *fifo.Config) { c.SyncWait = tc.syncWait })
			slow := replyReader(t, filepath.Join(dir, "slowreply"))
			fast := replyReader(t, filepath.Join(dir, "fastreply"))
			writeFIFO(t, s.Path(), tc.req)
			writeFIFO(t, s.Path(), ":echo:fastreply\nquick\n\n")
			if got := fast(3 * time.Second); got != "200 ok\nquick\n" {
				t.Fatalf("fast reply %q", got)
			}
			close(release)
			if got := slow(3 * time.Second); got != tc.want {
				t.Fatalf("slow reply %q", got)
			}
		})
	}
}

// TestLateReaderGetsItsLines: a command that reads its line only after a
// pause (a goroutine starved of CPU on a loaded machine) still gets it
// with the default SyncWait, and the request after it is not mixed in.
func TestLateReaderGetsItsLines(t *testing.T) {
	s, dir, _ := startFIFO(t, testRegistry(nil), nil)
	lazy := replyReader(t, filepath.Join(dir, "lazyreply"))
	next := replyReader(t, filepath.Join(dir, "nextreply"))
	writeFIFO(t, s.Path(), ":lazy:lazyreply\nhello\n\n")
	writeFIFO(t, s.Path(), ":echo:nextreply\nafter\n\n")
	if got := lazy(3 * time.Second); got != "200 ok\n\"hello\" true\n" {
		t.Fatalf("lazy reply %q", got)
	}
	if got := next(3 * time.Second); got != "200 ok\nafter\n" {
		t.Fatalf("next reply %q", got)
	}
}

// TestCloseCancelsRunningCommands: Close cancels the context of a running
// command, delivers its reply and removes the FIFO.
func TestCloseCancelsRunningCommands(t *testing.T) {
	s, dir, _ := startFIFO(t, testRegistry(make(chan struct{})), func(c *fifo.Config) { c.SyncWait = 10 * time.Millisecond })
	slow := replyReader(t, filepath.Join(dir, "slowreply"))
	writeFIFO(t, s.Path(), ":slow:slowreply\n\n")
	time.Sleep(100 * time.Millisecond)
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	if got := slow(3 * time.Second); got != "500 cancelled\n" {
		t.Fatalf("reply %q", got)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	if _, err := os.Lstat(s.Path()); !os.IsNotExist(err) {
		t.Fatalf("FIFO still there after Close: %v", err)
	}
	if s.Err() != nil {
		t.Fatalf("Err after Close: %v", s.Err())
	}
}

func TestPanickingCommand(t *testing.T) {
	s, dir, logs := startFIFO(t, testRegistry(nil), nil)
	r := replyReader(t, filepath.Join(dir, "r"))
	writeFIFO(t, s.Path(), ":boom:r\n\n")
	if got := r(3 * time.Second); got != "500 command 'boom' failed\n" {
		t.Fatalf("reply %q", got)
	}
	if !strings.Contains(logs.String(), "command panicked") {
		t.Fatalf("log: %s", logs.String())
	}
}

func TestMalformedFirstLineIsLogged(t *testing.T) {
	tests := []struct {
		name, line, log string
	}{
		{name: "too short", line: ":a", log: "at least 3 chars"},
		{name: "no colon", line: "ps:r", log: "must begin with ':'"},
		{name: "no separator", line: ":ps", log: "file separator missing"},
		{name: "empty command", line: "::r", log: "empty command"},
		{name: "too long", line: ":print:" + strings.Repeat("r", 600), log: "longer than 510"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, dir, logs := startFIFO(t, coreRegistry(t), nil)
			r := replyReader(t, filepath.Join(dir, "r"))
			writeFIFO(t, s.Path(), tt.line+"\n\n")
			writeFIFO(t, s.Path(), ":print:r\nnext\n\n")
			if got := r(3 * time.Second); got != "200 ok\nnext\n" {
				t.Fatalf("next request's reply %q", got)
			}
			if !strings.Contains(logs.String(), tt.log) {
				t.Fatalf("log lacks %q:\n%s", tt.log, logs.String())
			}
		})
	}
}

// TestReplySecurity: the server refuses to write replies through
// symlinks, hard links, regular files and names with '.', '/' or '\'.
func TestReplySecurity(t *testing.T) {
	tests := []struct {
		name  string
		reply string
		setup func(t *testing.T, dir string) (check func(t *testing.T))
		log   string
	}{
		{name: "symlink to a FIFO", reply: "link", log: "is a symlink",
			setup: func(t *testing.T, dir string) func(*testing.T) {
				read := replyReader(t, filepath.Join(dir, "target"))
				if err := os.Symlink(filepath.Join(dir, "target"), filepath.Join(dir, "link")); err != nil {
					t.Fatal(err)
				}
				return func(t *testing.T) {
					if got := read(200 * time.Millisecond); got != "" {
						t.Fatalf("written through the symlink: %q", got)
					}
				}
			}},
		{name: "symlink to a regular file", reply: "link", log: "is a symlink",
			setup: func(t *testing.T, dir string) func(*testing.T) {
				return regularFile(t, filepath.Join(dir, "victim"), filepath.Join(dir, "link"), os.Symlink)
			}},
		{name: "hard-linked FIFO", reply: "hard", log: "hard-linked (2 links)",
			setup: func(t *testing.T, dir string) func(*testing.T) {
				read := replyReader(t, filepath.Join(dir, "orig"))
				if err := os.Link(filepath.Join(dir, "orig"), filepath.Join(dir, "hard")); err != nil {
					t.Fatal(err)
				}
				return func(t *testing.T) {
					if got := read(200 * time.Millisecond); got != "" {
						t.Fatalf("written through the hard link: %q", got)
					}
				}
			}},
		{name: "regular file", reply: "plain", log: "not a FIFO",
			setup: func(t *testing.T, dir string) func(*testing.T) {
				return regularFile(t, filepath.Join(dir, "plain"), "", nil)
			}},
		{name: "dotted name", reply: "a.b", log: "forbidden reply file name"},
		{name: "parent directory", reply: "..", log: "forbidden reply file name"},
		{name: "slash", reply: "x/y", log: "forbidden reply file name"},
		{name: "backslash", reply: `x\y`, log: "forbidden reply file name"},
		{name: "missing file", reply: "nothere", log: "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, dir, logs := startFIFO(t, coreRegistry(t), func(c *fifo.Config) { c.ReplyRetries = 1 })
			var check func(*testing.T)
			if tt.setup != nil {
				check = tt.setup(t, dir)
			}
			ok := replyReader(t, filepath.Join(dir, "ok"))
			writeFIFO(t, s.Path(), ":print:"+tt.reply+"\nsecret\n\n:print:ok\ndone\n\n")
			if got := ok(3 * time.Second); got != "200 ok\ndone\n" {
				t.Fatalf("next reply %q", got)
			}
			if check != nil {
				check(t)
			}
			if !strings.Contains(logs.String(), tt.log) {
				t.Fatalf("log lacks %q:\n%s", tt.log, logs.String())
			}
		})
	}
}

// regularFile creates a regular file (and a link to it when link is set)
// and returns a check that it was not written.
func regularFile(t *testing.T, path, link string, mk func(string, string) error) func(*testing.T) {
	t.Helper()
	if err := os.WriteFile(path, []byte("original"), 0666); err != nil {
		t.Fatal(err)
	}
	if link != "" {
		if err := mk(path, link); err != nil {
			t.Fatal(err)
		}
	}
	return func(t *testing.T) {
		if b, _ := os.ReadFile(path); string(b) != "original" {
			t.Fatalf("file written: %q", b)
		}
	}
}

func TestListenFiles(t *testing.T) {
	t.Run("mode and owner", func(t *testing.T) {
		s, _, _ := startFIFO(t, coreRegistry(t), func(c *fifo.Config) {
			c.Mode = 0640
			c.User, c.Group = fmt.Sprint(os.Getuid()), fmt.Sprint(os.Getgid())
		})
		fi, err := os.Lstat(s.Path())
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode()&os.ModeNamedPipe == 0 || fi.Mode().Perm() != 0640 {
			t.Fatalf("mode %v", fi.Mode())
		}
		st := fi.Sys().(*syscall.Stat_t)
		if int(st.Uid) != os.Getuid() || int(st.Gid) != os.Getgid() {
			t.Fatalf("owner %d:%d", st.Uid, st.Gid)
		}
	})
	t.Run("default mode 0660", func(t *testing.T) {
		s, _, _ := startFIFO(t, coreRegistry(t), nil)
		fi, _ := os.Lstat(s.Path())
		if fi.Mode().Perm() != 0660 {
			t.Fatalf("mode %v", fi.Mode())
		}
	})
	t.Run("stale FIFO is replaced", func(t *testing.T) {
		dir := shortDir(t)
		path := filepath.Join(dir, "ser_fifo")
		if err := syscall.Mkfifo(path, 0600); err != nil {
			t.Fatal(err)
		}
		old, err := os.OpenFile(path, os.O_RDWR, 0) // holds the old inode
		if err != nil {
			t.Fatal(err)
		}
		defer old.Close()
		s, err := fifo.Listen(fifo.Config{Path: path, Dir: dir}, coreRegistry(t))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		oldInfo, _ := old.Stat()
		newInfo, _ := os.Lstat(path)
		if os.SameFile(oldInfo, newInfo) || newInfo.Mode().Perm() != 0660 {
			t.Fatalf("old FIFO kept (mode %v)", newInfo.Mode())
		}
	})
	t.Run("regular file is not removed", func(t *testing.T) {
		dir := shortDir(t)
		path := filepath.Join(dir, "ser_fifo")
		os.WriteFile(path, []byte("data"), 0600)
		_, err := fifo.Listen(fifo.Config{Path: path, Dir: dir}, coreRegistry(t))
		if err == nil || !strings.Contains(err.Error(), "exists and is not a FIFO") {
			t.Fatalf("err = %v", err)
		}
		if b, _ := os.ReadFile(path); string(b) != "data" {
			t.Fatal("file changed")
		}
	})
	t.Run("no path", func(t *testing.T) {
		if _, err := fifo.Listen(fifo.Config{}, coreRegistry(t)); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("unknown user", func(t *testing.T) {
		dir := shortDir(t)
		_, err := fifo.Listen(fifo.Config{Path: filepath.Join(dir, "f"), User: "no-such-user-xyz"}, coreRegistry(t))
		if err == nil || !strings.Contains(err.Error(), "no-such-user-xyz") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("close removes only our FIFO", func(t *testing.T) {
		s, _, _ := startFIFO(t, coreRegistry(t), nil)
		os.Remove(s.Path())
		os.WriteFile(s.Path(), []byte("someone else's"), 0600)
		s.Close()
		if b, _ := os.ReadFile(s.Path()); string(b) != "someone else's" {
			t.Fatal("Close removed a file it did not create")
		}
	})
	t.Run("processes", func(t *testing.T) {
		s, _, _ := startFIFO(t, coreRegistry(t), nil)
		if got := s.Processes(); len(got) != 1 || got[0] != "fifo server" {
			t.Fatalf("Processes() = %q", got)
		}
	})
}

// TestKillOverFIFO: kill answers, then the server's Shutdown runs.
func TestKillOverFIFO(t *testing.T) {
	reg := testRegistry(nil)
	down := make(chan struct{})
	if err := corecmd.Register(reg, coreInfo{down: down}); err != nil {
		t.Fatal(err)
	}
	s, dir, _ := startFIFO(t, reg, nil)
	r := replyReader(t, filepath.Join(dir, "r"))
	writeFIFO(t, s.Path(), ":kill:r\n\n")
	if got := r(3 * time.Second); got != "200 killing now..." {
		t.Fatalf("reply %q", got)
	}
	select {
	case <-down:
	case <-time.After(3 * time.Second):
		t.Fatal("no shutdown")
	}
}

// TestSplitWrites: a line split over two writes is completed, and a
// request bigger than PIPE_BUF arrives whole.
func TestSplitWrites(t *testing.T) {
	s, dir, logs := startFIFO(t, coreRegistry(t), func(c *fifo.Config) { c.RequestTimeout = time.Second })
	r := replyReader(t, filepath.Join(dir, "r"))
	w, err := os.OpenFile(s.Path(), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.WriteString(":print:r\nhel")
	time.Sleep(150 * time.Millisecond)
	w.WriteString("lo\n\n")
	if got := r(3 * time.Second); got != "200 ok\nhello\n" {
		t.Fatalf("reply %q", got)
	}

	big := replyReader(t, filepath.Join(dir, "big"))
	var req, want strings.Builder
	req.WriteString(":echo:big\n")
	want.WriteString("200 ok\n")
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&req, "line %d of a big request\n", i)
		fmt.Fprintf(&want, "line %d of a big request\n", i)
	}
	req.WriteString("\n")
	if req.Len() <= 4096 {
		t.Fatal("request not over PIPE_BUF")
	}
	w.WriteString(req.String())
	if got := big(5 * time.Second); got != want.String() {
		t.Fatalf("big reply: %d bytes, want %d", len(got), want.Len())
	}

	// A line left without its line feed is waited for until the
	// request's deadline, while a whole request written meanwhile is
	// served; then the incomplete request is answered 408.
	after := replyReader(t, filepath.Join(dir, "after"))
	w.WriteString(":print:after\nno line feed")
	waitLog(t, logs, "partial=12")
	again := replyReader(t, filepath.Join(dir, "again"))
	w.WriteString(":print:again\nstill serving\n\n")
	if got := again(3 * time.Second); got != "200 ok\nstill serving\n" {
		t.Fatalf("reply while a line waits for its line feed %q", got)
	}
	if got, want := after(5*time.Second), "408 print: request incomplete: the rest of it did not arrive within 1s\n"; got != want {
		t.Fatalf("reply to the line without line feed %q, want %q", got, want)
	}
	last := replyReader(t, filepath.Join(dir, "last"))
	w.WriteString(":print:last\nstill serving\n\n")
	if got := last(3 * time.Second); got != "200 ok\nstill serving\n" {
		t.Fatalf("reply after the timeout %q", got)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
}
