// Command bench measures ser — and, for comparison, Kamailio — with SIPp
// on 127.0.0.1 and prints, per server, scenario and offered rate: the
// achieved rate, failed calls, retransmissions, response time p50/p99
// (SIPp's rtd), the server's CPU use and RSS; then the highest rate each
// server sustained with < 0.5 % failed calls and no retransmissions, and
// the ratios ser/Kamailio.
//
//	go run ./bench                                   # ser, every scenario
//	go run ./bench -server both -ser-cpu 1 -sipp-cpu 0 -mode register,calls,ceiling
//	go run ./bench -mode calls -rates 500,1000,2000 -duration 10s
//
// Scenarios:
//
//	register   REGISTER of distinct users, 200 expected (bench/register.xml)
//	stateless  (ser only) OPTIONS forwarded statelessly to a SIPp responder
//	           and its 200 routed back
//	calls      INVITE/100/180/200/ACK/BYE/200 with record-routing through
//	           the Hello World config (bench/helloworld.cfg for ser,
//	           bench/kamailio.cfg for Kamailio) to a registered SIPp uas
//	calls-tcp  the same calls over TCP: SIPp uac and uas each on one
//	           connection to the server (-t t1), the uas registered with
//	           ;transport=tcp
//	register-auth  REGISTER with digest authentication (401, then the
//	           answer, 200) against an SQLite subscriber table, the contact
//	           written through to SQLite (usrloc db_mode 1):
//	           bench/auth_sqlite.cfg, bench/kamailio_auth_sqlite.cfg;
//	           -auth-users distinct subscribers (ha1 stored) registered in
//	           turn, each call with its own credentials (bench/register_auth.xml)
//	calls-acc  the calls with accounting to SQLite: the Hello World
//	           configs with acc's db_flag set on every relayed request (a
//	           row for the INVITE's and the BYE's final reply), derived at
//	           run time (accConfig)
//	register-auth-mysql, calls-acc-mysql
//	           the same on MariaDB (ser's db_url mysql://, Kamailio's
//	           db_mysql on Debian's kamailio mysql schema): a private
//	           mariadbd the bench starts and stops (bench/mariadb.go);
//	           after each step the bench prints mariadbd's CPU and its
//	           statement counters per call (SHOW GLOBAL STATUS)
//	ceiling    the load generator alone: SIPp uac straight to SIPp uas
//	ceiling-register  the REGISTER load generator alone: bench/register.xml
//	           straight to a SIPp uas answering 200 (bench/register_uas.xml)
//	           pinned to the server's CPU
//	idle-tcp   (ser only, no SIPp) -idle N idle TCP connections held by
//	           helper processes: ser's RSS and descriptors before, during
//	           and after, and whether UDP, TCP, the FIFO, XML-RPC and the
//	           web console answer meanwhile
//
// Both servers get the same pinning (-ser-cpu for the server, -sipp-cpu
// for SIPp), so that on two cores the comparison is fair. For scaling,
// leave -ser-cpu empty (the server may use every core) and set
// -gomaxprocs for ser and -kamailio-children for Kamailio.
//
// Workers: ser's configs say fork=no (one worker, SER's single-process
// mode) and Kamailio's children=1. -ser-children N runs ser with fork=yes
// and children=N, -kamailio-children N Kamailio with N; give both the
// same N to compare at equal workers (the database scenarios wait on
// round trips, so more workers than cores pay there).
package main

