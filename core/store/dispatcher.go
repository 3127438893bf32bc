package store

import (
	"context"
	"fmt"
)

// DispatcherTable is the default name of the dispatcher module's table.
const DispatcherTable = "dispatcher"

// DispatcherDest is a row of the dispatcher table (Kamailio's layout): a
// destination of a dispatcher set.
type DispatcherDest struct {
	// ID is the row's auto-increment key (0 when inserting).
	ID int
	// SetID is the set the destination belongs to.
	SetID int
	// Destination is a SIP URI ("sip:10.0.0.1:5060").
	Destination string
	// Flags are the initial state bits (1 inactive, 2 trying, 4 disabled,
	// 8 probing).
	Flags int
	// Priority orders the destinations of a set, higher first.
	Priority int
	// Description is free text for the administrator.
	Description string
}

// dispatcherTable returns the quoted table name ("" = DispatcherTable).
func (s *Store) dispatcherTable(table string) (string, error) {
	if table == "" {
		table = DispatcherTable
	}
	return s.ident(table)
}

// DispatcherDests reads every row of a dispatcher table ("" =
// "dispatcher"; another name must have the same columns), ordered by
// setid, priority (higher first) and id.
func (s *Store) DispatcherDests(ctx context.Context, table string) ([]DispatcherDest, error) {
	t, err := s.dispatcherTable(table)
	if err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, "SELECT id, setid, destination, flags, priority, description FROM "+t+
		" ORDER BY setid, priority DESC, id")
	if err != nil {
		return nil, fmt.Errorf("store: load dispatcher table %s: %w", table, err)
	}
	defer rows.Close()
	var out []DispatcherDest
	for rows.Next() {
		var d DispatcherDest
		if err := rows.Scan(&d.ID, &d.SetID, &d.Destination, &d.Flags, &d.Priority, &d.Description); err != nil {
			return nil, fmt.Errorf("store: load dispatcher table %s: %w", table, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: load dispatcher table %s: %w", table, err)
	}
	return out, nil
}

// AddDispatcherDest inserts a destination into a dispatcher table ("" =
// "dispatcher") and returns its id. The destination must not be empty
// and fit the columns (192 and 64 characters).
func (s *Store) AddDispatcherDest(ctx context.Context, table string, d DispatcherDest) (int, error) {
	t, err := s.dispatcherTable(table)
	if err != nil {
		return 0, err
	}
	if err := checkKey("destination", d.Destination); err != nil {
		return 0, err
	}
	if err := checkLen("destination", d.Destination, 192); err != nil {
		return 0, err
	}
	if err := checkLen("description", d.Description, 64); err != nil {
		return 0, err
	}
	res, err := s.w.ExecContext(ctx, "INSERT INTO "+t+" (setid, destination, flags, priority, description) VALUES (?, ?, ?, ?, ?)",
		d.SetID, d.Destination, d.Flags, d.Priority, d.Description)
	if err != nil {
		return 0, fmt.Errorf("store: add dispatcher destination %s: %w", d.Destination, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("store: add dispatcher destination %s: %w", d.Destination, err)
	}
	return int(id), nil
}

// DeleteDispatcherDest removes row id of a dispatcher table ("" =
// "dispatcher"), or gives ErrNotFound.
func (s *Store) DeleteDispatcherDest(ctx context.Context, table string, id int) error {
	t, err := s.dispatcherTable(table)
	if err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, "DELETE FROM "+t+" WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("store: delete dispatcher destination %d: %w", id, err)
	}
	return affected(res, fmt.Sprintf("delete dispatcher destination %d", id))
}
