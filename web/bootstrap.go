package web

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"

	"ser/core/store"
)

// prefMustChange is the usr_preferences attribute that marks a password
// to be changed at the next login: the first-start administrator's
// one-time password. Its value is the ha1 of that password, so the mark
// lapses by itself when the password is changed elsewhere (serctl
// passwd); "1" (older consoles) marks whatever password is set.
const prefMustChange = "web_must_change_password"

// bootstrap makes sure someone can log in as administrator.
//
// When admin_privileges has no is_admin=1 row it creates the first
// administrator: user AdminName (or AdminName2, 3 … when the name is taken
// by an ordinary subscriber) in the default domain, with is_admin=1 and
// change_privileges=1 and a random one-time password, printed to the log;
// the first login must change it. The check and the inserts are one
// transaction, so two consoles starting at once create one admin.
//
// When administrators exist but one of them still has the one-time
// password (nobody logged in and changed it, e.g. because the first start
// failed after printing it), a new one-time password is issued and
// printed on every start, until the first login changes it.
func (a *App) bootstrap(ctx context.Context) error {
	admins, err := a.st.Admins(ctx)
	if err != nil {
		return fmt.Errorf("web: first start: %w", err)
	}
	if len(admins) > 0 {
		return a.reissue(ctx, admins)
	}
	pw := randomPassword(16)
	privs := []store.Privilege{{Name: store.PrivIsAdmin, Value: "1"}, {Name: store.PrivChangePrivileges, Value: "1"}}
	for i := 1; i <= 20; i++ {
		name := a.opts.AdminName
		if i > 1 {
			name = fmt.Sprintf("%s%d", a.opts.AdminName, i)
		}
		u := store.Subscriber{Username: name, Domain: a.opts.Domain, Password: pw, FirstName: "Administrator"}
		prefs := []store.Preference{{Attribute: prefMustChange, Value: store.HA1(name, a.opts.Domain, pw)}}
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
			return nil
		}
		// Another console created one meanwhile.
		admins, err := a.st.Admins(ctx)
		if err != nil {
			return fmt.Errorf("web: first start: %w", err)
		}
		return a.reissue(ctx, admins)
	}
	return fmt.Errorf("web: first start: user names %s…%s20 are all taken", a.opts.AdminName, a.opts.AdminName)
}

// reissue gives every administrator whose one-time password is still
// unchanged a new one and prints it: only its hashes are stored, so the
// old one cannot be shown again.
func (a *App) reissue(ctx context.Context, admins []store.Privilege) error {
	for _, adm := range admins {
		u, err := a.st.Subscriber(ctx, adm.Username, adm.Domain)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("web: first start: %w", err)
		}
		must, err := a.oneTimePassword(ctx, u)
		if err != nil {
			return fmt.Errorf("web: first start: %w", err)
		}
		if !must {
			continue
		}
		pw := randomPassword(16)
		mark := store.Preference{Attribute: prefMustChange, Value: store.HA1(u.Username, u.Domain, pw)}
		if err := a.st.SetPasswordAndPreference(ctx, u.Username, u.Domain, pw, mark); err != nil {
			return fmt.Errorf("web: first start: %w", err)
		}
		a.log.Warn("first start not completed: the administrator's one-time password was never changed; "+
			"log in with this new one-time password and change it", "user", u.Username+"@"+u.Domain, "password", pw)
	}
	return nil
}

// oneTimePassword reports whether u's password is still the one-time
// password of the first start: the must-change mark is present and names
// the current ha1 (or is the older consoles' "1").
func (a *App) oneTimePassword(ctx context.Context, u store.Subscriber) (bool, error) {
	prefs, err := a.st.Preferences(ctx, u.Username, u.Domain)
	if err != nil {
		return false, err
	}
	for _, p := range prefs {
		if p.Attribute == prefMustChange {
			return p.Value == "1" || (u.HA1 != "" && strings.EqualFold(p.Value, u.HA1)), nil
		}
	}
	return false, nil
}

// mustChangePassword reports whether user@domain still has to replace a
// one-time password.
func (a *App) mustChangePassword(r *http.Request, user, domain string) (bool, error) {
	u, err := a.st.Subscriber(r.Context(), user, domain)
	if err != nil {
		return false, err
	}
	return a.oneTimePassword(r.Context(), u)
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
