package store

import (
	"context"
	"database/sql"
	"fmt"
)

// SpeedDial is a row of speed_dial: when Username@Domain calls
// SDUsername@SDDomain (the short number), the call goes to NewURI.
type SpeedDial struct {
	Username, Domain     string
	SDUsername, SDDomain string
	NewURI               string
	FName, LName         string
	Description          string
}

// SetSpeedDial inserts or replaces a speed dial entry.
func (s *Store) SetSpeedDial(ctx context.Context, e SpeedDial) error {
	if err := checkKey("sd_username", e.SDUsername); err != nil {
		return err
	}
	for _, f := range []struct {
		n, v string
		max  int
	}{{"username", e.Username, 64}, {"domain", e.Domain, 128}, {"sd_username", e.SDUsername, 64},
		{"sd_domain", e.SDDomain, 128}, {"new_uri", e.NewURI, 192}, {"fname", e.FName, 128},
		{"lname", e.LName, 128}, {"description", e.Description, 64}} {
		if err := checkLen(f.n, f.v, f.max); err != nil {
			return err
		}
	}
	q := s.d.Upsert("speed_dial",
		[]string{"username", "domain", "sd_username", "sd_domain", "new_uri", "fname", "lname", "description"},
		[]string{"username", "domain", "sd_username", "sd_domain"},
		[]string{"new_uri", "fname", "lname", "description"})
	if _, err := s.w.ExecContext(ctx, q, e.Username, e.Domain, e.SDUsername, e.SDDomain, e.NewURI, e.FName, e.LName, e.Description); err != nil {
		return fmt.Errorf("store: set speed dial %s of %s: %w", e.SDUsername, aor(e.Username, e.Domain), err)
	}
	return nil
}

// DeleteSpeedDial removes one entry, or gives ErrNotFound.
func (s *Store) DeleteSpeedDial(ctx context.Context, username, domain, sdUsername, sdDomain string) error {
	res, err := s.w.ExecContext(ctx, "DELETE FROM speed_dial WHERE username = ? AND domain = ? AND sd_username = ? AND sd_domain = ?",
		username, domain, sdUsername, sdDomain)
	if err != nil {
		return fmt.Errorf("store: delete speed dial %s of %s: %w", sdUsername, aor(username, domain), err)
	}
	return affected(res, "delete speed dial "+sdUsername+" of "+aor(username, domain))
}

// SpeedDials lists username@domain's entries ordered by sd_username.
func (s *Store) SpeedDials(ctx context.Context, username, domain string) ([]SpeedDial, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT username, domain, sd_username, sd_domain, new_uri, fname, lname, description FROM speed_dial WHERE username = ? AND domain = ? ORDER BY sd_username, sd_domain",
		username, domain)
	if err != nil {
		return nil, fmt.Errorf("store: speed dials of %s: %w", aor(username, domain), err)
	}
	defer rows.Close()
	var out []SpeedDial
	for rows.Next() {
		var e SpeedDial
		if err := rows.Scan(&e.Username, &e.Domain, &e.SDUsername, &e.SDDomain, &e.NewURI, &e.FName, &e.LName, &e.Description); err != nil {
			return nil, fmt.Errorf("store: speed dials of %s: %w", aor(username, domain), err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: speed dials of %s: %w", aor(username, domain), err)
	}
	return out, nil
}

// SpeedDialSchema names the speed dial table and its columns, as the
// speeddial module's parameters do. Empty fields take SER's defaults:
// table "speed_dial", columns "username", "domain", "sd_username",
// "sd_domain", "new_uri".
type SpeedDialSchema struct {
	Table, UserColumn, DomainColumn, SDUserColumn, SDDomainColumn, NewURIColumn string
}

// SpeedDialKey is what sd_lookup searches by: the caller and the short
// number; a domain left empty is not compared (speeddial's use_domain).
type SpeedDialKey struct {
	Username, Domain     string
	SDUsername, SDDomain string
	// UseDomain and UseSDDomain compare Domain and SDDomain.
	UseDomain, UseSDDomain bool
}

// LookupSpeedDialIn returns the new URI of a short number in the table
// the schema names (the speeddial module's sd_lookup), or ErrNotFound.
// The statement is prepared once per schema and key set and reused.
func (s *Store) LookupSpeedDialIn(ctx context.Context, sc SpeedDialSchema, k SpeedDialKey) (string, error) {
	names, err := s.identsOr([]string{sc.Table, sc.UserColumn, sc.DomainColumn, sc.SDUserColumn, sc.SDDomainColumn, sc.NewURIColumn},
		"speed_dial", "username", "domain", "sd_username", "sd_domain", "new_uri")
	if err != nil {
		return "", err
	}
	query := "SELECT " + names[5] + " FROM " + names[0] + " WHERE " + names[1] + " = ?"
	args := []any{k.Username}
	if k.UseDomain {
		query += " AND " + names[2] + " = ?"
		args = append(args, k.Domain)
	}
	query += " AND " + names[3] + " = ?"
	args = append(args, k.SDUsername)
	if k.UseSDDomain {
		query += " AND " + names[4] + " = ?"
		args = append(args, k.SDDomain)
	}
	what := "speed dial " + k.SDUsername + " of " + aor(k.Username, k.Domain)
	st, err := s.prepared(ctx, s.r, query+" LIMIT 1")
	if err != nil {
		return "", fmt.Errorf("store: %s: %w", what, err)
	}
	var uri sql.NullString
	err = st.QueryRowContext(ctx, args...).Scan(&uri)
	if err == sql.ErrNoRows || (err == nil && !uri.Valid) {
		return "", fmt.Errorf("store: %s: %w", what, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("store: %s: %w", what, err)
	}
	return uri.String, nil
}

// LookupSpeedDial returns the new_uri of username@domain's short number
// sdUsername@sdDomain in the standard table, or ErrNotFound.
func (s *Store) LookupSpeedDial(ctx context.Context, username, domain, sdUsername, sdDomain string) (string, error) {
	return s.LookupSpeedDialIn(ctx, SpeedDialSchema{}, SpeedDialKey{Username: username, Domain: domain,
		SDUsername: sdUsername, SDDomain: sdDomain, UseDomain: true, UseSDDomain: true})
}
