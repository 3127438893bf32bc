package store

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"
)

// Subscriber is a row of the subscriber table: a user, its credentials and
// its serweb profile.
type Subscriber struct {
	Username, Domain string
	// Password is the plain-text password column (serweb's clear_text_pw,
	// auth's calculate_ha1); at most 25 characters as in SER. Given to
	// AddSubscriber it is the new password; it is stored only when the
	// store keeps plain-text passwords (WithPlaintextPasswords), so it is
	// normally "" when read.
	Password string
	// HA1 is md5(username:realm:password), HA1B
	// md5(username@domain:realm:password), lowercase hex; the realm is the
	// domain. AddSubscriber and SetPassword compute them.
	HA1, HA1B string
	// PHPLibID is serweb's user key (unique). AddSubscriber makes a random
	// one when empty.
	PHPLibID                          string
	FirstName, LastName, Phone, Email string
	Created, Modified                 time.Time
	Confirmation                      string
	// Flag is SER's one-character flag column ("o" by default).
	Flag                       string
	SendNotification, Greeting string
	AllowFind                  bool
	// Timezone, RPID and UUID are nullable columns; "" is stored as NULL.
	Timezone, RPID, UUID string
	// Domn is the nullable numeric domain id.
	Domn sql.NullInt64
}

// DefaultDomain is the SIP domain of subscribers when none is configured —
// the web console's without sip_domain, serctl's without SIP_DOMAIN and
// the built-in default config's, so that all three agree and the users
// created by the tools are the ones the server authenticates: the host
// name in lower case.
func DefaultDomain() string { return DomainOfHost(os.Hostname) }

