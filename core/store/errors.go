package store

// Errors returned by the store wrap one of these sentinels (test with
// errors.Is) and read "store: <what>: <sentinel>".

import "errors"

// ErrNotFound is returned when the row an operation needs does not exist.
var ErrNotFound = errors.New("not found")

// ErrExists is returned when an insert would duplicate a primary or unique
// key (a subscriber, a group membership, a domain …).
var ErrExists = errors.New("already exists")

// ErrInvalid is returned for arguments the store refuses before touching
// the database: a table or column name that is not a safe identifier, an
// empty key, a value longer than its column.
var ErrInvalid = errors.New("invalid argument")

// ErrMySQLNotBuilt was returned by Open for mysql:// and sql:// URLs before
// the MySQL driver was built in.
//
// Deprecated: Open supports MySQL and never returns it; it is kept until
// the tests that still name it are updated.
var ErrMySQLNotBuilt = errors.New("store: mysql support not built yet")
