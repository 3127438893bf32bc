package registrar

import (
	"errors"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/modules/usrloc"
	"ser/core/sipmsg"
)

// uaDummy is stored when a REGISTER has no User-Agent (SER's UA_DUMMY_STR).
const uaDummy = "Unknown"

// save processes a REGISTER into table d (RFC 3261 §10.3 steps 6–8, with
// SER 0.9's rules) and, when reply is set, answers it: 200 OK listing the
// AOR's current bindings, or the error.
//
// It returns 1 on success. On a refused REGISTER it returns 0, which stops
// the script, as SER's save() did: the error reply is already sent, so a
// following sl_reply_error() must not send a second one. m.ErrCode and
// m.ErrReason are set all the same.
func (m *Module) save(msg *sipmsg.Msg, d *usrloc.Domain, reply bool) (int, error) {
	if msg.Req == nil {
		return -1, errors.New("registrar: save: not a request")
	}
	cs, now, extra, f := m.register(msg, d)
	var err error
	if reply {
		err = m.reply(msg, f, cs, now, extra)
	}
	if f != nil {
		m.log.InfoContext(module.MsgCtx(msg), "REGISTER refused", "code", f.code, "error", f.info)
		msg.SetError(f.code, f.reason())
		if err != nil {
			return -1, err
		}
		return 0, nil
	}
	if err != nil {
		return -1, err
	}
	return 1, nil
}

// register applies the REGISTER in msg to d. It returns the bindings to
// report, the time they were computed at and extra header lines for the
// 200 (the Path), or why the request failed.
func (m *Module) register(msg *sipmsg.Msg, d *usrloc.Domain) ([]usrloc.Contact, int64, []string, *failure) {
	cs, now, b, f := m.registerBindings(msg, d)
	var extra []string
	if f == nil && b.path != "" && m.pathMode != pathModeOff && supports(msg, "path") {
		// RFC 3327 §5.3: the Path as stored, for the UA to learn it.
		extra = []string{"Path: " + b.path}
	}
	return cs, now, extra, f
}

