package avpops

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/modules/textops"
	"ser/core/sipmsg"
	"ser/core/store"
)

type dbOp uint8

const (
	opLoad dbOp = iota
	opStore
	opDelete
)

func (o dbOp) String() string {
	return [...]string{"avp_db_load", "avp_db_store", "avp_db_delete"}[o]
}

// fixupDB binds avp_db_load / avp_db_store / avp_db_delete(source, name).
func fixupDB(op dbOp) func(*Module, *module.Env, []module.Value) (module.Handler, error) {
	return func(a *Module, env *module.Env, args []module.Value) (module.Handler, error) {
		src, err := a.parseDBSource(args[0].String())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		dn, err := a.parseDBName(args[1].String(), op == opLoad)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		first := !a.usesDB.Swap(true)
		if dn.scheme == nil && !a.tables[dn.table] {
			a.tables[dn.table] = true
			first = true
		}
		if first && a.started.Load() {
			// A configuration reload: open and check now, as Start would
			// have; a failure refuses the reload.
			ctx, cancel := context.WithTimeout(context.Background(), a.dbTimeout)
			defer cancel()
			if err := a.open(ctx); err != nil {
				return nil, fmt.Errorf("%s: %w", op, err)
			}
		}
		switch op {
		case opLoad:
			return func(m *sipmsg.Msg) (int, error) { return a.dbLoad(m, src, dn), nil }, nil
		case opStore:
			return func(m *sipmsg.Msg) (int, error) { return a.dbStore(m, src, dn), nil }, nil
		}
		return func(m *sipmsg.Msg) (int, error) { return a.dbDelete(m, src, dn), nil }, nil
	}
}

// messageURI returns the URI "$ruri", "$from" or "$to" names in m.
func messageURI(m *sipmsg.Msg, k uriKind) (*sip.Uri, error) {
	if k == uriRURI {
		if !m.IsRequest() {
			return nil, errors.New("$ruri: not a request")
		}
		return m.URI(), nil
	}
	hs, ok := m.Message().(interface {
		From() *sip.FromHeader
		To() *sip.ToHeader
	})
	if ok && k == uriFrom {
		if h := hs.From(); h != nil {
			return &h.Address, nil
		}
		return nil, errors.New("no From header")
	}
	if ok && k == uriTo {
		if h := hs.To(); h != nil {
			return &h.Address, nil
		}
	}
	return nil, errors.New("no To header")
}

// uriText returns a URI source's value: the whole URI, or its user or
// host (SER refused an "incomplete" URI, without user or host, for the
// parts).
func uriText(m *sipmsg.Msg, k uriKind, part uriPart) (string, error) {
	u, err := messageURI(m, k)
	if err != nil {
		return "", err
	}
	switch part {
	case partUser, partDomain:
		if u.User == "" || u.Host == "" {
			return "", fmt.Errorf("incomplete URI %s (no user or host)", u.String())
		}
		if part == partUser {
			return u.User, nil
		}
		return u.Host, nil
	}
	if k == uriRURI {
		return m.URIString(), nil
	}
	return u.String(), nil
}

// owner returns whose rows src selects in m.
func (a *Module) owner(m *sipmsg.Msg, src dbSource) (store.AVPOwner, error) {
	switch {
	case src.uri != 0:
		u, err := messageURI(m, src.uri)
		if err != nil {
			return store.AVPOwner{}, err
		}
		if u.User == "" || u.Host == "" {
			return store.AVPOwner{}, fmt.Errorf("incomplete URI %s (no user or host)", u.String())
		}
		o := store.AVPOwner{Username: u.User, Domain: u.Host, UseDomain: a.cfg.UseDomain}
		if src.part == partDomain {
			// The domain's own AVPs: username "" and the domain.
			o.Username, o.UseDomain = "", true
		}
		return o, nil
	case src.byAV:
		v, ok := m.AVPs().First(src.avp)
		if !ok {
			return store.AVPOwner{}, fmt.Errorf("AVP %s with the uuid is not set", src.avp)
		}
		return store.AVPOwner{ByUUID: true, UUID: v.String()}, nil
	}
	return store.AVPOwner{ByUUID: true, UUID: src.uuid}, nil
}

