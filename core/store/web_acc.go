package store

import (
	"context"
	"fmt"
	"strings"
)

// AccCount is the number of accounting records of one user.
type AccCount struct {
	Username, Domain string
	Records          int
}

// AccCounts returns, for the records of table ("acc", "missed_calls")
// matching f (Page ignored; Limit caps the number of users, 0 = all), the
// number of records per username and domain, largest first.
func (s *Store) AccCounts(ctx context.Context, table string, f AccFilter) ([]AccCount, error) {
	qt, err := s.ident(table)
	if err != nil {
		return nil, err
	}
	var (
		where []string
		args  []any
	)
	for _, c := range []struct{ col, v string }{
		{"username", f.Username}, {"domain", f.Domain}, {"sip_method", f.Method}, {"sip_callid", f.CallID},
	} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	if !f.Since.IsZero() {
		where = append(where, "time >= ?")
		args = append(args, dbTime(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "time < ?")
		args = append(args, dbTime(f.Until))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	lim, largs := Page{Limit: f.Limit}.clause()
	rows, err := s.r.QueryContext(ctx, "SELECT username, domain, COUNT(*) FROM "+qt+cond+
		" GROUP BY username, domain ORDER BY COUNT(*) DESC, domain, username"+lim, append(args, largs...)...)
	if err != nil {
		return nil, fmt.Errorf("store: count %s per user: %w", table, err)
	}
	defer rows.Close()
	var out []AccCount
	for rows.Next() {
		var c AccCount
		if err := rows.Scan(&c.Username, &c.Domain, &c.Records); err != nil {
			return nil, fmt.Errorf("store: count %s per user: %w", table, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: count %s per user: %w", table, err)
	}
	return out, nil
}
