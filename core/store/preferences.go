package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Preference is a row of usr_preferences (serweb's user preferences and
// the AVPs SER loads from them).
type Preference struct {
	Username, Domain, Attribute, Value string
	// Type is the raw type (2 = string, 0 = integer in serweb).
	Type int
	// UUID is serweb's user id when users are indexed by uuid.
	UUID     string
	Modified time.Time
}

// validate checks key presence and SER's column sizes.
func (p Preference) validate() error {
	if err := checkKey("attribute", p.Attribute); err != nil {
		return err
	}
	for _, f := range []struct {
		n, v string
		max  int
	}{{"username", p.Username, 100}, {"domain", p.Domain, 128}, {"attribute", p.Attribute, 32}, {"value", p.Value, 128}, {"uuid", p.UUID, 64}} {
		if err := checkLen(f.n, f.v, f.max); err != nil {
			return err
		}
	}
	return nil
}

// SetPreference inserts or replaces the preference (username, domain,
// attribute) and sets modified to now.
func (s *Store) SetPreference(ctx context.Context, p Preference) error {
	return s.setPreference(ctx, s.w, p)
}

// setPreference is SetPreference on db.
func (s *Store) setPreference(ctx context.Context, db execer, p Preference) error {
	if err := p.validate(); err != nil {
		return err
	}
	q := s.d.Upsert("usr_preferences", []string{"uuid", "username", "domain", "attribute", "value", "type", "modified"},
		[]string{"attribute", "username", "domain"}, []string{"uuid", "value", "type", "modified"})
	if _, err := db.ExecContext(ctx, q, p.UUID, p.Username, p.Domain, p.Attribute, p.Value, p.Type, dbTime(s.now())); err != nil {
		return fmt.Errorf("store: set preference %s of %s: %w", p.Attribute, aor(p.Username, p.Domain), err)
	}
	return nil
}

// DeletePreference removes one preference, or gives ErrNotFound.
func (s *Store) DeletePreference(ctx context.Context, username, domain, attribute string) error {
	res, err := s.w.ExecContext(ctx, "DELETE FROM usr_preferences WHERE attribute = ? AND username = ? AND domain = ?",
		attribute, username, domain)
	if err != nil {
		return fmt.Errorf("store: delete preference %s of %s: %w", attribute, aor(username, domain), err)
	}
	return affected(res, "delete preference "+attribute+" of "+aor(username, domain))
}

// Preferences returns the preferences of username@domain ordered by
// attribute.
func (s *Store) Preferences(ctx context.Context, username, domain string) ([]Preference, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT uuid, username, domain, attribute, value, type, modified FROM usr_preferences WHERE username = ? AND domain = ? ORDER BY attribute",
		username, domain)
	if err != nil {
		return nil, fmt.Errorf("store: preferences of %s: %w", aor(username, domain), err)
	}
	defer rows.Close()
	var out []Preference
	for rows.Next() {
		var p Preference
		if err := rows.Scan(&p.UUID, &p.Username, &p.Domain, &p.Attribute, &p.Value, &p.Type, timeScan{&p.Modified}); err != nil {
			return nil, fmt.Errorf("store: preferences of %s: %w", aor(username, domain), err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: preferences of %s: %w", aor(username, domain), err)
	}
	return out, nil
}

// PreferenceType is a row of preferences_types: an attribute serweb
// offers, its type and default.
type PreferenceType struct {
	Name string
	// RichType is serweb's type ("string", "boolean", "list", …).
	RichType string
	// RawType is the usr_preferences.type stored for it (default 2).
	RawType int
	// TypeSpec is the type's specification (list items …); NULL = "".
	TypeSpec     string
	DefaultValue string
}

// SetPreferenceType inserts or replaces an attribute type.
func (s *Store) SetPreferenceType(ctx context.Context, t PreferenceType) error {
	if err := checkKey("att_name", t.Name); err != nil {
		return err
	}
	if t.RichType == "" {
		t.RichType = "string"
	}
	for _, f := range []struct {
		n, v string
		max  int
	}{{"att_name", t.Name, 50}, {"att_rich_type", t.RichType, 32}, {"default_value", t.DefaultValue, 100}} {
		if err := checkLen(f.n, f.v, f.max); err != nil {
			return err
		}
	}
	q := s.d.Upsert("preferences_types", []string{"att_name", "att_rich_type", "att_raw_type", "att_type_spec", "default_value"},
		[]string{"att_name"}, []string{"att_rich_type", "att_raw_type", "att_type_spec", "default_value"})
	if _, err := s.w.ExecContext(ctx, q, t.Name, t.RichType, t.RawType, nullString(t.TypeSpec), t.DefaultValue); err != nil {
		return fmt.Errorf("store: set preference type %s: %w", t.Name, err)
	}
	return nil
}

// DeletePreferenceType removes an attribute type and every user's value
// of it in one transaction, or gives ErrNotFound.
func (s *Store) DeletePreferenceType(ctx context.Context, name string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := found(tx.ExecContext(ctx, "DELETE FROM preferences_types WHERE att_name = ?", name)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM usr_preferences WHERE attribute = ?", name)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete preference type %s: %w", name, err)
	}
	return nil
}

// PreferenceTypes lists preferences_types ordered by name.
func (s *Store) PreferenceTypes(ctx context.Context) ([]PreferenceType, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT att_name, att_rich_type, att_raw_type, att_type_spec, default_value FROM preferences_types ORDER BY att_name")
	if err != nil {
		return nil, fmt.Errorf("store: list preference types: %w", err)
	}
	defer rows.Close()
	var out []PreferenceType
	for rows.Next() {
		var (
			t    PreferenceType
			spec sql.NullString
		)
		if err := rows.Scan(&t.Name, &t.RichType, &t.RawType, &spec, &t.DefaultValue); err != nil {
			return nil, fmt.Errorf("store: list preference types: %w", err)
		}
		t.TypeSpec = spec.String
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list preference types: %w", err)
	}
	return out, nil
}
