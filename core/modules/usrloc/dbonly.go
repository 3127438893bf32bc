package usrloc

import (
	"context"
	"fmt"
)

// db_mode 3, DB only (Inode's "cacheless" usrloc-cl): nothing is cached;
// every lookup reads the database and every change is written before the
// call returns. Registrars and proxies in several processes or hosts then
// share one location table: what one saves the others find at once.

// readRecord reads the stored contacts of aor (expired ones too) in lookup
// order, with fresh ids.
func (d *Domain) readRecord(ctx context.Context, aor string) ([]Contact, error) {
	cs, err := d.m.be.Contacts(ctx, d.name, aor)
	if err != nil {
		return nil, fmt.Errorf("usrloc: db_mode 3: read %s from %s: %w", aor, d.name, err)
	}
	for i := range cs {
		cs[i].id = d.m.nextID()
	}
	d.orderStored(cs, d.m.descTimeOrder.Load())
	return cs, nil
}

// lookupDB is Lookup in db_mode 3.
func (d *Domain) lookupDB(aor string) ([]Contact, bool, error) {
	ctx, cancel := dbContext()
	defer cancel()
	cs, err := d.readRecord(ctx, aor)
	if err != nil {
		return nil, false, err
	}
	if len(cs) == 0 {
		return nil, false, nil
	}
	now := d.m.now().Unix()
	valid := cs[:0]
	for _, c := range cs {
		if c.ValidAt(now) {
			valid = append(valid, c)
		}
	}
	return valid, true, nil
}

// updateDB is Update in db_mode 3: read the record, apply fn, write the
// differences in one transaction. Updates of one AOR within this process
// are serialised by the shard's writer lock; between processes the last
// writer of a contact wins, as with SER's usrloc-cl.
func (d *Domain) updateDB(aor string, fn func(r *Record) error) error {
	s := d.shard(aor)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	ctx, cancel := dbContext()
	defer cancel()
	old, err := d.readRecord(ctx, aor)
	if err != nil {
		return err
	}
	r := Record{d: d, aor: aor, now: d.m.now().Unix(), contacts: old}
	if err := fn(&r); err != nil {
		return err
	}
	if !r.copied {
		return nil
	}
	ops := d.changes(aor, old, r.contacts)
	if len(ops) == 0 {
		return nil
	}
	if err := d.m.be.Apply(ctx, d.name, compact(aor, ops, len(r.contacts) == 0)); err != nil {
		return fmt.Errorf("usrloc: db_mode 3: write %s to %s (nothing changed): %w", aor, d.name, err)
	}
	return nil
}

// snapshotDB is snapshot in db_mode 3: the whole table read in one pass,
// records in the database's order.
func (d *Domain) snapshotDB(withExpired bool) ([]snapRecord, error) {
	ctx, cancel := context.WithTimeout(context.Background(), bulkTimeout)
	defer cancel()
	idx := make(map[string]int)
	var all []snapRecord
	err := d.m.be.Load(ctx, d.name, func(aor string, c Contact) error {
		i, ok := idx[aor]
		if !ok {
			i = len(all)
			idx[aor] = i
			all = append(all, snapRecord{aor: aor, id: d.m.nextID()})
		}
		c.id = d.m.nextID()
		all[i].contacts = append(all[i].contacts, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("usrloc: db_mode 3: read %s: %w", d.name, err)
	}
	now := d.m.now().Unix()
	byTime := d.m.descTimeOrder.Load()
	out := all[:0]
	for _, r := range all {
		d.orderStored(r.contacts, byTime)
		if !withExpired {
			valid := r.contacts[:0]
			for _, c := range r.contacts {
				if c.ValidAt(now) {
					valid = append(valid, c)
				}
			}
			if len(valid) == 0 {
				continue
			}
			r.contacts = valid
		}
		out = append(out, r)
	}
	return out, nil
}