func (a *Module) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), a.dbTimeout)
}

// dbTarget is what avp_db_load, avp_db_store and avp_db_delete (fn)
// share: the owner of the rows from the source, the attribute name to
// select ("" for all) and false, logged, when the source cannot be had or
// the database is not open.
func (a *Module) dbTarget(m *sipmsg.Msg, src dbSource, dn dbName, fn string) (store.AVPOwner, string, bool) {
	o, err := a.owner(m, src)
	if err != nil {
		a.log.ErrorContext(module.MsgCtx(m), "avpops: "+fn+": cannot get the source", "err", err)
		return o, "", false
	}
	if a.db == nil {
		a.log.ErrorContext(module.MsgCtx(m), "avpops: database not open")
		return o, "", false
	}
	attr := ""
	if !dn.spec.any {
		attr = dn.spec.name.Text()
	}
	return o, attr, true
}

// dbLoad is avp_db_load: 1 when at least one AVP was loaded.
func (a *Module) dbLoad(m *sipmsg.Msg, src dbSource, dn dbName) int {
	o, attr, ok := a.dbTarget(m, src, dn, "avp_db_load")
	if !ok {
		return -1
	}
	sc := a.schema(dn.table)
	if dn.scheme != nil {
		sc = a.schemeSchema(dn.scheme)
	}
	ctx, cancel := a.ctx()
	rows, err := a.db.LoadAVPs(ctx, sc, o, attr)
	cancel()
	if err != nil {
		a.log.ErrorContext(module.MsgCtx(m), "avpops: avp_db_load failed", "err", err)
		return -1
	}
	n := 0
	for _, r := range rows {
		avp, err := a.rowAVP(r, dn)
		if err != nil {
			a.log.ErrorContext(module.MsgCtx(m), "avpops: avp_db_load: bad row", "owner", o.String(), "attribute", r.Attribute, "err", err)
			continue
		}
		if avp == nil {
			continue
		}
		if err := m.AddAVPEntry(*avp); err != nil {
			a.log.ErrorContext(module.MsgCtx(m), "avpops: avp_db_load", "err", err)
			break
		}
		n++
	}
	a.log.DebugContext(module.MsgCtx(m), "avpops: AVPs loaded", "owner", o.String(), "n", n)
	if n == 0 {
		return -1
	}
	return 1
}

// rowAVP converts a loaded row; nil (no error) for a row whose name type
// does not fit the spec.
func (a *Module) rowAVP(r store.AVPRow, dn dbName) (*sipmsg.AVP, error) {
	avp := &sipmsg.AVP{Name: dn.spec.name, InDB: true}
	valInt := r.Type&typeValInt != 0
	if dn.scheme != nil {
		valInt = dn.scheme.intValues
	} else {
		if !dn.spec.rowTypeOK(r.Type) {
			return nil, nil
		}
		if dn.spec.any {
			if r.Type&typeNameInt != 0 {
				id, err := strconv.ParseUint(r.Attribute, 10, 16)
				if err != nil {
					return nil, fmt.Errorf("type %d says the name is an integer", r.Type)
				}
				avp.Name = sipmsg.IntName(int(id))
			} else if r.Attribute == "" {
				return nil, errors.New("empty attribute name")
			} else {
				avp.Name = sipmsg.StrName(r.Attribute)
			}
		}
	}
	if valInt {
		n, err := strconv.Atoi(strings.TrimSpace(r.Value))
		if err != nil {
			return nil, fmt.Errorf("value %q is not an integer as its type says", r.Value)
		}
		avp.Value = sipmsg.IntValue(n)
	} else {
		avp.Value = sipmsg.StrValue(r.Value)
	}
	return avp, nil
}

// typeFlags is the type column value of an AVP.
func typeFlags(avp *sipmsg.AVP) int {
	t := 0
	if !avp.Name.IsStr() {
		t |= typeNameInt
	}
	if !avp.Value.IsStr {
		t |= typeValInt
	}
	return t
}

