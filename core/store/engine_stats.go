package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"sync/atomic"
	"time"
)

// Every statement the store sends goes through an instrumented driver
// (timedConnector below, one per Store), so that query latency and
// database errors are measured in one place for all of core/store's SQL,
// whichever file runs it: the time from sending a statement until the
// driver returns (the first rows for a query), and every error the driver
// reports (a broken connection, a constraint violation, a server that went
// away). Counting costs two clock reads and a few atomic adds.

// LatencyBuckets are the upper bounds (seconds) of the latency histogram.
var LatencyBuckets = [...]float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

// Stats are a store's statement counters.
type Stats struct {
	// Buckets[i] counts statements that took at most LatencyBuckets[i]
	// (not cumulative); the last slot counts slower ones.
	Buckets [len(LatencyBuckets) + 1]atomic.Uint64
	// Count and SumNanos are the statements and their total time.
	Count    atomic.Uint64
	SumNanos atomic.Uint64
	// Errors counts statements, transactions and connection attempts the
	// driver failed.
	Errors atomic.Uint64
}

// Stats returns the store's statement counters.
func (s *Store) Stats() *Stats { return s.stats }

func (st *Stats) observe(start time.Time, err error) {
	d := time.Since(start)
	sec := d.Seconds()
	i := 0
	for i < len(LatencyBuckets) && sec > LatencyBuckets[i] {
		i++
	}
	st.Buckets[i].Add(1)
	st.Count.Add(1)
	st.SumNanos.Add(uint64(d))
	st.fail(err)
}

// fail counts err unless it is none or the driver's "use another way"
// answer (ErrSkip), which database/sql handles itself.
func (st *Stats) fail(err error) {
	if err != nil && !errors.Is(err, driver.ErrSkip) {
		st.Errors.Add(1)
	}
}

// timedConnector opens connections whose statements are timed.
type timedConnector struct {
	driver.Connector
	st *Stats
}

func (c timedConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		c.st.fail(err)
		return nil, err
	}
	return &timedConn{Conn: conn, st: c.st}, nil
}

// dsnConnector is a driver.Connector for a driver without one.
type dsnConnector struct {
	dsn string
	drv driver.Driver
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.drv }

// timedConn times the statements of one connection. It offers every
// optional interface database/sql looks for and passes each call on,
// answering driver.ErrSkip (or the neutral value) where the driver does
// not implement it, as if the wrapper were not there.
type timedConn struct {
	driver.Conn
	st *Stats
}

func (c *timedConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *timedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	var (
		s   driver.Stmt
		err error
	)
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		s, err = p.PrepareContext(ctx, query)
	} else {
		s, err = c.Conn.Prepare(query)
	}
	if err != nil {
		c.st.fail(err)
		return nil, err
	}
	return &timedStmt{Stmt: s, st: c.st}, nil
}

func (c *timedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	var (
		tx  driver.Tx
		err error
	)
	start := time.Now()
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		tx, err = b.BeginTx(ctx, opts)
	} else {
		tx, err = c.Conn.Begin() //nolint:staticcheck // the fallback database/sql uses too
	}
	c.st.observe(start, err)
	if err != nil {
		return nil, err
	}
	return timedTx{Tx: tx, st: c.st}, nil
}

func (c *timedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	start := time.Now()
	r, err := e.ExecContext(ctx, query, args)
	if !errors.Is(err, driver.ErrSkip) {
		c.st.observe(start, err)
	}
	return r, err
}

func (c *timedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	start := time.Now()
	r, err := q.QueryContext(ctx, query, args)
	if !errors.Is(err, driver.ErrSkip) {
		c.st.observe(start, err)
	}
	return r, err
}

func (c *timedConn) Ping(ctx context.Context) error {
	p, ok := c.Conn.(driver.Pinger)
	if !ok {
		return nil
	}
	err := p.Ping(ctx)
	c.st.fail(err)
	return err
}

func (c *timedConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *timedConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *timedConn) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := c.Conn.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// timedStmt times a prepared statement's executions.
type timedStmt struct {
	driver.Stmt
	st *Stats
}

func (s *timedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	start := time.Now()
	var (
		r   driver.Result
		err error
	)
	if e, ok := s.Stmt.(driver.StmtExecContext); ok {
		r, err = e.ExecContext(ctx, args)
	} else {
		var vals []driver.Value
		if vals, err = namedToValues(args); err == nil {
			r, err = s.Stmt.Exec(vals) //nolint:staticcheck // drivers without the context variant
		}
	}
	s.st.observe(start, err)
	return r, err
}

func (s *timedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	start := time.Now()
	var (
		r   driver.Rows
		err error
	)
	if q, ok := s.Stmt.(driver.StmtQueryContext); ok {
		r, err = q.QueryContext(ctx, args)
	} else {
		var vals []driver.Value
		if vals, err = namedToValues(args); err == nil {
			r, err = s.Stmt.Query(vals) //nolint:staticcheck // drivers without the context variant
		}
	}
	s.st.observe(start, err)
	return r, err
}

func (s *timedStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

func namedToValues(args []driver.NamedValue) ([]driver.Value, error) {
	out := make([]driver.Value, len(args))
	for i, a := range args {
		if a.Name != "" {
			return nil, errors.New("store: driver does not support named parameters")
		}
		out[i] = a.Value
	}
	return out, nil
}

// timedTx times a transaction's commit and rollback.
type timedTx struct {
	driver.Tx
	st *Stats
}

func (t timedTx) Commit() error {
	start := time.Now()
	err := t.Tx.Commit()
	t.st.observe(start, err)
	return err
}

func (t timedTx) Rollback() error {
	err := t.Tx.Rollback()
	if !errors.Is(err, io.EOF) {
		t.st.fail(err)
	}
	return err
}
