// Package avpops is SER 0.9's AVP operations module (voice-system's
// avpops): script functions that load AVPs from the database
// (usr_preferences), store and delete them there, write them from the
// message or constants, push them into the message (R-URI, headers),
// check and copy them. The AVPs themselves are the core's
// (sipmsg.AVPList); tm carries them with the transaction into failure
// and onreply routes, which is what call-forwarding scripts build on:
//
//	if (avp_db_load("$ruri/username", "s:callfwd")) {
//		avp_pushto("$ruri", "s:callfwd");
//		t_relay(); break;
//	};
package avpops

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"ser/core/module"
	"ser/core/sipmsg"
	"ser/core/store"
)

// Config holds the module parameters.
type Config struct {
	// DBURL is avp_url (SER 0.9's name) or db_url; "" is the server's
	// default database.
	DBURL string
	// Table is avp_table (default usr_preferences).
	Table string
	// The columns: uuid, username, domain, attribute, value, type.
	UUIDColumn, UsernameColumn, DomainColumn, AttributeColumn, ValueColumn, TypeColumn string
	// UseDomain is use_domain: a URI source selects rows by user and
	// domain, not only by user.
	UseDomain bool
}

// scheme is a db_scheme definition: values of another table's column.
type scheme struct {
	name                                 string
	table, uuidCol, userCol, domCol, val string
	intValues                            bool
}

// Module is one server's avpops instance.
type Module struct {
	cfg     Config
	aliases sipmsg.AVPAliases
	schemes map[string]*scheme
	log     *slog.Logger
	openDB  func(string) (*store.Store, error)
	db      *store.Store
	// usesDB is set when the script calls an avp_db_* function (Start
	// opens the database only then); tables lists the tables they name.
	// started is set once Start ran: a script reloaded later that calls
	// one for the first time, or names a new table, has the database
	// opened and checked at once (fixupDB).
	usesDB, started atomic.Bool
	tables          map[string]bool
	dbTimeout       time.Duration
}

// New returns an instance with SER's defaults.
func New() *Module {
	return &Module{
		cfg: Config{Table: "usr_preferences", UUIDColumn: "uuid", UsernameColumn: "username", DomainColumn: "domain",
			AttributeColumn: "attribute", ValueColumn: "value", TypeColumn: "type"},
		aliases:   sipmsg.AVPAliases{},
		schemes:   map[string]*scheme{},
		log:       slog.Default(),
		tables:    map[string]bool{},
		dbTimeout: 5 * time.Second,
	}
}

// Config returns the module's parameters.
func (a *Module) Config() Config { return a.cfg }

// Aliases returns the AVP aliases avp_aliases defined.
func (a *Module) Aliases() sipmsg.AVPAliases { return a.aliases }

// setAliases is avp_aliases: "alias=name;…", may be given several times.
func setAliases(a *Module, v module.Value) error { return a.aliases.Add(v.String()) }

// setScheme is db_scheme: "name:table=t;uuid_col=c;username_col=c;
// domain_col=c;value_col=c;value_type=integer|string".
func setScheme(a *Module, v module.Value) error {
	name, body, ok := strings.Cut(v.String(), ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.TrimSpace(body) == "" {
		return fmt.Errorf("db_scheme %q: want name:attribute=value;…", v.String())
	}
	if _, dup := a.schemes[name]; dup {
		return fmt.Errorf("db_scheme %s defined twice", name)
	}
	sc := &scheme{name: name}
	for _, item := range strings.Split(body, ";") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, val, ok := strings.Cut(item, "=")
		k, val = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(val)
		if !ok || val == "" {
			return fmt.Errorf("db_scheme %s: bad attribute %q", name, item)
		}
		var dst *string
		switch k {
		case "table":
			dst = &sc.table
		case "uuid_col":
			dst = &sc.uuidCol
		case "username_col":
			dst = &sc.userCol
		case "domain_col":
			dst = &sc.domCol
		case "value_col":
			dst = &sc.val
		case "value_type":
			switch strings.ToLower(val) {
			case "integer":
				sc.intValues = true
			case "string":
				sc.intValues = false
			default:
				return fmt.Errorf("db_scheme %s: unknown value_type %q (integer or string)", name, val)
			}
			continue
		default:
			return fmt.Errorf("db_scheme %s: unknown attribute %q (table, uuid_col, username_col, domain_col, value_col, value_type)", name, k)
		}
		if !store.ValidIdent(val) {
			return fmt.Errorf("db_scheme %s: %s %q is not a valid SQL name", name, k, val)
		}
		*dst = val
	}
	a.schemes[name] = sc
	return nil
}

func initModule(a *Module, env *module.Env) error {
	if env.Log != nil {
		a.log = env.Log
	}
	if env.Check {
		return env.CheckDBURL(a.cfg.DBURL)
	}
	a.openDB = env.DB
	return nil
}

// Start opens the database when the script uses an avp_db_* function and
// checks the tables and columns it names.
func (a *Module) Start(ctx context.Context) error {
	a.started.Store(true)
	if !a.usesDB.Load() {
		return nil
	}
	return a.open(ctx)
}

// open opens the database (once) and checks the tables.
func (a *Module) open(ctx context.Context) error {
	if a.db != nil {
		return a.UseStore(ctx, a.db)
	}
	if a.openDB == nil {
		return fmt.Errorf("avpops: no database available (avp_url %q)", a.cfg.DBURL)
	}
	st, err := a.openDB(a.cfg.DBURL)
	if err != nil {
		return fmt.Errorf("avpops: %w", err)
	}
	return a.UseStore(ctx, st)
}

// UseStore makes the module work on st after checking the tables the
// script's avp_db_* calls use (tests; Start does it with avp_url).
func (a *Module) UseStore(ctx context.Context, st *store.Store) error {
	for t := range a.tables {
		if err := st.CheckAVPSchema(ctx, a.schema(t)); err != nil {
			return fmt.Errorf("avpops: %w", err)
		}
	}
	for _, sc := range a.schemes {
		if err := st.CheckAVPSchema(ctx, a.schemeSchema(sc)); err != nil {
			return fmt.Errorf("avpops: db_scheme %s: %w", sc.name, err)
		}
	}
	if a.db != st {
		a.db = st
	}
	return nil
}

// schema is the AVP table schema for table ("" = avp_table).
func (a *Module) schema(table string) store.AVPSchema {
	c := a.cfg
	if table == "" {
		table = c.Table
	}
	return store.AVPSchema{Table: table, UUID: c.UUIDColumn, Username: c.UsernameColumn, Domain: c.DomainColumn,
		Attribute: c.AttributeColumn, Value: c.ValueColumn, Type: c.TypeColumn}
}

// schemeSchema is a db_scheme's schema; what it does not name is
// avp_table's.
func (a *Module) schemeSchema(sc *scheme) store.AVPSchema {
	s := a.schema(sc.table)
	s.ValuesOnly = true
	for _, o := range []struct {
		dst *string
		v   string
	}{{&s.UUID, sc.uuidCol}, {&s.Username, sc.userCol}, {&s.Domain, sc.domCol}, {&s.Value, sc.val}} {
		if o.v != "" {
			*o.dst = o.v
		}
	}
	return s
}