import (
	"bufio"
	"encoding/csv"
	"flag"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var (
	modeFlag   = flag.String("mode", "register,stateless,calls", "scenarios: register, stateless, calls, calls-tcp, register-auth, calls-acc, register-auth-mysql, calls-acc-mysql, ceiling, ceiling-register, idle-tcp (comma-separated)")
	serverFlag = flag.String("server", "ser", "server(s) to measure: ser, kamailio or both")
	ratesReg   = flag.String("rates-register", "2000,5000,10000,15000,20000,25000,30000", "offered REGISTER/s steps")
	ratesSL    = flag.String("rates-stateless", "2000,5000,10000,15000,20000", "offered requests/s steps (stateless)")
	ratesCal   = flag.String("rates-calls", "500,1000,1500,2000,2500,3000,3500,4000,5000", "offered calls/s steps")
	ratesCeil  = flag.String("rates-ceiling", "4000,8000,12000,16000", "offered calls/s steps (SIPp to SIPp)")
	rates      = flag.String("rates", "", "override the steps of every selected scenario")
	duration   = flag.Duration("duration", 5*time.Second, "length of each step")
	serCPU     = flag.String("ser-cpu", "", "pin the server to these CPUs (taskset list, e.g. 1)")
	sippCPU    = flag.String("sipp-cpu", "", "pin SIPp to these CPUs (e.g. 0)")
	port       = flag.Int("port", 5070, "the server's port on 127.0.0.1 (SIPp uses the next ports)")
	serBin     = flag.String("ser", "", "ser binary (default: build it)")
	kamBin     = flag.String("kamailio", "kamailio", "kamailio binary")
	goMaxProcs = flag.Int("gomaxprocs", 0, "ser's GOMAXPROCS (0: the Go default, every CPU the server may run on)")
	kamKids    = flag.Int("kamailio-children", 0, "Kamailio's UDP workers (-n; 0 keeps bench/kamailio.cfg's children=1)")
	serKids    = flag.Int("ser-children", 0, "ser's request workers (the config's fork=no becomes fork=yes, children=N; 0 keeps fork=no: one worker)")
	rcvBuf     = flag.Int("maxbuffer", 0, "UDP receive buffer for both servers (-b; 0 keeps their default, 256 KB)")
	stopFail   = flag.Bool("stop-on-failure", true, "stop stepping a scenario after the first step that is not ok")
	keep       = flag.Bool("keep", false, "keep the work directory (logs, SIPp statistics) and print its path")
)

// step is the outcome of one rate step.
type step struct {
	Offered  int
	Calls    int
	Success  int
	Failed   int
	Retrans  int
	Elapsed  time.Duration
	P50, P99 float64 // response time, ms (SIPp's resolution is 1 ms)
	CPU      float64 // the server's CPU use over the step, percent of one core
	RSSMB    float64
}

func (s step) achieved() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Success) / s.Elapsed.Seconds()
}

func (s step) ok() bool {
	return s.Calls > 0 && s.Success > 0 && float64(s.Failed) < 0.005*float64(s.Calls) && s.Retrans == 0
}

// result is the best step of a server and scenario.
type result struct {
	server, mode string
	best         step
}

func main() {
	flag.Parse()
	if *idleHolder > 0 {
		holdIdle(*idleHolder, *idleAddr)
		return
	}
	dir, err := os.MkdirTemp("", "ser-bench")
	check(err)
	if *keep {
		defer fmt.Println("work directory kept:", dir)
	} else {
		atExit(func() { os.RemoveAll(dir) })
	}
	defer runExit()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		exiting.Store(true)
		fmt.Fprintln(os.Stderr, "bench: interrupted; stopping what it started")
		runExit()
		os.Exit(130)
	}()
	here := benchDir()
	if _, err := exec.LookPath("sipp"); err != nil && *modeFlag != "idle-tcp" {
		fatalf("sipp is not installed (Debian package sip-tester)")
	}
	var servers []string
	switch *serverFlag {
	case "ser", "kamailio":
		servers = []string{*serverFlag}
	case "both":
		servers = []string{"ser", "kamailio"}
	default:
		fatalf("unknown -server %q", *serverFlag)
	}
	bin := *serBin
	if bin == "" && *serverFlag != "kamailio" {
		bin = filepath.Join(dir, "ser")
		out, err := exec.Command("go", "build", "-o", bin, filepath.Join(here, "..")).CombinedOutput()
		if err != nil {
			fatalf("building ser: %v\n%s", err, out)
		}
	}
	fmt.Printf("ser benchmark — %s, %d CPUs, %s/%s, %s, step %v, server pinned to %q, SIPp to %q, ser GOMAXPROCS %d, ser children %d, Kamailio children %d, load average %s\n",
		cpuModel(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, time.Now().Format("2006-01-02"), *duration, *serCPU, *sippCPU, *goMaxProcs, *serKids, *kamKids, loadAvg())
	var results []result
	for _, mode := range strings.Split(*modeFlag, ",") {
		if mode == "idle-tcp" {
			runIdleTCP(bin, here, dir)
			continue
		}
		steps := stepsFor(mode)
		if mode == "ceiling" || mode == "ceiling-register" {
			results = append(results, result{"sipp", mode, runCeiling(mode, steps, here, dir)})
			continue
		}
		for _, srv := range servers {
			if srv == "kamailio" && mode == "stateless" {
				continue
			}
			results = append(results, result{srv, mode, runMode(srv, mode, steps, bin, here, dir)})
		}
	}
	summary(results)
}

