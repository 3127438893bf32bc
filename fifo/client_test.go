package fifo_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"ser/fifo"
)

func TestClientRoundTrip(t *testing.T) {
	s, dir, _ := startFIFO(t, coreRegistry(t), nil)
	c := &fifo.Client{Path: s.Path(), ReplyDir: dir}
	tests := []struct {
		name   string
		cmd    string
		params []string
		want   string
		code   int
	}{
		{name: "print", cmd: "print", params: []string{"hello"}, want: "200 ok\nhello\n", code: 200},
		{name: "no params", cmd: "pwd", want: "200 ok\n" + mustGetwd(t) + "\n", code: 200},
		{name: "unknown", cmd: "nope", want: "500 command 'nope' not available\n", code: 500},
		{name: "kill-style reply without newline", cmd: "print", params: []string{strings.Repeat("x", 255)},
			want: "500 print_fifo_cmd: too big text", code: 500},
		{name: "multi-line header set in one param", cmd: "sets",
			params: []string{"MESSAGE", "From: a\nTo: b\n", ".", "Hi\n."},
			want:   "200 ok\nline=MESSAGE\nset=[\"From: a\" \"To: b\"]\nbody=[\"Hi\"]\n", code: 200},
		{name: "empty param is an empty line", cmd: "echo", params: []string{"a", "", "b"},
			want: "200 ok\na\n\nb\n", code: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			rep, err := c.Execute(ctx, tt.cmd, tt.params)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Text != tt.want || rep.Code != tt.code {
				t.Fatalf("reply %d %q, want %d %q", rep.Code, rep.Text, tt.code, tt.want)
			}
		})
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "ser_receiver_*")); len(left) != 0 {
		t.Fatalf("reply FIFOs left behind: %v", left)
	}
}

func mustGetwd(t *testing.T) string {
	t.Helper()
	d, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestClientErrors(t *testing.T) {
	dir := shortDir(t)
	noReader := filepath.Join(dir, "noreader")
	if err := syscall.Mkfifo(noReader, 0600); err != nil {
		t.Fatal(err)
	}
	silent := filepath.Join(dir, "silent") // read by nobody who answers
	if err := syscall.Mkfifo(silent, 0600); err != nil {
		t.Fatal(err)
	}
	hold, err := os.OpenFile(silent, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	regular := filepath.Join(dir, "regular")
	os.WriteFile(regular, nil, 0600)

	tests := []struct {
		name    string
		path    string
		cmd     string
		timeout time.Duration
		is      error
		msg     string
	}{
		{name: "missing FIFO", path: filepath.Join(dir, "ser_fifo"), cmd: "ps", is: fifo.ErrNoFIFO,
			msg: "fifo: " + filepath.Join(dir, "ser_fifo") + ": no such FIFO — is ser running?"},
		{name: "no server", path: noReader, cmd: "ps", is: fifo.ErrNoServer,
			msg: "fifo: " + noReader + ": no server is reading it — is ser running?"},
		{name: "timeout", path: silent, cmd: "ps", timeout: 200 * time.Millisecond, is: context.DeadlineExceeded,
			msg: "fifo: ps: no reply from " + silent + ": context deadline exceeded"},
		{name: "not a FIFO", path: regular, cmd: "ps", msg: "fifo: " + regular + ": not a FIFO"},
		{name: "bad command name", path: silent, cmd: "a:b", msg: `fifo: invalid command name "a:b"`},
		{name: "empty command name", path: silent, cmd: "", msg: `fifo: invalid command name ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			c := &fifo.Client{Path: tt.path, ReplyDir: dir}
			start := time.Now()
			_, err := c.Execute(ctx, tt.cmd, nil)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want errors.Is %v", err, tt.is)
			}
			if err.Error() != tt.msg {
				t.Fatalf("err = %q, want %q", err, tt.msg)
			}
			if time.Since(start) > 3*time.Second {
				t.Fatalf("took %v", time.Since(start))
			}
		})
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "ser_receiver_*")); len(left) != 0 {
		t.Fatalf("reply FIFOs left behind: %v", left)
	}
	// The timed-out request is in the silent FIFO, written in one piece.
	hold.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 4096)
	n, _ := hold.Read(buf)
	if got := string(buf[:n]); !strings.HasPrefix(got, ":ps:ser_receiver_") || !strings.HasSuffix(got, "\n\n") {
		t.Fatalf("request written %q", got)
	}
}

// TestClientTimeoutOption: Client.Timeout bounds a call without a ctx
// deadline.
func TestClientTimeoutOption(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	s, dir, _ := startFIFO(t, testRegistry(release), nil)
	c := &fifo.Client{Path: s.Path(), ReplyDir: dir, Timeout: 150 * time.Millisecond}
	_, err := c.Execute(context.Background(), "slow", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

func TestUnixClient(t *testing.T) {
	s, dir, _ := startUnix(t, coreRegistry(t), nil)
	for _, stream := range []bool{false, true} {
		path := s.Path()
		if stream {
			path = filepath.Join(dir, "ser.sock.stream")
		}
		c := &fifo.UnixClient{Path: path, Dir: dir, Stream: stream}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		rep, err := c.Execute(ctx, "sets", []string{"M", "A: 1\n\nB: 2", ".", "body"})
		cancel()
		if err != nil {
			t.Fatalf("stream=%v: %v", stream, err)
		}
		if want := "200 ok\nline=M\nset=[\"A: 1\" \"\" \"B: 2\"]\nbody=[\"body\"]\n"; rep.Text != want {
			t.Fatalf("stream=%v: reply %q, want %q", stream, rep.Text, want)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "ser_unix_*")); len(left) != 0 {
		t.Fatalf("client sockets left behind: %v", left)
	}
}

func TestUnixClientErrors(t *testing.T) {
	dir := shortDir(t)
	// A socket file nobody is bound to any more.
	dead := filepath.Join(dir, "dead")
	d, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: dead, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	// A socket that receives and never answers.
	mute := filepath.Join(dir, "mute")
	m, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: mute, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	tests := []struct {
		name    string
		path    string
		stream  bool
		timeout time.Duration
		is      error
	}{
		{name: "missing socket", path: filepath.Join(dir, "none"), is: fifo.ErrNoSocket},
		{name: "missing stream socket", path: filepath.Join(dir, "none"), stream: true, is: fifo.ErrNoSocket},
		{name: "no server", path: dead, is: fifo.ErrNoServer},
		{name: "no stream server", path: dead, stream: true, is: fifo.ErrNoServer},
		{name: "timeout", path: mute, timeout: 150 * time.Millisecond, is: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			c := &fifo.UnixClient{Path: tt.path, Dir: dir, Stream: tt.stream}
			_, err := c.Execute(ctx, "ps", nil)
			if !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want errors.Is %v", err, tt.is)
			}
			if !strings.HasPrefix(err.Error(), "fifo: ") {
				t.Fatalf("err = %q", err)
			}
		})
	}
}
