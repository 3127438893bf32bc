package web

import (
	"io/fs"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"ser/templates"
)

// Mount adds the console's routes to r: "/" and its pages, "/login",
// "/logout", "/static/…", the user pages and "/admin/…". It leaves
// "/xmlrpc" and the router's NotFound handler alone.
func (a *App) Mount(r chi.Router) {
	static, _ := fs.Sub(templates.FS, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	r.Get("/static/*", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "public, max-age=3600")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'")
		files.ServeHTTP(w, r)
	})
	// Browsers ask for /favicon.ico whatever the page names: the same
	// same-origin SVG icon.
	r.Get("/favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		icon, err := fs.ReadFile(static, "favicon.svg")
		if err != nil {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "image/svg+xml")
		h.Set("Cache-Control", "public, max-age=86400")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'")
		w.Write(icon)
	})
	r.Group(func(r chi.Router) {
		r.Use(a.base, a.crossOrigin)
		r.Get("/", a.handleHome)
		r.Get("/login", a.handleLoginForm)
		r.Post("/login", a.handleLogin)
		r.Group(func(r chi.Router) {
			r.Use(a.needLogin, a.checkCSRF)
			r.Post("/logout", a.handleLogout)
			r.Get("/password", a.handlePasswordForm)
			r.Post("/password", a.handlePassword)
			r.Get("/account", a.handleAccount)
			r.Post("/account/profile", a.handleProfile)
			r.Post("/account/devices/delete", a.handleDeviceDelete)
			r.Get("/phonebook", a.handlePhonebook)
			r.Get("/phonebook/edit", a.handlePhonebookForm)
			r.Post("/phonebook/save", a.handlePhonebookSave)
			r.Post("/phonebook/delete", a.handlePhonebookDelete)
			r.Get("/calls", a.handleCalls)
			r.Get("/calls/export", a.handleCallsExport)
			r.Get("/im", a.handleIMForm)
			r.Post("/im", a.handleIM)
			r.Get("/forwarding", a.handleForwarding)
			r.Post("/forwarding", a.handleForwardingSave)
			r.Get("/speeddial", a.handleSpeedDial)
			r.Post("/speeddial/save", a.handleSpeedDialSave)
			r.Post("/speeddial/delete", a.handleSpeedDialDelete)
			r.Get("/jabber", a.handleJabber)
			r.Post("/jabber/save", a.handleJabberSave)
			r.Post("/jabber/delete", a.handleJabberDelete)
			r.Get("/messages", a.handleMessages)
			r.Post("/messages/delete", a.handleMessageDelete)
			r.Route("/admin", func(r chi.Router) {
				r.Use(a.needAdmin)
				r.Get("/", a.handleStatus)
				r.Get("/users", a.handleUsers)
				r.Get("/users/new", a.handleUserNewForm)
				r.Post("/users/new", a.handleUserNew)
				r.Get("/users/edit", a.handleUserEditForm)
				r.Post("/users/edit", a.handleUserEdit)
				r.Post("/users/password", a.handleUserPassword)
				r.Get("/users/delete", a.handleUserDeleteForm)
				r.Post("/users/delete", a.handleUserDelete)
				r.Get("/users/forwarding", a.handleForwarding)
				r.Post("/users/forwarding", a.handleForwardingSave)
				r.Get("/users/speeddial", a.handleSpeedDial)
				r.Post("/users/speeddial/save", a.handleSpeedDialSave)
				r.Post("/users/speeddial/delete", a.handleSpeedDialDelete)
				r.Get("/users/jabber", a.handleJabber)
				r.Post("/users/jabber/save", a.handleJabberSave)
				r.Post("/users/jabber/delete", a.handleJabberDelete)
				r.Get("/users/preferences", a.handlePreferences)
				r.Post("/users/preferences", a.handlePreferenceSet)
				r.Post("/users/preferences/delete", a.handlePreferenceDelete)
				r.Get("/messages", a.handleMessages)
				r.Post("/messages/delete", a.handleMessageDelete)
				r.Get("/domains", a.handleDomains)
				r.Post("/domains/add", a.handleDomainAdd)
				r.Post("/domains/delete", a.handleDomainDelete)
				r.Get("/dispatcher", a.handleDispatcher)
				r.Post("/dispatcher/add", a.handleDispatcherAdd)
				r.Post("/dispatcher/delete", a.handleDispatcherDelete)
				r.Post("/dispatcher/state", a.handleDispatcherState)
				r.Get("/acl", a.handleACL)
				r.Post("/acl/grant", a.handleACLGrant)
				r.Post("/acl/revoke", a.handleACLRevoke)
				r.Get("/aliases", a.handleAliases)
				r.Post("/aliases/add", a.handleAliasAdd)
				r.Post("/aliases/delete", a.handleAliasDelete)
				r.Get("/online", a.handleOnline)
				r.Post("/online/add", a.handleOnlineAdd)
				r.Post("/online/delete", a.handleOnlineDelete)
				r.Get("/acc", a.handleAcc)
				r.Get("/acc/export", a.handleAccExport)
				r.Get("/lcr", a.handleLCR)
				r.Post("/lcr/{action}", a.handleLCRAction)
				r.Get("/privileges", a.handlePrivileges)
				r.Post("/privileges/grant", a.handlePrivilegeGrant)
				r.Post("/privileges/revoke", a.handlePrivilegeRevoke)
			})
		})
	})
}

// urlQuery escapes a query value.
func urlQuery(s string) string { return url.QueryEscape(s) }
