package web

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"ser/core/store"
)

// loginCookie carries the login form's CSRF token (double submit: there is
// no session before login).
const loginCookie = "ser_login"

// loginData is the login page's content.
type loginData struct {
	Form   *form
	Next   string
	Notice string
}

// handleHome sends a user to their start page.
func (a *App) handleHome(w http.ResponseWriter, r *http.Request) {
	rs := reqCtx(r)
	if rs.sess == nil {
		redirect(w, r, "/login")
		return
	}
	me, err := a.principal(r.Context(), rs.sess.User, rs.sess.Domain)
	if err != nil || !me.Admin {
		redirect(w, r, "/account")
		return
	}
	redirect(w, r, "/admin/")
}

// loginToken returns the login CSRF token, setting its cookie when the
// browser has none.
func (a *App) loginToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(loginCookie); err == nil && len(c.Value) >= 32 && len(c.Value) <= 64 {
		return c.Value
	}
	tok := newToken(32)
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: tok, Path: "/login", MaxAge: 3600, HttpOnly: true,
		Secure: a.secure(r), SameSite: http.SameSiteStrictMode})
	return tok
}

// handleLoginForm shows the login page.
func (a *App) handleLoginForm(w http.ResponseWriter, r *http.Request) {
	if reqCtx(r).sess != nil {
		redirect(w, r, "/")
		return
	}
	reqCtx(r).loginCSRF = a.loginToken(w, r)
	d := loginData{Form: emptyForm(nil), Next: localPath(r.URL.Query().Get("next"))}
	if r.URL.Query().Get("bye") != "" {
		d.Notice = "You are logged out."
	}
	a.render(w, r, http.StatusOK, "login", view{Title: "Log in", Data: d})
}

// handleLogin checks a login: the login CSRF token, the rate limits, then
// the password against the subscriber's ha1 (md5(user:domain:password), so
// the plain password column is not needed).
func (a *App) handleLogin(w http.ResponseWriter, r *http.Request) {
	rs := reqCtx(r)
	f := newForm(r, "username", "password", "next")
	c, err := r.Cookie(loginCookie)
	if err != nil || !sameToken(r.PostFormValue("csrf"), c.Value) {
		a.log.Warn("login refused: bad csrf token", "remote", clientIP(r))
		a.forbidden(w, r, "The login form is out of date or did not come from this site. Reload the page and try again.")
		return
	}
	rs.loginCSRF = c.Value
	next := localPath(f.Get("next"))
	show := func(status int, msg string) {
		f.fail("_", msg)
		f.clearPasswords()
		a.render(w, r, status, "login", view{Title: "Log in", Data: loginData{Form: f, Next: next}})
	}
	user, domain := splitAOR(f.Get("username"), a.opts.Domain)
	if user == "" || f.Get("password") == "" {
		show(http.StatusOK, "Enter your user name and password.")
		return
	}
	ip := clientIP(r)
	out, err := a.limiter.Check(r.Context(), loginKeys(r, user+"@"+domain), func() (bool, error) {
		return a.checkPassword(r, user, domain, f.Get("password"))
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if no := out.Refused; no != nil {
		a.log.Warn("login refused: too many failures", "user", user+"@"+domain, "remote", ip, "why", no.Why)
		show(http.StatusTooManyRequests, refusalMessage(no))
		return
	}
	if !out.OK {
		a.log.Warn("login failed", "user", user+"@"+domain, "remote", ip)
		for _, b := range out.Backoffs {
			a.log.Warn("login back-off", "user", user+"@"+domain, "remote", ip, "started", b)
		}
		show(http.StatusOK, "Wrong user name or password.")
		return
	}
	must, err := a.mustChangePassword(r, user, domain)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if old := rs.sess; old != nil {
		a.endSession(w, r, old)
	}
	s, err := a.createSession(w, r, user, domain, must)
	if err != nil {
		a.fail(w, r, sessionErr(err))
		return
	}
	rs.sess = s
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/login", MaxAge: -1, HttpOnly: true,
		Secure: a.secure(r), SameSite: http.SameSiteStrictMode})
	a.log.Info("login", "user", user+"@"+domain, "remote", ip)
	switch {
	case must:
		redirect(w, r, "/password")
	case next != "":
		redirect(w, r, next)
	default:
		redirect(w, r, "/")
	}
}

