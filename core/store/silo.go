package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// SiloTable is the default name of the msilo module's table.
const SiloTable = "silo"

// MaxSiloBody is the largest message body the silo keeps (MySQL's BLOB).
const MaxSiloBody = 65535

// ErrSiloFull is returned by StoreSiloMessage when the recipient has the
// maximum number of stored messages already; errors.Is(err, ErrInvalid)
// holds too.
var ErrSiloFull = fmt.Errorf("too many stored messages: %w", ErrInvalid)

// SiloMessage is a row of silo (SER 0.9's msilo table, version 3): an
// instant message kept for a user who was offline.
type SiloMessage struct {
	// MID is the row's auto-increment key (0 when storing).
	MID int
	// From and To are the URIs of the MESSAGE's From and To headers
	// (src_addr, dst_addr).
	From, To string
	// RURI is r_uri, which SER 0.9's msilo no longer fills (kept for
	// tables of older versions).
	RURI string
	// Username and Domain identify the recipient.
	Username, Domain string
	// Received and Expires are inc_time and exp_time, stored as Unix
	// seconds as SER did.
	Received, Expires time.Time
	// ContentType is ctype ("text/plain" when empty).
	ContentType string
	Body        []byte
}

const siloCols = "mid, src_addr, dst_addr, r_uri, username, domain, inc_time, exp_time, ctype, body"

// siloTable returns the quoted table name ("" = SiloTable).
func (s *Store) siloTable(table string) (string, error) {
	if table == "" {
		table = SiloTable
	}
	return s.ident(table)
}

// CheckSiloTable verifies that table ("" = "silo") exists with SER's
// columns (msilo's start-up check).
func (s *Store) CheckSiloTable(ctx context.Context, table string) error {
	t, err := s.siloTable(table)
	if err != nil {
		return err
	}
	rows, err := s.r.QueryContext(ctx, "SELECT "+siloCols+" FROM "+t+" WHERE 1 = 0")
	if err != nil {
		return fmt.Errorf("store: silo table %s: %w", table, err)
	}
	return rows.Close()
}

// StoreSiloMessage inserts m into table ("" = "silo") and returns its
// mid. With max > 0 it refuses (ErrSiloFull) a message for a recipient
// who has max unexpired messages stored already (at m.Received); the count
// and the insert are one transaction. Values must fit SER's columns.
func (s *Store) StoreSiloMessage(ctx context.Context, table string, m SiloMessage, max int) (int, error) {
	t, err := s.siloTable(table)
	if err != nil {
		return 0, err
	}
	if err := checkKey("username", m.Username); err != nil {
		return 0, err
	}
	for _, f := range []struct {
		n, v string
		max  int
	}{{"src_addr", m.From, 255}, {"dst_addr", m.To, 255}, {"r_uri", m.RURI, 255},
		{"username", m.Username, 64}, {"domain", m.Domain, 128}, {"ctype", m.ContentType, 32}} {
		if err := checkLen(f.n, f.v, f.max); err != nil {
			return 0, err
		}
	}
	if len(m.Body) > MaxSiloBody {
		return 0, fmt.Errorf("store: message body longer than %d bytes: %w", MaxSiloBody, ErrInvalid)
	}
	if m.ContentType == "" {
		m.ContentType = "text/plain"
	}
	who := aor(m.Username, m.Domain)
	var id int64
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if max > 0 {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+t+" WHERE username = ? AND domain = ? AND exp_time > ?",
				m.Username, m.Domain, m.Received.Unix()).Scan(&n); err != nil {
				return err
			}
			if n >= max {
				return fmt.Errorf("%d for %s: %w", n, who, ErrSiloFull)
			}
		}
		res, err := tx.ExecContext(ctx, "INSERT INTO "+t+" (src_addr, dst_addr, r_uri, username, domain, inc_time, exp_time, ctype, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			m.From, m.To, m.RURI, m.Username, m.Domain, m.Received.Unix(), m.Expires.Unix(), m.ContentType, m.Body)
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: store message for %s: %w", who, err)
	}
	return int(id), nil
}

// SiloMessages returns username@domain's messages in table ("" = "silo")
// that have not expired at now, oldest first, at most limit of them
// (0 = all).
func (s *Store) SiloMessages(ctx context.Context, table, username, domain string, now time.Time, limit int) ([]SiloMessage, error) {
	t, err := s.siloTable(table)
	if err != nil {
		return nil, err
	}
	q := "SELECT " + siloCols + " FROM " + t + " WHERE username = ? AND domain = ? AND exp_time > ? ORDER BY mid"
	args := []any{username, domain, now.Unix()}
	if limit > 0 {
		q += " LIMIT ?"
		args = append(args, limit)
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: stored messages of %s: %w", aor(username, domain), err)
	}
	defer rows.Close()
	var out []SiloMessage
	for rows.Next() {
		var (
			m        SiloMessage
			inc, exp int64
		)
		if err := rows.Scan(&m.MID, &m.From, &m.To, &m.RURI, &m.Username, &m.Domain, &inc, &exp, &m.ContentType, &m.Body); err != nil {
			return nil, fmt.Errorf("store: stored messages of %s: %w", aor(username, domain), err)
		}
		m.Received, m.Expires = time.Unix(inc, 0), time.Unix(exp, 0)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: stored messages of %s: %w", aor(username, domain), err)
	}
	return out, nil
}

// DeleteSiloMessages removes the messages with the given mids from table
// ("" = "silo") in one statement and returns how many rows went (a mid
// already gone is not an error).
func (s *Store) DeleteSiloMessages(ctx context.Context, table string, mids ...int) (int, error) {
	t, err := s.siloTable(table)
	if err != nil {
		return 0, err
	}
	if len(mids) == 0 {
		return 0, nil
	}
	args := make([]any, len(mids))
	for i, id := range mids {
		args[i] = id
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(mids)), ", ")
	res, err := s.w.ExecContext(ctx, "DELETE FROM "+t+" WHERE mid IN ("+marks+")", args...)
	if err != nil {
		return 0, fmt.Errorf("store: delete %d stored messages: %w", len(mids), err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// DeleteExpiredSilo removes the messages of table ("" = "silo") whose
// exp_time is at or before now (SER's clean-up: exp_time <= now) and
// returns how many went.
func (s *Store) DeleteExpiredSilo(ctx context.Context, table string, now time.Time) (int, error) {
	t, err := s.siloTable(table)
	if err != nil {
		return 0, err
	}
	res, err := s.w.ExecContext(ctx, "DELETE FROM "+t+" WHERE exp_time <= ?", now.Unix())
	if err != nil {
		return 0, fmt.Errorf("store: delete expired stored messages: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
