package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The presence agent's tables (migrations/0090_pa.sql): SER 0.9's pa
// tables presentity, presentity_contact and watcherinfo.
const (
	PresentityTable        = "presentity"
	PresentityContactTable = "presentity_contact"
	WatcherinfoTable       = "watcherinfo"
)

// WatcherRejected is the watcherinfo status of an authorisation rule: the
// watcher may not subscribe to the presentity.
const WatcherRejected = "rejected"

// PATables names the pa tables (the module's *_table parameters); empty
// fields mean the defaults.
type PATables struct {
	Presentity, Contact, Watcherinfo string
}

func (s *Store) paTables(t PATables) (p, c, w string, err error) {
	def := func(v, d string) string {
		if v == "" {
			return d
		}
		return v
	}
	if p, err = s.ident(def(t.Presentity, PresentityTable)); err != nil {
		return
	}
	if c, err = s.ident(def(t.Contact, PresentityContactTable)); err != nil {
		return
	}
	w, err = s.ident(def(t.Watcherinfo, WatcherinfoTable))
	return
}

// PublishedTuple is a row of presentity_contact joined with its presentity:
// a presence state published with PUBLISH.
type PublishedTuple struct {
	PDomain, URI string
	ETag         string
	TupleID      string
	Basic        string // open or closed
	Note         string // the status column
	Contact      string
	Expires      time.Time
}

// Watcher is a row of watcherinfo: a subscription and its dialog.
type Watcher struct {
	SID         string
	PDomain     string
	RURI, WURI  string // presentity and watcher
	DisplayName string
	Package     string // presence or presence.winfo
	Status      string
	Accepts     string
	Expires     time.Time
	CallID      string
	FromTag     string // the watcher's tag
	ToTag       string // ours
	Contact     string // the watcher's target
	Route       string // the route set, comma-separated
	CSeq        int
}

const watcherCols = "s_id, pdomain, r_uri, w_uri, display_name, package, status, COALESCE(accepts, ''), COALESCE(expires, 0), call_id, from_tag, to_tag, contact, route, cseq"

// CheckPATables verifies that the pa tables exist with the columns the
// module uses (the module's start-up check).
func (s *Store) CheckPATables(ctx context.Context, t PATables) error {
	p, c, w, err := s.paTables(t)
	if err != nil {
		return err
	}
	for _, q := range []string{
		"SELECT presid, uri, pdomain FROM " + p + " WHERE 1 = 0",
		"SELECT contactid, presid, basic, status, expires, contact, tupleid, etag FROM " + c + " WHERE 1 = 0",
		"SELECT " + watcherCols + " FROM " + w + " WHERE 1 = 0",
	} {
		rows, err := s.r.QueryContext(ctx, q)
		if err != nil {
			return fmt.Errorf("store: pa tables: %w", err)
		}
		rows.Close()
	}
	return nil
}

// PutPublished stores a published tuple, replacing the one with the same
// entity tag (old, when a refresh or modification changed the tag) of the
// presentity, creating the presentity row when missing; one transaction.
func (s *Store) PutPublished(ctx context.Context, t PATables, old string, tp PublishedTuple) error {
	p, c, _, err := s.paTables(t)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		n, v string
		max  int
	}{{"uri", tp.URI, 128}, {"pdomain", tp.PDomain, 128}, {"etag", tp.ETag, 64}, {"tupleid", tp.TupleID, 64},
		{"basic", tp.Basic, 32}, {"status", tp.Note, 128}, {"contact", tp.Contact, 128}} {
		if err := checkLen(f.n, f.v, f.max); err != nil {
			return err
		}
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, "SELECT presid FROM "+p+" WHERE uri = ? AND pdomain = ?", tp.URI, tp.PDomain).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			res, err := tx.ExecContext(ctx, "INSERT INTO "+p+" (uri, pdomain) VALUES (?, ?)", tp.URI, tp.PDomain)
			if err != nil {
				return err
			}
			if id, err = res.LastInsertId(); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if old == "" {
			old = tp.ETag
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+c+" WHERE presid = ? AND etag = ?", id, old); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO "+c+" (presid, basic, status, expires, contact, tupleid, etag) VALUES (?, ?, ?, ?, ?, ?, ?)",
			id, tp.Basic, tp.Note, tp.Expires.Unix(), tp.Contact, tp.TupleID, tp.ETag)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: publish for %s: %w", tp.URI, err)
	}
	return nil
}

// DeletePublished removes the tuple with entity tag etag of the presentity
// uri in pdomain.
func (s *Store) DeletePublished(ctx context.Context, t PATables, pdomain, uri, etag string) error {
	p, c, _, err := s.paTables(t)
	if err != nil {
		return err
	}
	_, err = s.w.ExecContext(ctx, "DELETE FROM "+c+" WHERE etag = ? AND presid IN (SELECT presid FROM "+p+" WHERE uri = ? AND pdomain = ?)", etag, uri, pdomain)
	if err != nil {
		return fmt.Errorf("store: unpublish for %s: %w", uri, err)
	}
	return nil
}

