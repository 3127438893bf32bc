package tm

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/sipmsg"
)

// t_write_req and t_write_unix hand a request to an external application
// (a voicemail server, SEMS, a script) as SER 0.9's tm did: twenty lines
// written in one piece to a FIFO or sent as one unix datagram, and a
// "blind" branch added to the transaction so that, if the application
// does not answer in time (fr_timer), the caller gets 408 and the failure
// route runs. The application answers with the FIFO/unix socket command
// t_reply, naming the transaction by the hash:label of line 16.
//
// The lines (SER's assemble_msg, format version 0.3), each ended by "\n":
//
//	 1 0.3
//	 2 sip_request.<action>          the first argument of the call
//	 3 method
//	 4 user of the Request-URI        (as rewritten by the script)
//	 5 host of the Request-URI
//	 6 IP address the request arrived on
//	 7 its port, "." when 5060
//	 8 the Request-URI as received
//	 9 the URI for requests within the dialog: the caller's Contact (else
//	   the From URI), or the first Record-Route when that one is a strict
//	   router
//	10 From (the header's value)
//	11 To
//	12 Call-ID
//	13 From tag
//	14 To tag (empty when none)
//	15 CSeq number
//	16 hash:label of the transaction
//	17 the route set: the Record-Route URIs as <uri> joined by ",", the
//	   Contact last when the first hop is a strict router; "." when empty
//	18 the next hop: the first Record-Route URI when it is a loose router,
//	   else "."
//	19 "P-MsgFlags: " and the message flags in hex, least significant digit
//	   first (SER's int2reverse_hex), then one "title: value" line per
//	   tw_append element present in the request, then "."
//	20 the body (INVITE, or a tw_append with msg[body]); "." otherwise
const twriteVersion = "0.3"

// twInfo is the bound second argument of t_write_*: "action" or
// "action/append", the append naming a tw_append modparam.
type twInfo struct {
	action string
	append *twAppend
}

// twAppend is one tw_append modparam: "name:element;element…" where an
// element is [title=]hdr[Header-Name] or msg[body].
type twAppend struct {
	name    string
	addBody bool
	hdrs    []twHdr
}

// twHdr is a hdr[Name] element, or with avp set an avp[name] element
// (the AVP's newest value).
type twHdr struct {
	title, name string
	avp         *sipmsg.AVPName
}

