package sercmd_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"ser/core"
	_ "ser/core/modules"
	"ser/core/rpc"
	. "ser/core/rpc/sercmd"
)

const testCfg = `
fork=no
loadmodule "modules/sl/sl.so"
loadmodule "modules/tm/tm.so"
loadmodule "modules/usrloc/usrloc.so"
loadmodule "modules/registrar/registrar.so"
modparam("usrloc", "db_mode", 0)
route {
	if (method=="REGISTER") { save("location"); break; };
	lookup("aliases");
	if (!lookup("location")) { sl_send_reply("404", "Not Found"); break; };
	t_relay();
}
`

// textOnly runs commands in process but keeps only the replies' text, as
// a FIFO client receives them: the client then parses.
type textOnly struct{ exec rpc.Executor }

func (x textOnly) Execute(ctx context.Context, cmd string, params []string) (*rpc.Reply, error) {
	rep, err := x.exec.Execute(ctx, cmd, params)
	if err != nil {
		return nil, err
	}
	return rpc.Raw(rep.Text), nil
}

// loadSer loads testCfg; with start the server binds 127.0.0.1:0.
func loadSer(t *testing.T, start bool) *core.Instance {
	t.Helper()
	inst, err := core.Load("test.cfg", []byte(testCfg), core.LoadOptions{
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Override: func(o *core.Options) {
			o.Listen = []core.ListenAddr{{Host: "127.0.0.1", Port: 0, PortSet: true}}
			o.Port = 0
			o.FIFO, o.UnixSock, o.HTTP = "", "", ""
			o.DBURL = "sqlite://:memory:"
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if start {
		if err := inst.Start(); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(inst.Stop)
	return inst
}

// TestAgainstSer runs every usrloc and statistics command against the real
// modules, in process (the commands' values) and as text only (the
// parsers, on ser's own output).
func TestAgainstSer(t *testing.T) {
	for _, tc := range []struct {
		name string
		exec func(*rpc.Registry) rpc.Executor
	}{
		{"in process", func(r *rpc.Registry) rpc.Executor { return rpc.NewLocal(r) }},
		{"text only", func(r *rpc.Registry) rpc.Executor { return textOnly{rpc.NewLocal(r)} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inst := loadSer(t, false)
			againstSer(t, &Client{Exec: tc.exec(inst.Server.RPC())})
		})
	}
}

func againstSer(t *testing.T, c *Client) {
	ctx := context.Background()

	if cs, err := c.ShowContacts(ctx, "location", "john@example.com"); err != nil || cs != nil {
		t.Fatalf("unknown user: %v, %v", cs, err)
	}
	if _, err := c.ShowContacts(ctx, "nosuch", "john@example.com"); !IsNoTable(err) {
		t.Fatalf("unknown table: %v", err)
	}
	if err := c.Add(ctx, "location", "john@example.com", "sip:john@10.0.0.1:5060", 3600, "0.5"); err != nil {
		t.Fatal(err)
	}
	if err := c.AddPermanent(ctx, "aliases", "8885551192@example.com", "sip:john@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := c.AddPermanent(ctx, "nosuch", "x", "sip:x@y.z"); !IsNoTable(err) {
		t.Fatalf("ul_add to unknown table: %v", err)
	}
	cs, err := c.ShowContacts(ctx, "location", "john@example.com")
	if err != nil || len(cs) != 1 || cs[0].URI != "sip:john@10.0.0.1:5060" || cs[0].Q != "0.5" || cs[0].Expires <= 3500 || cs[0].Permanent {
		t.Fatalf("show contact: %+v, %v", cs, err)
	}
	cs, _ = c.ShowContacts(ctx, "aliases", "8885551192")
	if len(cs) != 1 || !cs[0].Permanent {
		t.Fatalf("alias: %+v", cs)
	}
	tables, err := c.Dump(ctx)
	if err != nil || len(tables) != 2 {
		t.Fatalf("dump: %+v, %v", tables, err)
	}
	loc, ok, _ := c.DumpTable(ctx, "location")
	if !ok || len(loc.Records) != 1 || loc.Records[0].AOR != "john" || len(loc.Records[0].Contacts) != 1 {
		t.Fatalf("location: %+v", loc)
	}
	if ct := loc.Records[0].Contacts[0]; ct.UserAgent != "SIP Express Router FIFO" || ct.CSeq != 42 || ct.Permanent {
		t.Errorf("contact %+v", ct)
	}
	al, _, _ := c.DumpTable(ctx, "aliases")
	if len(al.Records) != 1 || !al.Records[0].Contacts[0].Permanent || al.Records[0].Contacts[0].URI != "sip:john@example.com" {
		t.Errorf("aliases %+v", al)
	}
	if _, ok, _ := c.DumpTable(ctx, "nosuch"); ok {
		t.Error("nosuch table found")
	}
	ul, err := c.ULStats(ctx)
	if err != nil || len(ul) != 2 {
		t.Fatalf("ul_stats %+v %v", ul, err)
	}
	if err := c.RemoveContact(ctx, "location", "john@example.com", "sip:nobody@1.2.3.4"); Code(err) != 404 {
		t.Errorf("remove unknown contact: %v", err)
	}
	if err := c.RemoveContact(ctx, "location", "john@example.com", "sip:john@10.0.0.1:5060"); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveAOR(ctx, "aliases", "8885551192@example.com"); err != nil {
		t.Fatal(err)
	}
	if cs, _ := c.ShowContacts(ctx, "aliases", "8885551192"); len(cs) != 0 {
		t.Errorf("alias left: %+v", cs)
	}
	if _, err := c.TStats(ctx); err != nil {
		t.Error(err)
	}
	if sl, err := c.SLStats(ctx); err != nil || len(sl.Counters()) != 20 {
		t.Errorf("sl_stats %v %v", sl, err)
	}
	if up, err := c.Uptime(ctx); err != nil || up.Since == "" {
		t.Errorf("uptime %+v %v", up, err)
	}
	if v, err := c.Version(ctx); err != nil || !strings.HasPrefix(v, "Sip EXpress router (") {
		t.Errorf("version %q %v", v, err)
	}
	if _, err := c.Run(ctx, "nosuch_cmd"); !IsNotAvailable(err) {
		t.Errorf("unknown command: %v", err)
	}
}

type failExec struct{}

func (failExec) Execute(context.Context, string, []string) (*rpc.Reply, error) {
	return nil, errors.New("open /tmp/ser_fifo: no such file or directory")
}

func TestUnavailable(t *testing.T) {
	c := &Client{Exec: failExec{}}
	_, err := c.Dump(context.Background())
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("err = %v", err)
	}
	var nilc *Client
	if _, err := nilc.Run(context.Background(), "ps"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("nil client: %v", err)
	}
}

// TestSendMessage sends a MESSAGE through tm's t_uac_dlg to a UDP socket
// that answers 200, and checks the request and the escaped body.
func TestSendMessage(t *testing.T) {
	inst := loadSer(t, true)
	c := &Client{Exec: rpc.NewLocal(inst.Server.RPC())}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, 65536)
		pc.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			got <- ""
			return
		}
		req := string(buf[:n])
		got <- req
		var resp strings.Builder
		resp.WriteString("SIP/2.0 200 OK\r\n")
		for _, l := range strings.Split(req, "\r\n")[1:] {
			if l == "" {
				break
			}
			name, _, _ := strings.Cut(l, ":")
			switch strings.ToLower(name) {
			case "via", "from", "to", "call-id", "cseq":
				resp.WriteString(l + "\r\n")
			}
		}
		resp.WriteString("Content-Length: 0\r\n\r\n")
		pc.WriteTo([]byte(resp.String()), from)
	}()
	to := "sip:bob@" + pc.LocalAddr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := c.SendMessage(ctx, Message{From: "sip:alice@example.com", To: to, Body: "hello\n.\nworld"})
	if err != nil || !res.Delivered() || res.Code != 200 {
		t.Fatalf("result %+v, %v", res, err)
	}
	req := <-got
	if !strings.HasPrefix(req, "MESSAGE "+to+" SIP/2.0\r\n") || !strings.Contains(req, "Content-Type: text/plain; charset=UTF-8") ||
		!strings.HasSuffix(req, "\r\n\r\nhello\r\n .\r\nworld\r\n") || !strings.Contains(req, "From: <sip:alice@example.com>") {
		t.Errorf("request:\n%s", req)
	}
}
