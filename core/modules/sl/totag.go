package sl

import (
	"crypto/md5"
	"encoding/hex"
	"strconv"
	"sync"

	"ser/core/sipmsg"
)

// tagSignature is the fixed string SER's sl hashes into its To-tag prefix.
const tagSignature = "SER-stateless"

// TagLen is the length of sl's To-tags: 32 hex digits of MD5, "-", and 4
// hex digits of CRC (SER's TOTAG_VALUE_LEN).
const TagLen = 32 + 1 + 4

// tagGen computes SER's stateless To-tags: MD5("SER-stateless", address
// and port of the first listening socket) in hex, "-", then a CRC-CCITT
// over the top Via's host, port and branch (tags.h init_tags and
// calc_crc_suffix). The prefix identifies the server, the suffix the
// request, so a retransmission gets the same tag.
type tagGen struct {
	sockets func() []*sipmsg.Socket
	once    sync.Once
	prefix  string
}

func (g *tagGen) getPrefix() string {
	g.once.Do(func() {
		h := md5.New()
		h.Write([]byte(tagSignature))
		if g.sockets != nil {
			if socks := g.sockets(); len(socks) > 0 {
				h.Write([]byte(socks[0].IP.String()))
				h.Write([]byte(strconv.Itoa(socks[0].Port)))
			}
		}
		g.prefix = hex.EncodeToString(h.Sum(nil)) + "-"
	})
	return g.prefix
}

// ToTag returns the To-tag sl puts in its replies to the request in msg.
func (m *Module) ToTag(msg *sipmsg.Msg) string {
	var buf [TagLen + 8]byte
	return string(m.appendToTag(buf[:0], msg))
}

// appendToTag appends msg's To-tag (ToTag) to b.
func (m *Module) appendToTag(b []byte, msg *sipmsg.Msg) []byte {
	return appendCRCSuffix(append(b, m.tag.getPrefix()...), msg)
}

// IsLocalACK reports whether msg is an ACK to a reply sl sent: its To-tag
// is the one sl generated for the transaction. SER drops such ACKs before
// the script runs (sl_filter_ACK); the core should call this for every
// ACK and discard it when true.
func (m *Module) IsLocalACK(msg *sipmsg.Msg) bool {
	if msg.Req == nil || !msg.Req.IsAck() {
		return false
	}
	to := msg.Req.To()
	if to == nil {
		return false
	}
	tag, _ := to.Params.Get("tag")
	var buf [TagLen + 8]byte
	return len(tag) == TagLen && string(m.appendToTag(buf[:0], msg)) == tag
}

// appendCRCSuffix appends calc_crc_suffix: CRC-CCITT of the top Via's
// host, port (as written; empty when absent) and branch, printed as 4 hex
// digits, least significant first.
func appendCRCSuffix(b []byte, msg *sipmsg.Msg) []byte {
	crc := uint16(0xffff)
	if v := msg.Req.Via(); v != nil {
		crc = crcUpdate(crc, v.Host)
		if v.Port > 0 {
			var port [20]byte
			crc = crcUpdate(crc, string(strconv.AppendInt(port[:0], int64(v.Port), 10)))
		}
		if b, ok := v.Params.Get("branch"); ok {
			crc = crcUpdate(crc, b)
		}
	}
	crc = ^crc
	const digits = "0123456789abcdef"
	for range 4 {
		b = append(b, digits[crc&0xf])
		crc >>= 4
	}
	return b
}

// ccittTab is SER's crc.c ccitt_tab: the reflected CCITT polynomial 0x8408.
var ccittTab = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ 0x8408
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return t
}()

func crcUpdate(crc uint16, s string) uint16 {
	for i := 0; i < len(s); i++ {
		crc = ccittTab[byte(crc)^s[i]] ^ crc>>8
	}
	return crc
}

// FilterRequest absorbs the ACKs to sl's own negative replies before the
// script runs (SER's sl registers the same pre-script callback); the core
// calls it for every request.
func (m *Module) FilterRequest(msg *sipmsg.Msg) bool { return m.IsLocalACK(msg) }
