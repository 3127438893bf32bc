package e2e

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BenchmarkCallFlow is the whole stateful relay path of one call through
// the in-process engine running bench/helloworld.cfg (the Hello World
// config of the load benchmark): INVITE in and forwarded, 100 from ser,
// 180 and 200 relayed back, the 2xx ACK and the BYE loose-routed through
// the record-route, the BYE's 200 relayed back — over real UDP sockets.
// Under `-benchmem` allocs/op and B/op are per call and include the
// server's goroutines (the runtime counts the whole process); the two Go
// UAs add a few allocations of their own (BenchmarkCallFlowUAOnly
// measures them, to subtract). Wall time on a shared machine means
// little; allocations do not depend on load (issue 19).
func BenchmarkCallFlow(b *testing.B) {
	cfg, err := os.ReadFile("../bench/helloworld.cfg")
	if err != nil {
		b.Fatal(err)
	}
	srv := startSerLevel(b, slog.LevelWarn, string(cfg))
	uac, uas := newFlowUA(b), newFlowUA(b)
	to := srv.udpAddr()
	for i := range 50 { // warm up pools and the transaction table
		runCall(b, uac, uas, to, -1-i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	for i := 0; b.Loop(); i++ {
		runCall(b, uac, uas, to, i)
	}
	cpu.report(b)
}

// BenchmarkCallFlowParallel is BenchmarkCallFlow with calls in flight at
// once (one UA pair per parallel goroutine, -cpu sets GOMAXPROCS for the
// server and the UAs alike: -cpu 1 is the load benchmark's one pinned
// core): the server works through a queue instead of waking for every
// message, as under load. cpu-µs/op is the process's CPU time per call,
// server and UAs (BenchmarkCallFlowUAOnlyParallel measures the UAs).
func BenchmarkCallFlowParallel(b *testing.B) {
	cfg, err := os.ReadFile("../bench/helloworld.cfg")
	if err != nil {
		b.Fatal(err)
	}
	srv := startSerLevel(b, slog.LevelWarn, string(cfg))
	to := srv.udpAddr()
	runParallelCalls(b, to)
}

// BenchmarkCallFlowUAOnlyParallel is BenchmarkCallFlowParallel without
// the server (the UAs' share of it).
func BenchmarkCallFlowUAOnlyParallel(b *testing.B) { runParallelCalls(b, nil) }

// parallelCalls is the number of calls in flight in the parallel
// benchmarks (per GOMAXPROCS).
const parallelCalls = 16

func runParallelCalls(b *testing.B, to *net.UDPAddr) {
	var seq atomic.Int64
	b.SetParallelism(parallelCalls)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	b.RunParallel(func(pb *testing.PB) {
		uac, uas := newFlowUA(b), newFlowUA(b)
		for pb.Next() {
			runCall(b, uac, uas, to, int(seq.Add(1)))
		}
	})
	cpu.report(b)
}

// BenchmarkRegisterFlow is the REGISTER path of the Hello World config
// through the in-process engine over real UDP: one REGISTER in (parsed,
// routed, save("location") into usrloc in memory), its 200 OK out with the
// contact list. The users cycle over registerUsers, each REGISTER with a
// new Call-ID, as the load benchmark's REGISTER steps do (after the first
// pass every REGISTER updates a binding). cpu-µs/op is the process's CPU
// time (user + system, server and UA) per REGISTER; on a shared machine it
// varies far less than the wall time.
func BenchmarkRegisterFlow(b *testing.B) {
	cfg, err := os.ReadFile("../bench/helloworld.cfg")
	if err != nil {
		b.Fatal(err)
	}
	srv := startSerLevel(b, slog.LevelWarn, string(cfg))
	ua := newFlowUA(b)
	to := srv.udpAddr()
	for i := range registerUsers { // every user registered once
		runRegister(b, ua, to, i, -1)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	for i := 0; b.Loop(); i++ {
		runRegister(b, ua, to, i%registerUsers, i)
	}
	cpu.report(b)
}

// BenchmarkRegisterFlowParallel is BenchmarkRegisterFlow with REGISTERs
// in flight at once (parallelCalls UAs per GOMAXPROCS; -cpu 1 is the load
// benchmark's one core), so the server works through a queue as under
// load. BenchmarkRegisterUAOnlyParallel measures the UAs alone.
func BenchmarkRegisterFlowParallel(b *testing.B) {
	cfg, err := os.ReadFile("../bench/helloworld.cfg")
	if err != nil {
		b.Fatal(err)
	}
	srv := startSerLevel(b, slog.LevelWarn, string(cfg))
	runParallelRegisters(b, srv.udpAddr(), true)
}

// BenchmarkRegisterUAOnlyParallel is BenchmarkRegisterFlowParallel with a
// UA answering each REGISTER with a fixed 200 instead of the server.
func BenchmarkRegisterUAOnlyParallel(b *testing.B) {
	srv := newFlowUA(b)
	go func() {
		buf := make([]byte, 65536)
		for {
			_, from, err := srv.conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			_, _ = srv.conn.WriteToUDP([]byte("SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"), from)
		}
	}()
	runParallelRegisters(b, srv.addr, false)
}

func runParallelRegisters(b *testing.B, to *net.UDPAddr, warm bool) {
	if warm {
		ua := newFlowUA(b)
		for i := range registerUsers { // every user registered once
			runRegister(b, ua, to, i, -1)
		}
	}
	var seq atomic.Int64
	b.SetParallelism(parallelCalls)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	b.RunParallel(func(pb *testing.PB) {
		ua := newFlowUA(b)
		for pb.Next() {
			n := int(seq.Add(1))
			runRegister(b, ua, to, n%registerUsers, n)
		}
	})
	cpu.report(b)
}

// registerUsers is the number of distinct users BenchmarkRegisterFlow
// registers.
const registerUsers = 10_000

// runRegister sends one REGISTER for user n (Call-ID unique per seq) and
// waits for its 200.
func runRegister(b *testing.B, ua *flowUA, to *net.UDPAddr, n, seq int) {
	user := "bench" + strconv.Itoa(n)
	host := to.String()
	id := strconv.Itoa(seq) + "-" + strconv.Itoa(n)
	ua.send(b, to, "REGISTER sip:", host, " SIP/2.0\r\n",
		"Via: SIP/2.0/UDP ", ua.addr.String(), ";branch=z9hG4bK-r", id, ";rport\r\n",
		"From: <sip:", user, "@", host, ">;tag=f", id, "\r\n",
		"To: <sip:", user, "@", host, ">\r\n",
		"Call-ID: reg-", id, "@127.0.0.1\r\n",
		"CSeq: 1 REGISTER\r\n",
		"Contact: <sip:", user, "@", ua.addr.String(), ">\r\n",
		"Expires: 3600\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
	ua.recv(b, "SIP/2.0 200")
}

// cpuClock is the process's CPU time (user + system) at a start.
type cpuClock struct{ start time.Duration }

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuClock { return cpuClock{processCPU()} }

// report adds the CPU time per operation as cpu-µs/op.
func (c cpuClock) report(b *testing.B) {
	if b.N > 0 {
		b.ReportMetric(float64(processCPU()-c.start)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
	}
}

// BenchmarkCallFlowUAOnly runs the UAs' side of BenchmarkCallFlow with
// no server: the UAC sends straight to the UAS, which answers straight
// back. Its allocs/op are the test's own share of BenchmarkCallFlow's.
func BenchmarkCallFlowUAOnly(b *testing.B) {
	uac, uas := newFlowUA(b), newFlowUA(b)
	b.ReportAllocs()
	cpu := startCPU()
	for i := 0; b.Loop(); i++ {
		runCall(b, uac, uas, nil, i)
	}
	cpu.report(b)
}

// flowUA is a UA with a reused receive buffer.
type flowUA struct {
	conn *net.UDPConn
	addr *net.UDPAddr
	buf  []byte
	out  []byte
}

func newFlowUA(b *testing.B) *flowUA {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return &flowUA{conn: c, addr: c.LocalAddr().(*net.UDPAddr), buf: make([]byte, 65536)}
}

func (u *flowUA) send(b *testing.B, to *net.UDPAddr, parts ...string) {
	u.out = u.out[:0]
	for _, p := range parts {
		u.out = append(u.out, p...)
	}
	if _, err := u.conn.WriteToUDP(u.out, to); err != nil {
		b.Fatal(err)
	}
}

// recv returns the next message whose start line begins with prefix,
// skipping others (100 Trying); the slice is valid until the next recv.
func (u *flowUA) recv(b *testing.B, prefix string) []byte {
	for range 5 {
		u.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := u.conn.ReadFromUDP(u.buf)
		if err != nil {
			b.Fatalf("waiting for %q: %v", prefix, err)
		}
		if bytes.HasPrefix(u.buf[:n], []byte(prefix)) {
			return u.buf[:n]
		}
	}
	b.Fatalf("never got %q", prefix)
	return nil
}

// flowHeaders returns the header lines of msg called name (exact
// spelling, as the test and ser write them), each with its CRLF.
func flowHeaders(msg []byte, name string) string {
	var sb strings.Builder
	s := string(msg)
	for {
		i := strings.Index(s, "\r\n"+name+":")
		if i < 0 {
			return sb.String()
		}
		s = s[i+2:]
		j := strings.Index(s, "\r\n")
		sb.WriteString(s[:j+2])
		s = s[j:]
	}
}

// runCall runs one call; to == nil sends straight between the UAs.
func runCall(b *testing.B, uac, uas *flowUA, to *net.UDPAddr, i int) {
	proxy := to
	if to == nil {
		proxy = uas.addr
	}
	id := fmt.Sprintf("bench-%d-%d", i, time.Now().UnixNano())
	callID := id + "@127.0.0.1"
	ruri := "sip:bob@" + uas.addr.String()
	from := "From: <sip:alice@127.0.0.1>;tag=a" + id + "\r\n"
	toHdr := "To: <sip:bob@127.0.0.1>"
	via := fmt.Sprintf("Via: SIP/2.0/UDP %s;branch=z9hG4bK%s", uac.addr, id)
	common := from + "Call-ID: " + callID + "\r\nMax-Forwards: 70\r\n"
	uac.send(b, proxy, "INVITE "+ruri+" SIP/2.0\r\n", via+"1\r\n", common, toHdr+"\r\n",
		"CSeq: 1 INVITE\r\nContact: <sip:alice@", uac.addr.String(), ">\r\nContent-Length: 0\r\n\r\n")
	inv := uas.recv(b, "INVITE ")
	vias, rr := flowHeaders(inv, "Via"), flowHeaders(inv, "Record-Route")
	back := vias + rr + from + "Call-ID: " + callID + "\r\n" + toHdr + ";tag=b\r\nCSeq: 1 INVITE\r\n"
	replyTo := uac.addr
	if to != nil {
		replyTo = to
	}
	uas.send(b, replyTo, "SIP/2.0 180 Ringing\r\n", back, "Content-Length: 0\r\n\r\n")
	uac.recv(b, "SIP/2.0 180")
	uas.send(b, replyTo, "SIP/2.0 200 OK\r\n", back, "Contact: <sip:bob@", uas.addr.String(), ">\r\nContent-Length: 0\r\n\r\n")
	ok := uac.recv(b, "SIP/2.0 200")
	// The route set is the Record-Route of the 200 (one entry, ser's).
	route := strings.Replace(flowHeaders(ok, "Record-Route"), "Record-Route:", "Route:", 1)
	dialog := common + toHdr + ";tag=b\r\n" + route
	target := "sip:bob@" + uas.addr.String()
	uac.send(b, proxy, "ACK "+target+" SIP/2.0\r\n", via+"2\r\n", dialog, "CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n")
	uas.recv(b, "ACK ")
	uac.send(b, proxy, "BYE "+target+" SIP/2.0\r\n", via+"3\r\n", dialog, "CSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n")
	bye := uas.recv(b, "BYE ")
	uas.send(b, replyTo, "SIP/2.0 200 OK\r\n", flowHeaders(bye, "Via"), from, "Call-ID: ", callID,
		"\r\n", toHdr, ";tag=b\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n")
	uac.recv(b, "SIP/2.0 200")
}