// dbStore is avp_db_store: the selected AVPs not loaded from (or stored
// into) the database are inserted; 1 when at least one was.
func (a *Module) dbStore(m *sipmsg.Msg, src dbSource, dn dbName) int {
	o, _, ok := a.dbTarget(m, src, dn, "avp_db_store")
	if !ok {
		return -1
	}
	sc := a.schema(dn.table)
	n := 0
	m.AVPs().Each(func(avp *sipmsg.AVP) bool {
		if avp.InDB || !dn.spec.matches(avp) {
			return true
		}
		ctx, cancel := a.ctx()
		err := a.db.StoreAVP(ctx, sc, o, store.AVPRow{Attribute: avp.Name.Text(), Value: avp.Value.String(), Type: typeFlags(avp)})
		cancel()
		if err != nil {
			a.log.ErrorContext(module.MsgCtx(m), "avpops: avp_db_store failed", "avp", avp.Name.String(), "err", err)
			return true
		}
		avp.InDB = true
		n++
		return true
	})
	if n == 0 {
		return -1
	}
	return 1
}

// dbDelete is avp_db_delete: 1 unless the database fails.
func (a *Module) dbDelete(m *sipmsg.Msg, src dbSource, dn dbName) int {
	o, attr, ok := a.dbTarget(m, src, dn, "avp_db_delete")
	if !ok {
		return -1
	}
	ctx, cancel := a.ctx()
	n, err := a.db.DeleteAVPs(ctx, a.schema(dn.table), o, attr)
	cancel()
	if err != nil {
		a.log.ErrorContext(module.MsgCtx(m), "avpops: avp_db_delete failed", "err", err)
		return -1
	}
	a.log.DebugContext(module.MsgCtx(m), "avpops: AVPs deleted from the database", "owner", o.String(), "n", n)
	return 1
}

// value computes a valSource in m.
func (a *Module) value(m *sipmsg.Msg, v valSource) (sipmsg.AVPValue, error) {
	switch {
	case v.fixed != nil:
		return *v.fixed, nil
	case v.srcIP:
		return sipmsg.StrValue(m.Rcv.Src.Addr().Unmap().String()), nil
	case v.header != "":
		h := strings.TrimSpace(m.Header(v.header))
		if h == "" {
			return sipmsg.AVPValue{}, fmt.Errorf("no %s header", v.header)
		}
		return sipmsg.StrValue(h), nil
	case v.avp != nil:
		val, ok := m.AVPs().First(*v.avp)
		if !ok {
			return sipmsg.AVPValue{}, fmt.Errorf("AVP %s not set", v.avp)
		}
		return val, nil
	}
	s, err := uriText(m, v.uri, v.part)
	if err != nil {
		return sipmsg.AVPValue{}, err
	}
	return sipmsg.StrValue(s), nil
}

// fixupWrite binds avp_write(value, name).
func fixupWrite(a *Module, _ *module.Env, args []module.Value) (module.Handler, error) {
	v, err := a.parseValSource(args[0].String(), false)
	if err != nil {
		return nil, fmt.Errorf("avp_write: %w", err)
	}
	n, err := a.parseName(args[1].String(), true)
	if err != nil {
		return nil, fmt.Errorf("avp_write: %w", err)
	}
	return func(m *sipmsg.Msg) (int, error) {
		val, err := a.value(m, v)
		if err != nil {
			a.log.DebugContext(module.MsgCtx(m), "avpops: avp_write: no value", "err", err)
			return -1, nil
		}
		if err := m.AddAVP(n.name, val); err != nil {
			a.log.ErrorContext(module.MsgCtx(m), "avpops: avp_write", "avp", n.name.String(), "err", err)
			return -1, nil
		}
		return 1, nil
	}, nil
}

// fixupDelete binds avp_delete(name[/g]); without a name every (or every
// string- or integer-named) AVP goes.
func fixupDelete(a *Module, _ *module.Env, args []module.Value) (module.Handler, error) {
	name, flags, err := splitFlags(args[0].String(), "g")
	if err != nil {
		return nil, fmt.Errorf("avp_delete: %w", err)
	}
	n, err := a.parseName(name, false)
	if err != nil {
		return nil, fmt.Errorf("avp_delete: %w", err)
	}
	all := flags != "" || n.any
	return func(m *sipmsg.Msg) (int, error) {
		if m.AVPs().Delete(n.matches, all) == 0 {
			return -1, nil
		}
		return 1, nil
	}, nil
}

