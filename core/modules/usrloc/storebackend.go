package usrloc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"ser/core/store"
)

// storeBackend is the Backend over core/store's location tables.
type storeBackend struct {
	st        *store.Store
	useDomain bool
}

// NewStoreBackend returns a Backend storing contacts in st's location
// tables. With useDomain (usrloc's use_domain) an AOR "user@domain" is
// stored as username "user" and domain "domain", and rows are read back as
// "username@domain"; without it the whole AOR is the username and the
// domain column stays empty, as SER 0.9 did.
//
// Values are converted as follows: expires and last_modified are Unix
// seconds in memory and DATETIMEs (UTC) in the table; q is in thousandths
// in memory and a float in the table, an unset q (QUnset) stored as -1 so
// that it survives a restart; the state column is written 0. The store
// writes permanent contacts (FlagPermanent) with expires = store.Forever;
// they are read back with Expires = LastModified, so ul_show_contact keeps
// showing SER's negative, growing expires for a contact added with
// expires 0.
func NewStoreBackend(st *store.Store, useDomain bool) Backend {
	return &storeBackend{st: st, useDomain: useDomain}
}

// split maps an AOR to the username and domain columns.
func (b *storeBackend) split(aor string) (user, domain string) {
	if b.useDomain {
		if at := strings.IndexByte(aor, '@'); at >= 0 {
			return aor[:at], aor[at+1:]
		}
	}
	return aor, ""
}

// join maps the username and domain columns back to an AOR.
func (b *storeBackend) join(user, domain string) string {
	if b.useDomain && domain != "" {
		return user + "@" + domain
	}
	return user
}

// qToFloat and qFromFloat convert q between memory and the table.
func qToFloat(q Q) float64 {
	if q == QUnset {
		return -1
	}
	return float64(q) / 1000
}

func qFromFloat(f float64) Q {
	if f < 0 {
		return QUnset
	}
	return QFromFloat(f)
}

// toRow converts a contact of aor to a table row.
func (b *storeBackend) toRow(aor string, c *Contact) store.Contact {
	user, domain := b.split(aor)
	exp := time.Unix(c.Expires, 0)
	if exp.After(store.Forever) {
		exp = store.Forever // the largest DATETIME
	}
	r := store.Contact{
		Username: user, Domain: domain, Contact: c.URI, Received: c.Received,
		Expires: exp, Q: qToFloat(c.Q), CallID: c.CallID, CSeq: int(c.CSeq),
		Replicate: int(c.Replicate), Flags: int(c.Flags), UserAgent: c.UserAgent, Path: c.Path,
	}
	if c.LastModified != 0 {
		r.LastModified = time.Unix(c.LastModified, 0)
	}
	return r
}

// fromRow converts a table row to a contact (without id and order).
func fromRow(r *store.Contact) Contact {
	c := Contact{
		URI: r.Contact, Q: qFromFloat(r.Q), CallID: r.CallID, CSeq: int32(r.CSeq),
		Replicate: int32(r.Replicate), State: StateSync, Flags: uint32(r.Flags),
		UserAgent: r.UserAgent, Received: r.Received, Path: r.Path,
	}
	if !r.LastModified.IsZero() {
		c.LastModified = r.LastModified.Unix()
	}
	switch {
	case c.Permanent() && !r.Expires.Before(store.Forever):
		c.Expires = c.LastModified
	case !r.Expires.IsZero():
		c.Expires = r.Expires.Unix()
	}
	return c
}

func (b *storeBackend) EnsureTable(ctx context.Context, table string) error {
	return b.st.EnsureLocationTable(ctx, table)
}

// internLimit bounds the table of User-Agent strings shared during a
// load: a million phones use a few hundred distinct User-Agents.
const internLimit = 4096

func (b *storeBackend) Load(ctx context.Context, table string, fn func(aor string, c Contact) error) error {
	uas := make(map[string]string)
	return b.st.LoadContacts(ctx, table, func(r store.Contact) error {
		c := fromRow(&r)
		if ua, ok := uas[c.UserAgent]; ok {
			c.UserAgent = ua
		} else if len(uas) < internLimit {
			uas[c.UserAgent] = c.UserAgent
		}
		return fn(b.join(r.Username, r.Domain), c)
	})
}

func (b *storeBackend) Contacts(ctx context.Context, table, aor string) ([]Contact, error) {
	user, domain := b.split(aor)
	rows, err := b.st.Contacts(ctx, table, user, domain)
	if err != nil {
		return nil, err
	}
	out := make([]Contact, len(rows))
	for i := range rows {
		out[i] = fromRow(&rows[i])
	}
	return out, nil
}

func (b *storeBackend) Apply(ctx context.Context, table string, ops []Op) error {
	if len(ops) == 1 {
		// One change (most REGISTERs): a single statement, no explicit
		// transaction.
		op := &ops[0]
		switch op.Kind {
		case OpPut:
			return b.st.UpsertContact(ctx, table, b.toRow(op.AOR, &op.Contact))
		case OpDelete:
			user, domain := b.split(op.AOR)
			err := b.st.DeleteContact(ctx, table, user, domain, op.Contact.URI)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			return err
		case OpDeleteAOR:
			user, domain := b.split(op.AOR)
			_, err := b.st.DeleteAOR(ctx, table, user, domain)
			return err
		}
		return fmt.Errorf("usrloc: unknown operation %d", op.Kind)
	}
	sops := make([]store.ContactOp, len(ops))
	for i := range ops {
		op := &ops[i]
		switch op.Kind {
		case OpPut:
			sops[i] = store.ContactOp{Kind: store.OpUpsert, Contact: b.toRow(op.AOR, &op.Contact)}
		case OpDelete:
			user, domain := b.split(op.AOR)
			sops[i] = store.ContactOp{Kind: store.OpDelete, Contact: store.Contact{Username: user, Domain: domain, Contact: op.Contact.URI}}
		case OpDeleteAOR:
			user, domain := b.split(op.AOR)
			sops[i] = store.ContactOp{Kind: store.OpDeleteAOR, Contact: store.Contact{Username: user, Domain: domain}}
		default:
			return fmt.Errorf("usrloc: unknown operation %d", op.Kind)
		}
	}
	return b.st.FlushContacts(ctx, table, sops)
}

func (b *storeBackend) DeleteExpired(ctx context.Context, table string, now int64) (int64, error) {
	return b.st.DeleteExpired(ctx, table, time.Unix(now, 0))
}

func (b *storeBackend) Count(ctx context.Context, table string) (int64, int64, error) {
	c, a, err := b.st.CountContacts(ctx, table)
	return int64(c), int64(a), err
}
