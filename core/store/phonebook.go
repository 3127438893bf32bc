package store

import (
	"context"
	"database/sql"
	"fmt"
)

// PhonebookEntry is a row of a user's phone book (serweb phone book tab).
type PhonebookEntry struct {
	ID               int64
	Username, Domain string
	FName, LName     string
	SIPURI           string
}

// validate checks SER's column sizes.
func (e *PhonebookEntry) validate() error {
	for _, f := range []struct {
		n, v string
		max  int
	}{{"username", e.Username, 64}, {"domain", e.Domain, 128}, {"fname", e.FName, 32}, {"lname", e.LName, 32}, {"sip_uri", e.SIPURI, 128}} {
		if err := checkLen(f.n, f.v, f.max); err != nil {
			return err
		}
	}
	return checkKey("username", e.Username)
}

// AddPhonebookEntry inserts e (its ID is ignored) and returns the new id.
func (s *Store) AddPhonebookEntry(ctx context.Context, e PhonebookEntry) (int64, error) {
	if err := e.validate(); err != nil {
		return 0, err
	}
	res, err := s.w.ExecContext(ctx, "INSERT INTO phonebook (username, domain, fname, lname, sip_uri) VALUES (?, ?, ?, ?, ?)",
		e.Username, e.Domain, e.FName, e.LName, e.SIPURI)
	if err != nil {
		return 0, fmt.Errorf("store: add phonebook entry of %s: %w", aor(e.Username, e.Domain), err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("store: add phonebook entry of %s: %w", aor(e.Username, e.Domain), err)
	}
	return id, nil
}

// UpdatePhonebookEntry stores the names and URI of entry e.ID, which must
// belong to e.Username@e.Domain; otherwise ErrNotFound.
func (s *Store) UpdatePhonebookEntry(ctx context.Context, e PhonebookEntry) error {
	if err := e.validate(); err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, "UPDATE phonebook SET fname = ?, lname = ?, sip_uri = ? WHERE id = ? AND username = ? AND domain = ?",
		e.FName, e.LName, e.SIPURI, e.ID, e.Username, e.Domain)
	if err != nil {
		return fmt.Errorf("store: update phonebook entry %d: %w", e.ID, err)
	}
	return affected(res, fmt.Sprintf("update phonebook entry %d of %s", e.ID, aor(e.Username, e.Domain)))
}

// DeletePhonebookEntry removes entry id of username@domain, or gives
// ErrNotFound (also when the entry belongs to someone else).
func (s *Store) DeletePhonebookEntry(ctx context.Context, username, domain string, id int64) error {
	res, err := s.w.ExecContext(ctx, "DELETE FROM phonebook WHERE id = ? AND username = ? AND domain = ?", id, username, domain)
	if err != nil {
		return fmt.Errorf("store: delete phonebook entry %d: %w", id, err)
	}
	return affected(res, fmt.Sprintf("delete phonebook entry %d of %s", id, aor(username, domain)))
}

// PhonebookEntry returns entry id of username@domain, or ErrNotFound.
func (s *Store) PhonebookEntry(ctx context.Context, username, domain string, id int64) (PhonebookEntry, error) {
	var e PhonebookEntry
	err := s.r.QueryRowContext(ctx, "SELECT id, username, domain, fname, lname, sip_uri FROM phonebook WHERE id = ? AND username = ? AND domain = ?",
		id, username, domain).Scan(&e.ID, &e.Username, &e.Domain, &e.FName, &e.LName, &e.SIPURI)
	if err == sql.ErrNoRows {
		return e, fmt.Errorf("store: phonebook entry %d of %s: %w", id, aor(username, domain), ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("store: phonebook entry %d of %s: %w", id, aor(username, domain), err)
	}
	return e, nil
}

// Phonebook returns a page of username@domain's phone book ordered by last
// name, first name and id, and the number of entries in all pages.
func (s *Store) Phonebook(ctx context.Context, username, domain string, p Page) ([]PhonebookEntry, int, error) {
	var total int
	if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM phonebook WHERE username = ? AND domain = ?",
		username, domain).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: phonebook of %s: %w", aor(username, domain), err)
	}
	lim, largs := p.clause()
	rows, err := s.r.QueryContext(ctx, "SELECT id, username, domain, fname, lname, sip_uri FROM phonebook WHERE username = ? AND domain = ? ORDER BY lname, fname, id"+lim,
		append([]any{username, domain}, largs...)...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: phonebook of %s: %w", aor(username, domain), err)
	}
	defer rows.Close()
	var out []PhonebookEntry
	for rows.Next() {
		var e PhonebookEntry
		if err := rows.Scan(&e.ID, &e.Username, &e.Domain, &e.FName, &e.LName, &e.SIPURI); err != nil {
			return nil, 0, fmt.Errorf("store: phonebook of %s: %w", aor(username, domain), err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: phonebook of %s: %w", aor(username, domain), err)
	}
	return out, total, nil
}
