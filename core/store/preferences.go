package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
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

// AVPSchema names the table avpops keeps AVPs in and its columns (its
// avp_table and *_column parameters). Empty fields take SER's defaults:
// usr_preferences with uuid, username, domain, attribute, value and type.
type AVPSchema struct {
	Table, UUID, Username, Domain, Attribute, Value, Type string
	// ValuesOnly marks one of avpops' db_scheme definitions: its table
	// has no attribute or type column (Attribute and Type are ignored),
	// only Value is read, and nothing is written.
	ValuesOnly bool
}

// AVPOwner selects whose AVPs a statement works on: the rows whose uuid
// column is UUID when ByUUID, else those of Username (and Domain when
// UseDomain).
type AVPOwner struct {
	ByUUID           bool
	UUID             string
	Username, Domain string
	UseDomain        bool
}

// AVPRow is one stored AVP: its attribute name as text, its value as
// text and avpops' type flags (1: the value is an integer, 2: the name
// is an integer; 0 is a string named string).
type AVPRow struct {
	Attribute, Value string
	Type             int
}

// avpCols returns the schema's quoted table and columns (table, uuid,
// username, domain, attribute, value, type); a scheme has "" for
// attribute and type.
func (s *Store) avpCols(sc AVPSchema) ([7]string, error) {
	var q [7]string
	scheme := sc.ValuesOnly
	for i, c := range []struct{ v, def string }{
		{sc.Table, "usr_preferences"}, {sc.UUID, "uuid"}, {sc.Username, "username"}, {sc.Domain, "domain"},
		{sc.Attribute, "attribute"}, {sc.Value, "value"}, {sc.Type, "type"},
	} {
		if scheme && (i == 4 || i == 6) {
			continue
		}
		n := c.v
		if n == "" {
			n = c.def
		}
		id, err := s.ident(n)
		if err != nil {
			return q, err
		}
		q[i] = id
	}
	return q, nil
}

// avpWhere is the owner's (and attribute's, when not "") condition.
func avpWhere(q [7]string, o AVPOwner, attribute string) (string, []any) {
	var (
		conds []string
		args  []any
	)
	if o.ByUUID {
		conds, args = append(conds, q[1]+" = ?"), append(args, o.UUID)
	} else {
		conds, args = append(conds, q[2]+" = ?"), append(args, o.Username)
		if o.UseDomain {
			conds, args = append(conds, q[3]+" = ?"), append(args, o.Domain)
		}
	}
	if attribute != "" && q[4] != "" {
		conds, args = append(conds, q[4]+" = ?"), append(args, attribute)
	}
	return strings.Join(conds, " AND "), args
}

// owner names o in errors.
func (o AVPOwner) String() string {
	if o.ByUUID {
		return "uuid " + o.UUID
	}
	if o.UseDomain {
		return aor(o.Username, o.Domain)
	}
	return o.Username
}

// LoadAVPs returns the AVP rows of o (avpops' avp_db_load): those of
// attribute, or all when attribute is "". With a db_scheme schema only
// Value is filled.
func (s *Store) LoadAVPs(ctx context.Context, sc AVPSchema, o AVPOwner, attribute string) ([]AVPRow, error) {
	q, err := s.avpCols(sc)
	if err != nil {
		return nil, err
	}
	where, args := avpWhere(q, o, attribute)
	cols := q[5] + ", " + q[4] + ", " + q[6]
	if q[4] == "" {
		cols = q[5]
	}
	st, err := s.prepared(ctx, s.r, "SELECT "+cols+" FROM "+q[0]+" WHERE "+where)
	if err != nil {
		return nil, fmt.Errorf("store: load AVPs of %s: %w", o, err)
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("store: load AVPs of %s: %w", o, err)
	}
	defer rows.Close()
	var out []AVPRow
	for rows.Next() {
		var (
			r    AVPRow
			v, a sql.NullString
			t    sql.NullInt64
		)
		if q[4] == "" {
			err = rows.Scan(&v)
		} else {
			err = rows.Scan(&v, &a, &t)
		}
		if err != nil {
			return nil, fmt.Errorf("store: load AVPs of %s: %w", o, err)
		}
		if !v.Valid {
			continue // SER skips rows with NULL fields
		}
		r.Value, r.Attribute, r.Type = v.String, a.String, int(t.Int64)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: load AVPs of %s: %w", o, err)
	}
	return out, nil
}

