// Package permissions is SER's permissions module: allow_routing() and
// allow_register() check requests against SER's allow/deny rule files
// (permissions.allow, permissions.deny, register.allow, …), and
// allow_trusted() lets requests from the addresses of the trusted table
// through (gateways that need no authentication).
package permissions

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"

	"ser/core/module"
	"ser/core/sipmsg"
	"ser/core/store"
)

func init() { module.Register(Exports) }

func column(set func(p *Permissions, name string)) func(any, module.Value) error {
	return module.IdentParam("column", set)
}

func fileParam(set func(p *Permissions, s string)) func(any, module.Value) error {
	return module.SetOf(func(p *Permissions, v module.Value) error {
		if v.String() == "" {
			return fmt.Errorf("empty file name")
		}
		set(p, v.String())
		return nil
	})
}

// Exports is the permissions module's export table.
var Exports = &module.Exports{
	Name: "permissions",
	Params: []module.Param{
		{Name: "default_allow_file", Kind: module.Str, Set: fileParam(func(p *Permissions, s string) { p.defAllow = s })},
		{Name: "default_deny_file", Kind: module.Str, Set: fileParam(func(p *Permissions, s string) { p.defDeny = s })},
		{Name: "check_all_branches", Kind: module.Int, Set: module.BoolParam(func(p *Permissions, on bool) { p.checkAll = on })},
		{Name: "allow_suffix", Kind: module.Str, Set: module.StrParam(func(p *Permissions, s string) { p.allowSuffix = s })},
		{Name: "deny_suffix", Kind: module.Str, Set: module.StrParam(func(p *Permissions, s string) { p.denySuffix = s })},
		{Name: "db_url", Kind: module.Str, Set: module.StrParam(func(p *Permissions, s string) { p.dbURL = s })},
		{Name: "db_mode", Kind: module.Int, Set: module.IntParam(func(p *Permissions, n int) error {
			if n != 0 && n != 1 {
				return fmt.Errorf("db_mode must be 0 (no cache) or 1 (cache)")
			}
			p.dbMode = n
			return nil
		})},
		{Name: "trusted_table", Kind: module.Str, Set: module.IdentParam("table", func(p *Permissions, s string) { p.schema.Table = s })},
		{Name: "source_col", Kind: module.Str, Set: column(func(p *Permissions, s string) { p.schema.SourceColumn = s })},
		{Name: "proto_col", Kind: module.Str, Set: column(func(p *Permissions, s string) { p.schema.ProtoColumn = s })},
		{Name: "from_col", Kind: module.Str, Set: column(func(p *Permissions, s string) { p.schema.FromColumn = s })},
	},
	Funcs: []module.Func{
		{Name: "allow_routing", MinArgs: 0, MaxArgs: 2, Routes: module.Request | module.Failure, Fixup: module.FixupOf(fixupCheck(false))},
		{Name: "allow_register", MinArgs: 1, MaxArgs: 2, Routes: module.Request | module.Failure, Fixup: module.FixupOf(fixupCheck(true))},
		{Name: "allow_trusted", Routes: module.Request | module.Failure, Fixup: module.FixupOf(fixupTrusted)},
	},
	New:      func() any { return New() },
	Init:     module.InitOf(initModule),
	Commands: module.CommandsOf((*Permissions).commands),
	Start:    module.StartOf((*Permissions).Start),
}

// Permissions is one server's permissions instance.
type Permissions struct {
	defAllow, defDeny       string
	checkAll                bool
	allowSuffix, denySuffix string
	dbURL                   string
	dbMode                  int
	schema                  store.TrustedSchema

	cfgFile string
	log     *slog.Logger
	openDB  func(string) (*store.Store, error)

	mu       sync.Mutex
	files    map[string]*ruleSet // parsed files by path, shared by the calls naming them
	def      [2]*ruleSet         // the default allow and deny files
	trustedU bool                // allow_trusted is used: Start opens the database
	started  bool                // Start ran: a reloaded script's first allow_trusted opens it itself
	db       *store.Store
	cache    *trustedCache // db_mode 1
}

