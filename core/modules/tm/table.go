package tm

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"ser/core/sipmsg"
)

// Buckets is the number of logical hash buckets t_hash reports (SER's
// TABLE_ENTRIES, 2^T_TABLE_POWER with T_TABLE_POWER 16).
const Buckets = 1 << 16

// shards is the number of independently locked parts of the table; each
// holds Buckets/shards logical buckets.
const shards = 256

// table holds the live transactions, keyed by the 64-bit hash of their
// matching key. The low 16 bits of the hash are the logical bucket (t_hash,
// the "hash" part of transaction ids); the bucket's high 8 bits pick the
// shard.
type table struct {
	shards [shards]shard
	count  atomic.Int64
	cur    []atomic.Uint32 // per bucket: current entries
	acc    []atomic.Uint64 // per bucket: entries ever inserted
	labels []atomic.Uint32 // per bucket: last label given
	// wait are the wait logs (waitlog.go), one per timer queue: the
	// completed transactions waiting out wt_timer, counted in count and
	// cur as the transactions they stand for.
	wait []waitLog
}

type shard struct {
	mu sync.Mutex
	m  map[uint64]*txn
}

func (tb *table) init(logs int) {
	tb.wait = make([]waitLog, logs)
	for i := range tb.shards {
		tb.shards[i].m = make(map[uint64]*txn)
	}
	tb.cur = make([]atomic.Uint32, Buckets)
	tb.acc = make([]atomic.Uint64, Buckets)
	tb.labels = make([]atomic.Uint32, Buckets)
}

func bucketOf(h uint64) uint32 { return uint32(h & (Buckets - 1)) }

func (tb *table) shardOf(h uint64) *shard { return &tb.shards[bucketOf(h)>>8] }

// logOf is the wait log of hash h (that of its timer queue, queueOf).
func (tb *table) logOf(h uint64) *waitLog { return &tb.wait[h%uint64(len(tb.wait))] }

// lookup returns what hash h names (s.mu held): the transaction in the
// table, or a copy of its record in the wait log.
func (tb *table) lookup(s *shard, h uint64) (*txn, waitRec) {
	if x := s.m[h]; x != nil {
		return x, nil
	}
	wl := tb.logOf(h)
	wl.mu.Lock()
	var w waitRec
	if r := wl.get(h); r != nil {
		w = append(waitRec(nil), r...)
	}
	wl.mu.Unlock()
	return nil, w
}

// insert adds x unless a transaction with the same hash exists; it returns
// the existing one then (in the table, or the copy of its wait log record).
func (tb *table) insert(x *txn) (existing *txn, w waitRec) {
	s := tb.shardOf(x.hash)
	s.mu.Lock()
	if old, w := tb.lookup(s, x.hash); old != nil || w != nil {
		s.mu.Unlock()
		return old, w
	}
	s.m[x.hash] = x
	s.mu.Unlock()
	b := bucketOf(x.hash)
	x.bucket = b
	x.label = tb.labels[b].Add(1)
	tb.cur[b].Add(1)
	tb.acc[b].Add(1)
	tb.count.Add(1)
	return nil, nil
}

// get returns the transaction of hash h: in the table (x), or a copy of
// its record in the wait log (w), or neither.
func (tb *table) get(h uint64) (x *txn, w waitRec) {
	s := tb.shardOf(h)
	s.mu.Lock()
	x, w = tb.lookup(s, h)
	s.mu.Unlock()
	return x, w
}

func (tb *table) remove(x *txn) {
	s := tb.shardOf(x.hash)
	s.mu.Lock()
	if s.m[x.hash] == x {
		delete(s.m, x.hash)
		s.mu.Unlock()
		tb.cur[x.bucket].Add(^uint32(0))
		tb.count.Add(-1)
		return
	}
	s.mu.Unlock()
}

// findWaiting returns a copy of the first wait log record for which match
// holds (FIFO lookups), or nil.
func (tb *table) findWaiting(match func(waitRec) bool) waitRec {
	for i := range tb.wait {
		if r := tb.wait[i].find(match); r != nil {
			return r
		}
	}
	return nil
}

// all returns the transactions in the table, not those in the wait logs
// (for Stop).
func (tb *table) all() []*txn {
	var out []*txn
	for i := range tb.shards {
		s := &tb.shards[i]
		s.mu.Lock()
		for _, x := range s.m {
			out = append(out, x)
		}
		s.mu.Unlock()
	}
	return out
}

// find returns the first transaction for which match (called with the
// shard locked, without the transaction's lock) is true.
func (tb *table) find(match func(*txn) bool) *txn {
	for i := range tb.shards {
		s := &tb.shards[i]
		s.mu.Lock()
		for _, x := range s.m {
			if match(x) {
				s.mu.Unlock()
				return x
			}
		}
		s.mu.Unlock()
	}
	return nil
}

// byIdent finds the transaction with the printable id bucket:label.
func (tb *table) byIdent(bucket, label uint32) *txn {
	if bucket >= Buckets {
		return nil
	}
	s := &tb.shards[bucket>>8]
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.m {
		if x.bucket == bucket && x.label == label {
			return x
		}
	}
	return nil
}