// StoreAVP inserts one AVP row for o (avpops' avp_db_store; owner by
// username also gets the domain when UseDomain). A row that duplicates
// the table's key (usr_preferences: attribute, username, domain) gives
// ErrExists.
func (s *Store) StoreAVP(ctx context.Context, sc AVPSchema, o AVPOwner, r AVPRow) error {
	q, err := s.avpCols(sc)
	if err != nil {
		return err
	}
	if q[4] == "" {
		return fmt.Errorf("store: store AVP: a db_scheme is read-only: %w", ErrInvalid)
	}
	for _, f := range []struct {
		n, v string
		max  int
	}{{"attribute", r.Attribute, 32}, {"value", r.Value, 128}, {"uuid", o.UUID, 64}, {"username", o.Username, 100}, {"domain", o.Domain, 128}} {
		if err := checkLen(f.n, f.v, f.max); err != nil {
			return err
		}
	}
	cols := []string{q[4], q[5], q[6]}
	args := []any{r.Attribute, r.Value, r.Type}
	if o.ByUUID {
		cols, args = append(cols, q[1]), append(args, o.UUID)
	} else {
		cols, args = append(cols, q[2]), append(args, o.Username)
		if o.UseDomain {
			cols, args = append(cols, q[3]), append(args, o.Domain)
		}
	}
	query := "INSERT INTO " + q[0] + " (" + strings.Join(cols, ", ") + ") VALUES (?" + strings.Repeat(", ?", len(cols)-1) + ")"
	st, err := s.prepared(ctx, s.w, query)
	if err == nil {
		_, err = st.ExecContext(ctx, args...)
	}
	if s.d.IsDuplicate(err) {
		return fmt.Errorf("store: store AVP %s of %s: %w", r.Attribute, o, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("store: store AVP %s of %s: %w", r.Attribute, o, err)
	}
	return nil
}

// DeleteAVPs removes the AVP rows of o (avpops' avp_db_delete): those of
// attribute, or all when attribute is "". It returns how many went.
func (s *Store) DeleteAVPs(ctx context.Context, sc AVPSchema, o AVPOwner, attribute string) (int64, error) {
	q, err := s.avpCols(sc)
	if err != nil {
		return 0, err
	}
	if q[4] == "" {
		return 0, fmt.Errorf("store: delete AVPs: a db_scheme is read-only: %w", ErrInvalid)
	}
	where, args := avpWhere(q, o, attribute)
	st, err := s.prepared(ctx, s.w, "DELETE FROM "+q[0]+" WHERE "+where)
	if err != nil {
		return 0, fmt.Errorf("store: delete AVPs of %s: %w", o, err)
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, fmt.Errorf("store: delete AVPs of %s: %w", o, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// CheckAVPSchema verifies that the schema's table and columns exist.
func (s *Store) CheckAVPSchema(ctx context.Context, sc AVPSchema) error {
	if _, err := s.avpCols(sc); err != nil {
		return err
	}
	names := []string{sc.UUID, sc.Username, sc.Domain, sc.Attribute, sc.Value, sc.Type}
	defs := []string{"uuid", "username", "domain", "attribute", "value", "type"}
	var cols []string
	for i, n := range names {
		if sc.ValuesOnly && (i == 3 || i == 5) {
			continue
		}
		if n == "" {
			n = defs[i]
		}
		cols = append(cols, n)
	}
	table := sc.Table
	if table == "" {
		table = "usr_preferences"
	}
	return s.CheckColumns(ctx, table, cols...)
}
