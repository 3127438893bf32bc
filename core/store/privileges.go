package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Privilege names used by serweb (W04) in admin_privileges.
const (
	// PrivIsAdmin with value "1" makes a user an administrator.
	PrivIsAdmin = "is_admin"
	// PrivChangePrivileges with value "1" lets an admin edit privileges.
	PrivChangePrivileges = "change_privileges"
	// PrivACLControl's values are the groups an admin may grant/revoke.
	PrivACLControl = "acl_control"
)

// Privilege is a row of admin_privileges.
type Privilege struct {
	Username, Domain, Name, Value string
}

// insertPrivilege adds one admin_privileges row.
const insertPrivilege = "INSERT INTO admin_privileges (username, domain, priv_name, priv_value) VALUES (?, ?, ?, ?)"

// validate checks key presence and SER's column sizes.
func (p Privilege) validate() error {
	if err := checkKey("privilege name", p.Name); err != nil {
		return err
	}
	for _, f := range []struct {
		n, v string
		max  int
	}{{"username", p.Username, 64}, {"domain", p.Domain, 128}, {"priv_name", p.Name, 64}, {"priv_value", p.Value, 64}} {
		if err := checkLen(f.n, f.v, f.max); err != nil {
			return err
		}
	}
	return nil
}

// GrantPrivilege adds the privilege name=value to username@domain. An
// existing row gives ErrExists.
func (s *Store) GrantPrivilege(ctx context.Context, username, domain, name, value string) error {
	if err := (Privilege{username, domain, name, value}).validate(); err != nil {
		return err
	}
	_, err := s.w.ExecContext(ctx, insertPrivilege, username, domain, name, value)
	if s.d.IsDuplicate(err) {
		return fmt.Errorf("store: grant privilege %s=%s to %s: %w", name, value, aor(username, domain), ErrExists)
	}
	if err != nil {
		return fmt.Errorf("store: grant privilege %s=%s to %s: %w", name, value, aor(username, domain), err)
	}
	return nil
}

// RevokePrivilege removes the privilege name=value, or every value of name
// when value is "", from username@domain. Nothing removed gives
// ErrNotFound.
func (s *Store) RevokePrivilege(ctx context.Context, username, domain, name, value string) error {
	query := "DELETE FROM admin_privileges WHERE username = ? AND domain = ? AND priv_name = ?"
	args := []any{username, domain, name}
	if value != "" {
		query += " AND priv_value = ?"
		args = append(args, value)
	}
	res, err := s.w.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("store: revoke privilege %s from %s: %w", name, aor(username, domain), err)
	}
	return affected(res, "revoke privilege "+name+" from "+aor(username, domain))
}

// Privileges returns the privileges of username@domain ordered by name and
// value.
func (s *Store) Privileges(ctx context.Context, username, domain string) ([]Privilege, error) {
	return s.privileges(ctx, "privileges of "+aor(username, domain),
		"SELECT username, domain, priv_name, priv_value FROM admin_privileges WHERE username = ? AND domain = ? ORDER BY priv_name, priv_value",
		username, domain)
}

// HasPrivilege reports whether username@domain has name=value.
func (s *Store) HasPrivilege(ctx context.Context, username, domain, name, value string) (bool, error) {
	return exists(s.r.QueryRowContext(ctx,
		"SELECT 1 FROM admin_privileges WHERE username = ? AND domain = ? AND priv_name = ? AND priv_value = ? LIMIT 1",
		username, domain, name, value), "check privilege")
}

// IsAdmin reports whether username@domain has is_admin=1.
func (s *Store) IsAdmin(ctx context.Context, username, domain string) (bool, error) {
	return s.HasPrivilege(ctx, username, domain, PrivIsAdmin, "1")
}

// Admins lists the is_admin=1 rows ordered by domain and username.
func (s *Store) Admins(ctx context.Context) ([]Privilege, error) {
	return s.privileges(ctx, "list admins",
		"SELECT username, domain, priv_name, priv_value FROM admin_privileges WHERE priv_name = ? AND priv_value = '1' ORDER BY domain, username",
		PrivIsAdmin)
}

// privileges runs a query selecting admin_privileges rows.
func (s *Store) privileges(ctx context.Context, what, query string, args ...any) ([]Privilege, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	var out []Privilege
	for rows.Next() {
		var p Privilege
		if err := rows.Scan(&p.Username, &p.Domain, &p.Name, &p.Value); err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return out, nil
}

// BootstrapAdmin creates the first administrator, in one transaction: if
// admin_privileges has no is_admin=1 row yet, it inserts the subscriber u
// (as AddSubscriber: ha1/ha1b from the password, its uri row), the
// privileges privs for it and the preferences prefs (e.g. a
// must-change-password mark). It returns false, changing nothing, when an
// administrator exists already; ErrExists when u's name is taken. Two
// processes starting at once create one administrator: the check runs
// under the write lock.
func (s *Store) BootstrapAdmin(ctx context.Context, u Subscriber, privs []Privilege, prefs []Preference) (bool, error) {
	if err := s.prepareNew(&u); err != nil {
		return false, err
	}
	for _, p := range privs {
		p.Username, p.Domain = u.Username, u.Domain
		if err := p.validate(); err != nil {
			return false, err
		}
	}
	for _, p := range prefs {
		p.Username, p.Domain = u.Username, u.Domain
		if err := p.validate(); err != nil {
			return false, err
		}
	}
	created := false
	now := dbTime(s.now())
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.serialize(ctx, tx, "admin_privileges"); err != nil {
			return err
		}
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM admin_privileges WHERE priv_name = ? AND priv_value = '1' LIMIT 1",
			PrivIsAdmin).Scan(&one)
		if err == nil {
			return nil
		}
		if err != sql.ErrNoRows {
			return err
		}
		if err := s.insertSubscriber(ctx, tx, u); err != nil {
			return err
		}
		for _, p := range privs {
			if _, err := tx.ExecContext(ctx, insertPrivilege, u.Username, u.Domain, p.Name, p.Value); err != nil {
				return err
			}
		}
		for _, p := range prefs {
			if _, err := tx.ExecContext(ctx, "INSERT INTO usr_preferences (uuid, username, domain, attribute, value, type, modified) VALUES (?, ?, ?, ?, ?, ?, ?)",
				p.UUID, u.Username, u.Domain, p.Attribute, p.Value, p.Type, now); err != nil {
				return err
			}
		}
		created = true
		return nil
	})
	if s.d.IsDuplicate(err) {
		return false, fmt.Errorf("store: bootstrap admin %s: %w", aor(u.Username, u.Domain), ErrExists)
	}
	if err != nil {
		return false, fmt.Errorf("store: bootstrap admin %s: %w", aor(u.Username, u.Domain), err)
	}
	return created, nil
}

// AllPrivileges returns every admin_privileges row ordered by domain,
// username, privilege name and value (serweb's list of admins).
func (s *Store) AllPrivileges(ctx context.Context) ([]Privilege, error) {
	return s.privileges(ctx, "list privileges",
		"SELECT username, domain, priv_name, priv_value FROM admin_privileges ORDER BY domain, username, priv_name, priv_value")
}
