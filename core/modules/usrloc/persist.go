package usrloc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// dbTimeout bounds one database operation of a REGISTER, a lookup or a
// FIFO command (SQLite waits up to 5 s for a lock held by another
// process).
const dbTimeout = 10 * time.Second

// bulkTimeout bounds the operations over a whole table: the start-up load,
// a flush, ul_dump in db_mode 3.
const bulkTimeout = 10 * time.Minute

// flushBatch is the number of changes db_mode 2 writes per transaction.
const flushBatch = 10_000

func dbContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), dbTimeout)
}

// dbOnly reports whether the table lives in the database only (db_mode 3).
func (d *Domain) dbOnly() bool { return d.m.be != nil && d.m.cfg.DBMode == 3 }

// sameRow reports whether two contacts would be stored identically.
func sameRow(a, b *Contact) bool {
	return a.URI == b.URI && a.Expires == b.Expires && a.Q == b.Q && a.CallID == b.CallID &&
		a.CSeq == b.CSeq && a.Replicate == b.Replicate && a.Flags == b.Flags &&
		a.UserAgent == b.UserAgent && a.Received == b.Received && a.LastModified == b.LastModified && a.Path == b.Path
}

func findContact(cs []Contact, uri string) int {
	for i := range cs {
		if cs[i].URI == uri {
			return i
		}
	}
	return -1
}

// changes compares the contacts of aor before (old) and after (cur) an
// update and returns the database writes that bring the stored rows up to
// date: a put per new or changed contact, a delete per removed one.
// Contacts with FlagMem are never written. It sets the State of the
// contacts of cur it writes (cur is the update's private copy): db_mode 1
// CS_SYNC (written before Update returns), db_mode 2 CS_NEW for a contact
// never flushed, CS_DIRTY for a changed one.
func (d *Domain) changes(aor string, old, cur []Contact) []Op {
	mode := d.m.cfg.DBMode
	var ops []Op
	for i := range cur {
		c := &cur[i]
		j := findContact(old, c.URI)
		if c.Flags&FlagMem != 0 {
			if j >= 0 && old[j].Flags&FlagMem == 0 {
				ops = append(ops, Op{Kind: OpDelete, AOR: aor, Contact: Contact{URI: c.URI}})
			}
			continue
		}
		if j >= 0 && old[j].Flags&FlagMem == 0 && sameRow(&old[j], c) {
			continue
		}
		switch {
		case mode == 1:
			c.State = StateSync
		case j < 0 || old[j].State == StateNew:
			c.State = StateNew
		default:
			c.State = StateDirty
		}
		ops = append(ops, Op{Kind: OpPut, AOR: aor, Contact: *c})
	}
	for i := range old {
		if old[i].Flags&FlagMem == 0 && findContact(cur, old[i].URI) < 0 {
			ops = append(ops, Op{Kind: OpDelete, AOR: aor, Contact: Contact{URI: old[i].URI}})
		}
	}
	return ops
}

// compact turns the deletes of a record left empty into one OpDeleteAOR
// (Contact: *, ul_rm): one statement, and in db_mode 3 it also removes
// rows another process added meanwhile.
func compact(aor string, ops []Op, cleared bool) []Op {
	if cleared && len(ops) > 1 {
		return []Op{{Kind: OpDeleteAOR, AOR: aor}}
	}
	return ops
}

// markDirty queues the contacts ops touch for the next flush. s.mu must
// be held.
func (s *shard) markDirty(aor string, ops []Op) {
	if len(ops) == 0 {
		return
	}
	if s.dirty == nil {
		s.dirty = make(map[string][]string)
	}
	list, ok := s.dirty[aor]
	if !ok {
		aor = strings.Clone(aor)
	}
	for i := range ops {
		if !slices.Contains(list, ops[i].Contact.URI) {
			list = append(list, ops[i].Contact.URI)
		}
	}
	s.dirty[aor] = list
}

// writeThrough writes the changes of one update (db_mode 1); s.wmu is
// held. A failure keeps the change in memory, marks it dirty for the
// timer to retry and logs it: the REGISTER still succeeds, as in SER.
func (d *Domain) writeThrough(s *shard, aor string, ops []Op, cleared bool) {
	ctx, cancel := dbContext()
	defer cancel()
	err := d.m.be.Apply(ctx, d.name, compact(aor, ops, cleared))
	if err == nil {
		return
	}
	d.m.writeFailures.Add(1)
	d.m.log.Error("usrloc write-through failed: database error; the change is kept in memory only and retried by the timer",
		"table", d.name, "aor", aor, "changes", len(ops), "err", err)
	s.mu.Lock()
	s.markDirty(aor, ops)
	if r := s.recs[aor]; r != nil {
		for i := range r.contacts {
			if slices.ContainsFunc(ops, func(op Op) bool { return op.Kind == OpPut && op.Contact.URI == r.contacts[i].URI }) {
				r.contacts[i].State = StateDirty
			}
		}
	}
	s.mu.Unlock()
}

