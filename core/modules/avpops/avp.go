package avpops

import (
	"fmt"
	"strconv"
	"strings"

	"ser/core/module"
	"ser/core/sipmsg"
)

// avpTable is the SER 0.9-era "avp" module (iptel's CVS, 2004–2005):
// string-named attributes set from constants, the Request-URI or the
// message flags, printed, tested and written into the Request-URI. Its
// names are plain strings (no i:/s: prefix). Loaded under "avp", it is
// this implementation: the AVPs are the same ones avpops sees.
var avpTable = module.Table{
	Name: "avp",
	Funcs: []module.Func{
		{Name: "set_iattr", MinArgs: 2, MaxArgs: 2, Routes: module.Any, Fixup: module.FixupOf(fixupSetIAttr)},
		{Name: "set_sattr", MinArgs: 2, MaxArgs: 2, Routes: module.Any, Fixup: module.FixupOf(fixupSetSAttr)},
		{Name: "flags2attr", Routes: module.Any, Fixup: module.FixupOf(fixupFlags2Attr)},
		{Name: "uri2attr", MinArgs: 1, MaxArgs: 1, Routes: module.Any, Fixup: module.FixupOf(fixupURI2Attr)},
		{Name: "print_sattr", MinArgs: 1, MaxArgs: 1, Routes: module.Any, Fixup: module.FixupOf(fixupPrintSAttr)},
		{Name: "attr2uri", MinArgs: 1, MaxArgs: 1, Routes: module.Any, Fixup: module.FixupOf(fixupAttr2URI)},
		{Name: "is_sattr_set", MinArgs: 1, MaxArgs: 1, Routes: module.Any, Fixup: module.FixupOf(fixupIsSAttrSet)},
		{Name: "avp_exists", MinArgs: 2, MaxArgs: 2, Routes: module.Any, Fixup: module.FixupOf(fixupAVPExists)},
	},
}

// attrName is an avp module attribute: a plain string name.
func attrName(fn string, v module.Value) (sipmsg.AVPName, error) {
	s := v.String()
	if s == "" {
		return sipmsg.AVPName{}, fmt.Errorf("%s: empty attribute name", fn)
	}
	return sipmsg.StrName(s), nil
}

// add adds an AVP (false, logged, when the list is full).
func (a *Module) add(m *sipmsg.Msg, fn string, n sipmsg.AVPName, v sipmsg.AVPValue) int {
	if err := m.AddAVP(n, v); err != nil {
		a.log.ErrorContext(module.MsgCtx(m), "avp: "+fn+" failed", "attr", n.Str, "err", err)
		return -1
	}
	return 1
}

// fixupSetIAttr binds set_iattr(name, number).
func fixupSetIAttr(a *Module, _ *module.Env, args []module.Value) (module.Handler, error) {
	n, err := attrName("set_iattr", args[0])
	if err != nil {
		return nil, err
	}
	v, err := args[1].Int()
	if err != nil {
		return nil, fmt.Errorf("set_iattr: %w", err)
	}
	return func(m *sipmsg.Msg) (int, error) { return a.add(m, "set_iattr", n, sipmsg.IntValue(v)), nil }, nil
}

// fixupSetSAttr binds set_sattr(name, text).
func fixupSetSAttr(a *Module, _ *module.Env, args []module.Value) (module.Handler, error) {
	n, err := attrName("set_sattr", args[0])
	if err != nil {
		return nil, err
	}
	v := sipmsg.StrValue(args[1].String())
	return func(m *sipmsg.Msg) (int, error) { return a.add(m, "set_sattr", n, v), nil }, nil
}

// fixupFlags2Attr binds flags2attr(): the message flags as the integer
// attribute "flags".
func fixupFlags2Attr(a *Module, _ *module.Env, _ []module.Value) (module.Handler, error) {
	n := sipmsg.StrName("flags")
	return func(m *sipmsg.Msg) (int, error) {
		return a.add(m, "flags2attr", n, sipmsg.IntValue(int(m.Flags))), nil
	}, nil
}

// fixupURI2Attr binds uri2attr(name): the current Request-URI as a
// string attribute.
func fixupURI2Attr(a *Module, _ *module.Env, args []module.Value) (module.Handler, error) {
	n, err := attrName("uri2attr", args[0])
	if err != nil {
		return nil, err
	}
	return func(m *sipmsg.Msg) (int, error) {
		if !m.IsRequest() {
			return -1, nil
		}
		return a.add(m, "uri2attr", n, sipmsg.StrValue(m.URIString())), nil
	}, nil
}

// fixupPrintSAttr binds print_sattr(name): logs the attribute's newest
// value (info); false, logged, when it is not set.
func fixupPrintSAttr(a *Module, _ *module.Env, args []module.Value) (module.Handler, error) {
	n, err := attrName("print_sattr", args[0])
	if err != nil {
		return nil, err
	}
	return func(m *sipmsg.Msg) (int, error) {
		v, ok := m.AVPs().First(n)
		if !ok {
			a.log.ErrorContext(module.MsgCtx(m), "avp: print_sattr: AVP not found", "attr", n.Str)
			return -1, nil
		}
		a.log.InfoContext(module.MsgCtx(m), "avp: AVP", "attr", n.Str, "value", v.String())
		return 1, nil
	}, nil
}

// fixupAttr2URI binds attr2uri(name): the attribute's newest value
// becomes the Request-URI.
func fixupAttr2URI(a *Module, _ *module.Env, args []module.Value) (module.Handler, error) {
	n, err := attrName("attr2uri", args[0])
	if err != nil {
		return nil, err
	}
	return func(m *sipmsg.Msg) (int, error) {
		v, ok := m.AVPs().First(n)
		if !ok || !m.IsRequest() {
			a.log.ErrorContext(module.MsgCtx(m), "avp: attr2uri: AVP not found", "attr", n.Str)
			return -1, nil
		}
		if err := m.SetURI(v.String()); err != nil {
			a.log.ErrorContext(module.MsgCtx(m), "avp: attr2uri", "err", err)
			return -1, nil
		}
		return 1, nil
	}, nil
}

// fixupIsSAttrSet binds is_sattr_set(name).
func fixupIsSAttrSet(a *Module, _ *module.Env, args []module.Value) (module.Handler, error) {
	n, err := attrName("is_sattr_set", args[0])
	if err != nil {
		return nil, err
	}
	return func(m *sipmsg.Msg) (int, error) {
		if _, ok := m.AVPs().First(n); ok {
			return 1, nil
		}
		return -1, nil
	}, nil
}

// fixupAVPExists binds avp_exists(name, value): true when any value of
// the attribute equals value (a string byte for byte, an integer
// numerically).
func fixupAVPExists(a *Module, _ *module.Env, args []module.Value) (module.Handler, error) {
	n, err := attrName("avp_exists", args[0])
	if err != nil {
		return nil, err
	}
	want := args[1].String()
	wantInt, intErr := strconv.Atoi(strings.TrimSpace(want))
	return func(m *sipmsg.Msg) (int, error) {
		for _, v := range m.AVPs().Values(n) {
			if v.IsStr && v.Str == want || !v.IsStr && intErr == nil && v.Int == wantInt {
				return 1, nil
			}
		}
		return -1, nil
	}, nil
}
