package avpops

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"ser/core/sipmsg"
)

// nameSpec is an AVP name argument: one name, or — when any is set —
// every AVP, every string-named one ("s:") or every integer-named one
// ("i:").
type nameSpec struct {
	name sipmsg.AVPName
	any  bool
	// kind restricts by name type: 0 either, 'i' integer names, 's'
	// string names (written "i:…"/"s:…" or an alias).
	kind byte
}

// matches reports whether a is selected.
func (n nameSpec) matches(a *sipmsg.AVP) bool {
	if !n.any {
		return a.Name.Is(n.name)
	}
	switch n.kind {
	case 'i':
		return !a.Name.IsStr()
	case 's':
		return a.Name.IsStr()
	}
	return true
}

// rowTypeOK reports whether a stored row's type flags fit the spec's name
// type (avpops loads s:name only from rows with a string name).
func (n nameSpec) rowTypeOK(typ int) bool {
	switch n.kind {
	case 'i':
		return typ&typeNameInt != 0
	case 's':
		return typ&typeNameInt == 0
	}
	return true
}

// avpops' type column flags.
const (
	typeValInt  = 1 << 0
	typeNameInt = 1 << 1
)

// parseName reads avpops' name syntax: "" | "s:" | "i:" | "s:name" |
// "i:N" | name | "$alias". With mustName an empty selection is an error.
func (a *Module) parseName(s string, mustName bool) (nameSpec, error) {
	var n nameSpec
	switch {
	case strings.HasPrefix(s, "$"):
		name, err := a.aliases.ParseSpec(s)
		if err != nil {
			return n, err
		}
		n.name = name
		n.kind = 's'
		if !name.IsStr() {
			n.kind = 'i'
		}
		return n, nil
	case s == "":
		n.any = true
	case len(s) == 2 && s[1] == ':' && strings.ContainsRune("iIsS", rune(s[0])):
		n.any, n.kind = true, s[0]|0x20
	default:
		name, err := sipmsg.ParseAVPName(s)
		if err != nil {
			return n, err
		}
		n.name = name
		if len(s) > 2 && s[1] == ':' {
			n.kind = s[0] | 0x20
		}
	}
	if n.any && mustName {
		return n, fmt.Errorf("an AVP name is required, not %q", s)
	}
	return n, nil
}

// splitFlags splits "name/flags" and checks the flag letters against allowed.
func splitFlags(s, allowed string) (string, string, error) {
	name, fl, _ := strings.Cut(s, "/")
	for _, c := range strings.ToLower(fl) {
		if !strings.ContainsRune(allowed, c) {
			return "", "", fmt.Errorf("unknown flag %q in %q (allowed: %s)", c, s, allowed)
		}
	}
	return name, strings.ToLower(fl), nil
}

// uriKind is which URI of the message a "$from", "$to" or "$ruri" names.
type uriKind uint8

const (
	uriRURI uriKind = iota + 1
	uriFrom
	uriTo
)

// uriPart is the part of the URI used: all of it, the user or the host.
type uriPart uint8

const (
	partWhole uriPart = iota
	partUser
	partDomain
)

func parseURIKind(s string) (uriKind, bool) {
	switch strings.ToLower(s) {
	case "ruri":
		return uriRURI, true
	case "from":
		return uriFrom, true
	case "to":
		return uriTo, true
	}
	return 0, false
}

func parsePart(s string) (uriPart, error) {
	switch strings.ToLower(s) {
	case "":
		return partWhole, nil
	case "username":
		return partUser, nil
	case "domain":
		return partDomain, nil
	}
	return 0, fmt.Errorf("unknown URI part %q (username or domain)", s)
}

// dbSource is the first argument of avp_db_*: whose rows.
type dbSource struct {
	uri  uriKind // a URI's user (and domain): "$ruri", "$from/domain" …
	part uriPart
	uuid string         // a constant uuid
	avp  sipmsg.AVPName // the uuid is this AVP's value ("$alias")
	byAV bool
}

