package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"ser/core/rpc/sercmd"
)

const (
	// maxIMBody keeps a MESSAGE within RFC 3428's 1300-byte guideline for
	// UDP once its headers are added.
	maxIMBody = 1000
	// imTimeout bounds the wait for the final reply (tm's fr_timer is 30 s
	// by default).
	imTimeout = 40 * time.Second
)

// imData is the send-message page's content.
type imData struct {
	Form *form
}

// handleIMForm shows the send-message form (?to= prefills the recipient,
// as the phonebook's links do).
func (a *App) handleIMForm(w http.ResponseWriter, r *http.Request) {
	to := strings.TrimSpace(r.URL.Query().Get("to"))
	if len(to) > 255 {
		to = ""
	}
	a.render(w, r, http.StatusOK, "im", view{Title: "Send a message", Section: "im",
		Data: imData{Form: emptyForm(map[string]string{"to": to})}})
}

// handleIM sends a SIP MESSAGE from the user to any SIP URI through
// t_uac_dlg and reports the final reply.
func (a *App) handleIM(w http.ResponseWriter, r *http.Request) {
	me := reqCtx(r).me
	f := newForm(r, "to", "body")
	f.Values["body"] = strings.TrimRight(r.PostFormValue("body"), " \t\r\n")
	f.check("to", validSIPURI(f.Get("to"), 255))
	body := f.Get("body")
	switch {
	case strings.TrimSpace(body) == "":
		f.fail("body", "write a message")
	case len(body) > maxIMBody:
		f.fail("body", fmt.Sprintf("at most %d bytes", maxIMBody))
	case !utf8.ValidString(body) || strings.IndexFunc(body, func(c rune) bool {
		return unicode.IsControl(c) && c != '\n' && c != '\r' && c != '\t'
	}) >= 0:
		f.fail("body", "contains control characters")
	}
	if !f.ok() {
		a.render(w, r, http.StatusUnprocessableEntity, "im", view{Title: "Send a message", Section: "im", Data: imData{Form: f}})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), imTimeout)
	defer cancel()
	res, err := a.ser.SendMessage(ctx, sercmd.Message{From: me.URI(), To: f.Get("to"), NextHop: a.opts.OutboundProxy, Body: body})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.log.Info("message sent", "from", me.AOR(), "to", f.Get("to"), "status", res.Code)
	if !res.Delivered() {
		f.fail("_", fmt.Sprintf("Not delivered: %d %s", res.Code, res.Reason))
		a.render(w, r, http.StatusOK, "im", view{Title: "Send a message", Section: "im", Data: imData{Form: f}})
		return
	}
	a.flash(r, fmt.Sprintf("Message delivered to %s (%d %s).", f.Get("to"), res.Code, res.Reason), true)
	redirect(w, r, "/im?to="+urlQuery(f.Get("to")))
}
