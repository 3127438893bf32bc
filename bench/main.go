// Command bench measures ser with SIPp on 127.0.0.1 and prints, per
// scenario and offered rate, the achieved rate, failures,
// retransmissions, SIPp's average response time and ser's CPU use.
//
//	go run ./bench                         # all scenarios, default rates
//	go run ./bench -mode calls -rates 500,1000,2000 -duration 10s
//	go run ./bench -ser-cpu 1 -sipp-cpu 0  # pin ser and SIPp (taskset)
//
// Scenarios:
//
//	register   REGISTER of distinct users, 200 expected (bench/register.xml)
//	stateless  OPTIONS forwarded statelessly to a SIPp responder and its
//	           200 routed back: 2 messages relayed per request
//	calls      INVITE/100/180/200/ACK/BYE/200 through the Hello World
//	           config (tm, record-routing) to a registered SIPp uas
//
// The "max ok" line is the highest offered rate with < 0.5 % failed calls
// and no retransmissions.
package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var (
	modeFlag = flag.String("mode", "register,stateless,calls", "scenarios to run (comma-separated)")
	ratesReg = flag.String("rates-register", "2000,5000,10000,15000,20000,25000", "offered REGISTER/s steps")
	ratesSL  = flag.String("rates-stateless", "2000,5000,10000,15000,20000", "offered requests/s steps (stateless)")
	ratesCal = flag.String("rates-calls", "250,500,1000,1500,2000,2500,3000", "offered calls/s steps")
	rates    = flag.String("rates", "", "override the steps of every selected scenario")
	duration = flag.Duration("duration", 5*time.Second, "length of each step")
	serCPU   = flag.String("ser-cpu", "", "pin ser to these CPUs (taskset list, e.g. 1)")
	sippCPU  = flag.String("sipp-cpu", "", "pin SIPp to these CPUs (e.g. 0)")
	port     = flag.Int("port", 5070, "ser's port on 127.0.0.1")
	serBin   = flag.String("ser", "", "ser binary (default: build it)")
	stopFail = flag.Bool("stop-on-failure", true, "stop stepping a scenario after the first step with failures")
	keep     = flag.Bool("keep", false, "keep the work directory (logs, SIPp statistics) and print its path")
)

// step is the outcome of one rate step.
type step struct {
	Offered   int
	Calls     int
	Success   int
	Failed    int
	Retrans   int
	Elapsed   time.Duration
	RespAvgMS float64
	CPU       float64 // ser's CPU use over the step, percent of one core
	RSSMB     float64
}

func (s step) achieved() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Success) / s.Elapsed.Seconds()
}

func (s step) ok() bool {
	return s.Calls > 0 && float64(s.Failed) < 0.005*float64(s.Calls) && s.Retrans == 0
}