func (a *Module) parseDBSource(s string) (dbSource, error) {
	var src dbSource
	rest, ok := strings.CutPrefix(s, "$")
	if !ok {
		if s == "" {
			return src, fmt.Errorf("empty source")
		}
		src.uuid = s
		return src, nil
	}
	v, p, _ := strings.Cut(rest, "/")
	if k, ok := parseURIKind(v); ok {
		part, err := parsePart(p)
		if err != nil {
			return src, err
		}
		src.uri, src.part = k, part
		return src, nil
	}
	if p != "" {
		return src, fmt.Errorf("unknown source %q ($ruri, $from, $to [/username|/domain], an alias or a uuid)", s)
	}
	name, err := a.aliases.ParseSpec(s)
	if err != nil {
		return src, fmt.Errorf("unknown source %q: %w", s, err)
	}
	src.avp, src.byAV = name, true
	return src, nil
}

// dbName is the second argument of avp_db_*: name['/'table|'/$'scheme].
type dbName struct {
	spec   nameSpec
	table  string
	scheme *scheme
}

func (a *Module) parseDBName(s string, allowScheme bool) (dbName, error) {
	var d dbName
	name, tail, hasTail := strings.Cut(s, "/")
	spec, err := a.parseName(name, false)
	if err != nil {
		return d, err
	}
	d.spec = spec
	if !hasTail {
		return d, nil
	}
	if tail == "" || tail == "$" {
		return d, fmt.Errorf("empty table or scheme name in %q", s)
	}
	if sn, ok := strings.CutPrefix(tail, "$"); ok {
		if !allowScheme {
			return d, fmt.Errorf("only avp_db_load reads through a db_scheme (%q)", s)
		}
		if spec.any {
			return d, fmt.Errorf("a db_scheme needs a complete AVP name (%q)", s)
		}
		sc, ok := a.schemes[sn]
		if !ok {
			return d, fmt.Errorf("db_scheme %q not defined (modparam db_scheme)", sn)
		}
		d.scheme = sc
		return d, nil
	}
	if !validTable(tail) {
		return d, fmt.Errorf("bad table name %q", tail)
	}
	d.table = tail
	return d, nil
}

func validTable(s string) bool {
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != "" && len(s) <= 64
}

// valSource is a value avp_write writes or avp_check compares with: a
// constant, a URI (or part), the source IP, a header, or another AVP.
type valSource struct {
	fixed  *sipmsg.AVPValue
	uri    uriKind
	part   uriPart
	srcIP  bool
	header string
	avp    *sipmsg.AVPName
}

// parseFixed reads "i:N", "s:text" or text.
func parseFixed(s string) (sipmsg.AVPValue, error) {
	if len(s) >= 2 && s[1] == ':' {
		body := s[2:]
		switch s[0] {
		case 'i', 'I':
			n, err := strconv.Atoi(body)
			if err != nil {
				return sipmsg.AVPValue{}, fmt.Errorf("value %q is not an integer", body)
			}
			return sipmsg.IntValue(n), nil
		case 's', 'S':
			if body == "" {
				return sipmsg.AVPValue{}, fmt.Errorf("empty string value %q", s)
			}
			return sipmsg.StrValue(body), nil
		}
		return sipmsg.AVPValue{}, fmt.Errorf("unknown value type %q (i: or s:)", s[0])
	}
	if s == "" {
		return sipmsg.AVPValue{}, fmt.Errorf("empty value")
	}
	return sipmsg.StrValue(s), nil
}

// parseValSource reads avp_write's first argument: "$ruri", "$from",
// "$to" [/username|/domain], "$src_ip", "$hdr[Name]" or a fixed value;
// withAlias also allows "$alias" (avp_check).
func (a *Module) parseValSource(s string, withAlias bool) (valSource, error) {
	var v valSource
	rest, ok := strings.CutPrefix(s, "$")
	if !ok {
		f, err := parseFixed(s)
		if err != nil {
			return v, err
		}
		v.fixed = &f
		return v, nil
	}
	if strings.EqualFold(rest, "src_ip") {
		v.srcIP = true
		return v, nil
	}
	if h, ok := hdrSpec(rest); ok {
		if !isToken(h) {
			return v, fmt.Errorf("bad header name in %q", s)
		}
		v.header = h
		return v, nil
	}
	name, p, _ := strings.Cut(rest, "/")
	if k, ok := parseURIKind(name); ok {
		part, err := parsePart(p)
		if err != nil {
			return v, err
		}
		v.uri, v.part = k, part
		return v, nil
	}
	if withAlias && p == "" {
		n, err := a.aliases.ParseSpec(s)
		if err != nil {
			return v, fmt.Errorf("unknown variable or alias %q", s)
		}
		v.avp = &n
		return v, nil
	}
	return v, fmt.Errorf("unknown variable %q ($ruri, $from, $to [/username|/domain], $src_ip, $hdr[name])", s)
}

