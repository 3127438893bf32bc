package tm

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"

	"ser/core/sipmsg"
)

// uacBytes prints a local request in SER's order (uac.c/t_msgbuilder.c):
// Via, To, From, CSeq, Call-ID, Content-Length, User-Agent, the extra
// headers, then the body. Max-Forwards (RFC 3261 §8.1.1.6) follows Via.
func (t *TM) uacBytes(r UACRequest, sock *sipmsg.Socket, id string) []byte {
	hostport := sock.HostPort()
	var b strings.Builder
	b.WriteString(r.Method + " " + r.RURI + " SIP/2.0\r\n")
	b.WriteString("Via: SIP/2.0/" + sock.Proto.ViaName() + " " + hostport + ";branch=" + id + "\r\n")
	hasMF := false
	for _, h := range r.Headers {
		if name, _, _ := strings.Cut(h, ":"); strings.EqualFold(strings.TrimSpace(name), "Max-Forwards") {
			hasMF = true
		}
	}
	if !hasMF {
		b.WriteString("Max-Forwards: 70\r\n")
	}
	b.WriteString("To: " + r.To + "\r\n")
	b.WriteString("From: " + r.From + "\r\n")
	b.WriteString("CSeq: " + strconv.Itoa(r.CSeq) + " " + r.Method + "\r\n")
	b.WriteString("Call-ID: " + r.CallID + "\r\n")
	b.WriteString("Content-Length: " + strconv.Itoa(len(r.Body)) + "\r\n")
	if t.core.ServerSignature() {
		b.WriteString("User-Agent: " + t.core.ServerHeader() + "\r\n")
	}
	for _, h := range r.Headers {
		h = strings.TrimRight(h, "\r\n")
		name, _, _ := strings.Cut(h, ":")
		if n := strings.ToLower(strings.TrimSpace(name)); n == "content-length" || n == "l" {
			continue
		}
		b.WriteString(strings.ReplaceAll(h, "!!", hostport) + "\r\n")
	}
	b.WriteString("\r\n")
	b.Write(r.Body)
	return []byte(b.String())
}

// hasTag reports whether a From/To header value carries a tag parameter
// (outside the <> of a name-addr).
func hasTag(v string) bool {
	params := v
	if i := strings.LastIndexByte(v, '>'); i >= 0 {
		params = v[i+1:]
	} else if i := strings.IndexByte(v, ';'); i >= 0 {
		params = v[i:]
	} else {
		return false
	}
	for _, p := range strings.Split(params, ";") {
		name, _, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(name, "tag") {
			return true
		}
	}
	return false
}

// newCallID returns SER's style of local Call-ID: a counter in hex, "-",
// the process id, "@" and the socket address.
func (t *TM) newCallID(sock *sipmsg.Socket) string {
	n := t.uacBase + t.uacSeq.Add(1)
	return fmt.Sprintf("%016x-%d@%s", n, os.Getpid(), sock.IP.String())
}

// fromTag returns SER's local From-tag: MD5 over a fixed text and the
// first socket, "-", and a CRC over the Call-ID (uac.c).
func (t *TM) fromTag(callID string) string {
	h := md5.New()
	h.Write([]byte("Long live SER server"))
	if socks := t.core.Sockets(); len(socks) > 0 {
		h.Write([]byte(socks[0].IP.String()))
		h.Write([]byte(strconv.Itoa(socks[0].Port)))
	}
	crc := uint16(0xffff)
	for i := 0; i < len(callID); i++ {
		crc ^= uint16(callID[i])
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0x8408
			} else {
				crc >>= 1
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)) + "-" + fmt.Sprintf("%04x", ^crc)
}