// New returns an instance with SER's defaults.
func New() *Permissions {
	return &Permissions{
		defAllow: "permissions.allow", defDeny: "permissions.deny", checkAll: true,
		allowSuffix: ".allow", denySuffix: ".deny",
		schema: store.TrustedSchema{Table: "trusted", SourceColumn: "src_ip", ProtoColumn: "proto", FromColumn: "from_pattern"},
		files:  map[string]*ruleSet{},
		log:    slog.Default(),
	}
}

func initModule(p *Permissions, env *module.Env) error {
	if env.Log != nil {
		p.log = env.Log
	}
	p.cfgFile = env.ConfigFile
	p.openDB = env.DB
	if err := env.CheckDBURL(p.dbURL); err != nil {
		return fmt.Errorf("permissions: db_url: %w", err)
	}
	var err error
	if p.def[0], err = p.load(p.defAllow); err != nil {
		return err
	}
	p.def[1], err = p.load(p.defDeny)
	return err
}

// pathname resolves a rule file name as SER's get_pathname did: a name
// with a '/' is taken as it is, any other is in the config file's
// directory.
func (p *Permissions) pathname(name string) string {
	if strings.Contains(name, "/") {
		return name
	}
	return filepath.Join(filepath.Dir(p.cfgFile), name)
}

// load returns the parsed rule file called name, parsing it once.
func (p *Permissions) load(name string) (*ruleSet, error) {
	path := p.pathname(name)
	p.mu.Lock()
	defer p.mu.Unlock()
	if rs, ok := p.files[path]; ok {
		return rs, nil
	}
	rs, found, err := parseFile(path)
	if err != nil {
		return nil, fmt.Errorf("permissions: %w", err)
	}
	if found {
		p.log.Info("permissions: rule file parsed", "file", path, "rules", len(rs.rules))
	} else {
		p.log.Warn("permissions: rule file not found => empty rule set", "file", path)
	}
	p.files[path] = rs
	return rs, nil
}

func fixupCheck(register bool) func(*Permissions, *module.Env, []module.Value) (module.Handler, error) {
	return func(p *Permissions, _ *module.Env, args []module.Value) (module.Handler, error) {
		allow, deny := p.def[0], p.def[1]
		var err error
		switch len(args) {
		case 1:
			base := args[0].String()
			if allow, err = p.load(base + p.allowSuffix); err != nil {
				return nil, err
			}
			deny, err = p.load(base + p.denySuffix)
		case 2:
			if allow, err = p.load(args[0].String()); err != nil {
				return nil, err
			}
			deny, err = p.load(args[1].String())
		}
		if err != nil {
			return nil, err
		}
		if register {
			return func(m *sipmsg.Msg) (int, error) { return p.CheckRegister(m, allow, deny), nil }, nil
		}
		return func(m *sipmsg.Msg) (int, error) { return p.CheckRouting(m, allow, deny), nil }, nil
	}
}

// plainURI is SER's get_plain_uri: "sip:user@host" ("sip:host" without a
// user), whatever the scheme, port and parameters.
func plainURI(s string) (string, bool) {
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil {
		return "", false
	}
	if u.User == "" {
		return "sip:" + u.Host, true
	}
	return "sip:" + u.User + "@" + u.Host, true
}

