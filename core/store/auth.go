package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// CredentialsQuery describes the credentials lookup of SER's auth_db
// module: which table and columns (all from the script and modparams) and
// whose row.
type CredentialsQuery struct {
	// Table is the table named in www_authorize/proxy_authorize
	// (default "subscriber").
	Table string
	// UserColumn and DomainColumn are auth's user_column and domain_column
	// (defaults "username" and "domain").
	UserColumn, DomainColumn string
	// UseDomain compares DomainColumn with Domain too (auth's use_domain).
	UseDomain        bool
	Username, Domain string
	// Columns are the columns to fetch: password_column ("ha1", or
	// "password" with calculate_ha1), password_column_2 ("ha1b"), then
	// any extra columns (e.g. "rpid"). At least one.
	Columns []string
}

// Credentials fetches q.Columns of the first row of q.Table matching the
// user (and domain with UseDomain), in q.Columns order; NULL reads as "".
// No row gives ErrNotFound. Table and column names must pass ValidIdent.
// The statement is prepared once per distinct query and reused.
func (s *Store) Credentials(ctx context.Context, q CredentialsQuery) ([]string, error) {
	table, userCol, domainCol := q.Table, q.UserColumn, q.DomainColumn
	if table == "" {
		table = "subscriber"
	}
	if userCol == "" {
		userCol = "username"
	}
	if domainCol == "" {
		domainCol = "domain"
	}
	if len(q.Columns) == 0 {
		return nil, fmt.Errorf("store: credentials: no columns: %w", ErrInvalid)
	}
	names := append([]string{table, userCol, domainCol}, q.Columns...)
	quoted := make([]string, len(names))
	for i, n := range names {
		var err error
		if quoted[i], err = s.ident(n); err != nil {
			return nil, err
		}
	}
	query := "SELECT " + strings.Join(quoted[3:], ", ") + " FROM " + quoted[0] + " WHERE " + quoted[1] + " = ?"
	args := []any{q.Username}
	if q.UseDomain {
		query += " AND " + quoted[2] + " = ?"
		args = append(args, q.Domain)
	}
	query += " LIMIT 1"
	st, err := s.prepared(ctx, s.r, query)
	if err != nil {
		return nil, fmt.Errorf("store: credentials from %s: %w", table, err)
	}
	vals := make([]sql.NullString, len(q.Columns))
	dest := make([]any, len(vals))
	for i := range vals {
		dest[i] = &vals[i]
	}
	err = st.QueryRowContext(ctx, args...).Scan(dest...)
	if err == sql.ErrNoRows {
		return nil, fmt.Errorf("store: credentials of %s in %s: %w", aor(q.Username, q.Domain), table, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: credentials of %s in %s: %w", aor(q.Username, q.Domain), table, err)
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = v.String
	}
	return out, nil
}
