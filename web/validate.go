package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// form holds a form's submitted values and its errors, so a refused form
// is shown again with what was typed and why it was refused.
type form struct {
	Values map[string]string
	Errors map[string]string
}

// newForm reads the named fields of r's form, trimmed of surrounding
// spaces (passwords are kept as typed).
func newForm(r *http.Request, fields ...string) *form {
	f := &form{Values: map[string]string{}, Errors: map[string]string{}}
	for _, k := range fields {
		v := r.PostFormValue(k)
		if !strings.Contains(k, "password") {
			v = strings.TrimSpace(v)
		}
		f.Values[k] = v
	}
	return f
}

// emptyForm returns a form with initial values.
func emptyForm(values map[string]string) *form {
	if values == nil {
		values = map[string]string{}
	}
	return &form{Values: values, Errors: map[string]string{}}
}

// Get returns a value.
func (f *form) Get(k string) string { return f.Values[k] }

// Err returns the error of a field ("" for the whole form's "_").
func (f *form) Err(k string) string { return f.Errors[k] }

// fail records the first error of field k.
func (f *form) fail(k, msg string) {
	if _, dup := f.Errors[k]; !dup {
		f.Errors[k] = msg
	}
}

// check records err (when not nil) as field k's error.
func (f *form) check(k string, err error) {
	if err != nil {
		f.fail(k, err.Error())
	}
}

// ok reports whether no error was recorded.
func (f *form) ok() bool { return len(f.Errors) == 0 }

// clearPasswords empties password fields before a form is shown again.
func (f *form) clearPasswords() {
	for k := range f.Values {
		if strings.Contains(k, "password") {
			f.Values[k] = ""
		}
	}
}

var (
	usernameRE = regexp.MustCompile(`^[A-Za-z0-9+][A-Za-z0-9._+\-]*$`)
	labelRE    = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9\-]*[A-Za-z0-9])?$`)
	groupRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_\-]*$`)
	phoneRE    = regexp.MustCompile(`^[0-9+()\-./ ]*$`)
	digitsRE   = regexp.MustCompile(`^[0-9]*$`)
	// sipURIRE splits sip[s]:[user@]host[:port][;params].
	sipURIRE = regexp.MustCompile(`^(?i:sips?):(?:([A-Za-z0-9\-_.!~*'()&=+$,%]+)@)?([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?((?:;[A-Za-z0-9\-_.!~*'%]+(?:=[A-Za-z0-9\-_.!~*'%\[\]:]+)?)*)$`)
)

// validUsername checks a SIP user name (letters, digits, "._+-"; 1–64).
func validUsername(s string) error {
	switch {
	case s == "":
		return errors.New("required")
	case len(s) > 64:
		return errors.New("at most 64 characters")
	case !usernameRE.MatchString(s):
		return errors.New(`only letters, digits and "._+-", starting with a letter, digit or "+"`)
	}
	return nil
}

// validDomain checks a domain: a host name or an IP address (1–128).
func validDomain(s string) error {
	switch {
	case s == "":
		return errors.New("required")
	case len(s) > 128:
		return errors.New("at most 128 characters")
	}
	return validHost(s)
}

// validHost checks a host name, an IPv4 address or a bracketed IPv6
// address.
func validHost(s string) error {
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil && a.Is6() {
			return nil
		}
		return errors.New("not a valid IPv6 address")
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return nil
	}
	for _, l := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if len(l) > 63 || !labelRE.MatchString(l) {
			return errors.New("not a valid host name")
		}
	}
	return nil
}

// validGroup checks an ACL group name (grp.grp is 50 characters).
func validGroup(s string) error {
	if s == "" || len(s) > 50 || !groupRE.MatchString(s) {
		return errors.New(`letters, digits, "_" and "-", at most 50`)
	}
	return nil
}

// validSIPURI checks a sip: or sips: URI: optional user, a valid host,
// optional port 1–65535, optional ;parameters, at most maxLen characters,
// no headers, spaces or control characters.
func validSIPURI(s string, maxLen int) error {
	if s == "" {
		return errors.New("required")
	}
	if len(s) > maxLen {
		return fmt.Errorf("at most %d characters", maxLen)
	}
	m := sipURIRE.FindStringSubmatch(s)
	if m == nil {
		return errors.New("not a SIP URI (sip:user@host[:port])")
	}
	if err := validHost(m[2]); err != nil {
		return fmt.Errorf("host: %w", err)
	}
	if m[3] != "" {
		if p, err := strconv.Atoi(m[3]); err != nil || p < 1 || p > 65535 {
			return errors.New("port out of range")
		}
	}
	return nil
}

// uriUserHost returns the user and host parts of a valid SIP URI (host
// lowercase).
func uriUserHost(s string) (user, host string) {
	m := sipURIRE.FindStringSubmatch(s)
	if m == nil {
		return "", ""
	}
	return m[1], strings.ToLower(m[2])
}

// validEmail checks a bare e-mail address (at most 50, the column size).
func validEmail(s string) error {
	if s == "" {
		return nil
	}
	if len(s) > 50 {
		return errors.New("at most 50 characters")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return errors.New("not an e-mail address (name@example.com)")
	}
	return nil
}

// validText checks free text: at most max characters (bytes, as the
// columns count), no control characters.
func validText(s string, maxLen int) error {
	if len(s) > maxLen {
		return fmt.Errorf("at most %d characters", maxLen)
	}
	if !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return errors.New("contains control characters")
	}
	return nil
}

// validPhone checks a phone number (digits and "+()-./ ", at most 15).
func validPhone(s string) error {
	if len(s) > 15 {
		return errors.New("at most 15 characters")
	}
	if !phoneRE.MatchString(s) {
		return errors.New(`digits and "+()-./ " only`)
	}
	return nil
}

// validNewPassword checks a new password and its confirmation: 8–25
// characters (the subscriber column holds 25), no control characters.
func validNewPassword(pw, confirm string) error {
	switch {
	case len(pw) < 8:
		return errors.New("at least 8 characters")
	case len(pw) > 25:
		return errors.New("at most 25 characters")
	case strings.IndexFunc(pw, unicode.IsControl) >= 0:
		return errors.New("contains control characters")
	case pw != confirm:
		return errors.New("the two passwords differ")
	}
	return nil
}

// splitAOR splits "user" or "user@domain"; the domain defaults to def and
// is lowercased.
func splitAOR(s, def string) (user, domain string) {
	user, domain, ok := strings.Cut(strings.TrimSpace(s), "@")
	if !ok || domain == "" {
		domain = def
	}
	return user, strings.ToLower(domain)
}

// parseDate reads an optional YYYY-MM-DD date (UTC).
func parseDate(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01-02", s, time.UTC)
	if err != nil {
		return time.Time{}, errors.New("a date as YYYY-MM-DD")
	}
	return t, nil
}

// validInt reads an integer in [lo, hi].
func validInt(s string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("a number from %d to %d", lo, hi)
	}
	return n, nil
}
