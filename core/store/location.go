package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"
)

// The range of MySQL's TIMESTAMP type.
var (
	mysqlTimestampMin = time.Date(1970, 1, 1, 0, 0, 1, 0, time.UTC)
	mysqlTimestampMax = time.Date(2038, 1, 19, 3, 14, 7, 0, time.UTC)
)

// FlagPermanent is usrloc's FL_PERMANENT contact flag (serctl ul add …
// 128): the contact never expires. The store writes such contacts with
// expires = Forever and DeleteExpired never removes them.
const FlagPermanent = 128

// Contact is a row of a location-like table ("location", "aliases" or any
// table usrloc is told to use): one contact of the AOR Username@Domain.
// With usrloc's use_domain off, Domain is "".
type Contact struct {
	Username, Domain string
	// Contact is the contact URI (part of the key).
	Contact string
	// Received is the source address the REGISTER came from (NAT); ""
	// is stored as NULL.
	Received string
	// Expires is the absolute expiry time; Forever for permanent contacts.
	Expires time.Time
	// Q is the contact's q value (0.00–1.00).
	Q      float64
	CallID string
	CSeq   int
	// LastModified is set to now by the store when zero.
	LastModified time.Time
	Replicate    int
	State        int
	Flags        int
	// UserAgent is cut to the column's 50 characters.
	UserAgent string
	// Path is the REGISTER's Path (RFC 3327), its values joined by ","
	// (the route set towards the contact); "" is stored as NULL.
	Path string
}

// Permanent reports whether the contact carries FlagPermanent.
func (c *Contact) Permanent() bool { return c.Flags&FlagPermanent != 0 }

// locSelect is the select list of a location row. The DATETIME columns
// are read as text (CAST … AS CHAR, the same in both engines) and parsed
// by timeScan's fixed-layout parser: go-sqlite3's own DATETIME parsing
// tries several layouts and was a quarter of LoadContacts' time.
const locSelect = "username, domain, contact, received, CAST(expires AS CHAR), q, callid, cseq, " +
	"CAST(last_modified AS CHAR), replicate, state, flags, user_agent, path"

// locKeys are the primary key columns of a location table; locUpdate the
// columns an upsert overwrites.
var (
	locColList = []string{"username", "domain", "contact", "received", "expires", "q", "callid", "cseq",
		"last_modified", "replicate", "state", "flags", "user_agent", "path"}
	locKeys   = []string{"username", "domain", "contact"}
	locUpdate = locColList[3:]
)

// contactArgs returns the parameters for locColList, applying the store's
// rules: permanent → Forever, zero LastModified → now, user_agent cut.
func (s *Store) contactArgs(c *Contact) []any {
	exp := c.Expires
	if c.Permanent() {
		exp = Forever
	}
	lm := c.LastModified
	if lm.IsZero() {
		lm = s.now()
	}
	if s.d == MySQL {
		// last_modified is a TIMESTAMP there: 1970-01-01 00:00:01 to
		// 2038-01-19 03:14:07 UTC. A time outside must not lose the
		// registration.
		if lm.Before(mysqlTimestampMin) {
			lm = mysqlTimestampMin
		} else if lm.After(mysqlTimestampMax) {
			lm = mysqlTimestampMax
		}
	}
	return []any{c.Username, c.Domain, c.Contact, nullString(c.Received), dbTime(exp), c.Q, c.CallID, c.CSeq,
		dbTime(lm), c.Replicate, c.State, c.Flags, cut(c.UserAgent, 50), nullString(c.Path)}
}