func main() {
	flag.Parse()
	dir, err := os.MkdirTemp("", "ser-bench")
	check(err)
	if *keep {
		defer fmt.Println("work directory kept:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	here := benchDir()
	bin := *serBin
	if bin == "" {
		bin = filepath.Join(dir, "ser")
		out, err := exec.Command("go", "build", "-o", bin, filepath.Join(here, "..")).CombinedOutput()
		if err != nil {
			fatalf("building ser: %v\n%s", err, out)
		}
	}
	if _, err := exec.LookPath("sipp"); err != nil {
		fatalf("sipp is not installed (Debian package sip-tester)")
	}
	fmt.Printf("ser benchmark — %s, %d CPUs, %s/%s, step %v, ser pinned to %q, SIPp to %q\n",
		cpuModel(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, *duration, *serCPU, *sippCPU)
	for _, mode := range strings.Split(*modeFlag, ",") {
		var steps []int
		switch mode {
		case "register":
			steps = parseRates(*ratesReg)
		case "stateless":
			steps = parseRates(*ratesSL)
		case "calls":
			steps = parseRates(*ratesCal)
		default:
			fatalf("unknown mode %q", mode)
		}
		if *rates != "" {
			steps = parseRates(*rates)
		}
		runMode(mode, steps, bin, here, dir)
	}
}

func runMode(mode string, steps []int, bin, here, dir string) {
	cfg := filepath.Join(here, "stateless.cfg")
	if mode == "calls" {
		cfg = filepath.Join(here, "helloworld.cfg")
	}
	ser := startSer(bin, cfg, dir)
	defer ser.stop()
	unit := map[string]string{"register": "REGISTER/s", "stateless": "req/s", "calls": "calls/s"}[mode]
	fmt.Printf("\n== %s (%s, config %s)\n", mode, unit, filepath.Base(cfg))
	fmt.Printf("%10s %10s %8s %8s %8s %10s %8s %8s\n", "offered", "achieved", "calls", "failed", "retrans", "resp avg", "ser CPU", "RSS MB")
	var best step
	for _, r := range steps {
		var s step
		switch mode {
		case "register":
			s = ser.measure(r, func(n int) []string {
				return []string{"-sf", filepath.Join(here, "register.xml")}
			})
		case "stateless":
			uas := startSIPp(dir, "options_uas", []string{"-sf", filepath.Join(here, "options_uas.xml"), "-p", strconv.Itoa(*port + 2)}, "")
			s = ser.measure(r, func(n int) []string {
				return []string{"-sf", filepath.Join(here, "options.xml"), "-key", "next_hop", fmt.Sprintf("127.0.0.1:%d", *port+2)}
			})
			uas.kill()
		case "calls":
			uas := startSIPp(dir, "uas", []string{"-sf", filepath.Join(here, "uas_rr.xml"), "-p", strconv.Itoa(*port + 2)}, "")
			registerService(dir, here, *port+2)
			s = ser.measure(r, func(n int) []string {
				return []string{"-sf", filepath.Join(here, "uac_rr.xml"), "-s", "service"}
			})
			uas.kill()
		}
		fmt.Printf("%10d %10.0f %8d %8d %8d %8.2fms %7.0f%% %8.0f\n", r, s.achieved(), s.Calls, s.Failed, s.Retrans, s.RespAvgMS, s.CPU, s.RSSMB)
		if s.ok() && s.achieved() > best.achieved() {
			best = s
		}
		if !s.ok() && *stopFail {
			break
		}
	}
	fmt.Printf("max ok: %.0f %s at %.0f%% of a core (offered %d)\n", best.achieved(), unit, best.CPU, best.Offered)
}

// serProc is the ser process under test.
type serProc struct {
	cmd *exec.Cmd
	dir string
}

func startSer(bin, cfg, dir string) *serProc {
	args := []string{"-f", cfg, "-D", "-E", "-l", fmt.Sprintf("127.0.0.1:%d", *port)}
	cmd := pinned(*serCPU, bin, args...)
	logf, err := os.Create(filepath.Join(dir, "ser.log"))
	check(err)
	cmd.Stdout, cmd.Stderr = logf, logf
	check(cmd.Start())
	// Wait until it answers on its UDP port.
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", *port)); err == nil {
			c.Close()
			return &serProc{cmd: cmd, dir: dir}
		}
		time.Sleep(50 * time.Millisecond)
	}
	fatalf("ser did not start; see its log")
	return nil
}

func (p *serProc) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
	}
}

