package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Domain is a row of the domain table (domain module, serctl domain).
type Domain struct {
	Domain       string
	LastModified time.Time
}

// Domain names are case-insensitive: the store keeps them lowercase and
// lowercases the arguments of AddDomain, DeleteDomain and IsLocalDomain.

// AddDomain inserts a domain; an existing one gives ErrExists.
func (s *Store) AddDomain(ctx context.Context, domain string) error {
	domain = strings.ToLower(domain)
	if err := checkKey("domain", domain); err != nil {
		return err
	}
	if err := checkLen("domain", domain, 128); err != nil {
		return err
	}
	_, err := s.w.ExecContext(ctx, "INSERT INTO domain (domain, last_modified) VALUES (?, ?)", domain, dbTime(s.now()))
	if s.d.IsDuplicate(err) {
		return fmt.Errorf("store: add domain %s: %w", domain, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("store: add domain %s: %w", domain, err)
	}
	return nil
}

// DeleteDomain removes a domain, or gives ErrNotFound.
func (s *Store) DeleteDomain(ctx context.Context, domain string) error {
	domain = strings.ToLower(domain)
	res, err := s.w.ExecContext(ctx, "DELETE FROM domain WHERE domain = ?", domain)
	if err != nil {
		return fmt.Errorf("store: delete domain %s: %w", domain, err)
	}
	return affected(res, "delete domain "+domain)
}

// Domains lists the domain table ordered by name (domain_reload loads it
// whole).
func (s *Store) Domains(ctx context.Context) ([]Domain, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT domain, last_modified FROM domain ORDER BY domain")
	if err != nil {
		return nil, fmt.Errorf("store: list domains: %w", err)
	}
	defer rows.Close()
	var out []Domain
	for rows.Next() {
		var d Domain
		if err := rows.Scan(&d.Domain, timeScan{&d.LastModified}); err != nil {
			return nil, fmt.Errorf("store: list domains: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list domains: %w", err)
	}
	return out, nil
}

// IsLocalDomain reports whether domain is in the domain table (the domain
// module's is_from_local/is_uri_host_local in db mode).
func (s *Store) IsLocalDomain(ctx context.Context, domain string) (bool, error) {
	st, err := s.prepared(ctx, s.r, "SELECT 1 FROM domain WHERE domain = ? LIMIT 1")
	if err != nil {
		return false, fmt.Errorf("store: check domain: %w", err)
	}
	return exists(st.QueryRowContext(ctx, strings.ToLower(domain)), "check domain")
}
