package metrics

import (
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// runtimeMetrics are the Go runtime figures written by WriteRuntime:
// runtime/metrics name, family name, type, help.
var runtimeMetrics = []struct{ src, name, typ, help string }{
	{"/sched/goroutines:goroutines", "go_goroutines", Gauge, "Goroutines that currently exist."},
	{"/memory/classes/heap/objects:bytes", "go_memstats_heap_alloc_bytes", Gauge, "Bytes of allocated heap objects (live and not yet swept)."},
	{"/gc/heap/goal:bytes", "go_gc_heap_goal_bytes", Gauge, "Heap size the garbage collector aims to end the cycle at."},
	{"/memory/classes/total:bytes", "go_memstats_sys_bytes", Gauge, "Bytes of memory the Go runtime mapped from the operating system."},
	{"/gc/cycles/total:gc-cycles", "go_gc_cycles_total", Counter, "Completed garbage collection cycles."},
	{"/gc/heap/allocs:bytes", "go_gc_heap_allocs_bytes_total", Counter, "Bytes allocated on the heap since the process started."},
	{"/cpu/classes/gc/total:cpu-seconds", "go_cpu_gc_seconds_total", Counter, "Estimated CPU time spent in garbage collection."},
	{"/cpu/classes/gc/pause:cpu-seconds", "go_cpu_gc_pause_seconds_total", Counter, "Estimated CPU time of the garbage collector's stop-the-world pauses."},
}

// WriteRuntime writes the Go runtime's figures (goroutines, heap, garbage
// collection, from runtime/metrics) and the process's (resident memory,
// open files, CPU time, start time, from /proc where there is one).
func WriteRuntime(w *Writer, start time.Time) {
	samples := make([]metrics.Sample, len(runtimeMetrics))
	for i, m := range runtimeMetrics {
		samples[i].Name = m.src
	}
	metrics.Read(samples)
	for i, m := range runtimeMetrics {
		var v float64
		switch samples[i].Value.Kind() {
		case metrics.KindUint64:
			v = float64(samples[i].Value.Uint64())
		case metrics.KindFloat64:
			v = samples[i].Value.Float64()
		default:
			continue // not in this Go release
		}
		w.Single(m.name, m.typ, m.help, v)
	}
	w.Family("go_info", Gauge, "The Go release the server was built with.")
	w.Sample("go_info", 1, "version", runtime.Version())
	w.Single("process_start_time_seconds", Gauge, "Start time of the process since the Unix epoch.", float64(start.UnixNano())/1e9)
	if rss, ok := residentBytes(); ok {
		w.Single("process_resident_memory_bytes", Gauge, "Resident memory size.", rss)
	}
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		w.Single("process_open_fds", Gauge, "Open file descriptors.", float64(len(fds)))
	}
	if cpu, ok := cpuSeconds(); ok {
		w.Single("process_cpu_seconds_total", Counter, "User and system CPU time spent.", cpu)
	}
}

// residentBytes reads the resident set size from /proc/self/statm.
func residentBytes() (float64, bool) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseFloat(f[1], 64)
	if err != nil {
		return 0, false
	}
	return pages * float64(os.Getpagesize()), true
}

// cpuSeconds reads utime+stime from /proc/self/stat (clock ticks of
// 1/100 s, USER_HZ on Linux).
func cpuSeconds() (float64, bool) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return (u + st) / 100, true
}
