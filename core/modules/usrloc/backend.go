package usrloc

import "context"

// Backend is the persistence a database-backed usrloc (db_mode 1, 2, 3)
// will use: the SQL location tables of core/store behind a small
// interface, so that usrloc never touches SQL itself.
//
// Not wired yet: the store does not exist, and Init refuses db_mode 1–3
// rather than accept them and silently keep contacts in memory only. The
// intended use, once a store implements it:
//
//   - start (all modes ≠ 0): Load every table registered by the script and
//     Put its rows into memory (SER's preload_udomain);
//   - db_mode 1, write-through: each committed Domain.Update calls Insert,
//     Update or Delete for the contacts it changed, and DeleteAOR for a
//     record removed as a whole; the expiry timer calls Delete;
//   - db_mode 2, write-back: changes mark contacts StateNew/StateDirty and
//     removed contacts become zombies; the timer and ul_flush write them
//     (Insert/Update/Delete) and move them to StateSync;
//   - db_mode 3, read-only: Load only.
//
// Contacts with FlagMem are never written. Table is the usrloc table name
// ("location"), which is also the SQL table name in SER.
type Backend interface {
	// Load calls fn for every contact stored in table.
	Load(ctx context.Context, table string, fn func(aor string, c Contact) error) error
	// Insert stores a new contact of aor.
	Insert(ctx context.Context, table, aor string, c Contact) error
	// Update rewrites the stored contact of aor with the same URI.
	Update(ctx context.Context, table, aor string, c Contact) error
	// Delete removes the contact of aor with the given URI.
	Delete(ctx context.Context, table, aor, uri string) error
	// DeleteAOR removes every contact of aor.
	DeleteAOR(ctx context.Context, table, aor string) error
}
