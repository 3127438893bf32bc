package usrloc

import (
	"errors"
	"fmt"
	"iter"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Errors returned by the Domain API.
var (
	// ErrNoAOR means the address-of-record has no record in the table.
	ErrNoAOR = errors.New("usrloc: address of record not found")
	// ErrNoContact means the record has no contact with the given URI.
	ErrNoContact = errors.New("usrloc: contact not found")
)

// shardCount is the number of independently locked parts of a table.
const shardCount = 256

// tableSize is the hash size ul_dump reports ("size : 512"), SER 0.9's
// fixed table size.
const tableSize = 512

// Domain is one usrloc table ("location", "aliases", …): records keyed by
// address-of-record, each holding that AOR's contacts ordered by q
// (highest first) and, among equal q, most recently changed first.
//
// All methods are safe for concurrent use. Records are spread over
// shardCount shards, each with its own lock, so saves and lookups of
// different AORs rarely contend.
type Domain struct {
	name string
	m    *Module
	id   uint64

	users    atomic.Int64 // records in the table (SER's d->users)
	expired  atomic.Int64 // contacts removed by the timer (SER's d->expired)
	contacts atomic.Int64 // contacts stored, valid or not

	shards [shardCount]shard
}

type shard struct {
	// wmu serialises the writers of the shard together with their
	// database writes (db_mode 1 and 3, and the mode 1 retry flush), so
	// that the database sees the changes of an AOR in memory's order while
	// readers, which take only mu, never wait for the database.
	wmu  sync.Mutex
	mu   sync.RWMutex
	recs map[string]*record
	// dirty lists, per AOR, the URIs of contacts changed in memory and not
	// yet written to the database: db_mode 2's write-back queue, and the
	// writes db_mode 1 failed to make. Guarded by mu.
	dirty map[string][]string
}

// record is the stored form of one AOR. contacts is replaced, never
// modified in place, while readers may hold it.
type record struct {
	id       uint64
	contacts []Contact
}

func newDomain(m *Module, name string) *Domain {
	d := &Domain{name: name, m: m, id: m.nextID()}
	for i := range d.shards {
		d.shards[i].recs = make(map[string]*record)
	}
	return d
}

// Name returns the table name.
func (d *Domain) Name() string { return d.name }

func (d *Domain) shard(aor string) *shard {
	// FNV-1a, inlined so that no hasher is allocated per call.
	h := uint32(2166136261)
	for i := 0; i < len(aor); i++ {
		h ^= uint32(aor[i])
		h *= 16777619
	}
	return &d.shards[h%shardCount]
}

// Get returns the valid contacts of aor in lookup order (expired contacts
// not yet removed by the timer are left out) and whether the AOR has a
// record at all. The slice is the caller's. In db_mode 3 it reads the
// database; a database error is logged and reported as "no record" (use
// Lookup to get it).
func (d *Domain) Get(aor string) ([]Contact, bool) {
	cs, found, err := d.Lookup(aor)
	if err != nil {
		d.m.log.Error("usrloc lookup failed: database error", "table", d.name, "aor", aor, "err", err)
	}
	return cs, found
}

// Lookup is Get with the database error of db_mode 3 (always nil in the
// other modes, which read memory only).
func (d *Domain) Lookup(aor string) ([]Contact, bool, error) {
	if d.dbOnly() {
		return d.lookupDB(aor)
	}
	cs, found := d.get(aor)
	return cs, found, nil
}

// get is Get from memory.
func (d *Domain) get(aor string) ([]Contact, bool) {
	now := d.m.now().Unix()
	s := d.shard(aor)
	s.mu.RLock()
	r, ok := s.recs[aor]
	if !ok {
		s.mu.RUnlock()
		return nil, false
	}
	out := make([]Contact, 0, len(r.contacts))
	for i := range r.contacts {
		if r.contacts[i].ValidAt(now) {
			out = append(out, r.contacts[i])
		}
	}
	s.mu.RUnlock()
	return out, true
}

// Update runs fn with the record of aor locked, so that a whole REGISTER
// is applied atomically. The record is empty when the AOR is unknown.
// Changes made through the Record are committed only when fn returns nil;
// a record left without contacts is removed from the table.
//
// With a database: in db_mode 1 the changes are written before Update
// returns; a failed write is logged, the change stays in memory and the
// timer retries it (the error is not returned: memory is authoritative,
// as in SER). In db_mode 2 the changed contacts are marked dirty for the
// next flush. In db_mode 3 the record is read from the database and the
// changes written back in one transaction; a database error is returned.
func (d *Domain) Update(aor string, fn func(r *Record) error) error {
	if d.dbOnly() {
		return d.updateDB(aor, fn)
	}
	s := d.shard(aor)
	mode := d.m.cfg.DBMode
	if mode == 1 && d.m.be != nil {
		s.wmu.Lock()
		defer s.wmu.Unlock()
	}
	ops, cleared, err := d.commit(s, aor, fn)
	if err != nil {
		return err
	}
	if mode == 1 && len(ops) > 0 {
		d.writeThrough(s, aor, ops, cleared)
	}
	return nil
}

// commit is Update in memory: it runs fn under the shard's lock and
// stores its changes. With a database it returns the writes the changes
// need (db_mode 2: queued in the shard's dirty list) and whether the
// record was left empty.
func (d *Domain) commit(s *shard, aor string, fn func(r *Record) error) ([]Op, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.recs[aor]
	r := Record{d: d, aor: aor, now: d.m.now().Unix()}
	if old != nil {
		r.contacts = old.contacts
	}
	if err := fn(&r); err != nil {
		return nil, false, err
	}
	if !r.copied {
		return nil, false, nil
	}
	var oldCs []Contact
	if old != nil {
		oldCs = old.contacts
	}
	var ops []Op
	if d.m.be != nil {
		ops = d.changes(aor, oldCs, r.contacts)
		if d.m.cfg.DBMode == 2 {
			s.markDirty(aor, ops)
		}
	}
	d.contacts.Add(int64(len(r.contacts) - len(oldCs)))
	switch {
	case len(r.contacts) == 0 && old != nil:
		delete(s.recs, aor)
		d.users.Add(-1)
	case len(r.contacts) == 0:
	case old == nil:
		s.recs[strings.Clone(aor)] = &record{id: d.m.nextID(), contacts: r.contacts}
		d.users.Add(1)
	default:
		old.contacts = r.contacts
	}
	return ops, len(r.contacts) == 0, nil
}

// Put inserts c into aor's record, or replaces the contact with the same
// URI (keeping its identity). LastModified is set to now.
func (d *Domain) Put(aor string, c Contact) error {
	return d.Update(aor, func(r *Record) error {
		r.Put(c)
		return nil
	})
}

// DeleteContact removes the contact with the given URI from aor, expired
// or not. It returns ErrNoAOR or ErrNoContact when there is nothing to
// remove.
func (d *Domain) DeleteContact(aor, uri string) error {
	return d.Update(aor, func(r *Record) error {
		if !r.exists() {
			return ErrNoAOR
		}
		if !r.Delete(uri) {
			return ErrNoContact
		}
		return nil
	})
}

// DeleteAOR removes aor and all its contacts; it reports whether the AOR
// had a record. A database error of db_mode 3 is logged (use RemoveAOR to
// get it).
func (d *Domain) DeleteAOR(aor string) bool {
	found, err := d.RemoveAOR(aor)
	if err != nil {
		d.m.log.Error("usrloc delete failed: database error", "table", d.name, "aor", aor, "err", err)
	}
	return found
}

// RemoveAOR is DeleteAOR with the database error of db_mode 3.
func (d *Domain) RemoveAOR(aor string) (bool, error) {
	found := false
	err := d.Update(aor, func(r *Record) error {
		found = r.exists()
		r.Clear()
		return nil
	})
	return found, err
}

// Stats are a table's counters.
type Stats struct {
	// Name is the table name.
	Name string
	// Records is the number of AORs with a record (SER's "Registered").
	Records int64
	// Contacts is the number of stored contacts, including expired ones
	// the timer has not removed yet.
	Contacts int64
	// Expired counts contacts removed by the expiry timer since start.
	Expired int64
}

// Stats returns the table's counters. In db_mode 3 Records and Contacts
// are counted in the database; an error there is logged and gives zero
// counts (CheckedStats returns it).
func (d *Domain) Stats() Stats {
	st, err := d.CheckedStats()
	if err != nil {
		d.m.log.Error("usrloc stats failed: database error", "table", d.name, "err", err)
	}
	return st
}

// CheckedStats is Stats with the database error of db_mode 3.
func (d *Domain) CheckedStats() (Stats, error) {
	st := Stats{Name: d.name, Records: d.users.Load(), Contacts: d.contacts.Load(), Expired: d.expired.Load()}
	if d.dbOnly() {
		ctx, cancel := dbContext()
		defer cancel()
		c, a, err := d.m.be.Count(ctx, d.name)
		if err != nil {
			return Stats{Name: d.name, Expired: st.Expired}, fmt.Errorf("usrloc: count %s: %w", d.name, err)
		}
		st.Records, st.Contacts = a, c
	}
	return st, nil
}

// Dump calls fn for every record of the table with a copy of its contacts,
// in the order the records were created, and stops when fn returns false.
// Expired contacts the timer has not removed yet are included when
// withExpired is set (ul_dump shows them), left out otherwise; records
// left with no contact are then skipped. The table is not locked while fn
// runs.
//
// In db_mode 3 the records are read from the database (in its order); an
// error is logged and ends the dump.
func (d *Domain) Dump(withExpired bool, fn func(aor string, contacts []Contact) bool) {
	recs, err := d.snapshot(withExpired)
	if err != nil {
		d.m.log.Error("usrloc dump failed: database error", "table", d.name, "err", err)
	}
	for _, r := range recs {
		if !fn(r.aor, r.contacts) {
			return
		}
	}
}

// Records is Dump as an iterator:
//
//	for aor, contacts := range d.Records(false) { … }
func (d *Domain) Records(withExpired bool) iter.Seq2[string, []Contact] {
	return func(yield func(string, []Contact) bool) { d.Dump(withExpired, yield) }
}

// snapRecord is a copy of one record taken by snapshot.
type snapRecord struct {
	aor      string
	id       uint64
	contacts []Contact
}

// snapshot copies the table, ordered by record creation (db_mode 3: read
// from the database).
func (d *Domain) snapshot(withExpired bool) ([]snapRecord, error) {
	if d.dbOnly() {
		return d.snapshotDB(withExpired)
	}
	now := d.m.now().Unix()
	var out []snapRecord
	for i := range d.shards {
		s := &d.shards[i]
		s.mu.RLock()
		for aor, r := range s.recs {
			cs := make([]Contact, 0, len(r.contacts))
			for _, c := range r.contacts {
				if withExpired || c.ValidAt(now) {
					cs = append(cs, c)
				}
			}
			if len(cs) > 0 || withExpired {
				out = append(out, snapRecord{aor: aor, id: r.id, contacts: cs})
			}
		}
		s.mu.RUnlock()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out, nil
}

// expire removes the contacts of the table that are not valid at Unix
// time now, and the records left empty. It returns how many contacts it
// removed.
func (d *Domain) expire(now int64) int {
	removed := 0
	for i := range d.shards {
		s := &d.shards[i]
		s.mu.Lock()
		for aor, r := range s.recs {
			n := 0
			for j := range r.contacts {
				if !r.contacts[j].ValidAt(now) {
					n++
				}
			}
			if n == 0 {
				continue
			}
			kept := make([]Contact, 0, len(r.contacts)-n)
			for _, c := range r.contacts {
				if c.ValidAt(now) {
					kept = append(kept, c)
				} else {
					d.m.log.Info("binding has expired", "table", d.name, "aor", aor, "contact", c.URI)
				}
			}
			removed += n
			if len(kept) == 0 {
				delete(s.recs, aor)
				d.users.Add(-1)
			} else {
				r.contacts = kept
			}
		}
		s.mu.Unlock()
	}
	d.expired.Add(int64(removed))
	d.contacts.Add(-int64(removed))
	return removed
}

// Record is the set of contacts of one AOR as seen by the function given
// to Domain.Update. It is valid only during that call.
type Record struct {
	d        *Domain
	aor      string
	now      int64
	contacts []Contact
	copied   bool // contacts is a private copy holding changes
}

// AOR returns the address-of-record.
func (r *Record) AOR() string { return r.aor }

// Now returns the Unix time the update runs at.
func (r *Record) Now() int64 { return r.now }

func (r *Record) exists() bool { return len(r.contacts) > 0 }

// Valid returns the contacts valid now, in lookup order.
func (r *Record) Valid() []Contact {
	out := make([]Contact, 0, len(r.contacts))
	for _, c := range r.contacts {
		if c.ValidAt(r.now) {
			out = append(out, c)
		}
	}
	return out
}

// Find returns the contact with the given URI, expired or not.
func (r *Record) Find(uri string) (Contact, bool) {
	for _, c := range r.contacts {
		if c.URI == uri {
			return c, true
		}
	}
	return Contact{}, false
}

func (r *Record) own() {
	if !r.copied {
		r.contacts = slices.Clone(r.contacts)
		r.copied = true
	}
}

// Put inserts c, or replaces the contact with the same URI (keeping its
// identity), stamps LastModified with the update's time and re-orders the
// contacts.
func (r *Record) Put(c Contact) {
	r.own()
	i := slices.IndexFunc(r.contacts, func(x Contact) bool { return x.URI == c.URI })
	// The strings may point into a received message: copied, except
	// those a refresh leaves as they were (the stored copy is kept).
	var old Contact
	if i >= 0 {
		old = r.contacts[i]
	}
	c.URI = keepOrClone(old.URI, c.URI)
	c.CallID = keepOrClone(old.CallID, c.CallID)
	c.UserAgent = keepOrClone(old.UserAgent, c.UserAgent)
	c.Received = keepOrClone(old.Received, c.Received)
	c.Path = keepOrClone(old.Path, c.Path)
	c.LastModified = r.now
	c.seq = r.d.m.nextID()
	if i >= 0 {
		c.id = old.id
		r.contacts[i] = c
	} else {
		c.id = r.d.m.nextID()
		r.contacts = append(r.contacts, c)
	}
	sortContacts(r.contacts, r.d.m.descTimeOrder.Load())
}

// keepOrClone returns old when s equals it, else a copy of s.
func keepOrClone(old, s string) string {
	if s == old {
		return old
	}
	return strings.Clone(s)
}

// sortContacts puts contacts in lookup order: highest q first and, among
// equal q, most recently changed (highest seq) first; with byTime only seq
// counts.
func sortContacts(cs []Contact, byTime bool) {
	slices.SortStableFunc(cs, func(a, b Contact) int {
		if !byTime && a.Q != b.Q {
			return int(b.Q) - int(a.Q)
		}
		switch {
		case a.seq > b.seq:
			return -1
		case a.seq < b.seq:
			return 1
		}
		return 0
	})
}

// Delete removes the contact with the given URI; it reports whether there
// was one.
func (r *Record) Delete(uri string) bool {
	i := slices.IndexFunc(r.contacts, func(x Contact) bool { return x.URI == uri })
	if i < 0 {
		return false
	}
	r.own()
	r.contacts = slices.Delete(r.contacts, i, i+1)
	return true
}

// Clear removes every contact.
func (r *Record) Clear() {
	if len(r.contacts) == 0 {
		return
	}
	r.copied = true
	r.contacts = nil
}
