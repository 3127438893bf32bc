package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"ser/core/store"
)

// maxForm is the largest request body a form may send.
const maxForm = 64 << 10

// principal is the logged-in user with the privileges read from
// admin_privileges on this request (so a revoked privilege takes effect
// at once).
type principal struct {
	Username, Domain string
	Name             string
	// Admin is is_admin=1; ChangePrivileges is change_privileges=1.
	Admin, ChangePrivileges bool
	// ACL lists the acl_control values: the groups this admin may grant
	// and revoke (change_privileges allows every group).
	ACL []string
}

// AOR returns user@domain.
func (p *principal) AOR() string { return p.Username + "@" + p.Domain }

// URI returns sip:user@domain.
func (p *principal) URI() string { return "sip:" + p.AOR() }

// CanControl reports whether p may grant and revoke ACL group g.
func (p *principal) CanControl(g string) bool {
	return p.Admin && (p.ChangePrivileges || slices.Contains(p.ACL, g))
}

// base sets the security headers, bounds form bodies and loads the
// session of every request.
func (a *App) base(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "+
			"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		}
		rs := &requestState{}
		r = r.WithContext(context.WithValue(r.Context(), stateKey{}, rs))
		s, err := a.loadSession(r)
		if err != nil {
			a.fail(w, r, sessionErr(err))
			return
		}
		rs.sess = s
		next.ServeHTTP(w, r)
	})
}

// crossOrigin refuses state-changing requests from other origins
// (Sec-Fetch-Site / Origin, net/http's CrossOriginProtection), in addition
// to the CSRF tokens.
func (a *App) crossOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.forbidden(w, r, "Cross-origin form submissions are refused.")
	}))
	return cop.Handler(next)
}

// needLogin lets through requests with a session of an existing
// subscriber, with the principal filled in. Others go to the login page
// (GET) or get a 403 (forms). A session that must change its password is
// held on /password.
func (a *App) needLogin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rs := reqCtx(r)
		if rs.sess == nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()))
				return
			}
			a.forbidden(w, r, "Your session has expired. Log in again.")
			return
		}
		me, err := a.principal(r.Context(), rs.sess.User, rs.sess.Domain)
		if errors.Is(err, store.ErrNotFound) {
			a.endSession(w, r, rs.sess)
			rs.sess = nil
			redirect(w, r, "/login")
			return
		}
		if err != nil {
			a.fail(w, r, err)
			return
		}
		rs.me = me
		if rs.sess.MustChange && r.URL.Path != "/password" && r.URL.Path != "/logout" {
			redirect(w, r, "/password")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// principal reads a subscriber and its privileges.
func (a *App) principal(ctx context.Context, user, domain string) (*principal, error) {
	u, err := a.st.Subscriber(ctx, user, domain)
	if err != nil {
		return nil, err
	}
	privs, err := a.st.Privileges(ctx, user, domain)
	if err != nil {
		return nil, err
	}
	p := &principal{Username: u.Username, Domain: u.Domain, Name: strings.TrimSpace(u.FirstName + " " + u.LastName)}
	for _, pr := range privs {
		switch {
		case pr.Name == store.PrivIsAdmin && pr.Value == "1":
			p.Admin = true
		case pr.Name == store.PrivChangePrivileges && pr.Value == "1":
			p.ChangePrivileges = true
		case pr.Name == store.PrivACLControl:
			p.ACL = append(p.ACL, pr.Value)
		}
	}
	return p, nil
}

// needAdmin lets through administrators (is_admin=1) only.
func (a *App) needAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if me := reqCtx(r).me; me == nil || !me.Admin {
			a.forbidden(w, r, "This page is for administrators.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkCSRF refuses state-changing requests whose form lacks the
// session's token.
func (a *App) checkCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		s := reqCtx(r).sess
		if s == nil || !sameToken(r.PostFormValue("csrf"), s.CSRF) {
			a.log.Warn("form refused: bad csrf token", "path", r.URL.Path, "remote", clientIP(r))
			a.forbidden(w, r, "The form is out of date or did not come from this site (missing or wrong security token). "+
				"Reload the page and try again.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// sameToken compares two tokens in constant time; empty never matches.
func sameToken(got, want string) bool {
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// localPath returns p when it is a path on this site ("/…", not "//…"),
// else "".
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") ||
		strings.ContainsAny(p, "\r\n") {
		return ""
	}
	return p
}
