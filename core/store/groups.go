package store

import (
	"context"
	"fmt"
	"time"
)

// GroupSchema names the group table and its columns, as the group
// module's parameters do. Empty fields take SER's defaults: table "grp",
// columns "username", "domain", "grp".
type GroupSchema struct {
	Table, UserColumn, DomainColumn, GroupColumn string
	// UseDomain compares the domain column too (group's use_domain).
	UseDomain bool
}

// Membership is a row of the grp table.
type Membership struct {
	Username, Domain, Group string
	LastModified            time.Time
}

// InGroup reports whether the user belongs to grp (the group module's
// is_user_in). The statement is prepared once per schema and reused.
func (s *Store) InGroup(ctx context.Context, gs GroupSchema, username, domain, grp string) (bool, error) {
	names, err := s.identsOr([]string{gs.Table, gs.UserColumn, gs.DomainColumn, gs.GroupColumn}, "grp", "username", "domain", "grp")
	if err != nil {
		return false, err
	}
	query := "SELECT 1 FROM " + names[0] + " WHERE " + names[1] + " = ? AND " + names[3] + " = ?"
	args := []any{username, grp}
	if gs.UseDomain {
		query += " AND " + names[2] + " = ?"
		args = append(args, domain)
	}
	st, err := s.prepared(ctx, s.r, query+" LIMIT 1")
	if err != nil {
		return false, fmt.Errorf("store: group check: %w", err)
	}
	return exists(st.QueryRowContext(ctx, args...), "group check")
}

// Grant adds username@domain to grp (serctl acl grant). An existing
// membership gives ErrExists.
func (s *Store) Grant(ctx context.Context, username, domain, grp string) error {
	if err := checkKey("group", grp); err != nil {
		return err
	}
	if err := checkLen("group", grp, 50); err != nil {
		return err
	}
	_, err := s.w.ExecContext(ctx, "INSERT INTO grp (username, domain, grp, last_modified) VALUES (?, ?, ?, ?)",
		username, domain, grp, dbTime(s.now()))
	if s.d.IsDuplicate(err) {
		return fmt.Errorf("store: grant %s to %s: %w", grp, aor(username, domain), ErrExists)
	}
	if err != nil {
		return fmt.Errorf("store: grant %s to %s: %w", grp, aor(username, domain), err)
	}
	return nil
}

// Revoke removes username@domain from grp, or from all its groups when grp
// is "" (serctl acl revoke). Nothing to remove gives ErrNotFound.
func (s *Store) Revoke(ctx context.Context, username, domain, grp string) error {
	query := "DELETE FROM grp WHERE username = ? AND domain = ?"
	args := []any{username, domain}
	if grp != "" {
		query += " AND grp = ?"
		args = append(args, grp)
	}
	res, err := s.w.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("store: revoke %q from %s: %w", grp, aor(username, domain), err)
	}
	return affected(res, fmt.Sprintf("revoke %q from %s", grp, aor(username, domain)))
}

// UserGroups returns the groups of username@domain, sorted.
func (s *Store) UserGroups(ctx context.Context, username, domain string) ([]string, error) {
	return s.queryStrings(ctx, "groups of "+aor(username, domain),
		"SELECT grp FROM grp WHERE username = ? AND domain = ? ORDER BY grp", username, domain)
}

// GroupMembers returns the members of grp ordered by domain and username.
func (s *Store) GroupMembers(ctx context.Context, grp string) ([]Membership, error) {
	return s.memberships(ctx, "members of "+grp,
		"SELECT username, domain, grp, last_modified FROM grp WHERE grp = ? ORDER BY domain, username", grp)
}

// Memberships lists grp rows (serctl acl show): all of them when username
// is "", else those of username@domain; ordered by domain, username, grp.
func (s *Store) Memberships(ctx context.Context, username, domain string) ([]Membership, error) {
	if username == "" {
		return s.memberships(ctx, "list groups",
			"SELECT username, domain, grp, last_modified FROM grp ORDER BY domain, username, grp")
	}
	return s.memberships(ctx, "list groups of "+aor(username, domain),
		"SELECT username, domain, grp, last_modified FROM grp WHERE username = ? AND domain = ? ORDER BY grp",
		username, domain)
}

// memberships runs a query selecting grp rows.
func (s *Store) memberships(ctx context.Context, what, query string, args ...any) ([]Membership, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	var out []Membership
	for rows.Next() {
		var m Membership
		if err := rows.Scan(&m.Username, &m.Domain, &m.Group, timeScan{&m.LastModified}); err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return out, nil
}
