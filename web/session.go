package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"ser/core/store"
)

// Sessions are server-side rows of active_sessions (PHPLIB's table, as
// serweb used it): name = sessionName, sid = the first 32 hex digits of
// SHA-256 of the cookie's token — so the database never holds a usable
// token — and val = the session as JSON. changed is the last use, for the
// idle timeout.
const (
	sessionName   = "ser_web"
	sessionCookie = "ser_session"
	// touchEvery limits how often a session's last-use time is written.
	touchEvery = time.Minute
)

// session is one logged-in browser.
type session struct {
	key     string    // active_sessions.sid
	changed time.Time // active_sessions.changed

	User    string `json:"u"`
	Domain  string `json:"d"`
	CSRF    string `json:"c"`
	Created int64  `json:"t"`
	// MustChange holds the user on the password page (first-start admin).
	MustChange bool   `json:"m,omitempty"`
	Flash      string `json:"f,omitempty"`
	FlashOK    bool   `json:"o,omitempty"`
}

// requestState is the per-request state the middlewares fill in.
type requestState struct {
	sess      *session
	me        *principal
	loginCSRF string
}

type stateKey struct{}

// reqCtx returns the request's state (an empty one outside the
// middlewares).
func reqCtx(r *http.Request) *requestState {
	if rs, ok := r.Context().Value(stateKey{}).(*requestState); ok {
		return rs
	}
	return &requestState{}
}

// newToken returns n random bytes, base64url-encoded.
func newToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sessionKey maps a cookie token to its active_sessions.sid.
func sessionKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:16])
}

// secure reports whether cookies of r must be Secure.
func (a *App) secure(r *http.Request) bool { return a.opts.SecureCookies || r.TLS != nil }

// createSession starts a session for user@domain with a new token (a
// fresh id at every login: no session fixation) and sets its cookie.
func (a *App) createSession(w http.ResponseWriter, r *http.Request, user, domain string, mustChange bool) (*session, error) {
	token := newToken(32)
	s := &session{key: sessionKey(token), changed: a.now(), User: user, Domain: domain, CSRF: newToken(32),
		Created: a.now().Unix(), MustChange: mustChange}
	val, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	if err := a.st.CreateSession(r.Context(), sessionName, s.key, string(val)); err != nil {
		return nil, err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: a.secure(r), SameSite: http.SameSiteStrictMode})
	return s, nil
}

// loadSession returns the request's session, nil when there is none or it
// expired (idle longer than SessionIdle, older than SessionMax).
func (a *App) loadSession(r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil, nil
	}
	key := sessionKey(c.Value)
	ws, err := a.st.Session(r.Context(), sessionName, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s := &session{}
	if err := json.Unmarshal([]byte(ws.Value), s); err != nil || s.User == "" || s.CSRF == "" {
		a.st.DeleteSession(r.Context(), sessionName, key)
		return nil, nil
	}
	s.key, s.changed = key, ws.Changed
	now := a.now()
	if now.Sub(ws.Changed) > a.opts.SessionIdle || now.Sub(time.Unix(s.Created, 0)) > a.opts.SessionMax {
		a.st.DeleteSession(r.Context(), sessionName, key)
		return nil, nil
	}
	if now.Sub(ws.Changed) >= touchEvery {
		if err := a.st.TouchSession(r.Context(), sessionName, key); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	return s, nil
}

// saveSession writes the session's value back.
func (a *App) saveSession(ctx context.Context, s *session) error {
	val, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return a.st.SaveSession(ctx, sessionName, s.key, string(val))
}

// endSession deletes the session row and the cookie.
func (a *App) endSession(w http.ResponseWriter, r *http.Request, s *session) error {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: a.secure(r), SameSite: http.SameSiteStrictMode})
	if s == nil {
		return nil
	}
	if err := a.st.DeleteSession(r.Context(), sessionName, s.key); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// flash stores a message shown on the next page (post/redirect/get). A
// failure to store it is logged only: the action itself succeeded.
func (a *App) flash(r *http.Request, msg string, ok bool) {
	s := reqCtx(r).sess
	if s == nil {
		return
	}
	s.Flash, s.FlashOK = msg, ok
	if err := a.saveSession(r.Context(), s); err != nil {
		a.log.Warn("cannot store flash message", "err", err)
	}
}

// clearFlash removes a flash message once shown.
func (a *App) clearFlash(r *http.Request, s *session) {
	s.Flash, s.FlashOK = "", false
	if err := a.saveSession(r.Context(), s); err != nil {
		a.log.Warn("cannot clear flash message", "err", err)
	}
}

// expireSessions deletes sessions idle for longer than SessionIdle.
func (a *App) expireSessions(ctx context.Context) {
	n, err := a.st.ExpireSessions(ctx, a.now().Add(-a.opts.SessionIdle))
	if err != nil {
		a.log.Warn("expiring sessions failed", "err", err)
		return
	}
	if n > 0 {
		a.log.Debug("expired sessions", "count", n)
	}
}

// sessionErr wraps a store error of the session layer.
func sessionErr(err error) error { return fmt.Errorf("web: session: %w", err) }
