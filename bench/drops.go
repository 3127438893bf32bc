package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// udpDrops reads the kernel's count of UDP datagrams dropped because a
// receive buffer was full: in all (Udp RcvbufErrors in /proc/net/snmp) and
// at the sockets bound to port (the drops column of /proc/net/udp). The
// difference over a step says which side lost datagrams: the server's
// socket or the load generator's (SIPp's sockets are gone once it exits,
// so their share is the total minus the server's).
func udpDrops(port int) (total, atPort uint64) {
	if f, err := os.Open("/proc/net/snmp"); err == nil {
		var names []string
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) == 0 || fields[0] != "Udp:" {
				continue
			}
			if names == nil {
				names = fields
				continue
			}
			for i, n := range names {
				if n == "RcvbufErrors" && i < len(fields) {
					total, _ = strconv.ParseUint(fields[i], 10, 64)
				}
			}
			break
		}
		f.Close()
	}
	hexPort := strings.ToUpper(strconv.FormatInt(int64(port), 16))
	for _, path := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 2 {
				continue
			}
			local := fields[1]
			if i := strings.LastIndexByte(local, ':'); i < 0 || strings.TrimLeft(local[i+1:], "0") != hexPort {
				continue
			}
			if d, err := strconv.ParseUint(fields[len(fields)-1], 10, 64); err == nil {
				atPort += d
			}
		}
		f.Close()
	}
	return total, atPort
}
