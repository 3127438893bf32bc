package store

import (
	"context"
	"fmt"
)

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
