package nathelper

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"ser/core/modules/usrloc"
	"ser/core/sipmsg"
)

// keepAlive is the packet a NAT ping sends when sipping_from is not set:
// a double CRLF (RFC 5626 §3.5.1), which SIP stacks skip as empty lines.
var keepAlive = []byte("\r\n\r\n")

// Start tests the RTP proxies when the script uses them (a proxy that
// does not answer is disabled until its recheck time), and launches the
// NAT pinger when natping_interval is set: every interval, PingAll. The
// natping_tables are registered in usrloc first. Exports.Start.
func (n *NATHelper) Start(ctx context.Context) error {
	if n.rtpUsed && !n.rtpDisable {
		n.rtp.start(ctx, n.log.Warn)
	}
	if n.pingInterval <= 0 {
		return nil
	}
	if n.ul == nil || n.core == nil {
		return fmt.Errorf("nathelper: NAT pinging needs the usrloc module and the core")
	}
	for _, t := range n.tables {
		n.ul.Register(t)
	}
	if err := n.pinger.Start(ctx, n.pingInterval, func() { n.PingAll() }); err != nil {
		return fmt.Errorf("nathelper: pinger: %w", err)
	}
	return nil
}

// Stop ends the pinger and waits for it. Exports.Stop.
func (n *NATHelper) Stop() { n.pinger.Stop() }

// PingAll is one round of NAT pings (when nh_enable_ping has not switched
// them off): every valid contact of the usrloc tables (natping_tables, or
// every table the script names) — with ping_nated_only only those flagged
// FL_NAT — gets one packet at its received address, or at its contact
// address when none is stored, over UDP only (TCP and TLS connections
// keep their own binding). An address shared by several contacts is
// pinged once per round. It returns the number of packets sent.
func (n *NATHelper) PingAll() int {
	n.roundMu.Lock()
	defer n.roundMu.Unlock()
	if !n.enabled.Load() || n.ul == nil {
		return 0
	}
	var domains []*usrloc.Domain
	if len(n.tables) > 0 {
		for _, t := range n.tables {
			if d, ok := n.ul.Domain(t); ok {
				domains = append(domains, d)
			}
		}
	} else {
		domains = n.ul.Domains()
	}
	seen := map[sipmsg.Dest]bool{}
	sent, contacts := 0, 0
	for _, d := range domains {
		for _, cs := range d.Records(false) {
			for _, c := range cs {
				if n.pingNatedOnly && c.Flags&usrloc.FlagNAT == 0 {
					continue
				}
				contacts++
				dst, ok := n.target(c)
				if !ok || seen[dst] {
					continue
				}
				seen[dst] = true
				if err := n.core.Send(dst, n.packet(c, dst)); err != nil {
					n.stats.errors.Add(1)
					n.log.Debug("nathelper: NAT ping not sent", "contact", c.URI, "dst", dst.String(), "err", err)
					continue
				}
				sent++
			}
		}
	}
	n.stats.rounds.Add(1)
	n.stats.sent.Add(uint64(sent))
	n.stats.last.Store(uint64(sent))
	if contacts > 0 {
		n.log.Debug("nathelper: NAT ping round", "contacts", contacts, "sent", sent)
	}
	return sent
}

// target resolves where a contact is pinged: its received address, else
// its URI; only UDP destinations are pinged.
func (n *NATHelper) target(c usrloc.Contact) (sipmsg.Dest, bool) {
	addr := c.Received
	if addr == "" {
		addr = c.URI
	}
	var u sip.Uri
	if err := sip.ParseUri(addr, &u); err != nil || u.Host == "" {
		n.stats.errors.Add(1)
		n.log.Debug("nathelper: contact address unusable for NAT pings", "contact", c.URI, "address", addr)
		return sipmsg.Dest{}, false
	}
	if tp, ok := u.UriParams.Get("transport"); ok && !strings.EqualFold(tp, "udp") || u.Scheme == "sips" {
		return sipmsg.Dest{}, false
	}
	dst, err := n.core.Resolve(&u)
	if err != nil || dst.Proto != sipmsg.ProtoUDP {
		if err != nil {
			n.stats.errors.Add(1)
			n.log.Debug("nathelper: cannot resolve a contact for NAT pings", "address", addr, "err", err)
		}
		return sipmsg.Dest{}, false
	}
	dst.Sock = n.core.SocketFor(dst)
	if f := n.forceSock; f != nil && f.IP.Is4() == dst.Addr.Addr().Unmap().Is4() {
		dst.Sock = f
	}
	return dst, dst.Sock != nil
}

// packet returns what is sent to a contact: the keep-alive, or with
// sipping_from a sipping_method request to the contact URI (stateless:
// its reply ends at this server and is dropped).
func (n *NATHelper) packet(c usrloc.Contact, dst sipmsg.Dest) []byte {
	if n.sippingFrom == "" {
		return keepAlive
	}
	seq := n.seq.Add(1)
	sum := md5.Sum([]byte(c.URI + "\x00" + strconv.FormatUint(seq, 10) + "\x00" + dst.String()))
	id := hex.EncodeToString(sum[:8])
	hostport := dst.Sock.HostPort()
	var b strings.Builder
	b.WriteString(n.sippingMethod + " " + c.URI + " SIP/2.0\r\n")
	b.WriteString("Via: SIP/2.0/UDP " + hostport + ";branch=z9hG4bK" + id + "\r\n")
	b.WriteString("Max-Forwards: 70\r\n")
	b.WriteString("From: <" + n.sippingFrom + ">;tag=" + id[:8] + "\r\n")
	b.WriteString("To: <" + c.URI + ">\r\n")
	b.WriteString("Call-ID: natping-" + id + "@" + dst.Sock.Name + "\r\n")
	b.WriteString("CSeq: 1 " + n.sippingMethod + "\r\n")
	if n.core.ServerSignature() {
		b.WriteString("User-Agent: " + n.core.ServerHeader() + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return []byte(b.String())
}