// scanContact scans a row selected with locSelect into c.
func (s *Store) scanContact(sc interface{ Scan(...any) error }, c *Contact) error {
	var rcv, path sql.NullString
	err := sc.Scan(&c.Username, &c.Domain, &c.Contact, &rcv, timeScan{&c.Expires}, &c.Q, &c.CallID, &c.CSeq,
		timeScan{&c.LastModified}, &c.Replicate, &c.State, &c.Flags, &c.UserAgent, &path)
	c.Received, c.Path = rcv.String, path.String
	if c.Permanent() {
		// Whatever the row says: SER's usrloc wrote a permanent
		// contact's expires as 0 (1970-01-01 in its local time).
		c.Expires = Forever
	}
	if s.d == MySQL {
		// q is a FLOAT column, which MySQL's binary protocol hands over
		// as a float32 (0.9 reads 0.8999999761…): take the shortest
		// decimal that is the same float32, as the text protocol would.
		c.Q, _ = strconv.ParseFloat(strconv.FormatFloat(c.Q, 'g', -1, 32), 64)
	}
	return err
}

// checkContact validates the key of c.
func checkContact(c *Contact) error {
	if err := checkKey("contact", c.Contact); err != nil {
		return err
	}
	return checkKey("username", c.Username)
}

// LoadContacts streams every row of table to fn, in no particular order
// (usrloc's preload at start-up in db_mode 1 and 2, ul_dump in db_mode 3).
// Rows are read in one query on a read connection; fn may call the store.
// An error from fn stops the load and is returned as is.
func (s *Store) LoadContacts(ctx context.Context, table string, fn func(Contact) error) error {
	qt, err := s.ident(table)
	if err != nil {
		return err
	}
	rows, err := s.r.QueryContext(ctx, "SELECT "+locSelect+" FROM "+qt)
	if err != nil {
		return fmt.Errorf("store: load %s: %w", table, err)
	}
	defer rows.Close()
	var c Contact
	for rows.Next() {
		if err := s.scanContact(rows, &c); err != nil {
			return fmt.Errorf("store: load %s: %w", table, err)
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: load %s: %w", table, err)
	}
	return nil
}

// Contacts returns the contacts of the AOR username@domain in table,
// highest q first, then most recently modified (usrloc db_mode 3 lookups).
// Expired contacts are included; callers compare Expires themselves.
func (s *Store) Contacts(ctx context.Context, table, username, domain string) ([]Contact, error) {
	qt, err := s.ident(table)
	if err != nil {
		return nil, err
	}
	st, err := s.prepared(ctx, s.r, "SELECT "+locSelect+" FROM "+qt+
		" WHERE username = ? AND domain = ? ORDER BY q DESC, last_modified DESC")
	if err != nil {
		return nil, fmt.Errorf("store: contacts of %s: %w", aor(username, domain), err)
	}
	rows, err := st.QueryContext(ctx, username, domain)
	if err != nil {
		return nil, fmt.Errorf("store: contacts of %s: %w", aor(username, domain), err)
	}
	defer rows.Close()
	var out []Contact
	for rows.Next() {
		var c Contact
		if err := s.scanContact(rows, &c); err != nil {
			return nil, fmt.Errorf("store: contacts of %s: %w", aor(username, domain), err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: contacts of %s: %w", aor(username, domain), err)
	}
	return out, nil
}

// CountContacts returns the number of rows of table and the number of
// distinct AORs in it (ul_stats in db_mode 3).
func (s *Store) CountContacts(ctx context.Context, table string) (contacts, aors int, err error) {
	qt, err := s.ident(table)
	if err != nil {
		return 0, 0, err
	}
	err = s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+qt).Scan(&contacts)
	if err == nil {
		err = s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM (SELECT DISTINCT username, domain FROM "+qt+") a").Scan(&aors)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("store: count %s: %w", table, err)
	}
	return contacts, aors, nil
}

// upsertQuery, deleteQuery and deleteAORQuery build the usrloc writes.
func (s *Store) upsertQuery(qt string) string {
	return s.d.Upsert(qt, locColList, locKeys, locUpdate)
}

func deleteQuery(qt string) string {
	return "DELETE FROM " + qt + " WHERE username = ? AND domain = ? AND contact = ?"
}

func deleteAORQuery(qt string) string {
	return "DELETE FROM " + qt + " WHERE username = ? AND domain = ?"
}

// UpsertContact inserts c into table or, when (username, domain, contact)
// exists, overwrites its other columns (usrloc write-through, db_mode 1
// and 3).
func (s *Store) UpsertContact(ctx context.Context, table string, c Contact) error {
	qt, err := s.ident(table)
	if err != nil {
		return err
	}
	if err := checkContact(&c); err != nil {
		return err
	}
	if s.d == MySQL {
		_, err = s.upsertBatcher(qt).do(ctx, s.contactArgs(&c))
	} else {
		err = s.execOne(ctx, s.upsertQuery(qt), s.contactArgs(&c))
	}
	if err != nil {
		return fmt.Errorf("store: save contact of %s: %w", aor(c.Username, c.Domain), err)
	}
	return nil
}

// DeleteContact removes one contact of username@domain from table, or
// gives ErrNotFound.
func (s *Store) DeleteContact(ctx context.Context, table, username, domain, contact string) error {
	qt, err := s.ident(table)
	if err != nil {
		return err
	}
	st, err := s.prepared(ctx, s.w, deleteQuery(qt))
	if err != nil {
		return fmt.Errorf("store: delete contact of %s: %w", aor(username, domain), err)
	}
	res, err := st.ExecContext(ctx, username, domain, contact)
	if err != nil {
		return fmt.Errorf("store: delete contact of %s: %w", aor(username, domain), err)
	}
	return affected(res, "delete contact "+contact+" of "+aor(username, domain))
}

// DeleteAOR removes every contact of username@domain from table (ul_rm)
// and returns how many went.
func (s *Store) DeleteAOR(ctx context.Context, table, username, domain string) (int64, error) {
	qt, err := s.ident(table)
	if err != nil {
		return 0, err
	}
	st, err := s.prepared(ctx, s.w, deleteAORQuery(qt))
	if err != nil {
		return 0, fmt.Errorf("store: delete %s: %w", aor(username, domain), err)
	}
	res, err := st.ExecContext(ctx, username, domain)
	if err != nil {
		return 0, fmt.Errorf("store: delete %s: %w", aor(username, domain), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: delete %s: %w", aor(username, domain), err)
	}
	return n, nil
}

// DeleteExpired removes the contacts of table that expired before now,
// permanent ones excepted (the usrloc timer), and returns how many went.
func (s *Store) DeleteExpired(ctx context.Context, table string, now time.Time) (int64, error) {
	qt, err := s.ident(table)
	if err != nil {
		return 0, err
	}
	res, err := s.w.ExecContext(ctx, "DELETE FROM "+qt+" WHERE expires < ? AND (flags & ?) = 0", dbTime(now), FlagPermanent)
	if err != nil {
		return 0, fmt.Errorf("store: delete expired from %s: %w", table, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: delete expired from %s: %w", table, err)
	}
	return n, nil
}

// ContactOpKind says what a ContactOp does.
type ContactOpKind int

// The kinds of ContactOp.
const (
	// OpUpsert inserts or overwrites Contact (UpsertContact).
	OpUpsert ContactOpKind = iota
	// OpDelete removes Contact's (username, domain, contact) row; a
	// missing row is not an error in a flush.
	OpDelete
	// OpDeleteAOR removes every contact of Contact's username and domain.
	OpDeleteAOR
)

// ContactOp is one change of a write-back flush.
type ContactOp struct {
	Kind    ContactOpKind
	Contact Contact
}

// FlushContacts applies ops to table in order, in one transaction
// (usrloc db_mode 2 write-back timer): all of them or, on error, none.
func (s *Store) FlushContacts(ctx context.Context, table string, ops []ContactOp) error {
	if len(ops) == 0 {
		return nil
	}
	qt, err := s.ident(table)
	if err != nil {
		return err
	}
	for i := range ops {
		if ops[i].Kind == OpDeleteAOR {
			if err := checkKey("username", ops[i].Contact.Username); err != nil {
				return err
			}
		} else if err := checkContact(&ops[i].Contact); err != nil {
			return err
		}
	}
	if s.d == MySQL {
		return s.flushMySQL(ctx, table, qt, ops)
	}
	queries := [...]string{OpUpsert: s.upsertQuery(qt), OpDelete: deleteQuery(qt), OpDeleteAOR: deleteAORQuery(qt)}
	var stmts [len(queries)]*sql.Stmt
	for i, q := range queries {
		if stmts[i], err = s.prepared(ctx, s.w, q); err != nil {
			return fmt.Errorf("store: flush %s: %w", table, err)
		}
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var txStmts [len(stmts)]*sql.Stmt
		for i, st := range stmts {
			txStmts[i] = tx.StmtContext(ctx, st)
			defer txStmts[i].Close()
		}
		for i := range ops {
			c := &ops[i].Contact
			var err error
			switch ops[i].Kind {
			case OpUpsert:
				_, err = txStmts[OpUpsert].ExecContext(ctx, s.contactArgs(c)...)
			case OpDelete:
				_, err = txStmts[OpDelete].ExecContext(ctx, c.Username, c.Domain, c.Contact)
			case OpDeleteAOR:
				_, err = txStmts[OpDeleteAOR].ExecContext(ctx, c.Username, c.Domain)
			default:
				err = fmt.Errorf("unknown op kind %d: %w", ops[i].Kind, ErrInvalid)
			}
			if err != nil {
				return fmt.Errorf("op %d (%s): %w", i, aor(c.Username, c.Domain), err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: flush %s: %w", table, err)
	}
	return nil
}

// UserContacts returns the rows of a location-like table whose username
// is username, in any domain, latest expiry first (serctl showdb <user>:
// "select location.* from location where username=… order by expires
// desc").
func (s *Store) UserContacts(ctx context.Context, table, username string) ([]Contact, error) {
	qt, err := s.ident(table)
	if err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, "SELECT "+locSelect+" FROM "+qt+
		" WHERE username = ? ORDER BY expires DESC, domain, contact", username)
	if err != nil {
		return nil, fmt.Errorf("store: contacts of %s: %w", username, err)
	}
	defer rows.Close()
	var out []Contact
	for rows.Next() {
		var c Contact
		if err := s.scanContact(rows, &c); err != nil {
			return nil, fmt.Errorf("store: contacts of %s: %w", username, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: contacts of %s: %w", username, err)
	}
	return out, nil
}

// OnlineUser is a location row joined with its subscriber (serctl showdb).
type OnlineUser struct {
	Username, Domain, Email, CallID string
}

// OnlineUsers returns the rows of a location-like table that belong to a
// subscriber, with the subscriber's e-mail address, ordered by username
// (serctl showdb without a user). A row matches a subscriber of the same
// username and domain, or of the same username when the row has no domain
// (usrloc without use_domain); SER joined on the username alone.
func (s *Store) OnlineUsers(ctx context.Context, table string) ([]OnlineUser, error) {
	qt, err := s.ident(table)
	if err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, "SELECT l.username, s.domain, s.email_address, l.callid FROM subscriber s, "+qt+
		" l WHERE s.username = l.username AND (l.domain = s.domain OR l.domain = '') "+
		"ORDER BY l.username, s.domain, l.contact")
	if err != nil {
		return nil, fmt.Errorf("store: online users in %s: %w", table, err)
	}
	defer rows.Close()
	var out []OnlineUser
	for rows.Next() {
		var u OnlineUser
		if err := rows.Scan(&u.Username, &u.Domain, &u.Email, &u.CallID); err != nil {
			return nil, fmt.Errorf("store: online users in %s: %w", table, err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: online users in %s: %w", table, err)
	}
	return out, nil
}