func stepsFor(mode string) []int {
	if *rates != "" {
		return parseRates(*rates)
	}
	switch mode {
	case "register", "register-auth", "register-auth-mysql", "ceiling-register":
		return parseRates(*ratesReg)
	case "stateless":
		return parseRates(*ratesSL)
	case "calls", "calls-tcp", "calls-acc", "calls-acc-mysql":
		return parseRates(*ratesCal)
	case "ceiling":
		return parseRates(*ratesCeil)
	}
	fatalf("unknown mode %q", mode)
	return nil
}

var units = map[string]string{"register": "REGISTER/s", "register-auth": "REGISTER/s", "stateless": "req/s", "calls": "calls/s", "calls-tcp": "calls/s", "calls-acc": "calls/s", "ceiling": "calls/s", "ceiling-register": "REGISTER/s",
	"register-auth-mysql": "REGISTER/s", "calls-acc-mysql": "calls/s"}

func header(title string) {
	fmt.Printf("\n== %s\n", title)
	fmt.Printf("%10s %10s %8s %7s %8s %7s %7s %8s %8s\n", "offered", "achieved", "calls", "failed", "retrans", "p50 ms", "p99 ms", "CPU", "RSS MB")
}

func row(s step) {
	fmt.Printf("%10d %10.0f %8d %7d %8d %7.0f %7.0f %7.0f%% %8.0f\n", s.Offered, s.achieved(), s.Calls, s.Failed, s.Retrans, s.P50, s.P99, s.CPU, s.RSSMB)
}

func runMode(srv, mode string, steps []int, bin, here, dir string) step {
	var p *serverProc
	switch {
	case mode == "register-auth":
		p = startAuthDB(srv, "sqlite", bin, here, dir)
	case mode == "register-auth-mysql":
		p = startAuthDB(srv, "mysql", bin, here, dir)
	case mode == "calls-acc":
		p = startAccDB(srv, "sqlite", bin, here, dir)
	case mode == "calls-acc-mysql":
		p = startAccDB(srv, "mysql", bin, here, dir)
	case srv == "kamailio":
		p = startKamailio(filepath.Join(here, "kamailio.cfg"), dir)
	case mode == "stateless":
		p = startSer(bin, filepath.Join(here, "stateless.cfg"), dir)
	default:
		p = startSer(bin, filepath.Join(here, "helloworld.cfg"), dir)
	}
	defer p.stop()
	header(fmt.Sprintf("%s %s (%s, config %s)", srv, mode, units[mode], filepath.Base(p.cfg)))
	var best step
	mysql := strings.HasPrefix(p.dbURL, "mysql://")
	for _, r := range steps {
		var s step
		var mdb0 mdbSnapshot
		drops0, srvDrops0 := udpDrops(*port)
		if mysql {
			mdb0 = mariaDBSnapshot()
		}
		switch mode {
		case "register":
			s = p.measure(r, []string{"-sf", filepath.Join(here, "register.xml")})
		case "register-auth", "register-auth-mysql":
			s = p.measure(r, []string{"-sf", filepath.Join(here, "register_auth.xml"), "-inf", filepath.Join(dir, "auth_users.csv")})
		case "stateless":
			uas := startSIPp(dir, "options_uas", []string{"-sf", filepath.Join(here, "options_uas.xml"), "-p", strconv.Itoa(*port + 2)})
			s = p.measure(r, []string{"-sf", filepath.Join(here, "options.xml"), "-key", "next_hop", fmt.Sprintf("127.0.0.1:%d", *port+2)})
			uas.kill()
		case "calls", "calls-acc", "calls-acc-mysql":
			uas := startSIPp(dir, "uas", []string{"-sf", filepath.Join(here, "uas_rr.xml"), "-p", strconv.Itoa(*port + 2)})
			registerService(dir, here, *port+2, "udp")
			s = p.measure(r, []string{"-sf", filepath.Join(here, "uac_rr.xml"), "-s", "service"})
			uas.kill()
		case "calls-tcp":
			uas := startSIPp(dir, "uas", []string{"-sf", filepath.Join(here, "uas_rr.xml"), "-t", "t1", "-p", strconv.Itoa(*port + 2)})
			registerService(dir, here, *port+2, "tcp")
			s = p.measure(r, []string{"-sf", filepath.Join(here, "uac_rr.xml"), "-s", "service", "-t", "t1"})
			uas.kill()
		}
		row(s)
		if drops, srvDrops := udpDrops(*port); drops != drops0 {
			fmt.Printf("%10s UDP datagrams dropped (receive buffer full): %d at the server's socket, %d at SIPp's\n", "",
				srvDrops-srvDrops0, (drops-drops0)-(srvDrops-srvDrops0))
		}
		fmt.Printf("%10s memory after the step: %s\n", "", p.memory(srv))
		if mysql {
			fmt.Printf("%10s %s\n", "", mariaDBActivity(mdb0, s.Success, s.Elapsed))
		}
		if r := p.dbRows(); r != "" {
			fmt.Printf("%10s %s\n", "", r)
		}
		if s.ok() && s.achieved() > best.achieved() {
			best = s
		}
		if !s.ok() && *stopFail {
			break
		}
	}
	return best
}