// DomainOfHost is DefaultDomain with the host name from hostname;
// "localhost" when it fails or is not a plain domain name.
func DomainOfHost(hostname func() (string, error)) string {
	h, err := hostname()
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	if err != nil || h == "" || strings.Trim(h, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "" ||
		strings.HasPrefix(h, ".") || strings.HasPrefix(h, "-") || strings.Contains(h, "..") {
		return "localhost"
	}
	return h
}

// HA1 returns md5("user:realm:password") in lowercase hex (SER gen_ha1).
func HA1(user, realm, password string) string {
	sum := md5.Sum([]byte(user + ":" + realm + ":" + password))
	return hex.EncodeToString(sum[:])
}

// HA1B returns md5("user@domain:realm:password") in lowercase hex: the
// HA1 for user agents that put user@domain in the digest username.
func HA1B(user, domain, realm, password string) string {
	return HA1(user+"@"+domain, realm, password)
}

const subscriberCols = "username, domain, password, ha1, ha1b, phplib_id, first_name, last_name, phone, " +
	"email_address, datetime_created, datetime_modified, confirmation, flag, sendnotification, greeting, " +
	"allow_find, timezone, rpid, uuid, domn"

// scanSubscriber scans a row selected with subscriberCols.
func scanSubscriber(sc interface{ Scan(...any) error }) (Subscriber, error) {
	var (
		u                   Subscriber
		allow               string
		tz, rpid, uuid      sql.NullString
		created, modified   time.Time
		createdS, modifiedS = timeScan{&created}, timeScan{&modified}
	)
	err := sc.Scan(&u.Username, &u.Domain, &u.Password, &u.HA1, &u.HA1B, &u.PHPLibID, &u.FirstName,
		&u.LastName, &u.Phone, &u.Email, createdS, modifiedS, &u.Confirmation, &u.Flag,
		&u.SendNotification, &u.Greeting, &allow, &tz, &rpid, &uuid, &u.Domn)
	u.Created, u.Modified = created, modified
	u.AllowFind = allow == "1"
	u.Timezone, u.RPID, u.UUID = tz.String, rpid.String, uuid.String
	return u, err
}

// validate checks key presence and SER's column sizes.
func (u *Subscriber) validate() error {
	if err := checkKey("username", u.Username); err != nil {
		return err
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{
		{"username", u.Username, 64}, {"domain", u.Domain, 128}, {"password", u.Password, 25},
		{"first_name", u.FirstName, 25}, {"last_name", u.LastName, 45}, {"phone", u.Phone, 15},
		{"email_address", u.Email, 50}, {"phplib_id", u.PHPLibID, 32}, {"confirmation", u.Confirmation, 64},
		{"flag", u.Flag, 1}, {"sendnotification", u.SendNotification, 50}, {"greeting", u.Greeting, 50},
		{"timezone", u.Timezone, 128}, {"rpid", u.RPID, 128}, {"uuid", u.UUID, 64},
	} {
		if err := checkLen(f.name, f.v, f.max); err != nil {
			return err
		}
	}
	return nil
}

// boolChar is SER's char(1) boolean.
func boolChar(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// randomID returns 32 random lowercase hex digits (a phplib_id).
func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// AddSubscriber inserts u and, as serctl add does, its uri row
// (uri_user = username), in one transaction. Empty HA1/HA1B are computed
// from Password with the domain as realm; Password itself is stored only
// when the store keeps plain-text passwords (WithPlaintextPasswords); an
// empty PHPLibID gets a random id; an empty Flag is "o"; Created and
// Modified are set to now. A user that exists (or a taken phplib_id) gives
// ErrExists.
func (s *Store) AddSubscriber(ctx context.Context, u Subscriber) error {
	if err := s.prepareNew(&u); err != nil {
		return err
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error { return s.insertSubscriber(ctx, tx, u) })
	if s.d.IsDuplicate(err) {
		return fmt.Errorf("store: add subscriber %s: %w", aor(u.Username, u.Domain), ErrExists)
	}
	if err != nil {
		return fmt.Errorf("store: add subscriber %s: %w", aor(u.Username, u.Domain), err)
	}
	return nil
}

// prepareNew completes a new subscriber: ha1 and ha1b from the password
// (realm = domain), the password column emptied unless plain-text
// passwords are kept, a random phplib_id, flag "o"; then validates it.
func (s *Store) prepareNew(u *Subscriber) error {
	if err := checkLen("password", u.Password, 25); err != nil {
		return err
	}
	if u.HA1 == "" {
		u.HA1 = HA1(u.Username, u.Domain, u.Password)
	}
	if u.HA1B == "" {
		u.HA1B = HA1B(u.Username, u.Domain, u.Domain, u.Password)
	}
	if !s.plaintext {
		u.Password = ""
	}
	if u.PHPLibID == "" {
		u.PHPLibID = randomID()
	}
	if u.Flag == "" {
		u.Flag = "o"
	}
	return u.validate()
}

// insertSubscriber inserts the subscriber row of u (prepared by
// prepareNew) and its uri row inside tx.
func (s *Store) insertSubscriber(ctx context.Context, tx *sql.Tx, u Subscriber) error {
	now := dbTime(s.now())
	_, err := tx.ExecContext(ctx, "INSERT INTO subscriber ("+subscriberCols+") VALUES ("+placeholders(21)+")",
		u.Username, u.Domain, u.Password, u.HA1, u.HA1B, u.PHPLibID, u.FirstName, u.LastName, u.Phone,
		u.Email, now, now, u.Confirmation, u.Flag, u.SendNotification, u.Greeting, boolChar(u.AllowFind),
		nullString(u.Timezone), nullString(u.RPID), nullString(u.UUID), u.Domn)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, s.d.InsertIgnore("uri", []string{"username", "domain", "uri_user", "last_modified"}),
		u.Username, u.Domain, u.Username, now)
	return err
}

// aor formats user@domain (just user when domain is empty) for messages.
func aor(user, domain string) string {
	if domain == "" {
		return user
	}
	return user + "@" + domain
}

// Subscriber returns the subscriber username@domain, or ErrNotFound.
func (s *Store) Subscriber(ctx context.Context, username, domain string) (Subscriber, error) {
	row := s.r.QueryRowContext(ctx, "SELECT "+subscriberCols+" FROM subscriber WHERE username = ? AND domain = ?",
		username, domain)
	u, err := scanSubscriber(row)
	if err == sql.ErrNoRows {
		return u, fmt.Errorf("store: subscriber %s: %w", aor(username, domain), ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("store: subscriber %s: %w", aor(username, domain), err)
	}
	return u, nil
}

// SubscriberByPHPLibID returns the subscriber with serweb's user key id.
func (s *Store) SubscriberByPHPLibID(ctx context.Context, id string) (Subscriber, error) {
	row := s.r.QueryRowContext(ctx, "SELECT "+subscriberCols+" FROM subscriber WHERE phplib_id = ?", id)
	u, err := scanSubscriber(row)
	if err == sql.ErrNoRows {
		return u, fmt.Errorf("store: subscriber with phplib_id %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return u, fmt.Errorf("store: subscriber with phplib_id %q: %w", id, err)
	}
	return u, nil
}

// UpdateSubscriber stores the profile fields of u (names, phone, e-mail,
// confirmation, flag, sendnotification, greeting, allow_find, timezone,
// rpid, uuid, domn) and sets datetime_modified. Credentials change only
// through SetPassword. An unknown user gives ErrNotFound.
func (s *Store) UpdateSubscriber(ctx context.Context, u Subscriber) error {
	if u.Flag == "" {
		u.Flag = "o"
	}
	if err := u.validate(); err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, `UPDATE subscriber SET first_name = ?, last_name = ?, phone = ?,
  email_address = ?, confirmation = ?, flag = ?, sendnotification = ?, greeting = ?, allow_find = ?,
  timezone = ?, rpid = ?, uuid = ?, domn = ?, datetime_modified = ?
WHERE username = ? AND domain = ?`,
		u.FirstName, u.LastName, u.Phone, u.Email, u.Confirmation, u.Flag, u.SendNotification, u.Greeting,
		boolChar(u.AllowFind), nullString(u.Timezone), nullString(u.RPID), nullString(u.UUID), u.Domn,
		dbTime(s.now()), u.Username, u.Domain)
	if err != nil {
		return fmt.Errorf("store: update subscriber %s: %w", aor(u.Username, u.Domain), err)
	}
	return affected(res, "update subscriber "+aor(u.Username, u.Domain))
}

// SetPassword sets ha1 and ha1b (realm = domain) and datetime_modified of
// a subscriber (serctl passwd). The password column gets the new password
// when the store keeps plain-text passwords, else it is emptied (an old
// plain-text password does not outlive a change).
func (s *Store) SetPassword(ctx context.Context, username, domain, password string) error {
	return s.setPassword(ctx, s.w, username, domain, password)
}

// setPassword is SetPassword on db.
func (s *Store) setPassword(ctx context.Context, db execer, username, domain, password string) error {
	if err := checkLen("password", password, 25); err != nil {
		return err
	}
	plain := ""
	if s.plaintext {
		plain = password
	}
	res, err := db.ExecContext(ctx, "UPDATE subscriber SET password = ?, ha1 = ?, ha1b = ?, datetime_modified = ? WHERE username = ? AND domain = ?",
		plain, HA1(username, domain, password), HA1B(username, domain, domain, password), dbTime(s.now()),
		username, domain)
	if err != nil {
		return fmt.Errorf("store: set password of %s: %w", aor(username, domain), err)
	}
	return affected(res, "set password of "+aor(username, domain))
}

// SetPasswordAndPreference sets a subscriber's password as SetPassword
// does and, in the same transaction, the preference p of that subscriber
// (the console's mark of a one-time password: the new password and its
// mark are stored together or not at all). An unknown user gives
// ErrNotFound and changes nothing.
func (s *Store) SetPasswordAndPreference(ctx context.Context, username, domain, password string, p Preference) error {
	p.Username, p.Domain = username, domain
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.setPassword(ctx, tx, username, domain, password); err != nil {
			return err
		}
		return s.setPreference(ctx, tx, p)
	})
}

// SetRPID sets (or with "" clears to NULL) a subscriber's rpid column
// (serctl rpid add/rm).
func (s *Store) SetRPID(ctx context.Context, username, domain, rpid string) error {
	if err := checkLen("rpid", rpid, 128); err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, "UPDATE subscriber SET rpid = ?, datetime_modified = ? WHERE username = ? AND domain = ?",
		nullString(rpid), dbTime(s.now()), username, domain)
	if err != nil {
		return fmt.Errorf("store: set rpid of %s: %w", aor(username, domain), err)
	}
	return affected(res, "set rpid of "+aor(username, domain))
}

