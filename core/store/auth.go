package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
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
	var vals []sql.NullString
	var err error
	if s.d == MySQL {
		vals, err = s.lookupBatcher(query, len(q.Columns)).do(ctx, args)
	} else {
		vals, err = s.lookupOne(ctx, query, len(q.Columns), args)
	}
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

// lookupOne runs query (a single-row SELECT of ncols columns) as a
// prepared statement; no row gives sql.ErrNoRows.
func (s *Store) lookupOne(ctx context.Context, query string, ncols int, args []any) ([]sql.NullString, error) {
	st, err := s.prepared(ctx, s.r, query)
	if err != nil {
		return nil, err
	}
	vals := make([]sql.NullString, ncols)
	dest := make([]any, len(vals))
	for i := range vals {
		dest[i] = &vals[i]
	}
	if err := st.QueryRowContext(ctx, args...).Scan(dest...); err != nil {
		return nil, err
	}
	return vals, nil
}

// lookupBatch is the most lookups one UNION ALL statement of
// lookupBatcher joins.
const lookupBatch = 100

// lookupBatcher returns the batcher of the single-row SELECT query of
// ncols columns on MySQL (engine_batch.go): concurrent lookups become one
// statement, "(SELECT 0, cols … LIMIT 1) UNION ALL (SELECT 1, cols …
// LIMIT 1) …", each part the caller's own query with its own parameters
// and LIMIT, its rows told apart by the leading number; a lone lookup is
// the prepared statement. A caller whose part returns no row gets
// sql.ErrNoRows; when the joined statement fails, the lookups run one
// by one, so that each caller gets its own outcome.
func (s *Store) lookupBatcher(query string, ncols int) *batcher[[]any, []sql.NullString] {
	return s.lookups.get(query, func() *batcher[[]any, []sql.NullString] {
		body := strings.TrimPrefix(query, "SELECT ")
		return newBatcher(lookupBatch, func(ctx context.Context, qs [][]any) ([][]sql.NullString, []error) {
			out := make([][]sql.NullString, len(qs))
			errs := make([]error, len(qs))
			if len(qs) > 1 {
				if err := s.lookupJoined(ctx, body, ncols, qs, out); err == nil {
					for i := range out {
						if out[i] == nil {
							errs[i] = sql.ErrNoRows
						}
					}
					return out, errs
				}
				clear(out)
			}
			for i, a := range qs {
				out[i], errs[i] = s.lookupOne(ctx, query, ncols, a)
			}
			return out, errs
		})
	})
}

// lookupJoined runs the lookups qs as one UNION ALL statement of body
// (the query after its SELECT) and sets out[i] to the row of lookup i;
// lookups without a row keep nil.
func (s *Store) lookupJoined(ctx context.Context, body string, ncols int, qs [][]any, out [][]sql.NullString) error {
	var b strings.Builder
	args := make([]any, 0, len(qs)*len(qs[0]))
	for i, a := range qs {
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		b.WriteString("(SELECT " + strconv.Itoa(i) + ", " + body + ")")
		args = append(args, a...)
	}
	rows, err := s.r.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	dest := make([]any, ncols+1)
	for rows.Next() {
		var i int
		vals := make([]sql.NullString, ncols)
		dest[0] = &i
		for j := range vals {
			dest[j+1] = &vals[j]
		}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if i < 0 || i >= len(out) {
			return fmt.Errorf("store: joined lookup returned row %d of %d", i, len(out))
		}
		out[i] = vals
	}
	return rows.Err()
}