// kamCtl is the ctl socket bench/kamailio.cfg opens for kamcmd.
const kamCtl = "unix:/tmp/ser-bench-kamailio.ctl"

// memory describes the server's memory now: ser's RSS (Go heap and all),
// Kamailio's shared memory in use (kamcmd core.shmmem: the registrar's
// contacts and the transactions live there) beside its processes' RSS.
func (p *serverProc) memory(srv string) string {
	rss := groupRSSMB(p.cmd.Process.Pid)
	if srv != "kamailio" {
		return fmt.Sprintf("RSS %.1f MB", rss)
	}
	out, err := exec.Command("kamcmd", "-s", kamCtl, "core.shmmem").Output()
	if err != nil {
		return fmt.Sprintf("RSS %.1f MB (summed over processes), shared memory unknown: %v", rss, err)
	}
	used := "?"
	for _, l := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), ":"); ok && k == "real_used" {
			if n, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				used = fmt.Sprintf("%.1f MB", n/(1<<20))
			}
		}
	}
	return fmt.Sprintf("shared memory in use %s, RSS %.1f MB (summed over processes)", used, rss)
}

// runCeiling measures SIPp's own limit: uac straight to a SIPp uas. For
// "ceiling" the builtin call scenarios, both pinned to -sipp-cpu (where
// the calls benchmark runs its uac and uas); for "ceiling-register" the
// REGISTER benchmark's uac (bench/register.xml) on -sipp-cpu against a
// uas answering 200 (bench/register_uas.xml) on -ser-cpu, the server's
// core: what SIPp's uac can drive when the answering side costs it
// nothing.
func runCeiling(mode string, steps []int, here, dir string) step {
	uacScen, uasScen := []string{"-sn", "uac"}, []string{"-sn", "uas"}
	uasCPU := *sippCPU
	if mode == "ceiling-register" {
		header("ceiling-register: SIPp uac → SIPp uas answering 200, no server (REGISTER/s)")
		uacScen = []string{"-sf", filepath.Join(here, "register.xml")}
		uasScen = []string{"-sf", filepath.Join(here, "register_uas.xml")}
		uasCPU = *serCPU
	} else {
		header("ceiling: SIPp uac → SIPp uas, no server (calls/s)")
	}
	var best step
	for _, r := range steps {
		uas := startSIPpOn(uasCPU, dir, "uas", append(uasScen, "-p", strconv.Itoa(*port+2)))
		n := r * int(duration.Seconds())
		stf := filepath.Join(dir, fmt.Sprintf("stat-%d.csv", time.Now().UnixNano()))
		t0 := time.Now()
		uac := startSIPp(dir, "uac", append(uacScen, "-m", strconv.Itoa(n), "-r", strconv.Itoa(r), "-l", strconv.Itoa(min(r*4, 15000)),
			"-trace_stat", "-stf", stf, "-fd", "3600", "-trace_rtt", "-rtt_freq", "200",
			"-p", strconv.Itoa(*port+1), fmt.Sprintf("127.0.0.1:%d", *port+2)))
		uac.wait(time.Duration(4*int(duration.Seconds())+20) * time.Second)
		s := readStats(stf)
		s.Elapsed, s.Offered, s.Calls = time.Since(t0), r, n
		s.P50, s.P99 = rttPercentiles(dir, uac.pid())
		uas.kill()
		row(s)
		if s.ok() && s.achieved() > best.achieved() {
			best = s
		}
		if !s.ok() && *stopFail {
			break
		}
	}
	return best
}

