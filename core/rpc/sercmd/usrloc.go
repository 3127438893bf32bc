package sercmd

import (
	"context"
	"strconv"
)

// FlagPermanent is usrloc's FL_PERMANENT: a contact that never expires
// (serctl's "ul add … 0 1.00 0 128").
const FlagPermanent = 128

// Contact is one registered contact as the usrloc commands show it.
type Contact struct {
	// ID is the contact's id, which ul_dump prints where SER printed the
	// structure's address ("~~~Contact(0x1f)~~~"); 0 from ul_show_contact.
	ID  uint64 `json:"id"`
	URI string `json:"uri"`
	// Q is the q value as ser prints it ("1", "0.5", "" when unset).
	Q string `json:"q"`
	// Expires is the number of seconds left. ul_show_contact shows
	// permanent contacts with a negative value; ul_dump shows expired
	// contacts not yet removed with a negative value too.
	Expires int `json:"expires"`
	// Permanent is set for contacts that never expire: FlagPermanent in
	// process and in ul_dump; ul_show_contact's text does not carry the
	// flags, so a contact read from it is permanent when Expires <= 0
	// (serweb's rule: it lists valid contacts only).
	Permanent bool `json:"permanent"`
	// The fields below are known from ul_dump only.
	CallID    string `json:"call_id,omitempty"`
	CSeq      int    `json:"cseq,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
	Received  string `json:"received,omitempty"`
	State     string `json:"state,omitempty"`
	Flags     uint32 `json:"flags"`
	Replicate uint32 `json:"replicate"`
}

// Contacts is ul_show_contact's result: the valid contacts of an AOR.
type Contacts []Contact

// Record is an address of record with its contacts (ul_dump).
type Record struct {
	ID       uint64    `json:"id"` // "...Record(0x1c)..."
	AOR      string    `json:"aor"`
	Contacts []Contact `json:"contacts"`
}

// Table is one usrloc table ("domain" in SER: location, aliases …).
type Table struct {
	ID      uint64   `json:"id"` // "table: 0x2"
	Name    string   `json:"name"`
	Size    int      `json:"size"` // hash table size, "size : 512"
	Records []Record `json:"records"`
}

// Dump is ul_dump's result: every table with its records, expired
// contacts included.
type Dump []Table

// ShowContacts runs ul_show_contact table aor and returns the valid
// contacts. A 404 (no such user, no registered contacts) is an empty list,
// as serweb took it; an unknown table is an *Error (IsNoTable).
func (c *Client) ShowContacts(ctx context.Context, table, aor string) (Contacts, error) {
	rep, err := c.Run(ctx, "ul_show_contact", table, aor)
	if Code(err) == 404 {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return AsContacts(rep), nil
}

// Dump runs ul_dump and returns every table with its records.
func (c *Client) Dump(ctx context.Context) (Dump, error) {
	rep, err := c.Run(ctx, "ul_dump")
	if err != nil {
		return nil, err
	}
	return AsDump(rep)
}

// DumpTable returns one table of ul_dump; ok is false when ser has no
// such table.
func (c *Client) DumpTable(ctx context.Context, table string) (t Table, ok bool, err error) {
	tables, err := c.Dump(ctx)
	if err != nil {
		return Table{}, false, err
	}
	for _, t := range tables {
		if t.Name == table {
			return t, true, nil
		}
	}
	return Table{Name: table}, false, nil
}

// AddPermanent runs ul_add table aor contact 0 1.00 0 128: a contact that
// never expires, as "serctl ul add" and "serctl alias add" (0.9) do.
func (c *Client) AddPermanent(ctx context.Context, table, aor, contact string) error {
	_, err := c.Run(ctx, "ul_add", table, aor, contact, "0", "1.00", "0", strconv.Itoa(FlagPermanent))
	return err
}

// Add runs ul_add with the given expires (seconds) and q: serweb's
// ul_add with replicate 0 and flags 0.
func (c *Client) Add(ctx context.Context, table, aor, contact string, expires int, q string) error {
	if expires <= 0 {
		return c.AddPermanent(ctx, table, aor, contact)
	}
	_, err := c.Run(ctx, "ul_add", table, aor, contact, strconv.Itoa(expires), q, "0", "0")
	return err
}

// RemoveContact runs ul_rm_contact table aor contact.
func (c *Client) RemoveContact(ctx context.Context, table, aor, contact string) error {
	_, err := c.Run(ctx, "ul_rm_contact", table, aor, contact)
	return err
}

// RemoveAOR runs ul_rm table aor: every contact of the AOR goes.
func (c *Client) RemoveAOR(ctx context.Context, table, aor string) error {
	_, err := c.Run(ctx, "ul_rm", table, aor)
	return err
}