// DeleteSubscriber removes a subscriber with its uri, grp and
// admin_privileges rows in one transaction (serctl rm; contacts are
// removed through usrloc's ul_rm). An unknown user gives ErrNotFound and
// changes nothing.
func (s *Store) DeleteSubscriber(ctx context.Context, username, domain string) error {
	return s.deleteSubscriber(ctx, "delete", username, domain, rmTables)
}

// rmTables are the tables serctl rm empties of a user's rows with the
// subscriber row; userTables are those of serweb's delete (PurgeSubscriber).
// Accounting (acc, missed_calls) is history and stays in both.
var (
	rmTables   = []string{"uri", "grp", "admin_privileges"}
	userTables = append(rmTables[:len(rmTables):len(rmTables)],
		"phonebook", "usr_preferences", "speed_dial", "calls_forwarding", "event")
)

// PurgeSubscriber removes a subscriber and, in the same transaction, its
// rows in uri, grp, admin_privileges, phonebook, usr_preferences,
// speed_dial, calls_forwarding and event (serweb's per-table delete
// methods). In-memory contacts and aliases are the caller's (ul_rm
// through the FIFO). An unknown user gives ErrNotFound and changes
// nothing.
func (s *Store) PurgeSubscriber(ctx context.Context, username, domain string) error {
	return s.deleteSubscriber(ctx, "purge", username, domain, userTables)
}