// parseTwAppend parses a tw_append value (SER's parse_tw_append).
func parseTwAppend(v string) (*twAppend, error) {
	name, rest, ok := strings.Cut(v, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.ContainsAny(name, " \t") {
		return nil, fmt.Errorf("tw_append %q: expected name:element;…", v)
	}
	a := &twAppend{name: name}
	rest = strings.TrimSpace(rest)
	if rest == "" {
		return nil, fmt.Errorf("tw_append %q: no elements", v)
	}
	for _, el := range strings.Split(rest, ";") {
		el = strings.TrimSpace(el)
		title := ""
		if t, e, ok := strings.Cut(el, "="); ok && !strings.Contains(t, "[") {
			title, el = strings.TrimSpace(t), strings.TrimSpace(e)
		}
		typ, arg, ok := strings.Cut(el, "[")
		if !ok || !strings.HasSuffix(arg, "]") || len(arg) < 2 {
			return nil, fmt.Errorf("tw_append %q: bad element %q (expected [title=]hdr[Name] or msg[body])", v, el)
		}
		arg = arg[:len(arg)-1]
		switch strings.ToLower(strings.TrimSpace(typ)) {
		case "hdr":
			if title == "" {
				title = arg
			}
			a.hdrs = append(a.hdrs, twHdr{title: title, name: arg})
		case "msg":
			if !strings.EqualFold(arg, "body") {
				return nil, fmt.Errorf("tw_append %q: msg[%s]: only msg[body] exists", v, arg)
			}
			a.addBody = true
		case "avp":
			if strings.HasPrefix(arg, "$") {
				return nil, fmt.Errorf("tw_append %q: avp[%s]: give the AVP as i:N or s:name (aliases are avpops')", v, arg)
			}
			n, err := sipmsg.ParseAVPName(arg)
			if err != nil {
				return nil, fmt.Errorf("tw_append %q: avp[%s]: %w", v, arg, err)
			}
			if title == "" {
				title = n.Text() // SER: the name, or the ID in decimal
			}
			a.hdrs = append(a.hdrs, twHdr{title: title, name: arg, avp: &n})
		default:
			return nil, fmt.Errorf("tw_append %q: unknown element type %q", v, typ)
		}
	}
	return a, nil
}

// setTwAppend is the tw_append modparam (it may be given several times).
func setTwAppend(t *TM, v module.Value) error {
	a, err := parseTwAppend(v.String())
	if err != nil {
		return err
	}
	for _, old := range t.twAppends {
		if strings.EqualFold(old.name, a.name) {
			return fmt.Errorf("duplicated tw_append name %q", a.name)
		}
	}
	t.twAppends = append(t.twAppends, a)
	return nil
}

// setUnixTxTimeout is the unix_tx_timeout modparam (seconds, as SER 0.9's
// tm): how long a t_write_unix or t_write_req write may take.
func setUnixTxTimeout(t *TM, v module.Value) error {
	n, err := v.Int()
	if err != nil {
		return err
	}
	if n <= 0 {
		return fmt.Errorf("value %d must be positive", n)
	}
	t.txTimeout = time.Duration(n) * time.Second
	return nil
}

// fixupTWrite binds t_write_req (unix false: a FIFO) and t_write_unix.
func fixupTWrite(name string, unix bool) func(any, *module.Env, []module.Value) (module.Handler, error) {
	return module.FixupOf(func(t *TM, env *module.Env, args []module.Value) (module.Handler, error) {
		path := args[0].String()
		if path == "" {
			return nil, fmt.Errorf("%s: empty %s name", name, map[bool]string{false: "FIFO", true: "socket"}[unix])
		}
		if unix && len(path) > 107 {
			return nil, fmt.Errorf("%s: socket name too long", name)
		}
		info := &twInfo{action: args[1].String()}
		if act, app, ok := strings.Cut(info.action, "/"); ok {
			if act == "" {
				return nil, fmt.Errorf("%s: empty action name", name)
			}
			if app == "" {
				return nil, fmt.Errorf("%s: empty append name", name)
			}
			info.action = act
			for _, a := range t.twAppends {
				if strings.EqualFold(a.name, app) {
					info.append = a
				}
			}
			if info.append == nil {
				return nil, fmt.Errorf("%s: unknown append name %q (no such tw_append)", name, app)
			}
		}
		if info.action == "" {
			return nil, fmt.Errorf("%s: empty action name", name)
		}
		return func(m *sipmsg.Msg) (int, error) { return t.write(name, m, path, info, unix), nil }, nil
	})
}

// write assembles the lines, sends them and adds the blind branch.
func (t *TM) write(name string, m *sipmsg.Msg, path string, info *twInfo, unix bool) int {
	st := peekState(m)
	if m.Req == nil || st == nil || st.txn == nil {
		t.log.ErrorContext(module.MsgCtx(m), "tm: "+name+": no transaction for the request (call t_newtran first)")
		return -1
	}
	x := st.txn
	data, err := assembleTWrite(m, x.TransID(), info)
	if err != nil {
		t.log.ErrorContext(module.MsgCtx(m), "tm: "+name+": cannot assemble the request", "err", err)
		return -1
	}
	if unix {
		err = writeUnix(path, data, t.txTimeout)
	} else {
		err = writeFIFO(path, data, t.txTimeout)
	}
	if err != nil {
		t.log.ErrorContext(module.MsgCtx(m), "tm: "+name+" failed", "to", path, "err", err)
		return -1
	}
	if !st.failure && !st.reply {
		x.mu.Lock()
		defer x.unlock()
	}
	t.addBlind(x)
	return 1
}

// addBlind adds a branch that is never sent: its final response timer
// (fr_timer) answers 408 when nobody replied in time (SER's
// add_blind_uac). x is locked.
func (t *TM) addBlind(x *txn) {
	if x.terminated() || x.completed() || x.noNew() {
		return
	}
	x.uasUntil = 0
	x.branches = append(x.branches, &branch{idx: len(x.branches), blind: true,
		state: initialBranch(x.invite()), frAt: clockNow().Add(t.timers.Load().FR)})
}

// assembleTWrite builds the twenty lines for the request in m.
func assembleTWrite(m *sipmsg.Msg, transID string, info *twInfo) ([]byte, error) {
	req := m.Req
	from, to, cseq := req.From(), req.To(), req.CSeq()
	if from == nil || to == nil || cseq == nil || req.CallID() == nil {
		return nil, errors.New("From, To, Call-ID or CSeq missing")
	}
	uri := m.URI()
	// The URI for later requests: the caller's Contact, else From.
	target := from.Address.String()
	if c := req.Contact(); c != nil {
		target = c.Address.String()
	}
	var rrs []string
	firstLR := false
	for i, h := range req.GetHeaders("Record-Route") {
		rr, ok := h.(*sip.RecordRouteHeader)
		if !ok {
			continue
		}
		if i == 0 {
			firstLR = rr.Address.UriParams.Has("lr")
		}
		rrs = append(rrs, rr.Address.String())
	}
	route, nextHop := rrs, "."
	if len(rrs) > 0 {
		if firstLR {
			nextHop = rrs[0]
		} else {
			// Strict router: it becomes the Request-URI of later
			// requests, the Contact the last hop.
			route = append(append([]string{}, rrs[1:]...), target)
			target = rrs[0]
		}
	}
	routeLine := "."
	if len(route) > 0 {
		routeLine = "<" + strings.Join(route, ">,<") + ">"
	}
	dstIP, port := ".", "."
	if s := m.Rcv.Sock; s != nil {
		dstIP = s.IP.String()
		if s.Port != 5060 {
			port = strconv.Itoa(s.Port)
		}
	}
	var app strings.Builder
	app.WriteString("P-MsgFlags: ")
	app.WriteString(reverseHex(uint32(m.Flags)))
	app.WriteByte('\n')
	body := "."
	if info.append != nil {
		for _, h := range info.append.hdrs {
			if h.avp != nil {
				if v, ok := m.AVPs().First(*h.avp); ok {
					app.WriteString(h.title + ": " + v.String() + "\n")
				}
				continue
			}
			if v := m.Header(h.name); v != "" {
				app.WriteString(h.title + ": " + strings.TrimSpace(v) + "\n")
			}
		}
	}
	app.WriteByte('.')
	if req.IsInvite() || info.append != nil && info.append.addBody {
		body = string(req.Body())
	}
	lines := []string{
		twriteVersion,
		"sip_request." + info.action,
		m.Method(),
		uri.User,
		uri.Host,
		dstIP,
		port,
		m.OrigURI().String(),
		target,
		from.Value(),
		to.Value(),
		req.CallID().Value(),
		from.Params.GetOr("tag", ""),
		to.Params.GetOr("tag", ""),
		strconv.FormatUint(uint64(cseq.SeqNo), 10),
		transID,
		routeLine,
		nextHop,
		app.String(),
		body,
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return []byte(b.String()), nil
}

// reverseHex writes n in hex, least significant digit first, as SER's
// int2reverse_hex ("0" for zero).
func reverseHex(n uint32) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n != 0; n >>= 4 {
		b = append(b, "0123456789abcdef"[n&0xf])
	}
	return string(b)
}

// writeFIFO writes data to a FIFO some application reads: opened without
// blocking (no reader is an error, as in SER), written in one piece within
// the timeout.
func writeFIFO(path string, data []byte, timeout time.Duration) error {
	f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, syscall.ENXIO) {
			return fmt.Errorf("nobody listening on FIFO %s for reading", path)
		}
		return err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		return fmt.Errorf("%s is not a FIFO", path)
	}
	if err := f.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	_, err = f.Write(data)
	return err
}

// writeUnix sends data as one datagram to the unix socket at path.
func writeUnix(path string, data []byte, timeout time.Duration) error {
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	_, err = c.Write(data)
	return err
}