// summary prints each server's best rate and the ratios ser/Kamailio.
func summary(results []result) {
	if len(results) == 0 {
		return
	}
	fmt.Printf("\n== summary: highest rate with < 0.5%% failed calls and no retransmissions\n")
	fmt.Printf("%-10s %-10s %12s %8s %12s %7s\n", "server", "scenario", "rate", "CPU", "CPU ms/1k", "p99 ms")
	best := map[string]step{}
	for _, r := range results {
		b := r.best
		perK := 0.0 // ms of CPU per 1000 calls (or REGISTERs)
		if b.achieved() > 0 {
			perK = b.CPU / 100 / b.achieved() * 1e6
		}
		fmt.Printf("%-10s %-10s %8.0f %-3s %7.0f%% %12.1f %7.0f\n", r.server, r.mode, b.achieved(), shortUnit(r.mode), b.CPU, perK, b.P99)
		best[r.server+"/"+r.mode] = b
	}
	for _, mode := range []string{"register", "register-auth", "register-auth-mysql", "calls", "calls-tcp", "calls-acc", "calls-acc-mysql"} {
		s, k := best["ser/"+mode], best["kamailio/"+mode]
		if s.achieved() == 0 || k.achieved() == 0 {
			continue
		}
		cpuPer := func(x step) float64 { return x.CPU / x.achieved() }
		fmt.Printf("ratio ser/kamailio %-8s rate %.2f×, CPU per call %.2f×\n", mode, s.achieved()/k.achieved(), cpuPer(s)/cpuPer(k))
	}
}

func shortUnit(mode string) string {
	if strings.HasPrefix(mode, "register") {
		return "r/s"
	}
	return "c/s"
}

// serverProc is the server under test (ser, or Kamailio with its forked
// children: CPU is summed over its process group).
type serverProc struct {
	cmd    *exec.Cmd
	dir    string
	cfg    string
	dbURL  string // the scenario's database, if any
	once   sync.Once
	cancel func() // its atExit entry
}

func startSer(bin, cfg, dir string) *serverProc {
	if *serKids > 0 {
		cfg = serWorkers(cfg, dir, *serKids)
	}
	args := []string{"-f", cfg, "-D", "-E", "-H", "off", "-l", fmt.Sprintf("127.0.0.1:%d", *port)}
	if *rcvBuf > 0 {
		args = append(args, "-b", strconv.Itoa(*rcvBuf))
	}
	return startServer(cfg, dir, "ser", bin, args...)
}

