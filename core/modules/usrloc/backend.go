package usrloc

import "context"

// Backend is the database behind a persistent usrloc (db_mode 1, 2, 3): the
// SQL location tables of core/store behind a small interface, so that
// usrloc never touches SQL itself. NewStoreBackend adapts a *store.Store;
// tests wrap it to inject failures.
//
// How the modes use it:
//
//   - db_mode 1 (write-through) and 2 (write-back): at Start, EnsureTable
//     and one streaming Load per table fill memory (SER's
//     preload_udomain). Mode 1 then calls Apply for every committed
//     change, synchronously; mode 2 marks changed contacts dirty and a
//     flush (the timer, ul_flush, Stop) writes them with Apply in batches.
//     The timer removes expired rows with DeleteExpired.
//   - db_mode 3 (DB only, Inode's "cacheless" usrloc-cl): no cache. Every
//     read is Contacts (one AOR) or Load (ul_dump), every change an Apply,
//     ul_stats is Count, the timer is DeleteExpired.
//
// Table is the usrloc table name ("location", "aliases"), which is also
// the SQL table name, as in SER. AORs are usrloc keys ("john", or
// "john@example.com" with use_domain); the backend maps them to rows.
type Backend interface {
	// EnsureTable creates table with the location layout unless it exists.
	EnsureTable(ctx context.Context, table string) error
	// Load calls fn for every contact stored in table, in one pass.
	Load(ctx context.Context, table string, fn func(aor string, c Contact) error) error
	// Contacts returns the stored contacts of aor, expired ones included,
	// in any order.
	Contacts(ctx context.Context, table, aor string) ([]Contact, error)
	// Apply performs ops in order, all or none (one transaction).
	Apply(ctx context.Context, table string, ops []Op) error
	// DeleteExpired removes the non-permanent contacts of table whose
	// expiry (Unix seconds) is before now and returns how many went.
	DeleteExpired(ctx context.Context, table string, now int64) (int64, error)
	// Count returns the number of contacts and of distinct AORs in table.
	Count(ctx context.Context, table string) (contacts, aors int64, err error)
}

// OpKind says what an Op does.
type OpKind uint8

// The kinds of Op.
const (
	// OpPut inserts Contact or overwrites the stored contact with the same
	// AOR and URI.
	OpPut OpKind = iota
	// OpDelete removes the contact of AOR whose URI is Contact.URI; a
	// missing row is not an error.
	OpDelete
	// OpDeleteAOR removes every contact of AOR.
	OpDeleteAOR
)

// String returns the kind's name ("put", "delete", "delete-aor").
func (k OpKind) String() string {
	switch k {
	case OpPut:
		return "put"
	case OpDelete:
		return "delete"
	case OpDeleteAOR:
		return "delete-aor"
	}
	return "unknown"
}

// Op is one change of a table written to the Backend.
type Op struct {
	Kind    OpKind
	AOR     string
	Contact Contact
}
