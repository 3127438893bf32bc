package store

import (
	"context"
	"fmt"
	"time"
)

// StoredMessages lists the silo table (msilo's default table, for the
// web console) newest first, expired messages included: username@domain's
// messages, or everyone's when username is "", one page at a time, with
// the total.
func (s *Store) StoredMessages(ctx context.Context, username, domain string, p Page) ([]SiloMessage, int, error) {
	where, args := "", []any{}
	what := "stored messages"
	if username != "" {
		where, args, what = " WHERE username = ? AND domain = ?", []any{username, domain}, "stored messages of "+aor(username, domain)
	}
	var total int
	if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM silo"+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: %s: %w", what, err)
	}
	lim, largs := p.clause()
	rows, err := s.r.QueryContext(ctx, "SELECT mid, src_addr, dst_addr, r_uri, username, domain, inc_time, exp_time, ctype, body FROM silo"+
		where+" ORDER BY inc_time DESC, mid DESC"+lim, append(args, largs...)...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	var out []SiloMessage
	for rows.Next() {
		var (
			m        SiloMessage
			inc, exp int64
		)
		if err := rows.Scan(&m.MID, &m.From, &m.To, &m.RURI, &m.Username, &m.Domain, &inc, &exp, &m.ContentType, &m.Body); err != nil {
			return nil, 0, fmt.Errorf("store: %s: %w", what, err)
		}
		m.Received = time.Unix(inc, 0).UTC()
		if exp > 0 {
			m.Expires = time.Unix(exp, 0).UTC()
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: %s: %w", what, err)
	}
	return out, total, nil
}

// DeleteStoredMessage removes message mid — only when it is
// username@domain's, unless username is "" (an administrator) — or gives
// ErrNotFound.
func (s *Store) DeleteStoredMessage(ctx context.Context, mid int, username, domain string) error {
	q, args := "DELETE FROM silo WHERE mid = ?", []any{mid}
	if username != "" {
		q, args = q+" AND username = ? AND domain = ?", append(args, username, domain)
	}
	res, err := s.w.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("store: delete stored message %d: %w", mid, err)
	}
	return affected(res, fmt.Sprintf("delete stored message %d", mid))
}
