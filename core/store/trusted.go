package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// TrustedSchema names the trusted table and its columns, as the
// permissions module's parameters do. Empty fields take SER's defaults:
// table "trusted", columns "src_ip", "proto", "from_pattern".
type TrustedSchema struct {
	Table, SourceColumn, ProtoColumn, FromColumn string
}

// Trusted is a row of the trusted table: requests from SrcIP over Proto
// ("any", "udp", "tcp", "tls", "sctp") whose From URI matches FromPattern
// (a regular expression) are trusted (permissions' allow_trusted).
type Trusted struct {
	SrcIP, Proto, FromPattern string
}

func (sc TrustedSchema) names(s *Store) ([]string, error) {
	return s.identsOr([]string{sc.Table, sc.SourceColumn, sc.ProtoColumn, sc.FromColumn},
		"trusted", "src_ip", "proto", "from_pattern")
}

// TrustedEntries returns the rows of the trusted table whose src_ip is one
// of srcIPs (every row when none is given), in the table's order. Rows
// with a NULL column are left out.
func (s *Store) TrustedEntries(ctx context.Context, sc TrustedSchema, srcIPs ...string) ([]Trusted, error) {
	n, err := sc.names(s)
	if err != nil {
		return nil, err
	}
	query := "SELECT " + n[1] + ", " + n[2] + ", " + n[3] + " FROM " + n[0]
	args := make([]any, len(srcIPs))
	if len(srcIPs) > 0 {
		query += " WHERE " + n[1] + " IN (?" + strings.Repeat(", ?", len(srcIPs)-1) + ")"
		for i, ip := range srcIPs {
			args[i] = ip
		}
	}
	st, err := s.prepared(ctx, s.r, query)
	if err != nil {
		return nil, fmt.Errorf("store: trusted: %w", err)
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("store: trusted: %w", err)
	}
	defer rows.Close()
	var out []Trusted
	for rows.Next() {
		var ip, proto, pat sql.NullString
		if err := rows.Scan(&ip, &proto, &pat); err != nil {
			return nil, fmt.Errorf("store: trusted: %w", err)
		}
		if ip.Valid && proto.Valid && pat.Valid {
			out = append(out, Trusted{SrcIP: ip.String, Proto: proto.String, FromPattern: pat.String})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: trusted: %w", err)
	}
	return out, nil
}

// AddTrusted inserts a row into the standard trusted table; an existing
// identical row gives ErrExists.
func (s *Store) AddTrusted(ctx context.Context, t Trusted) error {
	for _, f := range []struct {
		n, v string
		max  int
	}{{"src_ip", t.SrcIP, 39}, {"proto", t.Proto, 4}, {"from_pattern", t.FromPattern, 64}} {
		if err := checkLen(f.n, f.v, f.max); err != nil {
			return err
		}
	}
	if err := checkKey("src_ip", t.SrcIP); err != nil {
		return err
	}
	_, err := s.w.ExecContext(ctx, "INSERT INTO trusted (src_ip, proto, from_pattern) VALUES (?, ?, ?)", t.SrcIP, t.Proto, t.FromPattern)
	if err != nil {
		if s.d.IsDuplicate(err) {
			return fmt.Errorf("store: add trusted %s: %w", t.SrcIP, ErrExists)
		}
		return fmt.Errorf("store: add trusted %s: %w", t.SrcIP, err)
	}
	return nil
}

// DeleteTrusted removes a row of the standard trusted table, or gives
// ErrNotFound.
func (s *Store) DeleteTrusted(ctx context.Context, t Trusted) error {
	res, err := s.w.ExecContext(ctx, "DELETE FROM trusted WHERE src_ip = ? AND proto = ? AND from_pattern = ?", t.SrcIP, t.Proto, t.FromPattern)
	if err != nil {
		return fmt.Errorf("store: delete trusted %s: %w", t.SrcIP, err)
	}
	return affected(res, "delete trusted "+t.SrcIP)
}
