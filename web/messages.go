package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"ser/core/store"
)

// messagesPerPage is the length of a stored-messages page.
const messagesPerPage = 25

// storedMsg is a message of the store with its body as text.
type storedMsg struct {
	store.SiloMessage
	Text string // the body when it is text, else a description
}

// messagesData is the message store page's content.
type messagesData struct {
	Subject subject
	All     bool   // the administrator's view of everyone's messages
	User    string // its filter: user or user@domain
	UserErr string
	Rows    []storedMsg
	Pager   pager
}

// bodyText shows a stored body: text as it is (cut at 2000 bytes), other
// content as its type and size.
func bodyText(m store.SiloMessage) string {
	ct := strings.ToLower(m.ContentType)
	if (ct == "" || strings.HasPrefix(ct, "text/")) && utf8.Valid(m.Body) {
		s := string(m.Body)
		if len(s) > 2000 {
			s = s[:2000] + " …"
		}
		return s
	}
	return "(" + m.ContentType + ", " + strconv.Itoa(len(m.Body)) + " bytes)"
}

// handleMessages lists stored messages (msilo's silo table): the user's
// own on /messages; on /admin/messages everyone's, or one user's with
// ?user=.
func (a *App) handleMessages(w http.ResponseWriter, r *http.Request) {
	d := messagesData{}
	var user, domain string
	if strings.HasPrefix(r.URL.Path, "/admin/") {
		d.All, d.Subject = true, subject{Admin: true, Base: "/admin"}
		if d.User = strings.TrimSpace(r.URL.Query().Get("user")); d.User != "" {
			user, domain = splitAOR(d.User, a.opts.Domain)
			if err := validUsername(user); err != nil {
				d.UserErr, user = err.Error(), ""
			}
		}
	} else {
		me := reqCtx(r).me
		d.Subject = subject{Username: me.Username, Domain: me.Domain}
		user, domain = me.Username, me.Domain
	}
	if d.UserErr == "" {
		page, done := paging(r, messagesPerPage)
		rows, total, err := a.st.StoredMessages(r.Context(), user, domain, page)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		for _, m := range rows {
			d.Rows = append(d.Rows, storedMsg{SiloMessage: m, Text: bodyText(m)})
		}
		d.Pager = done(total)
	}
	section := "messages"
	if d.All {
		section = "admin-messages"
	}
	a.render(w, r, http.StatusOK, "messages", view{Title: "Stored messages", Section: section, Data: d})
}

// handleMessageDelete deletes a stored message: a user only one of their
// own, an administrator any.
func (a *App) handleMessageDelete(w http.ResponseWriter, r *http.Request) {
	mid, err := strconv.Atoi(r.PostFormValue("mid"))
	if err != nil {
		a.notFound(w, r)
		return
	}
	back := "/messages"
	var user, domain string
	if strings.HasPrefix(r.URL.Path, "/admin/") {
		back = "/admin/messages"
		if u := r.PostFormValue("user"); u != "" {
			back += "?user=" + urlQuery(u)
		}
	} else {
		me := reqCtx(r).me
		user, domain = me.Username, me.Domain
	}
	err = a.st.DeleteStoredMessage(r.Context(), mid, user, domain)
	switch {
	case errors.Is(err, store.ErrNotFound):
		a.flash(r, "Nothing to delete: the message was delivered or deleted already.", false)
	case err != nil:
		a.fail(w, r, err)
		return
	default:
		a.log.Info("stored message deleted", "mid", mid, "by", reqCtx(r).me.AOR())
		a.flash(r, "Message deleted.", true)
	}
	redirect(w, r, back)
}
