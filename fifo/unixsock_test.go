package fifo_test

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ser/core/rpc"
	"ser/fifo"
)

func startUnix(t *testing.T, reg *rpc.Registry, mod func(*fifo.UnixConfig)) (*fifo.UnixServer, string, *logBuf) {
	t.Helper()
	dir := shortDir(t)
	logs := &logBuf{}
	cfg := fifo.UnixConfig{
		Path:       filepath.Join(dir, "ser.sock"),
		StreamPath: filepath.Join(dir, "ser.sock.stream"),
		Logger:     logs.logger(),
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := fifo.ListenUnix(cfg, reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir, logs
}

// exchange sends one datagram from a bound client socket and returns the
// reply datagram.
func exchange(t *testing.T, dir, server, req string) string {
	t.Helper()
	local := filepath.Join(dir, "client")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: local, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(local)
	defer c.Close()
	if _, err := c.WriteToUnix([]byte(req), &net.UnixAddr{Name: server, Net: "unixgram"}); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, fifo.BufSize)
	n, _, err := c.ReadFromUnix(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

// TestUnixDatagram: testdata/unixsock/*.txt transcripts, one datagram each.
func TestUnixDatagram(t *testing.T) {
	files, err := filepath.Glob("testdata/unixsock/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	s, dir, _ := startUnix(t, coreRegistry(t), nil)
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			tr := readTranscript(t, file)
			if got, want := exchange(t, dir, s.Path(), tr["request"]), tr["reply"]; got != want {
				t.Fatalf("reply\n got %q\nwant %q", got, want)
			}
		})
	}
}

func TestUnixStream(t *testing.T) {
	s, _, _ := startUnix(t, coreRegistry(t), nil)
	stream := filepath.Join(filepath.Dir(s.Path()), "ser.sock.stream")
	tests := []struct {
		name      string
		req, want string
		closeW    bool
	}{
		{name: "half-closed", req: ":print:\nstream\n\n", want: "200 OK\nstream\n", closeW: true},
		{name: "idle after a line feed", req: ":print:\nidle\n\n", want: "200 OK\nidle\n"},
		{name: "malformed", req: "print\n", want: "400 First line malformed\n", closeW: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: stream, Net: "unix"})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(3 * time.Second))
			if _, err := c.Write([]byte(tt.req)); err != nil {
				t.Fatal(err)
			}
			if tt.closeW {
				c.CloseWrite()
			}
			got, err := io.ReadAll(c)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("reply %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUnixServerFiles(t *testing.T) {
	t.Run("processes", func(t *testing.T) {
		s, _, _ := startUnix(t, coreRegistry(t), func(c *fifo.UnixConfig) { c.Children = 3 })
		got := s.Processes()
		if len(got) != 3 || got[0] != "unix domain socket server" {
			t.Fatalf("Processes() = %q", got)
		}
	})
	t.Run("mode and close", func(t *testing.T) {
		s, dir, _ := startUnix(t, coreRegistry(t), nil)
		for _, p := range []string{s.Path(), filepath.Join(dir, "ser.sock.stream")} {
			fi, err := os.Lstat(p)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0660 {
				t.Fatalf("%s: mode %v", p, fi.Mode())
			}
		}
		s.Close()
		for _, p := range []string{s.Path(), filepath.Join(dir, "ser.sock.stream")} {
			if _, err := os.Lstat(p); !os.IsNotExist(err) {
				t.Fatalf("%s still there: %v", p, err)
			}
		}
	})
	t.Run("stale socket replaced", func(t *testing.T) {
		dir := shortDir(t)
		path := filepath.Join(dir, "s")
		old, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
		if err != nil {
			t.Fatal(err)
		}
		old.Close() // the socket file stays
		s, err := fifo.ListenUnix(fifo.UnixConfig{Path: path}, coreRegistry(t))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if got := exchange(t, dir, path, ":print:\nx\n"); got != "200 OK\nx\n" {
			t.Fatalf("reply %q", got)
		}
	})
	t.Run("regular file is not removed", func(t *testing.T) {
		dir := shortDir(t)
		path := filepath.Join(dir, "s")
		os.WriteFile(path, []byte("data"), 0600)
		_, err := fifo.ListenUnix(fifo.UnixConfig{Path: path}, coreRegistry(t))
		if err == nil || !strings.Contains(err.Error(), "is not a socket") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestUnixChildren: with two children a slow command does not hold up
// the next datagram.
func TestUnixChildren(t *testing.T) {
	release := make(chan struct{})
	s, dir, _ := startUnix(t, testRegistry(release), func(c *fifo.UnixConfig) { c.Children = 2 })
	cl := &fifo.UnixClient{Path: s.Path(), Dir: dir}
	slow := make(chan string, 1)
	go func() {
		rep, err := cl.Execute(context.Background(), "slow", nil)
		if err != nil {
			slow <- err.Error()
			return
		}
		slow <- rep.Text
	}()
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	rep, err := cl.Execute(ctx, "echo", []string{"fast"})
	if err != nil || rep.Text != "200 OK\nfast\n" {
		t.Fatalf("fast: %v %v", rep, err)
	}
	close(release)
	if got := <-slow; got != "200 ok\nslow done\n" {
		t.Fatalf("slow: %q", got)
	}
}

// TestUnixSplitRequests: over the datagram socket a request is one
// datagram, as in SER (unixsock_server.c parses each datagram as a whole
// request): parameters sent in a second datagram are a malformed request
// of their own. Over the stream socket a client may pause between its
// writes; a request still incomplete at RequestTimeout is answered 408.
func TestUnixSplitRequests(t *testing.T) {
	s, dir, _ := startUnix(t, coreRegistry(t), func(c *fifo.UnixConfig) { c.RequestTimeout = time.Second })
	if got, want := exchange(t, dir, s.Path(), ":print:\n"), "200 OK\n\n"; got != want {
		t.Fatalf("header datagram: reply %q, want %q", got, want)
	}
	if got, want := exchange(t, dir, s.Path(), "split\n\n"), "400 First line malformed\n"; got != want {
		t.Fatalf("parameter datagram: reply %q, want %q", got, want)
	}

	stream := filepath.Join(filepath.Dir(s.Path()), "ser.sock.stream")
	for _, tc := range []struct {
		name   string
		writes []string
		want   string
	}{
		{"pause after the first line", []string{":print:\n", "slow\n", "\n"}, "200 OK\nslow\n"},
		{"pause in a line", []string{":print:\nsl", "ow\n\n"}, "200 OK\nslow\n"},
		{"stalled", []string{":print:\nstuck\n"}, "408 Request incomplete: the rest of it did not arrive within 1s\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: stream, Net: "unix"})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			for i, w := range tc.writes {
				if i > 0 {
					time.Sleep(300 * time.Millisecond) // the client's pause
				}
				if _, err := c.Write([]byte(w)); err != nil {
					t.Fatal(err)
				}
			}
			got, err := io.ReadAll(c)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("reply %q, want %q", got, tc.want)
			}
		})
	}
}
