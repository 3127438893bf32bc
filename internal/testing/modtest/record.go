package modtest

import (
	"testing"

	"github.com/emiago/sipgo/sip"

	"ser/core/sipmsg"
)

// SentReply is a reply passed to Core.SendReply.
type SentReply struct {
	Rcv  sipmsg.RcvInfo
	Resp *sip.Response
	// Bytes is the reply as it would go on the wire.
	Bytes []byte
}

// Forwarded is a request passed to Core.Forward or Core.SendAsIs.
type Forwarded struct {
	Msg *sipmsg.Msg
	Dst sipmsg.Dest
	// Bytes is the current message text at the time of the call (without
	// the Via the real core adds in Forward).
	Bytes []byte
	// AsIs is true for SendAsIs.
	AsIs bool
}

// Packet is raw data passed to Core.Send.
type Packet struct {
	Dst  sipmsg.Dest
	Data []byte
}

// LogLine is a script log line passed to Core.Log.
type LogLine struct {
	Level int
	Text  string
}

// Replies returns the replies sent so far.
func (c *Core) Replies() []SentReply {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]SentReply(nil), c.replies...)
}

// LastReply returns the last reply sent; the test fails when there is none.
func (c *Core) LastReply(tb testing.TB) SentReply {
	tb.Helper()
	r := c.Replies()
	if len(r) == 0 {
		tb.Fatalf("modtest: no reply was sent")
	}
	return r[len(r)-1]
}

// Forwards returns the requests forwarded (Forward and SendAsIs) so far.
func (c *Core) Forwards() []Forwarded {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Forwarded(nil), c.forwards...)
}

// Packets returns the raw packets sent so far.
func (c *Core) Packets() []Packet {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Packet(nil), c.packets...)
}

// Logs returns the script log lines written so far.
func (c *Core) Logs() []LogLine {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]LogLine(nil), c.logs...)
}

// Reset forgets everything recorded.
func (c *Core) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.replies, c.forwards, c.packets, c.logs = nil, nil, nil, nil
}
