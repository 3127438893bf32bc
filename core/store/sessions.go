package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// WebSession is a row of active_sessions, PHPLIB's session table that
// serweb keeps its web sessions in. Name is the session class (serweb:
// "ser_sess"), SID the session id from the cookie, Value the serialized
// session data, Changed the time of the last write or touch (stored as
// PHPLIB's YYYYMMDDhhmmss, UTC).
type WebSession struct {
	Name, SID, Value string
	Changed          time.Time
}

// checkSessionKey validates name and sid (varchar(32) each).
func checkSessionKey(name, sid string) error {
	if err := checkKey("session name", name); err != nil {
		return err
	}
	if err := checkKey("session id", sid); err != nil {
		return err
	}
	if err := checkLen("session name", name, 32); err != nil {
		return err
	}
	return checkLen("session id", sid, 32)
}

// CreateSession inserts a new session; an existing (name, sid) gives
// ErrExists.
func (s *Store) CreateSession(ctx context.Context, name, sid, value string) error {
	if err := checkSessionKey(name, sid); err != nil {
		return err
	}
	_, err := s.w.ExecContext(ctx, "INSERT INTO active_sessions (sid, name, val, changed) VALUES (?, ?, ?, ?)",
		sid, name, value, s.now().UTC().Format(sessionLayout))
	if s.d.IsDuplicate(err) {
		return fmt.Errorf("store: create session %s/%s: %w", name, sid, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("store: create session %s/%s: %w", name, sid, err)
	}
	return nil
}

// SaveSession stores value for the session, creating it when missing
// (PHPLIB's ac_store), and sets changed to now.
func (s *Store) SaveSession(ctx context.Context, name, sid, value string) error {
	if err := checkSessionKey(name, sid); err != nil {
		return err
	}
	q := s.d.Upsert("active_sessions", []string{"sid", "name", "val", "changed"}, []string{"name", "sid"}, []string{"val", "changed"})
	if _, err := s.w.ExecContext(ctx, q, sid, name, value, s.now().UTC().Format(sessionLayout)); err != nil {
		return fmt.Errorf("store: save session %s/%s: %w", name, sid, err)
	}
	return nil
}

// Session returns a session, or ErrNotFound.
func (s *Store) Session(ctx context.Context, name, sid string) (WebSession, error) {
	var (
		ws      = WebSession{Name: name, SID: sid}
		val     sql.NullString
		changed string
	)
	err := s.r.QueryRowContext(ctx, "SELECT val, changed FROM active_sessions WHERE name = ? AND sid = ?", name, sid).Scan(&val, &changed)
	if err == sql.ErrNoRows {
		return ws, fmt.Errorf("store: session %s/%s: %w", name, sid, ErrNotFound)
	}
	if err != nil {
		return ws, fmt.Errorf("store: session %s/%s: %w", name, sid, err)
	}
	ws.Value = val.String
	ws.Changed, _ = time.ParseInLocation(sessionLayout, changed, time.UTC)
	return ws, nil
}

// TouchSession sets a session's changed time to now, or gives
// ErrNotFound.
func (s *Store) TouchSession(ctx context.Context, name, sid string) error {
	res, err := s.w.ExecContext(ctx, "UPDATE active_sessions SET changed = ? WHERE name = ? AND sid = ?",
		s.now().UTC().Format(sessionLayout), name, sid)
	if err != nil {
		return fmt.Errorf("store: touch session %s/%s: %w", name, sid, err)
	}
	return affected(res, "touch session "+name+"/"+sid)
}

// DeleteSession removes a session (logout), or gives ErrNotFound.
func (s *Store) DeleteSession(ctx context.Context, name, sid string) error {
	res, err := s.w.ExecContext(ctx, "DELETE FROM active_sessions WHERE name = ? AND sid = ?", name, sid)
	if err != nil {
		return fmt.Errorf("store: delete session %s/%s: %w", name, sid, err)
	}
	return affected(res, "delete session "+name+"/"+sid)
}

// ExpireSessions removes the sessions of every name not changed since
// before (PHPLIB's garbage collection) and returns how many went.
func (s *Store) ExpireSessions(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, "DELETE FROM active_sessions WHERE changed < ?", before.UTC().Format(sessionLayout))
	if err != nil {
		return 0, fmt.Errorf("store: expire sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: expire sessions: %w", err)
	}
	return n, nil
}
