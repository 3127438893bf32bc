package main

// The idle-tcp mode: many idle TCP connections held against ser (issue
// 14: 20,000 of them took RSS from 25 MB to 1.67 GB and every descriptor).
// Helper processes (this program re-executed with -idle-holder, each
// within its own RLIMIT_NOFILE) open the connections, send one CRLF
// keep-alive each — so that tcp_msg_data_timeout does not end them and
// only tcp_connection_lifetime (120 s) would — and hold them. Meanwhile
// ser's RSS and descriptors are read from /proc, and UDP, a TCP
// connection opened before, the FIFO, XML-RPC and the console must all
// answer. Then the connections are released and RSS read again.

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"ser/fifo"
)

var (
	idleConns  = flag.Int("idle", 20000, "idle-tcp: connections to hold")
	idleHolder = flag.Int("idle-holder", 0, "(internal) hold this many connections to -idle-addr until stdin closes")
	idleAddr   = flag.String("idle-addr", "", "(internal) address for -idle-holder")
	idleNet    = flag.Int("idle-net", 1, "(internal) -idle-holder dials from 127.<idle-net>.0.1-20")
)

// holdIdle is the helper process: it opens n connections, sends a CRLF
// keep-alive on each, prints how many it holds and waits for stdin to
// close.
func holdIdle(n int, addr string) {
	var held []net.Conn
	refused := 0
	for i := 0; i < n; i++ {
		// 20 source addresses, so that tcp_accept_iplimit (1024 per
		// address) does not stop them before tcp_max_connections.
		d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, byte(*idleNet), 0, byte(1+i%20))}}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			if errors.Is(err, syscall.EMFILE) {
				fmt.Fprintf(os.Stderr, "holder: descriptor limit after %d connections\n", len(held))
				break
			}
			refused++
			continue
		}
		_, _ = c.Write([]byte("\r\n\r\n"))
		held = append(held, c)
	}
	fmt.Printf("held %d refused-at-connect %d\n", len(held), refused)
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, c := range held {
		c.Close()
	}
}

func runIdleTCP(bin, here, dir string) {
	sipAddr := fmt.Sprintf("127.0.0.1:%d", *port)
	httpAddr := fmt.Sprintf("127.0.0.1:%d", *port+1)
	fifoPath := filepath.Join(dir, "ser_fifo")
	cfg, err := os.ReadFile(filepath.Join(here, "helloworld.cfg"))
	check(err)
	cfgPath := filepath.Join(dir, "idle.cfg")
	check(os.WriteFile(cfgPath, []byte(fmt.Sprintf("fifo=%q\nfifo_dir=%q\ndb_url=\"sqlite://%s/ser.db\"\n%s",
		fifoPath, dir+"/", dir, cfg)), 0o644))
	p := startServer(cfgPath, dir, "ser", bin, "-f", cfgPath, "-D", "-E", "-H", httpAddr, "-l", sipAddr)
	defer p.stop()
	pid := p.cmd.Process.Pid
	fc := fifo.NewClient(fifoPath)
	fc.ReplyDir = dir + "/"
	fifoCmd := func(cmd string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r, err := fc.Execute(ctx, cmd, nil)
		if err != nil {
			return "", err
		}
		return r.Text, nil
	}
	stat := func(name string) int {
		out, _ := fifoCmd("core_stats")
		for _, l := range strings.Split(out, "\n") {
			if v, ok := strings.CutPrefix(l, name+": "); ok {
				n, _ := strconv.Atoi(v)
				return n
			}
		}
		return -1
	}
	for i := 0; i < 100 && stat("tcp_connections") < 0; i++ {
		time.Sleep(50 * time.Millisecond)
	}

	early, err := net.Dial("tcp", sipAddr)
	check(err)
	defer early.Close()
	er := bufio.NewReader(early)
	_, _ = early.Write([]byte("\r\n\r\n")) // data: not closed by tcp_msg_data_timeout
	time.Sleep(time.Second)
	fmt.Printf("\n== idle TCP connections against ser (default limits), %d to be held\n", *idleConns)
	fmt.Printf("before: RSS %.1f MB, %d descriptors\n", groupRSSMB(pid), fds(pid))

	self, err := os.Executable()
	check(err)
	const perHolder = 10000
	var holders []*exec.Cmd
	var stdins []io.Closer
	held := 0
	for left := *idleConns; left > 0; left -= perHolder {
		n := min(left, perHolder)
		cmd := exec.Command(self, "-idle-holder", strconv.Itoa(n), "-idle-addr", sipAddr, "-idle-net", strconv.Itoa(1+len(holders)))
		in, err := cmd.StdinPipe()
		check(err)
		out, err := cmd.StdoutPipe()
		check(err)
		cmd.Stderr = os.Stderr
		check(cmd.Start())
		holders, stdins = append(holders, cmd), append(stdins, in)
		line, _ := bufio.NewReader(out).ReadString('\n')
		var h, r int
		fmt.Sscanf(line, "held %d refused-at-connect %d", &h, &r)
		held += h
	}
	time.Sleep(2 * time.Second)
	fmt.Printf("%d connections opened (%d still held by the clients, the others reset at once): ser has %d open (refused %d), RSS %.1f MB, %d descriptors\n",
		*idleConns, held, stat("tcp_connections"), stat("tcp_refused"), groupRSSMB(pid), fds(pid))

	answer := func(what string, err error) {
		if err != nil {
			fmt.Printf("  %-34s FAILED: %v\n", what, err)
			return
		}
		fmt.Printf("  %-34s answers\n", what)
	}
	answer("UDP REGISTER", udpRegister(sipAddr))
	answer("TCP REGISTER (connection from before)", tcpRegisterOn(early, er, sipAddr))
	_, ferr := fifoCmd("uptime")
	answer("FIFO uptime", ferr)
	answer("XML-RPC uptime", xmlrpcUptime(httpAddr))
	answer("web console /login", httpGet("http://"+httpAddr+"/login"))

	for _, in := range stdins {
		in.Close()
	}
	for _, h := range holders {
		h.Wait()
	}
	for i := 0; i < 200 && stat("tcp_connections") > 1; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	start := time.Now()
	for _, at := range []time.Duration{time.Second, 10 * time.Second, 30 * time.Second, 60 * time.Second} {
		time.Sleep(time.Until(start.Add(at)))
		fmt.Printf("%v after release: ser has %d open, RSS %.1f MB, %d descriptors\n", at, stat("tcp_connections"), groupRSSMB(pid), fds(pid))
	}
}

