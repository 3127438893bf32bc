package sipmsg

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// AVPs (attribute-value pairs) are SER 0.9's per-request user attributes
// (usr_avp.c): values a script loads from the database or writes while a
// request is processed, read back later by the same script, its failure
// routes and its onreply routes. An attribute is named by a number (i:N)
// or a string (s:name, compared without regard to case) and holds an
// integer or a string; a name may hold several values, the newest first.
// tm carries the list with the transaction (SER: the AVPs belong to the
// transaction), so failure_route and onreply_route see what the request
// route set; it goes with the transaction.
//
// A message that never touches an AVP carries a nil list: no allocation
// on the relay path.

// MaxAVPs bounds the AVPs of one message (a script loop or a database
// with many rows cannot grow it without end); Add fails beyond it.
const MaxAVPs = 1024

// ErrTooManyAVPs is Add's error when the list holds MaxAVPs entries.
var ErrTooManyAVPs = errors.New("too many AVPs for one message")

// AVPName names an attribute: Str for a string name (s:name), else ID
// (i:N).
type AVPName struct {
	ID  int
	Str string
}

// IntName returns the numeric name i:id.
func IntName(id int) AVPName { return AVPName{ID: id} }

// StrName returns the string name s:name.
func StrName(name string) AVPName { return AVPName{Str: name} }

// IsStr reports whether the name is a string name.
func (n AVPName) IsStr() bool { return n.Str != "" }

// Is reports whether n and o name the same attribute: equal IDs, or
// string names equal without regard to case (SER's strncasecmp).
func (n AVPName) Is(o AVPName) bool {
	if n.IsStr() || o.IsStr() {
		return n.IsStr() && o.IsStr() && strings.EqualFold(n.Str, o.Str)
	}
	return n.ID == o.ID
}

// String returns the name in SER's syntax: "i:5" or "s:callfwd".
func (n AVPName) String() string {
	if n.IsStr() {
		return "s:" + n.Str
	}
	return "i:" + strconv.Itoa(n.ID)
}

// Text returns the bare name: the string, or the number in decimal (what
// usr_preferences' attribute column holds).
func (n AVPName) Text() string {
	if n.IsStr() {
		return n.Str
	}
	return strconv.Itoa(n.ID)
}

// ParseAVPName reads SER's AVP name syntax: "i:N" (a non-negative number,
// SER's str2int), "s:name", or a bare name, which is a string name. The
// type letter may be upper case.
func ParseAVPName(s string) (AVPName, error) {
	if len(s) >= 2 && s[1] == ':' {
		body := s[2:]
		if body == "" {
			return AVPName{}, fmt.Errorf("empty AVP name %q", s)
		}
		switch s[0] {
		case 's', 'S':
			return StrName(body), nil
		case 'i', 'I':
			id, err := strconv.ParseUint(body, 10, 16)
			if err != nil {
				return AVPName{}, fmt.Errorf("invalid AVP id %q: not a number from 0 to 65535", body)
			}
			return IntName(int(id)), nil
		}
		return AVPName{}, fmt.Errorf("unsupported AVP name type %q in %q (i: or s:)", s[0], s)
	}
	if s == "" {
		return AVPName{}, errors.New("empty AVP name")
	}
	return StrName(s), nil
}

// AVPAliases maps alias names (without their "$") to AVP names; lookups
// ignore case, as SER's did.
type AVPAliases map[string]AVPName

// Add parses SER's alias definition list, "alias=name;alias2=name2"
// ("uuid=I:660;email=s:email_addr;fwd=i:753"), into a. An alias or an
// attribute defined twice is an error, as in SER.
func (a AVPAliases) Add(def string) error {
	for _, item := range strings.Split(def, ";") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		alias, spec, ok := strings.Cut(item, "=")
		alias, spec = strings.TrimSpace(alias), strings.TrimSpace(spec)
		if !ok || alias == "" || spec == "" || strings.ContainsAny(alias, " \t") {
			return fmt.Errorf("bad AVP alias definition %q (alias=i:N or alias=s:name)", item)
		}
		name, err := ParseAVPName(spec)
		if err != nil {
			return fmt.Errorf("AVP alias %s: %w", alias, err)
		}
		for k, v := range a {
			if strings.EqualFold(k, alias) {
				return fmt.Errorf("AVP alias %s defined twice", alias)
			}
			if v.Is(name) {
				return fmt.Errorf("AVP %s already has the alias %s", name, k)
			}
		}
		a[strings.ToLower(alias)] = name
	}
	return nil
}

// Lookup returns the name an alias (without "$") stands for.
func (a AVPAliases) Lookup(alias string) (AVPName, bool) {
	n, ok := a[strings.ToLower(alias)]
	return n, ok
}

