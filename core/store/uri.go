package store

import (
	"context"
	"fmt"
)

// AddURI inserts a uri row: username@domain may use uri_user as the user
// part of its To/From URIs (uri_db's check_to/check_from with
// use_uri_table). An existing row gives ErrExists.
func (s *Store) AddURI(ctx context.Context, username, domain, uriUser string) error {
	if err := checkKey("uri_user", uriUser); err != nil {
		return err
	}
	if err := checkLen("uri_user", uriUser, 50); err != nil {
		return err
	}
	_, err := s.w.ExecContext(ctx, "INSERT INTO uri (username, domain, uri_user, last_modified) VALUES (?, ?, ?, ?)",
		username, domain, uriUser, dbTime(s.now()))
	if s.d.IsDuplicate(err) {
		return fmt.Errorf("store: add uri %s for %s: %w", uriUser, aor(username, domain), ErrExists)
	}
	if err != nil {
		return fmt.Errorf("store: add uri %s for %s: %w", uriUser, aor(username, domain), err)
	}
	return nil
}

// DeleteURI removes one uri row, or gives ErrNotFound.
func (s *Store) DeleteURI(ctx context.Context, username, domain, uriUser string) error {
	res, err := s.w.ExecContext(ctx, "DELETE FROM uri WHERE username = ? AND domain = ? AND uri_user = ?",
		username, domain, uriUser)
	if err != nil {
		return fmt.Errorf("store: delete uri %s of %s: %w", uriUser, aor(username, domain), err)
	}
	return affected(res, "delete uri "+uriUser+" of "+aor(username, domain))
}

// URIs returns the uri_user values of username@domain, sorted.
func (s *Store) URIs(ctx context.Context, username, domain string) ([]string, error) {
	return s.queryStrings(ctx, "uris of "+aor(username, domain),
		"SELECT uri_user FROM uri WHERE username = ? AND domain = ? ORDER BY uri_user", username, domain)
}

// URIAllowed reports whether username@domain may use uriUser (a uri row
// exists).
func (s *Store) URIAllowed(ctx context.Context, username, domain, uriUser string) (bool, error) {
	st, err := s.prepared(ctx, s.r, "SELECT 1 FROM uri WHERE username = ? AND domain = ? AND uri_user = ? LIMIT 1")
	if err != nil {
		return false, fmt.Errorf("store: check uri: %w", err)
	}
	return exists(st.QueryRowContext(ctx, username, domain, uriUser), "check uri")
}

// AddReserved adds a user name to the reserved table (names serweb refuses
// for new accounts). An existing name gives ErrExists.
func (s *Store) AddReserved(ctx context.Context, username string) error {
	if err := checkKey("username", username); err != nil {
		return err
	}
	if err := checkLen("username", username, 64); err != nil {
		return err
	}
	_, err := s.w.ExecContext(ctx, "INSERT INTO reserved (username) VALUES (?)", username)
	if s.d.IsDuplicate(err) {
		return fmt.Errorf("store: reserve %s: %w", username, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("store: reserve %s: %w", username, err)
	}
	return nil
}

// DeleteReserved removes a reserved name, or gives ErrNotFound.
func (s *Store) DeleteReserved(ctx context.Context, username string) error {
	res, err := s.w.ExecContext(ctx, "DELETE FROM reserved WHERE username = ?", username)
	if err != nil {
		return fmt.Errorf("store: unreserve %s: %w", username, err)
	}
	return affected(res, "unreserve "+username)
}

// IsReserved reports whether username is in the reserved table.
func (s *Store) IsReserved(ctx context.Context, username string) (bool, error) {
	return exists(s.r.QueryRowContext(ctx, "SELECT 1 FROM reserved WHERE username = ? LIMIT 1", username), "check reserved")
}

// ReservedNames lists the reserved table, sorted.
func (s *Store) ReservedNames(ctx context.Context) ([]string, error) {
	return s.queryStrings(ctx, "list reserved", "SELECT username FROM reserved ORDER BY username")
}
