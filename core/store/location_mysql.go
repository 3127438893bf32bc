package store

import (
	"context"
	"database/sql"
	"fmt"
)

// flushBatch is the most contacts one multi-row upsert of flushMySQL
// writes (14 parameters each).
const flushBatch = 200

// flushMySQL is FlushContacts on MySQL. Every statement there is a
// network round trip, so runs of consecutive upserts are written as
// multi-row INSERT … ON DUPLICATE KEY UPDATE statements of up to
// flushBatch rows (ops keep their order: a contact upserted twice ends
// with its last values); deletes run one by one. One transaction: all or
// nothing.
func (s *Store) flushMySQL(ctx context.Context, table, qt string, ops []ContactOp) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for i := 0; i < len(ops); {
			c := &ops[i].Contact
			switch ops[i].Kind {
			case OpUpsert:
				end := i + 1
				for end < len(ops) && end-i < flushBatch && ops[end].Kind == OpUpsert {
					end++
				}
				args := make([]any, 0, (end-i)*len(locColList))
				for j := i; j < end; j++ {
					args = append(args, s.contactArgs(&ops[j].Contact)...)
				}
				q := s.d.UpsertRows(qt, locColList, locKeys, locUpdate, end-i)
				if _, err := tx.ExecContext(ctx, q, args...); err != nil {
					return fmt.Errorf("ops %d-%d (upserts from %s): %w", i, end-1, aor(c.Username, c.Domain), err)
				}
				i = end
				continue
			case OpDelete:
				if _, err := tx.ExecContext(ctx, deleteQuery(qt), c.Username, c.Domain, c.Contact); err != nil {
					return fmt.Errorf("op %d (%s): %w", i, aor(c.Username, c.Domain), err)
				}
			case OpDeleteAOR:
				if _, err := tx.ExecContext(ctx, deleteAORQuery(qt), c.Username, c.Domain); err != nil {
					return fmt.Errorf("op %d (%s): %w", i, aor(c.Username, c.Domain), err)
				}
			default:
				return fmt.Errorf("op %d (%s): unknown op kind %d: %w", i, aor(c.Username, c.Domain), ops[i].Kind, ErrInvalid)
			}
			i++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: flush %s: %w", table, err)
	}
	return nil
}

// upsertBatcher returns the batcher of UpsertContact on table qt
// (writeBatcher): concurrent upserts become one multi-row INSERT … ON
// DUPLICATE KEY UPDATE (rows in arrival order, so a key written twice
// keeps its last values).
func (s *Store) upsertBatcher(qt string) *batcher[[]any, struct{}] {
	return s.writeBatcher(s.upsertQuery(qt), func(n int) string {
		return s.d.UpsertRows(qt, locColList, locKeys, locUpdate, n)
	})
}