// serWorkers writes a copy of the ser config cfg into dir that runs n
// request workers: fork=yes (-D keeps ser in the foreground) and
// children=n. With the configs' fork=no ser runs one worker, whatever
// children says (SER's single-process mode).
func serWorkers(cfg, dir string, n int) string {
	b, err := os.ReadFile(cfg)
	check(err)
	lines := strings.Split(string(b), "\n")
	forked := false
	for i, l := range lines {
		k, _, _ := strings.Cut(strings.TrimSpace(l), "=")
		switch strings.TrimSpace(k) {
		case "fork":
			lines[i], forked = "fork=yes", true
		case "children":
			lines[i] = "children=" + strconv.Itoa(n)
		}
	}
	if !forked {
		fatalf("-ser-children: %s has no fork= line", cfg)
	}
	out := filepath.Join(dir, fmt.Sprintf("%s-children%d.cfg", strings.TrimSuffix(filepath.Base(cfg), ".cfg"), n))
	check(os.WriteFile(out, []byte(strings.Join(lines, "\n")), 0o644))
	return out
}

func startKamailio(cfg, dir string) *serverProc {
	// -m/-M: 512 MB of shared memory (the default 64 MB runs out at a few
	// thousand calls per second) and 16 MB of private memory per process.
	args := []string{"-f", cfg, "-DD", "-E", "-m", "512", "-M", "16", "-P", filepath.Join(dir, "kamailio.pid"),
		"-l", fmt.Sprintf("udp:127.0.0.1:%d", *port), "-l", fmt.Sprintf("tcp:127.0.0.1:%d", *port)}
	if *kamKids > 0 {
		args = append(args, "-n", strconv.Itoa(*kamKids))
	}
	if *rcvBuf > 0 {
		args = append(args, "-b", strconv.Itoa(*rcvBuf))
	}
	return startServer(cfg, dir, "kamailio", *kamBin, args...)
}

func startServer(cfg, dir, name, bin string, args ...string) *serverProc {
	cmd := pinned(*serCPU, bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if name == "ser" && *goMaxProcs > 0 {
		cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(*goMaxProcs))
	}
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	check(err)
	cmd.Stdout, cmd.Stderr = logf, logf
	check(cmd.Start())
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", *port)); err == nil {
			c.Close()
			p := &serverProc{cmd: cmd, dir: dir, cfg: cfg}
			p.cancel = atExit(p.stop)
			return p
		}
		time.Sleep(50 * time.Millisecond)
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	cmd.Wait()
	fatalf("%s did not start; see %s", name, logf.Name())
	return nil
}

// stop stops the server's process group (once, whether from the scenario
// or from runExit).
func (p *serverProc) stop() { p.once.Do(p.stopOnce) }

func (p *serverProc) stopOnce() {
	p.cancel()
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	time.Sleep(200 * time.Millisecond) // let the ports go
}

// measure runs one SIPp uac step at rate r and reads SIPp's statistics.
func (p *serverProc) measure(r int, scenario []string) step {
	n := r * int(duration.Seconds())
	stf := filepath.Join(p.dir, fmt.Sprintf("stat-%d.csv", time.Now().UnixNano()))
	// SIPp refuses more simultaneous calls than open files (ulimit -n).
	a := append(scenario, "-m", strconv.Itoa(n), "-r", strconv.Itoa(r), "-l", strconv.Itoa(min(r*4, 15000)),
		"-trace_stat", "-stf", stf, "-fd", "3600", "-trace_rtt", "-rtt_freq", "200",
		"-timeout", fmt.Sprintf("%ds", int(duration.Seconds())*4+10),
		"-p", strconv.Itoa(*port+1), fmt.Sprintf("127.0.0.1:%d", *port))
	pg := p.cmd.Process.Pid
	cpu0 := groupCPU(pg)
	t0 := time.Now()
	uac := startSIPp(p.dir, "uac", a)
	code := uac.wait(time.Duration(4*int(duration.Seconds())+20) * time.Second)
	wall := time.Since(t0)
	cpu1 := groupCPU(pg)
	if code != 0 && code != 1 { // 1: some calls failed, reported below
		logTail(filepath.Join(p.dir, "uac.log"), fmt.Sprintf("sipp uac exited %d", code))
	}
	s := readStats(stf)
	// SIPp's cumulative elapsed time has a one-second resolution: use the
	// wall-clock time of the run instead.
	s.Elapsed, s.Offered, s.Calls = wall, r, n
	s.CPU = 100 * (cpu1 - cpu0).Seconds() / wall.Seconds()
	s.RSSMB = groupRSSMB(pg)
	s.P50, s.P99 = rttPercentiles(p.dir, uac.pid())
	if s.Success == 0 {
		logTail(filepath.Join(p.dir, "uac.log"), "no successful call in this step")
	}
	return s
}

