package core

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"ser/core/corecmd"
	"ser/core/sipmsg"
)

// The server is the core commands' view of the process (corecmd.Info).
var _ corecmd.Info = (*Server)(nil)

// Version returns the server version.
func (s *Server) Version() string { return s.version }

// Arch returns the machine architecture (SER printed i386).
func (s *Server) Arch() string { return runtime.GOARCH }

// OS returns the operating system.
func (s *Server) OS() string { return runtime.GOOS }

// Args returns the command line (the arg command).
func (s *Server) Args() []string { return os.Args }

// Uptime returns how long the server has been running.
func (s *Server) Uptime() time.Duration { return time.Since(s.start) }

// Frontend is what the core shows of a management server running beside
// it (the FIFO, the unix socket, what comes next): its entries in the
// process table (ps) and its counters (core_stats). Either may be nil.
type Frontend struct {
	Procs func() []string
	Stats func(line func(name string, v uint64))
}

// frontends are the registered Frontends, in registration order.
type frontends struct {
	mu   sync.Mutex
	list []Frontend
}

// AddFrontend makes a management server's processes and counters part of
// the server's ps and core_stats answers. The daemon calls it for every
// frontend it starts; the engine itself starts none.
func (s *Server) AddFrontend(f Frontend) {
	s.frontends.mu.Lock()
	s.frontends.list = append(s.frontends.list, f)
	s.frontends.mu.Unlock()
}

// Frontends returns the registered frontends.
func (s *Server) Frontends() []Frontend {
	s.frontends.mu.Lock()
	defer s.frontends.mu.Unlock()
	return append([]Frontend(nil), s.frontends.list...)
}

// Processes lists the server's activities the way SER's ps listed its
// processes: the attendant, one receiver per worker and UDP socket, the
// TCP processes, the FIFO and unix socket servers and the timer. They
// are goroutines of one process, so every entry has the same pid.
func (s *Server) Processes() []corecmd.Process {
	pid := s.pid
	ps := []corecmd.Process{{PID: pid, Desc: "attendant"}}
	hasTCP := false
	for _, sk := range s.socks {
		if sk.Proto != sipmsg.ProtoUDP {
			hasTCP = hasTCP || sk.Proto == sipmsg.ProtoTCP
			continue
		}
		for i := range s.workers {
			ps = append(ps, corecmd.Process{PID: pid, Desc: fmt.Sprintf("receiver child=%d sock= %s", i, sk.HostPort())})
		}
	}
	for _, f := range s.Frontends() {
		if f.Procs == nil {
			continue
		}
		for _, d := range f.Procs() {
			ps = append(ps, corecmd.Process{PID: pid, Desc: d})
		}
	}
	ps = append(ps, corecmd.Process{PID: pid, Desc: "timer"})
	if hasTCP {
		ps = append(ps, corecmd.Process{PID: pid, Desc: "tcp main process"})
		for i := range s.workers {
			_ = i
			ps = append(ps, corecmd.Process{PID: pid, Desc: "tcp receiver"})
		}
	}
	return ps
}