// checkPassword compares md5(user:domain:password) with the subscriber's
// ha1 — or md5(user@domain:domain:password) with its ha1b, the other hash
// SER's serctl stored — in constant time, so no plain-text password is
// needed. An unknown user is just a wrong password (at the cost of a hash
// too). A subscriber without
// either hash (a database written by hand) is compared on the plain
// password column (serweb's clear_text_pw).
func (a *App) checkPassword(r *http.Request, user, domain, pw string) (bool, error) {
	u, err := a.st.Subscriber(r.Context(), user, domain)
	if errors.Is(err, store.ErrNotFound) {
		_ = store.HA1(user, domain, pw)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return passwordMatches(u, pw), nil
}

// passwordMatches reports whether pw is u's password (see checkPassword).
func passwordMatches(u store.Subscriber, pw string) bool {
	eq := func(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
	switch {
	case u.HA1 != "" && eq(strings.ToLower(u.HA1), store.HA1(u.Username, u.Domain, pw)):
		return true
	case u.HA1B != "" && eq(strings.ToLower(u.HA1B), store.HA1B(u.Username, u.Domain, u.Domain, pw)):
		return true
	case u.HA1 == "" && u.HA1B == "":
		return u.Password != "" && eq(pw, u.Password)
	}
	return false
}

// handleLogout ends the session.
func (a *App) handleLogout(w http.ResponseWriter, r *http.Request) {
	rs := reqCtx(r)
	if err := a.endSession(w, r, rs.sess); err != nil {
		a.fail(w, r, sessionErr(err))
		return
	}
	if rs.me != nil {
		a.log.Info("logout", "user", rs.me.AOR())
	}
	rs.sess, rs.me = nil, nil
	redirect(w, r, "/login?bye=1")
}

// passwordData is the password page's content.
type passwordData struct {
	Form  *form
	Force bool
}

// handlePasswordForm shows the password page (the first-start admin is
// held there until the one-time password is changed).
func (a *App) handlePasswordForm(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "password", view{Title: "Change password", Section: "account",
		Data: passwordData{Form: emptyForm(nil), Force: reqCtx(r).sess.MustChange}})
}

// handlePassword changes the user's own password (current password
// required); ha1 and ha1b are recomputed by the store.
func (a *App) handlePassword(w http.ResponseWriter, r *http.Request) {
	rs := reqCtx(r)
	f := newForm(r, "password", "new_password", "confirm_password")
	// The current password is guessable here too (with a stolen
	// session): the login limits apply.
	out, err := a.limiter.Check(r.Context(), loginKeys(r, rs.me.AOR()), func() (bool, error) {
		return a.checkPassword(r, rs.me.Username, rs.me.Domain, f.Get("password"))
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if no := out.Refused; no != nil {
		a.log.Warn("password change refused: too many failures", "user", rs.me.AOR(), "remote", clientIP(r), "why", no.Why)
		f.fail("password", refusalMessage(no))
		f.clearPasswords()
		a.render(w, r, http.StatusTooManyRequests, "password", view{Title: "Change password", Section: "account",
			Data: passwordData{Form: f, Force: rs.sess.MustChange}})
		return
	}
	if !out.OK {
		f.fail("password", "wrong password")
		for _, b := range out.Backoffs {
			a.log.Warn("login back-off", "user", rs.me.AOR(), "remote", clientIP(r), "started", b)
		}
	}
	f.check("new_password", validNewPassword(f.Get("new_password"), f.Get("confirm_password")))
	if f.ok() && f.Get("new_password") == f.Get("password") {
		f.fail("new_password", "choose a new password")
	}
	if !f.ok() {
		f.clearPasswords()
		a.render(w, r, http.StatusUnprocessableEntity, "password", view{Title: "Change password", Section: "account",
			Data: passwordData{Form: f, Force: rs.sess.MustChange}})
		return
	}
	if err := a.st.SetPassword(r.Context(), rs.me.Username, rs.me.Domain, f.Get("new_password")); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.st.DeletePreference(r.Context(), rs.me.Username, rs.me.Domain, prefMustChange); err != nil &&
		!errors.Is(err, store.ErrNotFound) {
		a.fail(w, r, err)
		return
	}
	rs.sess.MustChange = false
	rs.sess.Flash, rs.sess.FlashOK = "Your password was changed.", true
	if err := a.saveSession(r.Context(), rs.sess); err != nil {
		a.fail(w, r, sessionErr(err))
		return
	}
	a.log.Info("password changed", "user", rs.me.AOR())
	redirect(w, r, "/account")
}
