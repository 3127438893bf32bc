// Package registrar is SER's registrar module: save() processes REGISTER
// requests (RFC 3261 §10.3) into a usrloc table and answers them;
// lookup() rewrites a request's R-URI to the registered contacts of its
// address-of-record.
package registrar

import (
	"fmt"
	"log/slog"

	"ser/core/module"
	"ser/core/modules/usrloc"
	"ser/core/sipmsg"
)

// Module is one server's registrar instance.
type Module struct {
	defaultExpires int64
	minExpires     int64
	maxExpires     int64
	defaultQ       usrloc.Q
	appendBranches bool
	useDomain      bool
	caseSensitive  bool
	descTimeOrder  bool
	natFlag        int
	maxContacts    int
	// Path (RFC 3327), Kamailio's registrar parameters: use_path stores
	// the REGISTER's Path with its contacts, path_mode says when the reply
	// carries it (and when a REGISTER without "Supported: path" is
	// refused), path_use_received takes the contact's received address
	// from the first Path URI.
	usePath         bool
	pathMode        int
	pathUseReceived bool

	ul   *usrloc.Module
	sl   replier // the sl module, when loaded
	core module.Core
	log  *slog.Logger
}

// New returns an instance with SER 0.9's defaults.
func New() *Module {
	return &Module{
		defaultExpires: 3600,
		minExpires:     60,
		defaultQ:       usrloc.QUnset,
		appendBranches: true,
		natFlag:        -1,
		pathMode:       pathModeStrict,
		log:            slog.Default().With("module", "registrar"),
	}
}

func initModule(m *Module, env *module.Env) error {
	if env.Log != nil {
		m.log = env.Log
	}
	u, ok := module.Get[*usrloc.Module](env, "usrloc")
	if !ok {
		return fmt.Errorf("registrar: the usrloc module is not loaded")
	}
	m.ul, m.core = u, env.Core
	if r, ok := module.Get[replier](env, "sl"); ok {
		m.sl = r
	}
	if m.descTimeOrder {
		u.SetDescTimeOrder(true)
	}
	if ud := u.Config().UseDomain; ud != m.useDomain {
		// SER read the two separately too; a config setting one only
		// keys registrations one way and usrloc's FIFO commands and
		// database rows the other (multidomain set-ups set both).
		m.log.Warn("registrar and usrloc disagree on use_domain: set modparam(\"registrar\", \"use_domain\", …) and modparam(\"usrloc\", \"use_domain\", …) alike",
			"registrar", m.useDomain, "usrloc", ud)
	}
	return nil
}

// table resolves a function's table argument once, at load time, creating
// the usrloc table (SER's register_udomain in the fixup).
func (m *Module) table(fname string, args []module.Value) (*usrloc.Domain, error) {
	if m.ul == nil {
		return nil, fmt.Errorf("registrar: %s: the usrloc module is not initialised", fname)
	}
	if len(args) != 1 || args[0].String() == "" {
		return nil, fmt.Errorf("registrar: %s: a table name is required", fname)
	}
	return m.ul.Register(args[0].String()), nil
}

func fixupSave(reply bool) func(any, *module.Env, []module.Value) (module.Handler, error) {
	return module.FixupOf(func(m *Module, _ *module.Env, args []module.Value) (module.Handler, error) {
		name := "save"
		if !reply {
			name = "save_noreply"
		}
		d, err := m.table(name, args)
		if err != nil {
			return nil, err
		}
		return func(msg *sipmsg.Msg) (int, error) { return m.save(msg, d, reply) }, nil
	})
}

func fixupLookup(m *Module, _ *module.Env, args []module.Value) (module.Handler, error) {
	d, err := m.table("lookup", args)
	if err != nil {
		return nil, err
	}
	return func(msg *sipmsg.Msg) (int, error) { return m.lookup(msg, d) }, nil
}

func fixupRegistered(m *Module, _ *module.Env, args []module.Value) (module.Handler, error) {
	d, err := m.table("registered", args)
	if err != nil {
		return nil, err
	}
	return func(msg *sipmsg.Msg) (int, error) { return m.registered(msg, d), nil }, nil
}