// hdrSpec reads "hdr[Name]" (SER 0.9's avpops) or "hdr(Name)" (the
// later pseudo-variable form), without the "$".
func hdrSpec(s string) (string, bool) {
	if len(s) < 6 || !strings.EqualFold(s[:3], "hdr") {
		return "", false
	}
	switch {
	case s[3] == '[' && strings.HasSuffix(s, "]"), s[3] == '(' && strings.HasSuffix(s, ")"):
		return s[4 : len(s)-1], true
	}
	return "", false
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}

// pushDest is avp_pushto's destination.
type pushDest struct {
	uri    bool
	part   uriPart
	duri   bool
	header string
	reply  bool
}

// parsePushDest reads "$ruri" [/username|/domain], "$duri", or a header
// name ("$Name" as SER's code wanted it, "Name" as its README wrote it,
// or "$hdr(Name)"/"$hdr[Name]") with an optional "/request" (default) or
// "/reply".
func parsePushDest(s string) (pushDest, error) {
	var d pushDest
	body := strings.TrimPrefix(s, "$")
	name, p, _ := strings.Cut(body, "/")
	if h, ok := hdrSpec(name); ok {
		name = h
	} else if strings.ContainsAny(name, "[(") {
		return d, fmt.Errorf("bad destination %q", s)
	}
	switch strings.ToLower(name) {
	case "ruri":
		part, err := parsePart(p)
		if err != nil {
			return d, err
		}
		d.uri, d.part = true, part
		return d, nil
	case "duri":
		if p != "" {
			return d, fmt.Errorf("$duri takes no part (%q)", s)
		}
		d.duri = true
		return d, nil
	}
	if !isToken(name) {
		return d, fmt.Errorf("bad destination %q ($ruri[/username|/domain], $duri or a header name[/request|/reply])", s)
	}
	d.header = name
	switch strings.ToLower(p) {
	case "", "request":
	case "reply":
		d.reply = true
	default:
		return d, fmt.Errorf("header destination %q unknown (request or reply)", p)
	}
	return d, nil
}

// checkOp is avp_check's second argument: op/value[/flags].
type checkOp struct {
	op    string // eq lt gt re fm
	val   valSource
	re    *regexp.Regexp
	all   bool // g: check every value of the AVP
	icase bool // i: case-insensitive eq
}

func (a *Module) parseCheck(s string) (checkOp, error) {
	var c checkOp
	op, rest, ok := strings.Cut(s, "/")
	if !ok || len(op) != 2 || rest == "" {
		return c, fmt.Errorf("bad check %q (op/value[/flags], op eq, lt, gt, re or fm)", s)
	}
	c.op = strings.ToLower(op)
	switch c.op {
	case "eq", "lt", "gt", "re", "fm":
	default:
		return c, fmt.Errorf("unknown operation %q (eq, lt, gt, re, fm)", op)
	}
	// As in SER, the value ends at the next "/": flags follow it.
	value, flags, _ := strings.Cut(rest, "/")
	for _, f := range strings.ToLower(flags) {
		switch f {
		case 'g':
			c.all = true
		case 'i':
			c.icase = true
		default:
			return c, fmt.Errorf("unknown flag %q in %q (g, i)", f, s)
		}
	}
	v, err := a.parseValSource(value, true)
	if err != nil {
		return c, err
	}
	if v.header != "" {
		return c, fmt.Errorf("avp_check cannot compare with a header (%q)", value)
	}
	c.val = v
	switch c.op {
	case "re":
		if v.fixed == nil || !v.fixed.IsStr {
			return c, fmt.Errorf("the re operation needs a string value (%q)", value)
		}
		re, err := regexp.Compile("(?i)" + v.fixed.Str)
		if err != nil {
			return c, fmt.Errorf("bad regular expression %q: %v", v.fixed.Str, err)
		}
		c.re = re
	case "fm":
		if v.fixed != nil && !v.fixed.IsStr {
			return c, fmt.Errorf("the fm operation needs a string value or an AVP alias (%q)", value)
		}
	}
	return c, nil
}
