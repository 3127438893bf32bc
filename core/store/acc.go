package store

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// AccRecord is a row of acc or missed_calls (the acc module's SQL
// accounting; serweb's accounting and missed calls tabs).
type AccRecord struct {
	// ID is the store's row id (not in SER's schema); set when read.
	ID int64
	// From, To, Status and Method are sip_from, sip_to, sip_status and
	// sip_method.
	From, To, Status, Method   string
	IURI, OURI, FromURI, ToURI string
	// CallID is sip_callid.
	CallID           string
	Username, Domain string
	FromTag, ToTag   string
	// Time is the time of the accounted event (the time column).
	Time time.Time
	// Timestamp is when the row was written (the timestamp column); set
	// by the store.
	Timestamp time.Time
}

const accCols = "sip_from, sip_to, sip_status, sip_method, i_uri, o_uri, from_uri, to_uri, sip_callid, " +
	"username, domain, fromtag, totag, time, timestamp"

// cut shortens v to at most max bytes without splitting a UTF-8
// character: accounting must not be lost for a long header, so acc values
// are cut to their column size as MySQL's non-strict mode did.
func cut(v string, max int) string {
	if len(v) <= max {
		return v
	}
	v = v[:max]
	for len(v) > 0 && !utf8.ValidString(v) {
		v = v[:len(v)-1]
	}
	return v
}

// InsertAcc writes one accounting record into table ("acc",
// "missed_calls" or another table with their columns, as named by the acc
// module's db_table_acc / db_table_missed_calls). A zero r.Time is now.
// Values longer than their column are cut. The statement is prepared once
// per table; on MySQL concurrent records are written as one multi-row
// INSERT.
func (s *Store) InsertAcc(ctx context.Context, table string, r AccRecord) error {
	qt, err := s.ident(table)
	if err != nil {
		return err
	}
	now := s.now()
	if r.Time.IsZero() {
		r.Time = now
	}
	args := []any{cut(r.From, 128), cut(r.To, 128), cut(r.Status, 128), cut(r.Method, 16),
		cut(r.IURI, 128), cut(r.OURI, 128), cut(r.FromURI, 128), cut(r.ToURI, 128), cut(r.CallID, 128),
		cut(r.Username, 64), cut(r.Domain, 128), cut(r.FromTag, 128), cut(r.ToTag, 128),
		dbTime(r.Time), dbTime(now)}
	insert := func(n int) string {
		return "INSERT INTO " + qt + " (" + accCols + ") VALUES " +
			strings.TrimSuffix(strings.Repeat("("+placeholders(15)+"), ", n), ", ")
	}
	if s.d == MySQL {
		// Concurrent records go as one multi-row INSERT (engine_batch.go).
		_, err = s.writeBatcher(insert(1), insert).do(ctx, args)
	} else {
		err = s.execOne(ctx, insert(1), args)
	}
	if err != nil {
		return fmt.Errorf("store: insert into %s: %w", table, err)
	}
	return nil
}

// AccFilter selects accounting records. Empty fields do not filter.
type AccFilter struct {
	// Username and Domain match the username and domain columns (the
	// authenticated caller for acc, the callee for missed_calls).
	Username, Domain string
	// Since and Until bound the time column: Since <= time < Until.
	Since, Until time.Time
	// Method matches sip_method; CallID matches sip_callid.
	Method, CallID string
	// AnyOf, when not empty, keeps the records whose username and domain
	// are one of these pairs (a user under every spelling: its aliases,
	// the server's addresses for its domain).
	AnyOf []AccUser
	Page
}

// AccUser is a username and domain pair of AccFilter.AnyOf.
type AccUser struct {
	Username, Domain string
}

// where is the WHERE clause (with its leading space, "" when f selects
// everything) and its arguments for f's fields other than Page; ListAcc
// and AccCounts share it.
func (f AccFilter) where() (string, []any) {
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
	if len(f.AnyOf) > 0 {
		any := make([]string, len(f.AnyOf))
		for i, u := range f.AnyOf {
			any[i] = "(username = ? AND domain = ?)"
			args = append(args, u.Username, u.Domain)
		}
		where = append(where, "("+strings.Join(any, " OR ")+")")
	}
	if !f.Since.IsZero() {
		where = append(where, "time >= ?")
		args = append(args, dbTime(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "time < ?")
		args = append(args, dbTime(f.Until))
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// ListAcc returns a page of table's records matching f, newest first, and
// the number of matching records in all pages.
func (s *Store) ListAcc(ctx context.Context, table string, f AccFilter) ([]AccRecord, int, error) {
	qt, err := s.ident(table)
	if err != nil {
		return nil, 0, err
	}
	cond, args := f.where()
	var total int
	if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+qt+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: count %s: %w", table, err)
	}
	lim, largs := f.Page.clause()
	rows, err := s.r.QueryContext(ctx, "SELECT id, "+accCols+" FROM "+qt+cond+" ORDER BY time DESC, id DESC"+lim,
		append(args, largs...)...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: list %s: %w", table, err)
	}
	defer rows.Close()
	var out []AccRecord
	for rows.Next() {
		var r AccRecord
		if err := rows.Scan(&r.ID, &r.From, &r.To, &r.Status, &r.Method, &r.IURI, &r.OURI, &r.FromURI, &r.ToURI,
			&r.CallID, &r.Username, &r.Domain, &r.FromTag, &r.ToTag, timeScan{&r.Time}, timeScan{&r.Timestamp}); err != nil {
			return nil, 0, fmt.Errorf("store: list %s: %w", table, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: list %s: %w", table, err)
	}
	return out, total, nil
}

// DeleteAccRecord removes record id from table, or gives ErrNotFound.
func (s *Store) DeleteAccRecord(ctx context.Context, table string, id int64) error {
	qt, err := s.ident(table)
	if err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, "DELETE FROM "+qt+" WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("store: delete %s record %d: %w", table, id, err)
	}
	return affected(res, fmt.Sprintf("delete %s record %d", table, id))
}

// DeleteUserAcc removes all of username@domain's records from table
// (serweb's delete_user_acc / delete_user_missed_calls) and returns how
// many went.
func (s *Store) DeleteUserAcc(ctx context.Context, table, username, domain string) (int64, error) {
	qt, err := s.ident(table)
	if err != nil {
		return 0, err
	}
	res, err := s.w.ExecContext(ctx, "DELETE FROM "+qt+" WHERE username = ? AND domain = ?", username, domain)
	if err != nil {
		return 0, fmt.Errorf("store: delete %s records of %s: %w", table, aor(username, domain), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: delete %s records of %s: %w", table, aor(username, domain), err)
	}
	return n, nil
}

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
	cond, args := f.where()
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