func (m *Module) registerBindings(msg *sipmsg.Msg, d *usrloc.Domain) ([]usrloc.Contact, int64, *binding, *failure) {
	req := msg.Req
	now := m.ul.Now().Unix()
	b := &binding{}
	to := req.To()
	if to == nil {
		return nil, now, b, errToMiss
	}
	cid := req.CallID()
	if cid == nil {
		return nil, now, b, errCIDMiss
	}
	cseq := req.CSeq()
	if cseq == nil {
		return nil, now, b, errCSMiss
	}
	if f := m.checkRequire(msg); f != nil {
		return nil, now, b, f
	}
	hdrExp, hasHdrExp, f := expiresHeader(req)
	if f != nil {
		return nil, now, b, f
	}
	var contacts []*sip.ContactHeader
	for h := range sipmsg.HeadersNamed(req, "Contact") {
		if c, ok := h.(*sip.ContactHeader); ok {
			contacts = append(contacts, c)
		}
	}
	star, f := m.checkStar(contacts, hdrExp, hasHdrExp)
	if f != nil {
		return nil, now, b, f
	}
	aor, f := m.aor(&to.Address)
	if f != nil {
		return nil, now, b, f
	}
	var pathRcv string
	if m.usePath {
		if b.path, pathRcv, f = pathVector(msg); f != nil {
			return nil, now, b, f
		}
		if b.path != "" && m.pathMode == pathModeStrict && !supports(msg, "path") {
			return nil, now, b, errPathUnsup(b.path)
		}
	}

	switch {
	case star:
		// Contact: * with Expires: 0 removes every binding.
		if _, err := d.RemoveAOR(aor); err != nil {
			m.log.ErrorContext(module.MsgCtx(msg), "REGISTER failed (500): usrloc could not delete the bindings", "table", d.Name(), "aor", aor, "err", err)
			return nil, now, b, errULDelete
		}
		return nil, now, b, nil
	case len(contacts) == 0:
		// A query: report the bindings.
		cs, _, err := d.Lookup(aor)
		if err != nil {
			m.log.ErrorContext(module.MsgCtx(msg), "REGISTER failed (500): usrloc could not read the bindings", "table", d.Name(), "aor", aor, "err", err)
			return nil, now, b, errULGet
		}
		return cs, now, b, nil
	}

	ua := strings.TrimSpace(msg.Header("User-Agent"))
	if ua == "" {
		ua = uaDummy
	}
	b.callID = strings.TrimSpace(cid.Value())
	b.cseq = int32(cseq.SeqNo)
	b.userAgent = ua
	if m.natFlag >= 0 && msg.IsFlagSet(m.natFlag) || NATed(msg) {
		b.nat, b.received = true, ReceivedURI(msg.Rcv)
	}
	if pathRcv != "" && m.pathUseReceived {
		// Kamailio's path_use_received: the edge proxy passed the UA's
		// address in its Path URI's received parameter.
		b.nat, b.received = true, pathRcv
	}
	var reported []usrloc.Contact
	err := d.Update(aor, func(r *usrloc.Record) error {
		now = r.Now()
		for _, c := range contacts {
			if err := m.apply(r, c, b, hdrExp, hasHdrExp); err != nil {
				return err
			}
		}
		reported = r.Valid()
		if m.maxContacts > 0 && len(reported) > m.maxContacts {
			return errTooMany
		}
		return nil
	})
	var fail *failure
	switch {
	case errors.As(err, &fail):
		if fail == errTooMany {
			// SER answers 503 with the bindings as they stay.
			cs, _, _ := d.Lookup(aor)
			return cs, now, b, fail
		}
		return nil, now, b, fail
	case err != nil:
		m.log.ErrorContext(module.MsgCtx(msg), "REGISTER failed (500): usrloc update failed", "table", d.Name(), "aor", aor, "err", err)
		return nil, now, b, errULUpdate
	}
	return reported, now, b, nil
}

// binding is what every contact of one REGISTER shares.
type binding struct {
	callID    string
	cseq      int32
	userAgent string
	nat       bool
	received  string
	path      string // the REGISTER's Path (use_path)
}

// apply adds, refreshes or removes the binding of one Contact.
func (m *Module) apply(r *usrloc.Record, h *sip.ContactHeader, b *binding, hdrExp int64, hasHdrExp bool) error {
	uri := sipmsg.URIString(&h.Address)
	old, found := r.Find(uri)
	// RFC 3261 §10.3 step 7: with the same Call-ID, a CSeq not higher
	// than the stored one aborts the update and the request fails (400
	// "Invalid CSeq number", as Kamailio's registrar answers) — except
	// the same CSeq within cseq_delay of the contact's last change, a
	// retransmission, which leaves the binding as it is (Kamailio's rule).
	if found && old.CallID == b.callID && old.CSeq >= b.cseq {
		if old.CSeq == b.cseq && r.Now() < old.LastModified+m.ul.CSeqDelay() {
			return nil
		}
		return errInvCSeq
	}
	e := m.contactExpires(h.Params, hdrExp, hasHdrExp)
	if e == 0 {
		r.Delete(uri)
		return nil
	}
	q := m.defaultQ
	if v, ok := param(h.Params, "q"); ok && v != "" {
		var err error
		if q, err = usrloc.ParseQ(v); err != nil {
			return errInvQ
		}
	}
	c := old
	c.URI = uri
	c.Expires = r.Now() + e
	c.Q = q
	c.CallID = b.callID
	c.CSeq = b.cseq
	c.UserAgent = b.userAgent
	c.Received = b.received
	if v := quotedParam(h.Params, "received"); v != "" {
		// SER 0.9: a Contact's received parameter (nathelper's
		// add_rcv_param, put there by the proxy in front) is the
		// address to store.
		c.Received = v
	}
	c.Path = b.path
	if b.nat {
		c.Flags |= usrloc.FlagNAT
	} else {
		c.Flags &^= usrloc.FlagNAT
	}
	r.Put(c)
	return nil
}