// fixupPushTo binds avp_pushto(destination, name[/g]).
func fixupPushTo(a *Module, _ *module.Env, args []module.Value) (module.Handler, error) {
	d, err := parsePushDest(args[0].String())
	if err != nil {
		return nil, fmt.Errorf("avp_pushto: %w", err)
	}
	name, flags, err := splitFlags(args[1].String(), "g")
	if err != nil {
		return nil, fmt.Errorf("avp_pushto: %w", err)
	}
	n, err := a.parseName(name, true)
	if err != nil {
		return nil, fmt.Errorf("avp_pushto: %w", err)
	}
	all := flags != ""
	return func(m *sipmsg.Msg) (int, error) {
		vals := m.AVPs().Values(n.name)
		if len(vals) == 0 {
			a.log.DebugContext(module.MsgCtx(m), "avpops: avp_pushto: AVP not set", "avp", n.name.String())
			return -1, nil
		}
		if !all {
			vals = vals[:1]
		}
		for i, v := range vals {
			if err := a.push(m, d, v.String(), i > 0); err != nil {
				a.log.ErrorContext(module.MsgCtx(m), "avpops: avp_pushto failed", "avp", n.name.String(), "err", err)
				return -1, nil
			}
		}
		return 1, nil
	}, nil
}

// push puts one value into m; for the R-URI, each value after the first
// (next) makes the current R-URI a branch before replacing it (SER's
// avp_pushto(…, "…/g")).
func (a *Module) push(m *sipmsg.Msg, d pushDest, val string, next bool) error {
	switch {
	case d.uri:
		if !m.IsRequest() {
			return errors.New("$ruri: not a request")
		}
		if next {
			m.AppendBranch(sipmsg.Branch{URI: m.URIString(), DstURI: m.DstURI, Path: m.Path, Q: m.RURIQ})
		}
		switch d.part {
		case partUser:
			m.URI().User = val
		case partDomain:
			if val == "" {
				return errors.New("empty host")
			}
			m.URI().Host = val
		default:
			return m.SetURI(val)
		}
		m.URIChanged()
		return nil
	case d.duri:
		var u sip.Uri
		if err := sip.ParseUri(val, &u); err != nil {
			return fmt.Errorf("$duri %q: %w", val, err)
		}
		m.DstURI = val
		return nil
	case d.reply:
		m.ReplyHeaders = append(m.ReplyHeaders, d.header+": "+val)
		return nil
	}
	if strings.ContainsAny(val, "\r\n") {
		return fmt.Errorf("value for header %s contains a line break", d.header)
	}
	return textops.AppendHeaders(m, []string{d.header + ": " + val})
}

// fixupCheck binds avp_check(name, op/value[/flags]).
func fixupCheck(a *Module, _ *module.Env, args []module.Value) (module.Handler, error) {
	n, err := a.parseName(args[0].String(), true)
	if err != nil {
		return nil, fmt.Errorf("avp_check: %w", err)
	}
	c, err := a.parseCheck(args[1].String())
	if err != nil {
		return nil, fmt.Errorf("avp_check: %w", err)
	}
	return func(m *sipmsg.Msg) (int, error) { return a.check(m, n.name, c), nil }, nil
}

// check is avp_check: 1 when the AVP's (first, or with g any) value
// passes the operation against the value (any value of a second AVP).
func (a *Module) check(m *sipmsg.Msg, name sipmsg.AVPName, c checkOp) int {
	vals := m.AVPs().Values(name)
	if len(vals) == 0 {
		return -1
	}
	if !c.all {
		vals = vals[:1]
	}
	var against []sipmsg.AVPValue
	switch {
	case c.val.avp != nil:
		against = m.AVPs().Values(*c.val.avp)
	default:
		v, err := a.value(m, c.val)
		if err != nil {
			a.log.DebugContext(module.MsgCtx(m), "avpops: avp_check: no value to compare with", "err", err)
			return -1
		}
		against = []sipmsg.AVPValue{v}
	}
	for _, v := range vals {
		for _, w := range against {
			if v.IsStr != w.IsStr {
				a.log.ErrorContext(module.MsgCtx(m), "avpops: avp_check: value types do not match", "avp", name.String())
				continue
			}
			if compare(v, w, c) {
				return 1
			}
		}
	}
	return -1
}