// deleteSubscriber removes the subscriber row and the user's rows in
// tables in one transaction; verb names the operation in errors.
func (s *Store) deleteSubscriber(ctx context.Context, verb, username, domain string, tables []string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := found(tx.ExecContext(ctx, "DELETE FROM subscriber WHERE username = ? AND domain = ?", username, domain)); err != nil {
			return err
		}
		for _, table := range tables {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE username = ? AND domain = ?", username, domain); err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: %s subscriber %s: %w", verb, aor(username, domain), err)
	}
	return nil
}

// SubscriberFilter selects subscribers for ListSubscribers.
type SubscriberFilter struct {
	// Domain limits the list to one domain when not empty.
	Domain string
	// Search matches, case-insensitively, anywhere in username,
	// first_name, last_name or email_address.
	Search string
	// AllowFindOnly keeps only users with allow_find = '1' (serweb's find
	// user tab).
	AllowFindOnly bool
	Page
}

// ListSubscribers returns a page of subscribers ordered by domain and
// username, and the number of subscribers matching f in all pages.
func (s *Store) ListSubscribers(ctx context.Context, f SubscriberFilter) ([]Subscriber, int, error) {
	var (
		where []string
		args  []any
	)
	if f.Domain != "" {
		where = append(where, "domain = ?")
		args = append(args, f.Domain)
	}
	if f.Search != "" {
		p := likePattern(f.Search)
		where = append(where, "(LOWER(username) LIKE ? ESCAPE '!' OR LOWER(first_name) LIKE ? ESCAPE '!' "+
			"OR LOWER(last_name) LIKE ? ESCAPE '!' OR LOWER(email_address) LIKE ? ESCAPE '!')")
		args = append(args, p, p, p, p)
	}
	if f.AllowFindOnly {
		where = append(where, "allow_find = '1'")
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM subscriber"+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: count subscribers: %w", err)
	}
	lim, largs := f.Page.clause()
	rows, err := s.r.QueryContext(ctx, "SELECT "+subscriberCols+" FROM subscriber"+cond+" ORDER BY domain, username"+lim,
		append(args, largs...)...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: list subscribers: %w", err)
	}
	defer rows.Close()
	var out []Subscriber
	for rows.Next() {
		u, err := scanSubscriber(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("store: list subscribers: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("store: list subscribers: %w", err)
	}
	return out, total, nil
}