// hashKey is 64-bit FNV-1a.
func hashKey[K string | []byte](k K) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(k); i++ {
		h ^= uint64(k[i])
		h *= 1099511628211
	}
	// Spread the low bits (the bucket) over the whole hash.
	h ^= h >> 29
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 32
	return h
}

// magicCookie starts RFC 3261 branch parameters.
const magicCookie = "z9hG4bK"

// branchID is the branch of the idx-th branch of the transaction with hash
// h: the same for every retransmission, CANCEL and non-2xx ACK of that
// branch (SER's syn_branch idea).
func branchID(h uint64, idx int) string {
	var buf [len(magicCookie) + 16 + 1 + 20]byte
	b := appendHex(append(buf[:0], magicCookie...), h, 16)
	b = append(b, '.')
	return string(strconv.AppendInt(b, int64(idx), 10))
}

// appendHex appends v in lower-case hexadecimal, zero-padded to digits
// digits (fmt's %0*x without fmt).
func appendHex(b []byte, v uint64, digits int) []byte {
	for i := digits - 1; i >= 0; i-- {
		b = append(b, "0123456789abcdef"[v>>(4*uint(i))&0xf])
	}
	return b
}

// parseBranch splits one of our branch ids into hash and index.
func parseBranch(b string) (h uint64, idx int, ok bool) {
	if len(b) < len(magicCookie)+18 || !strings.HasPrefix(b, magicCookie) {
		return 0, 0, false
	}
	rest := b[len(magicCookie):]
	if rest[16] != '.' {
		return 0, 0, false
	}
	h, err := strconv.ParseUint(rest[:16], 16, 64)
	if err != nil {
		return 0, 0, false
	}
	idx, err = strconv.Atoi(rest[17:])
	if err != nil || idx < 0 || idx >= MaxBranches {
		return 0, 0, false
	}
	return h, idx, true
}

// requestKey is the matching key of the server transaction a request
// belongs to (RFC 3261 §17.2.3): for an RFC 3261 branch, the branch, the
// sent-by of the top Via and the method (ACK matches INVITE); for RFC 2543
// peers, Call-ID, CSeq number, From tag, the Request-URI as received and
// the top Via (each left out when ruri_matching / via1_matching is 0).
// method is the method to match, so a CANCEL can look up the INVITE it
// cancels.
func (t *TM) requestKey(m *sipmsg.Msg, method string) (string, bool) {
	var buf [keyRoom]byte
	b, ok := t.appendRequestKey(buf[:0], m, method)
	return string(b), ok
}

// keyRoom is the stack room for a matching key (longer ones still work).
const keyRoom = 192

// appendRequestKey appends requestKey's key to b.
func (t *TM) appendRequestKey(b []byte, m *sipmsg.Msg, method string) ([]byte, bool) {
	req := m.Req
	via := req.Via()
	if via == nil {
		return b, false
	}
	if method == "ACK" {
		method = "INVITE"
	}
	if br, _ := via.Params.Get("branch"); len(br) > len(magicCookie) && strings.HasPrefix(br, magicCookie) {
		b = append(b, "1\x00"...)
		b = append(b, br...)
		b = append(b, 0)
		for i := 0; i < len(via.Host); i++ { // strings.ToLower's ASCII case, in place
			c := via.Host[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b = append(b, c)
		}
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(via.Port), 10)
		b = append(b, 0)
		return append(b, method...), true
	}
	cs := req.CSeq()
	if cs == nil {
		return b, false
	}
	b = append(b, "2\x00"...)
	b = append(b, m.CallID()...)
	b = append(b, 0)
	b = strconv.AppendUint(b, uint64(cs.SeqNo), 10)
	b = append(b, 0)
	if f := req.From(); f != nil {
		tag, _ := f.Params.Get("tag")
		b = append(b, tag...)
	}
	b = append(b, 0)
	if !t.noRURIMatch {
		b = sipmsg.AppendURI(b, m.OrigURI())
	}
	b = append(b, 0)
	if !t.noVia1Match {
		b = append(b, via.Value()...)
	}
	b = append(b, 0)
	return append(b, method...), true
}

// lookupRequest returns the live transaction a request matches (method
// overriding its own method when not empty): in the table (x), or a copy
// of its wait log record (w). The key is built on the stack: a lookup
// (ACK, CANCEL) allocates nothing for it.
func (t *TM) lookupRequest(m *sipmsg.Msg, method string) (*txn, waitRec) {
	if method == "" {
		method = m.Method()
	}
	var buf [keyRoom]byte
	key, ok := t.appendRequestKey(buf[:0], m, method)
	if !ok {
		return nil, nil
	}
	return t.table.getKey(hashKey(key), key)
}

// getKey is get for the transaction whose matching key is key.
func (tb *table) getKey(h uint64, key []byte) (*txn, waitRec) {
	x, w := tb.get(h)
	switch {
	case x != nil && x.key == string(key):
		return x, nil
	case w != nil && string(w.key()) == string(key):
		return nil, w
	}
	return nil, nil
}
