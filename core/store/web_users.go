package store

// Subscriber operations of the web console (serweb) that span several
// tables and must be all or nothing.

import (
	"context"
	"database/sql"
	"fmt"
)

// userTables are the per-user serweb tables PurgeSubscriber empties along
// with the subscriber row. Accounting (acc, missed_calls) is history and
// stays.
var userTables = []string{"uri", "grp", "admin_privileges", "phonebook", "usr_preferences", "speed_dial",
	"calls_forwarding", "event"}

// PurgeSubscriber removes a subscriber and, in the same transaction, its
// rows in uri, grp, admin_privileges, phonebook, usr_preferences,
// speed_dial, calls_forwarding and event (serweb's per-table delete
// methods). In-memory contacts and aliases are the caller's (ul_rm
// through the FIFO). An unknown user gives ErrNotFound and changes
// nothing.
func (s *Store) PurgeSubscriber(ctx context.Context, username, domain string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM subscriber WHERE username = ? AND domain = ?", username, domain)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err == nil {
				err = ErrNotFound
			}
			return err
		}
		for _, table := range userTables {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE username = ? AND domain = ?", username, domain); err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: purge subscriber %s: %w", aor(username, domain), err)
	}
	return nil
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
		if err := checkKey("privilege name", p.Name); err != nil {
			return false, err
		}
		if err := checkLen("priv_value", p.Value, 64); err != nil {
			return false, err
		}
	}
	for _, p := range prefs {
		if err := checkKey("attribute", p.Attribute); err != nil {
			return false, err
		}
		if err := checkLen("attribute", p.Attribute, 32); err != nil {
			return false, err
		}
		if err := checkLen("value", p.Value, 128); err != nil {
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
			if _, err := tx.ExecContext(ctx, "INSERT INTO admin_privileges (username, domain, priv_name, priv_value) VALUES (?, ?, ?, ?)",
				u.Username, u.Domain, p.Name, p.Value); err != nil {
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

// SetPasswordAndPreference sets a subscriber's password as SetPassword
// does and, in the same transaction, the preference p of that subscriber
// (the console's mark of a one-time password: the new password and its
// mark are stored together or not at all). An unknown user gives
// ErrNotFound and changes nothing.
func (s *Store) SetPasswordAndPreference(ctx context.Context, username, domain, password string, p Preference) error {
	p.Username, p.Domain = username, domain
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.setPassword(ctx, tx, username, domain, password); err != nil {
			return err
		}
		return s.setPreference(ctx, tx, p)
	})
}