// expiresHeader parses the Expires header; a malformed one fails the
// request (SER's "Expires parse error").
func expiresHeader(req *sip.Request) (int64, bool, *failure) {
	h := sipmsg.FirstHeader(req, "Expires")
	if h == nil {
		return 0, false, nil
	}
	n, err := strconv.ParseUint(strings.TrimSpace(h.Value()), 10, 32)
	if err != nil {
		return 0, false, errParseExp
	}
	return int64(n), true, nil
}

// checkStar applies RFC 3261 §10.3 step 6 to "Contact: *": it must be the
// only contact and the Expires header must be 0 (SER counts a missing
// Expires as default_expires).
func (m *Module) checkStar(cs []*sip.ContactHeader, hdrExp int64, hasHdrExp bool) (bool, *failure) {
	for i, c := range cs {
		if !c.Address.Wildcard {
			continue
		}
		if i > 0 || len(cs) > 1 {
			return false, errStarCont
		}
		e := m.defaultExpires
		if hasHdrExp {
			e = hdrExp
		}
		if e != 0 {
			return false, errStarExp
		}
		return true, nil
	}
	return false, nil
}

// contactExpires computes a contact's lifetime in seconds as SER 0.9's
// calc_contact_expires: its expires parameter (default_expires when that
// is not a number), else the Expires header, else default_expires; a
// non-zero value below min_expires is raised to it and one above
// max_expires (when set) lowered to it. 0 means remove.
func (m *Module) contactExpires(params sip.HeaderParams, hdrExp int64, hasHdrExp bool) int64 {
	var e int64
	if v, ok := param(params, "expires"); ok && v != "" {
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
		if err != nil {
			e = m.defaultExpires
		} else {
			e = int64(n)
		}
	} else if hasHdrExp {
		e = hdrExp
	} else {
		e = m.defaultExpires
	}
	if e != 0 && e < m.minExpires {
		e = m.minExpires
	}
	if e != 0 && m.maxExpires > 0 && e > m.maxExpires {
		e = m.maxExpires
	}
	return e
}

// param finds a header parameter by name, ignoring case.
func param(ps sip.HeaderParams, name string) (string, bool) {
	for _, kv := range ps {
		if strings.EqualFold(kv.K, name) {
			return kv.V, true
		}
	}
	return "", false
}

// quotedParam returns the value of a header parameter without its
// quotes. A quoted value may hold semicolons
// (received="sip:192.0.2.1:5060;transport=tcp"), which the SIP parser
// takes for parameter separators: the pieces up to the closing quote are
// joined again.
func quotedParam(ps sip.HeaderParams, name string) string {
	for i, kv := range ps {
		if !strings.EqualFold(kv.K, name) {
			continue
		}
		v := kv.V
		if strings.HasPrefix(v, `"`) {
			for j := i + 1; (len(v) < 2 || !strings.HasSuffix(v, `"`)) && j < len(ps); j++ {
				piece := ps[j].K
				if ps[j].V != "" {
					piece += "=" + ps[j].V
				}
				v += ";" + piece
			}
		}
		return strings.Trim(v, `"`)
	}
	return ""
}

// ReceivedURI is the address a NATed REGISTER came from, as a SIP URI
// ("sip:203.0.113.5:40312", ";transport=tcp" for TCP and TLS) for the
// contact's received field: lookup() sends requests there.
func ReceivedURI(rcv sipmsg.RcvInfo) string {
	ip := rcv.Src.Addr().Unmap()
	host := ip.String()
	if ip.Is6() {
		host = "[" + host + "]"
	}
	s := "sip:" + host + ":" + strconv.Itoa(int(rcv.Src.Port()))
	switch rcv.Proto {
	case sipmsg.ProtoTCP, sipmsg.ProtoTLS:
		s += ";transport=" + rcv.Proto.String()
	}
	return s
}
