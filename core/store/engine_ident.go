package store

import "fmt"

// ValidIdent reports whether name is a safe SQL identifier:
// [A-Za-z_][A-Za-z0-9_]*, at most 64 characters. Table and column names
// that come from the configuration (usrloc's save("location"), auth's
// password_column …) are checked with it before they are put into SQL.
func ValidIdent(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// ident validates name and returns it quoted for the store's dialect.
func (s *Store) ident(name string) (string, error) {
	if !ValidIdent(name) {
		return "", fmt.Errorf("store: bad identifier %q: %w", name, ErrInvalid)
	}
	return s.d.Quote(name), nil
}

// checkLen returns ErrInvalid when value is longer than max bytes (the
// column's VARCHAR size; MySQL in strict mode refuses longer values, SQLite
// would store them, so the store checks for both).
// identsOr quotes a schema's table and column names for SQL, each empty
// one replaced by its default from defs (same order).
func (s *Store) identsOr(names []string, defs ...string) ([]string, error) {
	out := make([]string, len(names))
	for i, n := range names {
		if n == "" {
			n = defs[i]
		}
		q, err := s.ident(n)
		if err != nil {
			return nil, err
		}
		out[i] = q
	}
	return out, nil
}

func checkLen(field, value string, max int) error {
	if len(value) > max {
		return fmt.Errorf("store: %s longer than %d characters: %w", field, max, ErrInvalid)
	}
	return nil
}

// checkKey returns ErrInvalid when a required key field is empty.
func checkKey(field, value string) error {
	if value == "" {
		return fmt.Errorf("store: empty %s: %w", field, ErrInvalid)
	}
	return nil
}