func compare(v, w sipmsg.AVPValue, c checkOp) bool {
	if !v.IsStr {
		switch c.op {
		case "eq":
			return v.Int == w.Int
		case "lt":
			return v.Int < w.Int
		case "gt":
			return v.Int > w.Int
		}
		return false
	}
	switch c.op {
	case "eq":
		if c.icase {
			return strings.EqualFold(v.Str, w.Str)
		}
		return v.Str == w.Str
	case "lt":
		return strings.Compare(strings.ToLower(v.Str), strings.ToLower(w.Str)) < 0
	case "gt":
		return strings.Compare(strings.ToLower(v.Str), strings.ToLower(w.Str)) > 0
	case "re":
		return c.re.MatchString(v.Str)
	case "fm":
		return globMatch(w.Str, v.Str)
	}
	return false
}

// globMatch is fnmatch(3) without flags: * and ? match any characters
// ("/" included), [...] a class.
func globMatch(pattern, s string) bool {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*':
			b.WriteString("(?s:.*)")
		case '?':
			b.WriteString("(?s:.)")
		case '[':
			j := strings.IndexByte(pattern[i+1:], ']')
			if j < 0 {
				b.WriteString(`\[`)
				continue
			}
			class := pattern[i+1 : i+1+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += j + 1
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	return err == nil && re.MatchString(s)
}

// fixupCopy binds avp_copy(source, destination[/g][/d]): g copies every
// value, d deletes the copied ones.
func fixupCopy(a *Module, _ *module.Env, args []module.Value) (module.Handler, error) {
	from, err := a.parseName(args[0].String(), true)
	if err != nil {
		return nil, fmt.Errorf("avp_copy: %w", err)
	}
	name, flags, err := splitFlags(args[1].String(), "gd")
	if err != nil {
		return nil, fmt.Errorf("avp_copy: %w", err)
	}
	to, err := a.parseName(name, true)
	if err != nil {
		return nil, fmt.Errorf("avp_copy: %w", err)
	}
	all, del := strings.Contains(flags, "g"), strings.Contains(flags, "d")
	return func(m *sipmsg.Msg) (int, error) {
		vals := m.AVPs().Values(from.name)
		if len(vals) == 0 {
			return -1, nil
		}
		if !all {
			vals = vals[:1]
		}
		if del {
			m.AVPs().Delete(from.matches, all)
		}
		for i := len(vals) - 1; i >= 0; i-- { // oldest first: the order stays
			if err := m.AddAVP(to.name, vals[i]); err != nil {
				a.log.ErrorContext(module.MsgCtx(m), "avpops: avp_copy", "err", err)
				return -1, nil
			}
		}
		return 1, nil
	}, nil
}

// fixupIsSet binds is_avp_set(name): 1 when the AVP has a value.
func fixupIsSet(a *Module, _ *module.Env, args []module.Value) (module.Handler, error) {
	n, err := a.parseName(args[0].String(), true)
	if err != nil {
		return nil, fmt.Errorf("is_avp_set: %w", err)
	}
	return func(m *sipmsg.Msg) (int, error) {
		if _, ok := m.AVPs().First(n.name); ok {
			return 1, nil
		}
		return -1, nil
	}, nil
}

// fixupPrint binds avp_print(): every AVP of the message is logged (info
// level), newest first.
func fixupPrint(a *Module, _ *module.Env, _ []module.Value) (module.Handler, error) {
	return func(m *sipmsg.Msg) (int, error) {
		ctx := module.MsgCtx(m)
		a.log.InfoContext(ctx, "avpops: AVP list", "count", m.AVPs().Len())
		m.AVPs().Each(func(avp *sipmsg.AVP) bool {
			typ := "int"
			if avp.Value.IsStr {
				typ = "str"
			}
			a.log.InfoContext(ctx, "avpops: AVP", "name", avp.Name.String(), "type", typ, "value", avp.Value.String(), "in_db", avp.InDB)
			return true
		})
		return 1, nil
	}, nil
}