// registerService registers the SIPp uas as user "service", its contact
// with ;transport=proto (udp or tcp).
func registerService(dir, here string, uasPort int, proto string) {
	csvPath := filepath.Join(dir, "service.csv")
	check(os.WriteFile(csvPath, []byte(fmt.Sprintf("SEQUENTIAL\nservice;127.0.0.1:%d;%s\n", uasPort, proto)), 0o644))
	reg := startSIPp(dir, "reg", []string{"-sf", filepath.Join(here, "register_service.xml"),
		"-inf", csvPath, "-m", "1", "-p", strconv.Itoa(*port + 3), fmt.Sprintf("127.0.0.1:%d", *port)})
	if code := reg.wait(10 * time.Second); code != 0 {
		fatalf("registering the uas failed (sipp exit %d)", code)
	}
}

// sipp is a running SIPp.
type sipp struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startSIPp(dir, name string, args []string) *sipp {
	return startSIPpOn(*sippCPU, dir, name, args)
}

// startSIPpOn starts SIPp pinned to cpus.
func startSIPpOn(cpus, dir, name string, args []string) *sipp {
	// 4 MB socket buffers: SIPp's default (64 KB) drops packets in bursts
	// at these rates, and the retransmissions would be blamed on the server.
	args = append([]string{"-i", "127.0.0.1", "-nostdin", "-bind_local", "-buff_size", "4194304"}, args...)
	cmd := pinned(cpus, "sipp", args...)
	cmd.Dir = dir
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	check(err)
	cmd.Stdout, cmd.Stderr = logf, logf
	check(cmd.Start())
	s := &sipp{cmd: cmd, done: make(chan struct{})}
	cancel := atExit(s.kill)
	go func() { cmd.Wait(); cancel(); close(s.done) }()
	time.Sleep(150 * time.Millisecond)
	return s
}

func (s *sipp) pid() int { return s.cmd.Process.Pid }

func (s *sipp) wait(d time.Duration) int {
	select {
	case <-s.done:
		return s.cmd.ProcessState.ExitCode()
	case <-time.After(d):
		s.kill()
		return -1
	}
}

func (s *sipp) kill() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Kill()
	<-s.done
}

// pinned runs name under taskset when cpus is set.
func pinned(cpus, name string, args ...string) *exec.Cmd {
	if cpus != "" {
		if _, err := exec.LookPath("taskset"); err == nil {
			return exec.Command("taskset", append([]string{"-c", cpus, name}, args...)...)
		}
		fmt.Fprintln(os.Stderr, "bench: taskset not found; not pinning")
	}
	return exec.Command(name, args...)
}

// readStats reads the last line of a SIPp -trace_stat file.
func readStats(path string) step {
	f, err := os.Open(path)
	if err != nil {
		return step{}
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.Comma = ';'
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil || len(recs) < 2 {
		return step{}
	}
	head, last := recs[0], recs[len(recs)-1]
	col := func(name string) string {
		for i, h := range head {
			if h == name && i < len(last) {
				return last[i]
			}
		}
		return ""
	}
	atoi := func(s string) int { n, _ := strconv.Atoi(strings.TrimSpace(s)); return n }
	return step{
		Success: atoi(col("SuccessfulCall(C)")),
		Failed:  atoi(col("FailedCall(C)")),
		Retrans: atoi(col("Retransmissions(C)")),
	}
}

// rttPercentiles reads SIPp's -trace_rtt file of a run (every response
// time of rtd 1, in ms) and returns p50 and p99.
func rttPercentiles(dir string, pid int) (p50, p99 float64) {
	files, _ := filepath.Glob(filepath.Join(dir, fmt.Sprintf("*_%d_rtt.csv", pid)))
	if len(files) == 0 {
		return math.NaN(), math.NaN()
	}
	f, err := os.Open(files[0])
	if err != nil {
		return math.NaN(), math.NaN()
	}
	defer f.Close()
	var v []float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Split(sc.Text(), ";")
		if len(parts) < 2 {
			continue
		}
		if x, err := strconv.ParseFloat(parts[1], 64); err == nil {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return math.NaN(), math.NaN()
	}
	sort.Float64s(v)
	at := func(q float64) float64 { return v[min(len(v)-1, int(q*float64(len(v))))] }
	return at(0.50), at(0.99)
}

// groupCPU returns the user+system CPU time of every process in the
// process group pg (Kamailio forks its workers).
func groupCPU(pg int) time.Duration {
	var total time.Duration
	forGroup(pg, func(f []string) { total += statCPU(f) })
	return total
}

// statCPU is the CPU time (utime + stime) in /proc/<pid>/stat fields f
// (after the command name).
func statCPU(f []string) time.Duration {
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const hz = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / hz
}

// pidCPU returns the CPU time (user and system, all threads) process pid
// has used, 0 if it is gone.
func pidCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 13 {
		return 0
	}
	return statCPU(f)
}

