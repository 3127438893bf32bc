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
// is shown again with what was typed and every reason it was refused.
type form struct {
	Values map[string]string
	Errors map[string][]string // every error of a field; "_" the whole form's
	order  []string            // fields in the order their first error came
}

// newForm reads the named fields of r's form, trimmed of surrounding
// spaces (passwords are kept as typed).
func newForm(r *http.Request, fields ...string) *form {
	f := emptyForm(nil)
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
	return &form{Values: values, Errors: map[string][]string{}}
}

// Get returns a value.
func (f *form) Get(k string) string { return f.Values[k] }

// Err returns the errors of a field ("_" for the whole form).
func (f *form) Err(k string) []string { return f.Errors[k] }

// First returns the first error of a field, "" when it has none.
func (f *form) First(k string) string {
	if e := f.Errors[k]; len(e) > 0 {
		return e[0]
	}
	return ""
}

// fieldError is one line of a form's error summary.
type fieldError struct {
	Field, Label, Msg string
}

// Summary lists the errors of the fields (not the whole form's), in the
// order they were found, each with its field's plain-language label.
func (f *form) Summary() []fieldError {
	var out []fieldError
	for _, k := range f.order {
		if k == "_" {
			continue
		}
		for _, e := range f.Errors[k] {
			out = append(out, fieldError{k, fieldLabel(k), e})
		}
	}
	return out
}

// fail records an error of field k (each message once).
func (f *form) fail(k, msg string) {
	for _, e := range f.Errors[k] {
		if e == msg {
			return
		}
	}
	if len(f.Errors[k]) == 0 {
		f.order = append(f.order, k)
	}
	f.Errors[k] = append(f.Errors[k], msg)
}

// check records err (when not nil) as field k's error; an errors.Join of
// several gives one error each.
func (f *form) check(k string, err error) {
	if err == nil {
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			f.check(k, e)
		}
		return
	}
	f.fail(k, err.Error())
}

// ok reports whether no error was recorded.
func (f *form) ok() bool { return len(f.Errors) == 0 }

// fieldLabels are the plain-language names of form fields, for the error
// summary (the forms' own labels say the same).
var fieldLabels = map[string]string{
	"username": "User name", "domain": "Domain", "password": "Password", "new_password": "New password",
	"first_name": "First name", "last_name": "Last name", "email": "E-mail", "phone": "Phone",
	"fname": "First name", "lname": "Last name", "sip_uri": "SIP address", "user": "User", "group": "Group",
	"alias": "Alias", "target": "Points to", "contact": "Contact address", "to": "To", "body": "Message",
	"from": "From", "name": "Name", "ip": "IPv4 address", "port": "Port", "scheme": "Scheme",
	"transport": "Transport", "prefix": "Prefix", "gw": "Gateway", "cap": "Capability", "priority": "Priority",
	"from_uri": "Caller pattern", "priv": "Privilege", "callfwd": "Always", "fwdbusy": "When busy",
	"fwdnoanswer": "When not answered", "short": "Dial", "calls": "Calls", "description": "Note", "setid": "Set",
	"destination": "Destination", "attribute": "Attribute", "value": "Value", "type": "Kind",
}

// fieldLabel returns a field's label for the error summary.
func fieldLabel(k string) string {
	if l, ok := fieldLabels[k]; ok {
		return l
	}
	return k
}

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
// Every failure is reported (errors.Join).
func validUsername(s string) error {
	if s == "" {
		return errors.New("required")
	}
	var errs []error
	if len(s) > 64 {
		errs = append(errs, errors.New("at most 64 characters"))
	}
	if !usernameRE.MatchString(s) {
		errs = append(errs, errors.New(`only letters, digits and "._+-", starting with a letter, digit or "+"`))
	}
	return errors.Join(errs...)
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
// Every failure is reported (errors.Join).
func validNewPassword(pw, confirm string) error {
	var errs []error
	switch {
	case len(pw) < 8:
		errs = append(errs, errors.New("at least 8 characters"))
	case len(pw) > 25:
		errs = append(errs, errors.New("at most 25 characters"))
	}
	if strings.IndexFunc(pw, unicode.IsControl) >= 0 {
		errs = append(errs, errors.New("contains control characters"))
	}
	if pw != confirm {
		errs = append(errs, errors.New("the two passwords differ"))
	}
	return errors.Join(errs...)
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
