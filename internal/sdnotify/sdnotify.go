// Package sdnotify implements systemd's service notification protocol
// (sd_notify(3)) without libsystemd: a datagram with newline-separated
// VAR=value assignments sent to the unix socket $NOTIFY_SOCKET names
// (a path, or an abstract socket when it starts with '@'). A unit with
// Type=notify is "started" when READY=1 arrives.
package sdnotify

import (
	"net"
	"os"
)

// Env is the variable systemd puts the socket's address in.
const Env = "NOTIFY_SOCKET"

// Notify sends state (e.g. "READY=1", "STOPPING=1", "STATUS=…"; several
// joined by newlines) to $NOTIFY_SOCKET. Without the variable — not
// started by systemd, or by a unit that is not Type=notify — it does
// nothing and reports false.
func Notify(state string) (bool, error) {
	addr := os.Getenv(Env)
	if addr == "" {
		return false, nil
	}
	if addr[0] == '@' {
		addr = "\x00" + addr[1:]
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return false, err
	}
	defer c.Close()
	if _, err := c.Write([]byte(state)); err != nil {
		return false, err
	}
	return true, nil
}