// groupRSSMB returns the summed RSS of the process group in MB (shared
// pages are counted once per process, as ps does).
func groupRSSMB(pg int) float64 {
	var pages int64
	forGroup(pg, func(f []string) {
		n, _ := strconv.ParseInt(f[21], 10, 64)
		pages += n
	})
	return float64(pages*int64(os.Getpagesize())) / (1 << 20)
}

// forGroup calls fn with the /proc/<pid>/stat fields (after the command
// name) of every process whose process group is pg.
func forGroup(pg int, fn func(fields []string)) {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+2:])
		if len(f) < 22 {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g == pg {
			fn(f)
		}
	}
}

// logTail prints the end of a log file to stderr with a reason.
func logTail(path, why string) {
	b, _ := os.ReadFile(path)
	lines := strings.Split(string(b), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	fmt.Fprintf(os.Stderr, "bench: %s; end of %s:\n%s\n", why, path, strings.Join(lines, "\n"))
}

// loadAvg is the first three fields of /proc/loadavg: a run on a busy
// machine says so.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			if _, v, ok := strings.Cut(l, ":"); ok {
				return strings.TrimSpace(v)
			}
		}
	}
	return "unknown CPU"
}

func parseRates(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			fatalf("bad rate %q", f)
		}
		out = append(out, n)
	}
	return out
}

// benchDir is the directory holding the scenarios (this package's).
func benchDir() string {
	if _, err := os.Stat("bench/register.xml"); err == nil {
		d, _ := filepath.Abs("bench")
		return d
	}
	d, _ := filepath.Abs(".")
	return d
}

func check(err error) {
	if err != nil {
		fatalf("%v", err)
	}
}

func fatalf(format string, a ...any) {
	waitIfExiting()
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...)
	runExit()
	os.Exit(1)
}

// What runs at exit — normal, fatalf or a signal: stopping the servers
// and MariaDB the bench started, removing its work directory — latest
// first.
var (
	exitMu  sync.Mutex
	exitFns []*func()
)

// exiting is set when a signal stops the bench: what it started is being
// stopped, so errors from it are expected and not reported.
var exiting atomic.Bool

// waitIfExiting blocks the caller for good while the signal handler
// stops everything and exits.
func waitIfExiting() {
	if exiting.Load() {
		select {}
	}
}

// atExit registers fn to run at exit and returns a function that
// unregisters it.
func atExit(fn func()) (cancel func()) {
	exitMu.Lock()
	defer exitMu.Unlock()
	p := &fn
	exitFns = append(exitFns, p)
	return func() {
		exitMu.Lock()
		defer exitMu.Unlock()
		if i := slices.Index(exitFns, p); i >= 0 {
			exitFns = slices.Delete(exitFns, i, i+1)
		}
	}
}

// runExit runs (once) and forgets what atExit registered.
func runExit() {
	exitMu.Lock()
	fns := exitFns
	exitFns = nil
	exitMu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		(*fns[i])()
	}
}
