package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
)

// ReplacePreferences sets several usr_preferences attributes of
// username@domain in one transaction: an attribute with a value is
// inserted or replaced (string value, raw type typ), one with an empty
// value is deleted. Either every change is made or none (the call
// forwarding page writes callfwd, fwdbusy and fwdnoanswer together).
func (s *Store) ReplacePreferences(ctx context.Context, username, domain string, typ int, values map[string]string) error {
	attrs := make([]string, 0, len(values))
	for a := range values {
		attrs = append(attrs, a)
	}
	sort.Strings(attrs)
	for _, a := range attrs {
		if v := values[a]; v != "" {
			if err := (Preference{Username: username, Domain: domain, Attribute: a, Value: v, Type: typ}).validate(); err != nil {
				return err
			}
		}
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, a := range attrs {
			v := values[a]
			if v != "" {
				if err := s.setPreference(ctx, tx, Preference{Username: username, Domain: domain, Attribute: a, Value: v, Type: typ}); err != nil {
					return err
				}
				continue
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM usr_preferences WHERE attribute = ? AND username = ? AND domain = ?",
				a, username, domain); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: preferences of %s: %w", aor(username, domain), err)
	}
	return nil
}