// measure runs one SIPp uac step at rate r and reads SIPp's statistics.
func (p *serProc) measure(r int, args func(n int) []string) step {
	n := r * int(duration.Seconds())
	stf := filepath.Join(p.dir, fmt.Sprintf("stat-%d.csv", time.Now().UnixNano()))
	// SIPp refuses more simultaneous calls than open files (ulimit -n).
	limit := min(r*4, 15000)
	a := append(args(n), "-m", strconv.Itoa(n), "-r", strconv.Itoa(r), "-l", strconv.Itoa(limit),
		"-trace_stat", "-stf", stf, "-fd", "3600", "-timeout", fmt.Sprintf("%ds", int(duration.Seconds())*4+10),
		"-p", strconv.Itoa(*port+1), fmt.Sprintf("127.0.0.1:%d", *port))
	cpu0, _ := procCPU(p.cmd.Process.Pid)
	t0 := time.Now()
	uac := startSIPp(p.dir, "uac", a, "")
	code := uac.wait(time.Duration(4*int(duration.Seconds())+20) * time.Second)
	wall := time.Since(t0)
	if code != 0 && code != 1 { // 1: some calls failed, reported below
		logTail(filepath.Join(p.dir, "uac.log"), fmt.Sprintf("sipp uac exited %d", code))
	}
	cpu1, _ := procCPU(p.cmd.Process.Pid)
	s := readStats(stf)
	// SIPp's cumulative elapsed time has a one-second resolution: use the
	// wall-clock time of the run instead.
	s.Elapsed = wall
	s.Offered, s.Calls = r, n
	s.CPU = 100 * (cpu1 - cpu0).Seconds() / wall.Seconds()
	s.RSSMB = procRSSMB(p.cmd.Process.Pid)
	if s.Success == 0 {
		logTail(filepath.Join(p.dir, "uac.log"), "no successful call in this step")
	}
	return s
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

// registerService registers the SIPp uas as user "service".
func registerService(dir, here string, uasPort int) {
	csvPath := filepath.Join(dir, "service.csv")
	check(os.WriteFile(csvPath, []byte(fmt.Sprintf("SEQUENTIAL\nservice;127.0.0.1:%d\n", uasPort)), 0o644))
	reg := startSIPp(dir, "reg", []string{"-sf", filepath.Join(benchDir(), "..", "e2e", "testdata", "sipp", "register.xml"),
		"-inf", csvPath, "-m", "1", "-p", strconv.Itoa(*port + 3), fmt.Sprintf("127.0.0.1:%d", *port)}, "")
	if code := reg.wait(10 * time.Second); code != 0 {
		fatalf("registering the uas failed (sipp exit %d)", code)
	}
}

// sipp is a running SIPp.
type sipp struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startSIPp(dir, name string, args []string, _ string) *sipp {
	args = append([]string{"-i", "127.0.0.1", "-nostdin", "-bind_local"}, args...)
	cmd := pinned(*sippCPU, "sipp", args...)
	cmd.Dir = dir
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	check(err)
	cmd.Stdout, cmd.Stderr = logf, logf
	check(cmd.Start())
	s := &sipp{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(s.done) }()
	time.Sleep(100 * time.Millisecond)
	return s
}

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
			return exec.CommandContext(context.Background(), "taskset", append([]string{"-c", cpus, name}, args...)...)
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
	s := step{
		Success: atoi(col("SuccessfulCall(C)")),
		Failed:  atoi(col("FailedCall(C)")),
		Retrans: atoi(col("Retransmissions(C)")),
	}
	if rt := col("ResponseTime1(C)"); rt != "" {
		s.RespAvgMS = float64(parseSIPpDuration(rt)) / float64(time.Millisecond)
	}
	return s
}

// parseSIPpDuration parses "HH:MM:SS:uuuuuu" (SIPp's format).
func parseSIPpDuration(s string) time.Duration {
	p := strings.Split(strings.TrimSpace(s), ":")
	if len(p) != 4 {
		return 0
	}
	var v [4]int
	for i := range p {
		v[i], _ = strconv.Atoi(p[i])
	}
	return time.Duration(v[0])*time.Hour + time.Duration(v[1])*time.Minute + time.Duration(v[2])*time.Second + time.Duration(v[3])*time.Microsecond
}

// procCPU returns the user+system CPU time of a process (and its threads).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("bad stat")
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 13 {
		return 0, errors.New("bad stat")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const hz = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / hz, nil
}

// procRSSMB returns the resident set size in MB.
func procRSSMB(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			f := strings.Fields(l)
			if len(f) >= 2 {
				kb, _ := strconv.ParseFloat(f[1], 64)
				return kb / 1024
			}
		}
	}
	return 0
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
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...)
	os.Exit(1)
}