// fds counts a process's open descriptors.
func fds(pid int) int {
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(ents)
}

func udpRegister(addr string) error {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	return exchange(c, bufio.NewReader(c), registerMsg(addr, c.LocalAddr().String(), "UDP", "idleudp"))
}

func tcpRegisterOn(c net.Conn, r *bufio.Reader, addr string) error {
	return exchange(c, r, registerMsg(addr, c.LocalAddr().String(), "TCP", "idletcp"))
}

func registerMsg(target, local, proto, user string) string {
	return strings.ReplaceAll(fmt.Sprintf(`REGISTER sip:%[1]s SIP/2.0
Via: SIP/2.0/%[3]s %[2]s;branch=z9hG4bK%[4]s%[5]d
Max-Forwards: 70
From: <sip:%[4]s@%[1]s>;tag=i1
To: <sip:%[4]s@%[1]s>
Call-ID: %[4]s-%[5]d
CSeq: 1 REGISTER
Contact: <sip:%[4]s@%[2]s>
Expires: 600
Content-Length: 0

`, target, local, proto, user, time.Now().UnixNano()), "\n", "\r\n")
}

// exchange sends a request and reads the first line of the answer.
func exchange(c net.Conn, r *bufio.Reader, msg string) error {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, msg); err != nil {
		return err
	}
	line := "\r\n"
	for strings.TrimSpace(line) == "" { // skip CRLF keep-alive answers
		var err error
		if line, err = r.ReadString('\n'); err != nil {
			return err
		}
	}
	if !strings.HasPrefix(line, "SIP/2.0 200") {
		return fmt.Errorf("answer %q", strings.TrimSpace(line))
	}
	return nil
}

func xmlrpcUptime(addr string) error {
	body := `<?xml version="1.0"?><methodCall><methodName>uptime</methodName></methodCall>`
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Post("http://"+addr+"/xmlrpc", "text/xml", strings.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || strings.Contains(string(b), "faultCode") {
		return fmt.Errorf("%d %s", resp.StatusCode, b)
	}
	return nil
}

func httpGet(url string) error {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}