// Flush writes the contacts changed in memory and not yet stored: in
// db_mode 2 every change since the last flush, in db_mode 1 the writes
// that failed. db_mode 2 writes up to flushBatch changes per transaction.
// What could not be written stays queued for the next flush. The timer,
// ul_flush and Stop call it; it does nothing in db_mode 0 and 3.
func (m *Module) Flush() error {
	if m.be == nil || (m.cfg.DBMode != 1 && m.cfg.DBMode != 2) {
		return nil
	}
	m.flushMu.Lock()
	defer m.flushMu.Unlock()
	var errs []error
	for _, d := range m.Domains() {
		if err := d.flush(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// taken is the dirty list of a shard a flush is writing.
type taken struct {
	s     *shard
	dirty map[string][]string
}

// flush writes the table's dirty contacts (see Module.Flush). db_mode 1
// writes shard by shard holding the shard's writer lock, so that a retry
// never overwrites a newer write-through of the same contact.
func (d *Domain) flush() error {
	ctx, cancel := context.WithTimeout(context.Background(), bulkTimeout)
	defer cancel()
	perShard := d.m.cfg.DBMode == 1
	var (
		batch   []Op
		pending []taken
		written int
	)
	write := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := d.m.be.Apply(ctx, d.name, batch)
		if err != nil {
			for _, p := range pending {
				p.s.mu.Lock()
				for aor, uris := range p.dirty {
					ops := make([]Op, len(uris))
					for i, u := range uris {
						ops[i].Contact.URI = u
					}
					p.s.markDirty(aor, ops)
				}
				p.s.mu.Unlock()
			}
			d.m.log.Error("usrloc flush failed: database error; the changes stay in memory and are retried at the next flush",
				"table", d.name, "changes", len(batch), "err", err)
		} else {
			written += len(batch)
			for _, p := range pending {
				p.s.settle(p.dirty)
			}
		}
		batch, pending = batch[:0], pending[:0]
		if err != nil {
			return fmt.Errorf("usrloc: flush %s: %w", d.name, err)
		}
		return nil
	}
	for i := range d.shards {
		s := &d.shards[i]
		if perShard {
			s.wmu.Lock()
		}
		s.mu.Lock()
		dirty := s.dirty
		s.dirty = nil
		for aor, uris := range dirty {
			var cs []Contact
			if r := s.recs[aor]; r != nil {
				cs = r.contacts
			}
			for _, u := range uris {
				if j := findContact(cs, u); j >= 0 && cs[j].Flags&FlagMem == 0 {
					batch = append(batch, Op{Kind: OpPut, AOR: aor, Contact: cs[j]})
				} else {
					batch = append(batch, Op{Kind: OpDelete, AOR: aor, Contact: Contact{URI: u}})
				}
			}
		}
		s.mu.Unlock()
		if len(dirty) > 0 {
			pending = append(pending, taken{s, dirty})
		}
		var err error
		if perShard || len(batch) >= flushBatch {
			err = write()
		}
		if perShard {
			s.wmu.Unlock()
		}
		if err != nil {
			return err
		}
	}
	err := write()
	if written > 0 {
		d.m.log.Debug("usrloc flushed changes to the database", "table", d.name, "changes", written)
	}
	return err
}

// settle marks the contacts of a flushed dirty list CS_SYNC, unless they
// changed again meanwhile.
func (s *shard) settle(flushed map[string][]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for aor, uris := range flushed {
		r := s.recs[aor]
		if r == nil {
			continue
		}
		again := s.dirty[aor]
		for _, u := range uris {
			if j := findContact(r.contacts, u); j >= 0 && !slices.Contains(again, u) {
				r.contacts[j].State = StateSync
			}
		}
	}
}

// prepare readies a table for its db_mode: creates it in the database
// when missing and, in db_mode 1 and 2, loads its rows into memory.
func (d *Domain) prepare(ctx context.Context) error {
	if err := d.m.be.EnsureTable(ctx, d.name); err != nil {
		return fmt.Errorf("usrloc: table %s: %w", d.name, err)
	}
	if d.dbOnly() {
		return nil
	}
	start := time.Now()
	n, err := d.load(ctx)
	if err != nil {
		return fmt.Errorf("usrloc: load table %s: %w", d.name, err)
	}
	d.m.log.Info("usrloc table loaded from the database", "table", d.name, "contacts", n,
		"records", d.users.Load(), "duration", time.Since(start).Round(time.Millisecond))
	return nil
}

// loadBatch is the number of rows load hands from the database reader to
// the goroutine filling memory at a time.
const loadBatch = 512

// loadedRow is a row read by load.
type loadedRow struct {
	aor string
	c   Contact
}

// load reads every row of the table into memory in one streaming pass
// (SER's preload_udomain) and returns the number of contacts added. The
// database is read on the caller's goroutine while another fills the
// shards, so that the two overlap. Contacts keep their stored
// LastModified; among equal q the most recently modified comes first, as
// before the restart.
func (d *Domain) load(ctx context.Context) (int, error) {
	full := make(chan []loadedRow, 8)
	free := make(chan []loadedRow, 10)
	added := make(chan int)
	go func() {
		n := 0
		for b := range full {
			n += d.insertLoaded(b)
			select {
			case free <- b[:0]:
			default:
			}
		}
		added <- n
	}()
	batch := make([]loadedRow, 0, loadBatch)
	err := d.m.be.Load(ctx, d.name, func(aor string, c Contact) error {
		batch = append(batch, loadedRow{aor, c})
		if len(batch) == loadBatch {
			full <- batch
			select {
			case batch = <-free:
			default:
				batch = make([]loadedRow, 0, loadBatch)
			}
		}
		return nil
	})
	if len(batch) > 0 {
		full <- batch
	}
	close(full)
	n := <-added
	d.contacts.Add(int64(n))
	byTime := d.m.descTimeOrder.Load()
	for i := range d.shards {
		s := &d.shards[i]
		s.mu.Lock()
		for _, r := range s.recs {
			if len(r.contacts) > 1 {
				d.orderStored(r.contacts, byTime)
			}
		}
		s.mu.Unlock()
	}
	return n, err
}

// insertLoaded puts rows read by load into the shards and returns the
// number of contacts added.
func (d *Domain) insertLoaded(rows []loadedRow) int {
	n := 0
	for i := range rows {
		aor, c := rows[i].aor, rows[i].c
		rows[i] = loadedRow{} // the batch is reused: drop its references
		s := d.shard(aor)
		c.id = d.m.nextID()
		c.seq = c.id
		c.State = StateSync
		s.mu.Lock()
		r := s.recs[aor]
		switch {
		case r == nil:
			s.recs[aor] = &record{id: d.m.nextID(), contacts: []Contact{c}}
			d.users.Add(1)
			n++
		default:
			// The same URI twice can only come from rows of several
			// domains read with use_domain 0: keep the newest.
			if j := findContact(r.contacts, c.URI); j >= 0 {
				if r.contacts[j].LastModified <= c.LastModified {
					r.contacts[j] = c
				}
			} else {
				r.contacts = append(r.contacts, c)
				n++
			}
		}
		s.mu.Unlock()
	}
	return n
}

// orderStored puts contacts read from the database in lookup order: the
// order of modification gives them increasing seq (the database keeps
// seconds only: ties keep the database's order), then q sorts them.
func (d *Domain) orderStored(cs []Contact, byTime bool) {
	slices.SortStableFunc(cs, func(a, b Contact) int {
		switch {
		case a.LastModified < b.LastModified:
			return -1
		case a.LastModified > b.LastModified:
			return 1
		}
		return 0
	})
	for i := range cs {
		cs[i].seq = d.m.nextID()
	}
	sortContacts(cs, byTime)
}

// expireAll runs the expiry of one table at Unix time now and returns the
// number of contacts removed: from memory (db_mode 0, 1, 2; in 1 and 2
// the expired rows are then deleted in the database with one statement)
// or from the database only (db_mode 3).
func (d *Domain) expireAll(now int64) int {
	if d.m.be == nil {
		return d.expire(now)
	}
	n := 0
	if !d.dbOnly() {
		n = d.expire(now)
	}
	ctx, cancel := dbContext()
	defer cancel()
	del, err := d.m.be.DeleteExpired(ctx, d.name, now)
	if err != nil {
		d.m.log.Error("usrloc expiry failed: database error; expired rows stay in the database until the next run",
			"table", d.name, "err", err)
		return n
	}
	if d.dbOnly() {
		n = int(del)
		d.expired.Add(del)
		if del > 0 {
			d.m.log.Info("bindings have expired", "table", d.name, "count", del)
		}
	}
	return n
}
