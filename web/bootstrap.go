package web

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"net/http"

	"ser/core/store"
)

// prefMustChange is the usr_preferences attribute that marks a password
// to be changed at the next login (the first-start administrator's).
const prefMustChange = "web_must_change_password"

// bootstrap creates the first administrator when admin_privileges has no
// is_admin=1 row: user AdminName (or AdminName2, 3 … when the name is
// taken by an ordinary subscriber) in the default domain, with is_admin=1
// and change_privileges=1 and a random one-time password, printed to the
// log once; the first login must change it. The check and the inserts are
// one transaction, so two consoles starting at once create one admin.
func (a *App) bootstrap(ctx context.Context) error {
	admins, err := a.st.Admins(ctx)
	if err != nil {
		return fmt.Errorf("web: first start: %w", err)
	}
	if len(admins) > 0 {
		return nil
	}
	pw := randomPassword(16)
	privs := []store.Privilege{{Name: store.PrivIsAdmin, Value: "1"}, {Name: store.PrivChangePrivileges, Value: "1"}}
	prefs := []store.Preference{{Attribute: prefMustChange, Value: "1"}}
	for i := 1; i <= 20; i++ {
		name := a.opts.AdminName
		if i > 1 {
			name = fmt.Sprintf("%s%d", a.opts.AdminName, i)
		}
		u := store.Subscriber{Username: name, Domain: a.opts.Domain, Password: pw, FirstName: "Administrator"}
		created, err := a.st.BootstrapAdmin(ctx, u, privs, prefs)
		if errors.Is(err, store.ErrExists) {
			continue
		}
		if err != nil {
			return fmt.Errorf("web: first start: %w", err)
		}
		if created {
			a.log.Warn("first start: created the administrator; log in with this one-time password and change it",
				"user", name+"@"+a.opts.Domain, "password", pw)
		}
		return nil
	}
	return fmt.Errorf("web: first start: user names %s…%s20 are all taken", a.opts.AdminName, a.opts.AdminName)
}

// mustChangePassword reports whether user@domain carries the
// must-change-password mark.
func (a *App) mustChangePassword(r *http.Request, user, domain string) (bool, error) {
	prefs, err := a.st.Preferences(r.Context(), user, domain)
	if err != nil {
		return false, err
	}
	for _, p := range prefs {
		if p.Attribute == prefMustChange && p.Value == "1" {
			return true, nil
		}
	}
	return false, nil
}

// passwordAlphabet avoids look-alike characters.
const passwordAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// randomPassword returns n characters from a crypto-random source.
func randomPassword(n int) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(passwordAlphabet)))
	for i := range b {
		k, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err) // crypto/rand never fails on supported systems
		}
		b[i] = passwordAlphabet[k.Int64()]
	}
	return string(b)
}
