package tm

import "time"

// instant is a reading of the monotonic clock: nanoseconds since
// clockBase, plus one so that the zero value means "not set", as
// time.Time{} did. The transaction and branch deadlines use it instead of
// time.Time, whose *Location is a pointer: under load some 30,000
// completed transactions wait out the wait timer, and every pointer in
// them is a word more for the garbage collector to scan on the core the
// workers need; eight bytes instead of 24 also keep txn under 512 bytes,
// the limit of the cheaper small-object path (TestTxnFitsSmallObject,
// BenchmarkGCWithWaitingTransactions).
type instant int64

var clockBase = time.Now()

// clockNow returns the current instant.
func clockNow() instant { return instant(time.Since(clockBase)) + 1 }

// IsZero reports whether i is unset.
func (i instant) IsZero() bool { return i == 0 }

// Before reports whether i is earlier than j.
func (i instant) Before(j instant) bool { return i < j }

// Add returns i moved by d.
func (i instant) Add(d time.Duration) instant { return i + instant(d) }

// Time converts i to wall-clock time (for reports such as acc's).
func (i instant) Time() time.Time { return clockBase.Add(time.Duration(i - 1)) }
