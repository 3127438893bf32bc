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
