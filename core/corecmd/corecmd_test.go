package corecmd_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ser/core/corecmd"
	"ser/core/rpc"
	"ser/fifo"
)

// fakeInfo is a server with fixed answers.
type fakeInfo struct {
	shutdowns atomic.Int32
	down      chan struct{}
}

func (*fakeInfo) Version() string { return "0.9.6" }
func (*fakeInfo) Arch() string    { return "i386" }
func (*fakeInfo) OS() string      { return "linux" }
func (*fakeInfo) StartTime() time.Time {
	return time.Date(2002, time.December, 6, 17, 56, 7, 0, time.UTC)
}
func (*fakeInfo) Now() time.Time {
	return time.Date(2002, time.December, 6, 17, 56, 10, 400e6, time.UTC)
}
func (*fakeInfo) Processes() []corecmd.Process {
	return []corecmd.Process{
		{PID: 4242, Desc: "attendant"},
		{PID: 4242, Desc: "receiver child=0 sock= 127.0.0.1:5060"},
		{PID: 4242, Desc: fifo.ProcessDesc},
		{PID: 4242, Desc: "timer"},
		{PID: 4242, Desc: fifo.UnixProcessDesc},
	}
}
func (*fakeInfo) Args() []string { return []string{"ser", "-f", "/etc/ser/ser.cfg"} }
func (f *fakeInfo) Shutdown() {
	if f.shutdowns.Add(1) == 1 && f.down != nil {
		close(f.down)
	}
}

func newRegistry(t *testing.T, info corecmd.Info) *rpc.Registry {
	t.Helper()
	reg := rpc.NewRegistry()
	if err := corecmd.Register(reg, info); err != nil {
		t.Fatal(err)
	}
	return reg
}

// transcript is one testdata file: sections "-- name --" whose content
// runs to the next marker, final line feed included. "<CR>" stands for a
// carriage return and a final "<NOEOL>" for a missing final line feed.
type transcript map[string]string

func readTranscript(t *testing.T, path string) transcript {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tr := transcript{}
	var name string
	var body strings.Builder
	flush := func() {
		if name != "" {
			s := strings.ReplaceAll(body.String(), "<CR>", "\r")
			if strings.HasSuffix(s, "<NOEOL>\n") {
				s = strings.TrimSuffix(s, "<NOEOL>\n")
			}
			tr[name] = s
		}
		body.Reset()
	}
	for _, line := range strings.SplitAfter(string(b), "\n") {
		trimmed := strings.TrimSuffix(line, "\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") {
			flush()
			name = strings.TrimSuffix(strings.TrimPrefix(trimmed, "-- "), " --")
			continue
		}
		if name != "" {
			body.WriteString(line)
		}
	}
	flush()
	return tr
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			tr := readTranscript(t, file)
			if strings.Contains(tr["setup"], "getwd error") {
				defer corecmd.SetGetwd(func() (string, error) { return "", errors.New("gone") })()
			} else {
				defer corecmd.SetGetwd(func() (string, error) { return "/var/run/ser", nil })()
			}
			reg := newRegistry(t, &fakeInfo{})
			req := []byte(tr["request"])

			fr, err := fifo.ParseFIFO(req)
			if err != nil {
				t.Fatalf("ParseFIFO: %v", err)
			}
			got := reg.Execute(context.Background(), fr.Cmd, fr.Params(rpc.FIFO), rpc.FIFO).Text
			if want := tr["fifo"]; got != want {
				t.Errorf("fifo reply\n got %q\nwant %q", got, want)
			}

			ur, err := fifo.ParseDatagram(req)
			if err != nil {
				t.Fatalf("ParseDatagram: %v", err)
			}
			got = reg.Execute(context.Background(), ur.Cmd, ur.Params(rpc.UnixSock), rpc.UnixSock).Text
			if want := tr["unixsock"]; got != want {
				t.Errorf("unixsock reply\n got %q\nwant %q", got, want)
			}
		})
	}
}

func TestKillShutsDown(t *testing.T) {
	info := &fakeInfo{down: make(chan struct{})}
	reg := newRegistry(t, info)
	rep := reg.Execute(context.Background(), "kill", nil, rpc.FIFO)
	if rep.Code != 200 {
		t.Fatalf("kill: %q", rep.Text)
	}
	select {
	case <-info.down:
	case <-time.After(5 * time.Second):
		t.Fatal("kill did not call Shutdown")
	}
}

func TestRegister(t *testing.T) {
	tests := []struct {
		name    string
		pre     []string
		info    corecmd.Info
		wantErr string
	}{
		{name: "fresh registry", info: &fakeInfo{}},
		{name: "nil info", wantErr: "nil Info"},
		{name: "duplicate", pre: []string{"ps"}, info: &fakeInfo{}, wantErr: `"ps" already registered`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := rpc.NewRegistry()
			for _, n := range tt.pre {
				reg.MustRegister(rpc.Command{Name: n, Handler: func(context.Context, *rpc.Request) *rpc.Reply { return nil }})
			}
			err := corecmd.Register(reg, tt.info)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// realInfo has no Clock: uptime uses time.Now.
type realInfo struct{ fakeInfo }

func (*realInfo) Now() {} // shadows fakeInfo.Now with a non-Clock method

func TestUptimeUsesTimeNow(t *testing.T) {
	reg := newRegistry(t, &realInfo{})
	rep := reg.Execute(context.Background(), "uptime", nil, rpc.FIFO)
	now := time.Now().Format(time.ANSIC)[:16] // to the minute
	if !strings.HasPrefix(rep.Text, "200 ok\nNow: "+now) {
		t.Fatalf("uptime = %q, want Now: %s…", rep.Text, now)
	}
	if !strings.Contains(rep.Text, "Up Since: Fri Dec  6 17:56:07 2002\n") {
		t.Fatalf("uptime = %q", rep.Text)
	}
}
