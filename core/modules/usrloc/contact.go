package usrloc

import "time"

// Contact flags (SER 0.9 ucontact.h flags_t). Only FlagNAT, FlagPermanent
// and FlagMem change behaviour here; the others are stored and shown.
const (
	// FlagNAT marks a contact registered from behind a NAT.
	FlagNAT uint32 = 1 << 0
	// FlagInvite … FlagNoSubscribe are SER's method capability flags.
	FlagInvite      uint32 = 1 << 1
	FlagNoInvite    uint32 = 1 << 2
	FlagMessage     uint32 = 1 << 3
	FlagNoMessage   uint32 = 1 << 4
	FlagSubscribe   uint32 = 1 << 5
	FlagNoSubscribe uint32 = 1 << 6
	// FlagPermanent (128) marks a contact that never expires (serctl
	// alias add / ul add use it).
	FlagPermanent uint32 = 1 << 7
	// FlagMem marks a contact kept in memory only, never written to a
	// database backend.
	FlagMem uint32 = 1 << 8
)

// State is a contact's synchronisation state with the database (SER's
// cstate_t). With db_mode 0 every contact stays StateNew.
type State uint8

// Contact states.
const (
	StateNew State = iota
	StateSync
	StateDirty
	StateZombieN
	StateZombieS
	StateZombieD
)

// String returns SER's name of the state ("CS_NEW", …).
func (s State) String() string {
	switch s {
	case StateNew:
		return "CS_NEW"
	case StateSync:
		return "CS_SYNC"
	case StateDirty:
		return "CS_DIRTY"
	case StateZombieN:
		return "CS_ZOMBIE_N"
	case StateZombieS:
		return "CS_ZOMBIE_S"
	case StateZombieD:
		return "CS_ZOMBIE_D"
	}
	return "CS_UNKNOWN"
}

// Contact is one binding of an address-of-record. Values returned by the
// API are copies: changing them changes nothing in the table.
type Contact struct {
	// URI is the contact address as registered ("sip:john@10.0.0.1:5060").
	// Contacts of one AOR are told apart by a byte-wise comparison of URI.
	URI string
	// Expires is the absolute expiry time in Unix seconds. A contact with
	// FlagPermanent never expires whatever this says.
	Expires int64
	// Q is the contact's q-value.
	Q Q
	// CallID and CSeq are those of the REGISTER that last changed the
	// contact.
	CallID string
	CSeq   int32
	// Replicate is SER's replication mark (shown as "replic").
	Replicate int32
	// State is the database synchronisation state.
	State State
	// Flags are Flag* bits.
	Flags uint32
	// UserAgent is the User-Agent of the registering client.
	UserAgent string
	// Received is the address the REGISTER came from ("sip:1.2.3.4:5060")
	// when the client is behind a NAT; requests to the contact are sent
	// there. Empty when not needed.
	Received string
	// LastModified is when the contact was inserted or last updated, in
	// Unix seconds.
	LastModified int64
	// Path is the Path of the REGISTER (RFC 3327) as stored by the
	// registrar with use_path: the URIs, joined by ",", of the proxies
	// requests to the contact must pass ("<sip:lb.example.com;lr>"). Empty
	// when there was none.
	Path string

	// id identifies the contact in ul_dump output (SER printed pointers).
	id uint64
	// seq orders contacts of equal q: a higher seq was changed later.
	seq uint64
}

// ID returns a number identifying the contact while it exists (what SER's
// ul_dump printed as the contact's address).
func (c *Contact) ID() uint64 { return c.id }

// Permanent reports whether the contact never expires.
func (c *Contact) Permanent() bool { return c.Flags&FlagPermanent != 0 }

// ValidAt reports whether the contact is still registered at Unix time now
// (SER's VALID_CONTACT: not yet expired, or permanent).
func (c *Contact) ValidAt(now int64) bool { return c.Expires > now || c.Permanent() }

// ExpiresAt returns Expires as a time.
func (c *Contact) ExpiresAt() time.Time { return time.Unix(c.Expires, 0) }

// ExpiresIn returns the seconds left until the contact expires at Unix
// time now; it is negative once past (permanent contacts added with
// expires 0 show a negative, growing value, as in SER).
func (c *Contact) ExpiresIn(now int64) int64 { return c.Expires - now }
