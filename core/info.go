package core

import (
	"fmt"
	"os"
	"runtime"
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

// extraProcs returns the process-table entries of the management servers
// (set by the instance when they start).
func (s *Server) setExtraProcs(f func() []string) { s.extraProcs = f }

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
	if s.extraProcs != nil {
		for _, d := range s.extraProcs() {
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