// ParseSpec reads an AVP name or, when it starts with "$", an alias of a
// (SER's parse_avp_spec).
func (a AVPAliases) ParseSpec(s string) (AVPName, error) {
	if alias, ok := strings.CutPrefix(s, "$"); ok {
		if alias == "" {
			return AVPName{}, errors.New("empty AVP alias")
		}
		n, found := a.Lookup(alias)
		if !found {
			return AVPName{}, fmt.Errorf("unknown AVP alias $%s", alias)
		}
		return n, nil
	}
	return ParseAVPName(s)
}

// AVPValue is an attribute's value: Str when IsStr, else Int.
type AVPValue struct {
	Int   int
	Str   string
	IsStr bool
}

// IntValue returns an integer value.
func IntValue(n int) AVPValue { return AVPValue{Int: n} }

// StrValue returns a string value.
func StrValue(s string) AVPValue { return AVPValue{Str: s, IsStr: true} }

// String returns the value as text (an integer in decimal).
func (v AVPValue) String() string {
	if v.IsStr {
		return v.Str
	}
	return strconv.Itoa(v.Int)
}

// AVP is one attribute of a list.
type AVP struct {
	Name  AVPName
	Value AVPValue
	// InDB marks an AVP loaded from or stored into the database
	// (avpops' avp_db_store skips it).
	InDB bool
}

// AVPList is a message's (or transaction's) AVPs. The zero value and a
// nil list are empty; the reading methods accept a nil list.
type AVPList struct {
	// avps in insertion order: the newest is last, and searches go from
	// the end (SER added at the head of its list).
	avps []AVP
}

// Len returns the number of AVPs.
func (l *AVPList) Len() int {
	if l == nil {
		return 0
	}
	return len(l.avps)
}

// Add adds an AVP; it becomes the first one found for its name.
func (l *AVPList) Add(name AVPName, v AVPValue) error {
	return l.AddAVP(AVP{Name: name, Value: v})
}

// AddAVP adds a, as Add.
func (l *AVPList) AddAVP(a AVP) error {
	if len(l.avps) >= MaxAVPs {
		return ErrTooManyAVPs
	}
	l.avps = append(l.avps, a)
	return nil
}

// First returns the newest value of name.
func (l *AVPList) First(name AVPName) (AVPValue, bool) {
	if l == nil {
		return AVPValue{}, false
	}
	for i := len(l.avps) - 1; i >= 0; i-- {
		if l.avps[i].Name.Is(name) {
			return l.avps[i].Value, true
		}
	}
	return AVPValue{}, false
}

// Each calls f for every AVP, newest first, while f returns true; f may
// change the AVP (not the list).
func (l *AVPList) Each(f func(a *AVP) bool) {
	if l == nil {
		return
	}
	for i := len(l.avps) - 1; i >= 0; i-- {
		if !f(&l.avps[i]) {
			return
		}
	}
}

// Values returns the values of name, newest first.
func (l *AVPList) Values(name AVPName) []AVPValue {
	var out []AVPValue
	l.Each(func(a *AVP) bool {
		if a.Name.Is(name) {
			out = append(out, a.Value)
		}
		return true
	})
	return out
}

// Delete removes the newest AVP for which match is true, or every one
// when all is set, and returns how many it removed.
func (l *AVPList) Delete(match func(a *AVP) bool, all bool) int {
	if l == nil {
		return 0
	}
	n := 0
	for i := len(l.avps) - 1; i >= 0; i-- {
		if !match(&l.avps[i]) {
			continue
		}
		l.avps = append(l.avps[:i], l.avps[i+1:]...)
		n++
		if !all {
			break
		}
	}
	return n
}

// Clone returns an independent copy (nil for an empty or nil list).
func (l *AVPList) Clone() *AVPList {
	if l.Len() == 0 {
		return nil
	}
	return &AVPList{avps: append([]AVP(nil), l.avps...)}
}

// AVPs returns the message's AVP list; nil when none was ever added.
func (m *Msg) AVPs() *AVPList { return m.avps }

// SetAVPs makes l the message's AVP list (tm hands a transaction's list
// to its failure and onreply routes).
func (m *Msg) SetAVPs(l *AVPList) { m.avps = l }

// AddAVP adds an AVP to the message's list, creating it on first use.
func (m *Msg) AddAVP(name AVPName, v AVPValue) error {
	return m.AddAVPEntry(AVP{Name: name, Value: v})
}

// AddAVPEntry adds a, as AddAVP.
func (m *Msg) AddAVPEntry(a AVP) error {
	if m.avps == nil {
		m.avps = &AVPList{}
	}
	return m.avps.AddAVP(a)
}
