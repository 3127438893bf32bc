package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// JabberAccount is a row of jusers (SER 0.9's jabber module): the XMPP
// account the gateway logs in with for a SIP user.
type JabberAccount struct {
	// SIPID is the SIP user's address of record as SER wrote it,
	// "sip:alice@example.com" (sip_id).
	SIPID string
	// JabID is the XMPP user name (the local part; the gateway's
	// jaddress is the domain) or a full bare JID (jab_id).
	JabID string
	// Password is the XMPP password, in clear as SER kept it
	// (jab_passwd): the gateway needs it to log in.
	Password string
	// Disabled is type 1 (SER's subscription page wrote it to switch an
	// account off); enabled accounts have type 0.
	Disabled bool
}

// EnabledJabberAccount returns the enabled XMPP account of the SIP user
// sipID (SER's query: sip_id = ? AND type = 0), or ErrNotFound.
func (s *Store) EnabledJabberAccount(ctx context.Context, sipID string) (JabberAccount, error) {
	a := JabberAccount{SIPID: sipID}
	var pw sql.NullString
	st, err := s.prepared(ctx, s.r, "SELECT jab_id, jab_passwd FROM jusers WHERE sip_id = ? AND type = 0 ORDER BY juid LIMIT 1")
	if err != nil {
		return a, fmt.Errorf("store: jabber account of %s: %w", sipID, err)
	}
	err = st.QueryRowContext(ctx, sipID).Scan(&a.JabID, &pw)
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("store: no enabled jabber account for %s: %w", sipID, ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("store: jabber account of %s: %w", sipID, err)
	}
	a.Password = pw.String
	return a, nil
}

// JabberAccountID returns the XMPP user name of sipID's account and
// whether it is disabled — everything but the password, for the console —
// or ErrNotFound.
func (s *Store) JabberAccountID(ctx context.Context, sipID string) (jabID string, disabled bool, err error) {
	var typ int
	err = s.r.QueryRowContext(ctx, "SELECT jab_id, type FROM jusers WHERE sip_id = ? ORDER BY juid LIMIT 1", sipID).Scan(&jabID, &typ)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, fmt.Errorf("store: no jabber account for %s: %w", sipID, ErrNotFound)
	}
	if err != nil {
		return "", false, fmt.Errorf("store: jabber account of %s: %w", sipID, err)
	}
	return jabID, typ != 0, nil
}

// SetJabberAccount creates or replaces sipID's account (one row per SIP
// user; SER's page wrote one). An empty Password keeps the stored one
// (and is refused for a new account). Values must fit SER's columns.
func (s *Store) SetJabberAccount(ctx context.Context, a JabberAccount) error {
	if err := checkKey("sip_id", a.SIPID); err != nil {
		return err
	}
	if err := checkKey("jab_id", a.JabID); err != nil {
		return err
	}
	for _, f := range []struct {
		n, v string
		max  int
	}{{"sip_id", a.SIPID, 128}, {"jab_id", a.JabID, 128}, {"jab_passwd", a.Password, 50}} {
		if err := checkLen(f.n, f.v, f.max); err != nil {
			return err
		}
	}
	typ := 0
	if a.Disabled {
		typ = 1
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var juid int
		err := tx.QueryRowContext(ctx, "SELECT juid FROM jusers WHERE sip_id = ? ORDER BY juid LIMIT 1", a.SIPID).Scan(&juid)
		if errors.Is(err, sql.ErrNoRows) {
			if a.Password == "" {
				return fmt.Errorf("store: a new jabber account needs a password: %w", ErrInvalid)
			}
			_, err = tx.ExecContext(ctx, "INSERT INTO jusers (jab_id, jab_passwd, sip_id, type) VALUES (?, ?, ?, ?)",
				a.JabID, a.Password, a.SIPID, typ)
			return err
		}
		if err != nil {
			return err
		}
		if a.Password == "" {
			_, err = tx.ExecContext(ctx, "UPDATE jusers SET jab_id = ?, type = ? WHERE juid = ?", a.JabID, typ, juid)
		} else {
			_, err = tx.ExecContext(ctx, "UPDATE jusers SET jab_id = ?, jab_passwd = ?, type = ? WHERE juid = ?", a.JabID, a.Password, typ, juid)
		}
		if err != nil {
			return err
		}
		// One account per SIP user: rows another tool added are removed.
		_, err = tx.ExecContext(ctx, "DELETE FROM jusers WHERE sip_id = ? AND juid <> ?", a.SIPID, juid)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: set jabber account of %s: %w", a.SIPID, err)
	}
	return nil
}

// DeleteJabberAccount removes sipID's account, or returns ErrNotFound.
func (s *Store) DeleteJabberAccount(ctx context.Context, sipID string) error {
	res, err := s.w.ExecContext(ctx, "DELETE FROM jusers WHERE sip_id = ?", sipID)
	if err != nil {
		return fmt.Errorf("store: delete jabber account of %s: %w", sipID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: delete jabber account of %s: %w", sipID, err)
	}
	if n == 0 {
		return fmt.Errorf("store: no jabber account for %s: %w", sipID, ErrNotFound)
	}
	return nil
}
