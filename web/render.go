package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"ser/core/rpc/sercmd"
	"ser/core/store"
	"ser/templates"
)

// view is what every page template gets.
type view struct {
	Title   string
	Section string // the active navigation tab
	Me      *principal
	CSRF    string
	Flash   string
	FlashOK bool
	Domain  string
	Data    any
}

// funcs are the template helpers.
var funcs = template.FuncMap{
	"datetime": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05")
	},
	"duration":   humanDuration,
	"expires":    contactExpires,
	"join":       strings.Join,
	"query":      url.QueryEscape,
	"add":        func(a, b int) int { return a + b },
	"revokeArgs": revokeArgs,
	"privLabel":  privLabel,
	"lower":      strings.ToLower,
	"uri":        breakableURI,
	"hasPrefix":  strings.HasPrefix,
	"has": func(list []string, v string) bool {
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	},
}

// parsePages parses each page template with the shared layout and
// partials, once, at start-up.
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templates.FS, "*.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		if n == "layout.html" || n == "partials.html" {
			continue
		}
		t, err := template.New(n).Funcs(funcs).ParseFS(templates.FS, "layout.html", "partials.html", n)
		if err != nil {
			return nil, fmt.Errorf("web: templates: %w", err)
		}
		pages[strings.TrimSuffix(n, ".html")] = t
	}
	return pages, nil
}

// render writes page name with the layout. The page is rendered into a
// buffer first, so a template error gives a clean 500, never half a page.
func (a *App) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	t := a.pages[name]
	if t == nil {
		a.log.Error("no such template", "page", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	rc := reqCtx(r)
	v.Me = rc.me
	v.Domain = a.opts.Domain
	if rc.sess != nil {
		v.CSRF = rc.sess.CSRF
		if v.Flash == "" && rc.sess.Flash != "" {
			v.Flash, v.FlashOK = rc.sess.Flash, rc.sess.FlashOK
			a.clearFlash(r, rc.sess)
		}
	}
	if v.CSRF == "" {
		v.CSRF = rc.loginCSRF
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		a.log.Error("template failed", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// errorData is the error page's content.
type errorData struct {
	Status  int
	Heading string
	Message string
}

// errorPage renders the error page.
func (a *App) errorPage(w http.ResponseWriter, r *http.Request, status int, heading, msg string) {
	a.render(w, r, status, "error", view{Title: heading, Data: errorData{status, heading, msg}})
}

// forbidden renders the 403 page.
func (a *App) forbidden(w http.ResponseWriter, r *http.Request, msg string) {
	if msg == "" {
		msg = "You do not have permission to see this page."
	}
	a.errorPage(w, r, http.StatusForbidden, "Forbidden", msg)
}

// notFound renders the 404 page.
func (a *App) notFound(w http.ResponseWriter, r *http.Request) {
	a.errorPage(w, r, http.StatusNotFound, "Not found", "There is no such page.")
}

// fail renders the error page for err: the SIP server unreachable or
// refusing a command (502), a missing row (404), anything else a database
// failure (500). The error is logged.
func (a *App) fail(w http.ResponseWriter, r *http.Request, err error) {
	var se *sercmd.Error
	switch {
	case errors.Is(err, sercmd.ErrUnavailable):
		a.log.Error("sip server unavailable", "path", r.URL.Path, "err", err)
		a.errorPage(w, r, http.StatusBadGateway, "SIP server unavailable",
			"The SIP server did not answer the management command, so nothing was changed. "+err.Error())
	case errors.As(err, &se):
		a.log.Error("sip server refused a command", "path", r.URL.Path, "err", err)
		a.errorPage(w, r, http.StatusBadGateway, "SIP server error",
			fmt.Sprintf("The SIP server answered %q to %s.", fmt.Sprintf("%d %s", se.Code, se.Reason), se.Cmd))
	case errors.Is(err, store.ErrNotFound):
		a.errorPage(w, r, http.StatusNotFound, "Not found", "The record does not exist (any more).")
	default:
		a.log.Error("database failure", "path", r.URL.Path, "err", err)
		a.errorPage(w, r, http.StatusInternalServerError, "Database error",
			"The database failed, so nothing was changed: "+err.Error())
	}
}

// redirect answers a POST with 303 See Other to path (post/redirect/get).
func redirect(w http.ResponseWriter, r *http.Request, path string) {
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// humanDuration prints seconds as "3d 4h", "2h 5m", "4m 10s", "12s".
func humanDuration(sec int64) string {
	if sec < 0 {
		sec = -sec
	}
	d, h, m, s := sec/86400, sec%86400/3600, sec%3600/60, sec%60
	switch {
	case d > 0:
		return fmt.Sprintf("%dd %dh", d, h)
	case h > 0:
		return fmt.Sprintf("%dh %dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm %ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

// contactExpires describes when a contact expires.
func contactExpires(c sercmd.Contact) string {
	switch {
	case c.Permanent:
		return "never"
	case c.Expires <= 0:
		return "expired"
	}
	return "in " + humanDuration(int64(c.Expires))
}

// revokeData is what the privileges page's revoke button needs.
type revokeData struct {
	CanEdit                                bool
	CSRF, User, Domain, Priv, Value, Label string
}

// revokeArgs builds a revoke button's data from the page and a row.
func revokeArgs(v view, row privRow, priv, value string) revokeData {
	d, _ := v.Data.(privilegesData)
	return revokeData{CanEdit: d.CanEdit, CSRF: v.CSRF, User: row.Username, Domain: row.Domain, Priv: priv, Value: value,
		Label: privLabel(priv, value)}
}

// privLabel names an admin_privileges row in plain language.
func privLabel(priv, value string) string {
	switch priv {
	case "is_admin":
		return "Administrator"
	case "change_privileges":
		return "Manages privileges"
	case "acl_control":
		return "Manages ACL group " + value
	}
	return priv + "=" + value
}

// breakableURI escapes a SIP URI for HTML with <wbr> break opportunities
// after "@" and "." and before ":" (a port) and ";" (parameters), so a
// narrow cell breaks it between its parts, not at any character.
func breakableURI(s string) template.HTML {
	var b strings.Builder
	for i, r := range s {
		if (r == ';' || r == ':') && i > 4 {
			b.WriteString("<wbr>")
		}
		b.WriteString(template.HTMLEscapeString(string(r)))
		if r == '@' || r == '.' {
			b.WriteString("<wbr>")
		}
	}
	return template.HTML(b.String())
}