// PublishedTuples returns the tuples stored for pdomain.
func (s *Store) PublishedTuples(ctx context.Context, t PATables, pdomain string) ([]PublishedTuple, error) {
	p, c, _, err := s.paTables(t)
	if err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, "SELECT p.uri, c.etag, c.tupleid, c.basic, c.status, COALESCE(c.contact, ''), c.expires FROM "+
		c+" c JOIN "+p+" p ON p.presid = c.presid WHERE p.pdomain = ?", pdomain)
	if err != nil {
		return nil, fmt.Errorf("store: published tuples: %w", err)
	}
	defer rows.Close()
	var out []PublishedTuple
	for rows.Next() {
		tp := PublishedTuple{PDomain: pdomain}
		var exp int64
		if err := rows.Scan(&tp.URI, &tp.ETag, &tp.TupleID, &tp.Basic, &tp.Note, &tp.Contact, &exp); err != nil {
			return nil, fmt.Errorf("store: published tuples: %w", err)
		}
		tp.Expires = time.Unix(exp, 0)
		out = append(out, tp)
	}
	return out, rows.Err()
}

// PutWatcher inserts or replaces the watcherinfo row of w.SID.
func (s *Store) PutWatcher(ctx context.Context, t PATables, w Watcher) error {
	_, _, wt, err := s.paTables(t)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		n, v string
		max  int
	}{{"s_id", w.SID, 64}, {"pdomain", w.PDomain, 128}, {"r_uri", w.RURI, 128}, {"w_uri", w.WURI, 128},
		{"display_name", w.DisplayName, 128}, {"package", w.Package, 32}, {"status", w.Status, 32},
		{"accepts", w.Accepts, 64}, {"call_id", w.CallID, 255}, {"from_tag", w.FromTag, 128},
		{"to_tag", w.ToTag, 128}, {"contact", w.Contact, 255}, {"route", w.Route, 512}} {
		if err := checkLen(f.n, f.v, f.max); err != nil {
			return err
		}
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+wt+" WHERE s_id = ?", w.SID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO "+wt+" (s_id, pdomain, r_uri, w_uri, display_name, package, status, event, accepts, expires, call_id, from_tag, to_tag, contact, route, cseq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			w.SID, w.PDomain, w.RURI, w.WURI, w.DisplayName, w.Package, w.Status, w.Package, w.Accepts, w.Expires.Unix(),
			w.CallID, w.FromTag, w.ToTag, w.Contact, w.Route, w.CSeq)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: subscription %s: %w", w.SID, err)
	}
	return nil
}

// DeleteWatcher removes the watcherinfo row of sid.
func (s *Store) DeleteWatcher(ctx context.Context, t PATables, sid string) error {
	_, _, wt, err := s.paTables(t)
	if err != nil {
		return err
	}
	if _, err := s.w.ExecContext(ctx, "DELETE FROM "+wt+" WHERE s_id = ? AND status <> ?", sid, WatcherRejected); err != nil {
		return fmt.Errorf("store: subscription %s: %w", sid, err)
	}
	return nil
}

// Watchers returns the subscriptions of pdomain (rows with a dialog; the
// authorisation rules are not subscriptions).
func (s *Store) Watchers(ctx context.Context, t PATables, pdomain string) ([]Watcher, error) {
	_, _, wt, err := s.paTables(t)
	if err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, "SELECT "+watcherCols+" FROM "+wt+" WHERE pdomain = ? AND status <> ? AND call_id <> ''", pdomain, WatcherRejected)
	if err != nil {
		return nil, fmt.Errorf("store: subscriptions: %w", err)
	}
	defer rows.Close()
	var out []Watcher
	for rows.Next() {
		var w Watcher
		var exp int64
		if err := rows.Scan(&w.SID, &w.PDomain, &w.RURI, &w.WURI, &w.DisplayName, &w.Package, &w.Status, &w.Accepts, &exp,
			&w.CallID, &w.FromTag, &w.ToTag, &w.Contact, &w.Route, &w.CSeq); err != nil {
			return nil, fmt.Errorf("store: subscriptions: %w", err)
		}
		w.Expires = time.Unix(exp, 0)
		out = append(out, w)
	}
	return out, rows.Err()
}

// WatcherRejectedFor reports whether a rule (a watcherinfo row with status
// rejected) denies the watcher wURI the presentity rURI.
func (s *Store) WatcherRejectedFor(ctx context.Context, t PATables, rURI, wURI string) (bool, error) {
	_, _, wt, err := s.paTables(t)
	if err != nil {
		return false, err
	}
	var n int
	if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+wt+" WHERE r_uri = ? AND w_uri = ? AND status = ?", rURI, wURI, WatcherRejected).Scan(&n); err != nil {
		return false, fmt.Errorf("store: watcher authorisation: %w", err)
	}
	return n > 0, nil
}

// RejectWatcher adds a rule denying wURI the presentity rURI (idempotent).
func (s *Store) RejectWatcher(ctx context.Context, t PATables, rURI, wURI string) error {
	if ok, err := s.WatcherRejectedFor(ctx, t, rURI, wURI); err != nil || ok {
		return err
	}
	sid := fmt.Sprintf("deny-%d", time.Now().UnixNano())
	if len(sid) > 64 {
		sid = sid[:64]
	}
	return s.PutWatcher(ctx, t, Watcher{SID: sid, RURI: rURI, WURI: wURI, Package: "presence", Status: WatcherRejected, Expires: time.Unix(0, 0)})
}