// CheckRouting is allow_routing: the From URI against the Request-URI
// ("sip:user@host") and, with check_all_branches, every branch of the
// destination set. Allowed (1) when an allow rule matches (and no branch
// is denied), refused (-1) when a deny rule matches, allowed when neither
// does; with no rules at all, everything is allowed.
func (p *Permissions) CheckRouting(m *sipmsg.Msg, allow, deny *ruleSet) int {
	if len(allow.rules) == 0 && len(deny.rules) == 0 {
		return 1
	}
	ctx := module.MsgCtx(m)
	from := sipmsg.NameAddrURI(m.HeaderBody("From"))
	if from == "" || m.Req == nil {
		p.log.ErrorContext(ctx, "allow_routing: no From URI")
		return -1
	}
	u := m.URI()
	ruri := "sip:" + u.User + "@" + u.Host
	if allow.search(from, ruri) {
		if !p.checkAll {
			return 1
		}
	} else {
		if deny.search(from, ruri) {
			p.log.DebugContext(ctx, "allow_routing: deny rule found", "from", from, "ruri", ruri)
			return -1
		}
		if !p.checkAll {
			return 1
		}
	}
	for _, b := range m.Branches {
		uri, ok := plainURI(b.URI)
		if !ok {
			p.log.ErrorContext(ctx, "allow_routing: cannot parse a branch URI", "uri", b.URI)
			return -1
		}
		if allow.search(from, uri) {
			continue
		}
		if deny.search(from, uri) {
			p.log.InfoContext(ctx, "allow_routing: deny rule found for one of the branches", "from", from, "branch", uri)
			return -1
		}
	}
	return 1
}

// CheckRegister is allow_register: the To URI against each Contact of a
// REGISTER ("sip:user@host"); refused (-1) when a deny rule matches one of
// them that no allow rule matched first (with check_all_branches off, an
// allowed contact is checked against the deny rules too, as in SER). A
// REGISTER without Contact or with "Contact: *" is allowed.
func (p *Permissions) CheckRegister(m *sipmsg.Msg, allow, deny *ruleSet) int {
	if len(allow.rules) == 0 && len(deny.rules) == 0 {
		return 1
	}
	ctx := module.MsgCtx(m)
	to := sipmsg.NameAddrURI(m.HeaderBody("To"))
	if to == "" {
		p.log.ErrorContext(ctx, "allow_register: no To URI")
		return -1
	}
	var contacts []string
	if len(m.Raw) > 0 {
		for _, body := range sipmsg.RawHeaders(m.Raw, "Contact", 0) {
			contacts = append(contacts, splitContacts(body)...)
		}
	} else {
		for _, h := range m.Message().GetHeaders("Contact") {
			contacts = append(contacts, splitContacts(h.Value())...)
		}
	}
	for _, c := range contacts {
		if strings.TrimSpace(c) == "*" {
			return 1
		}
	}
	for _, c := range contacts {
		uri, ok := plainURI(sipmsg.NameAddrURI(c))
		if !ok {
			p.log.ErrorContext(ctx, "allow_register: cannot parse a Contact URI", "contact", c)
			return -1
		}
		if allow.search(to, uri) && p.checkAll {
			continue
		}
		if deny.search(to, uri) {
			p.log.DebugContext(ctx, "allow_register: deny rule found", "to", to, "contact", uri)
			return -1
		}
	}
	return 1
}

// splitContacts splits a Contact header body at the commas between its
// values (not inside quotes or <>).
func splitContacts(body string) []string {
	var out []string
	start, quoted, angle := 0, false, false
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '"':
			quoted = !quoted
		case '<':
			if !quoted {
				angle = true
			}
		case '>':
			if !quoted {
				angle = false
			}
		case ',':
			if !quoted && !angle {
				out = append(out, strings.TrimSpace(body[start:i]))
				start = i + 1
			}
		}
	}
	if s := strings.TrimSpace(body[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

func (p *Permissions) Start(ctx context.Context) error {
	p.mu.Lock()
	used := p.trustedU
	p.started = true
	p.mu.Unlock()
	if !used {
		return nil
	}
	return p.openTrusted(ctx)
}

// openTrusted opens the database and loads the trusted table.
func (p *Permissions) openTrusted(ctx context.Context) error {
	if p.openDB == nil {
		return fmt.Errorf("permissions: no database available (db_url %q)", p.dbURL)
	}
	st, err := p.openDB(p.dbURL)
	if err != nil {
		return fmt.Errorf("permissions: %w", err)
	}
	return p.UseStore(ctx, st)
}
