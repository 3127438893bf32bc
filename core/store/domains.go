package store

import (
	"context"
	"database/sql"
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

// DomainSchema names the table and column the domain module reads
// (domain_table, domain_col); empty names are SER's "domain" and "domain".
type DomainSchema struct {
	Table, Column string
}

// domainNames returns the quoted table and column of ds.
func (s *Store) domainNames(ds DomainSchema) (table, col string, err error) {
	if ds.Table == "" {
		ds.Table = "domain"
	}
	if ds.Column == "" {
		ds.Column = "domain"
	}
	if table, err = s.ident(ds.Table); err != nil {
		return "", "", err
	}
	col, err = s.ident(ds.Column)
	return table, col, err
}

// LocalDomains returns every name in the domain column of ds's table, in
// the table's order by name (the domain module's cache, domain_reload).
func (s *Store) LocalDomains(ctx context.Context, ds DomainSchema) ([]string, error) {
	table, col, err := s.domainNames(ds)
	if err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, "SELECT "+col+" FROM "+table+" ORDER BY "+col)
	if err != nil {
		return nil, fmt.Errorf("store: list domains: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var d sql.NullString
		if err := rows.Scan(&d); err != nil {
			return nil, fmt.Errorf("store: list domains: %w", err)
		}
		if d.Valid && d.String != "" {
			out = append(out, d.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list domains: %w", err)
	}
	return out, nil
}

// IsLocalDomain reports whether domain is in the domain table (the domain
// module's is_from_local/is_uri_host_local in db mode).
func (s *Store) IsLocalDomain(ctx context.Context, domain string) (bool, error) {
	return s.IsLocalDomainIn(ctx, DomainSchema{}, domain)
}

// IsLocalDomainIn reports whether domain (lowercased, as the store writes
// domains) is in ds's table: the domain module with db_mode 0.
func (s *Store) IsLocalDomainIn(ctx context.Context, ds DomainSchema, domain string) (bool, error) {
	table, col, err := s.domainNames(ds)
	if err != nil {
		return false, err
	}
	st, err := s.prepared(ctx, s.r, "SELECT 1 FROM "+table+" WHERE "+col+" = ? LIMIT 1")
	if err != nil {
		return false, fmt.Errorf("store: check domain: %w", err)
	}
	return exists(st.QueryRowContext(ctx, strings.ToLower(domain)), "check domain")
}
