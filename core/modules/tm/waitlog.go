package tm

// The wait log: completed transactions waiting out wt_timer, kept without
// pointers.
//
// Under load most live transactions are complete and only absorb
// retransmissions until wt_timer deletes them (some 30,000 at 3,000
// calls/s). As *txn skeletons in the table they were ~7 pointerful heap
// objects each, marked by every garbage collection on the core the workers
// need. When a transaction has nothing left to do but absorb — final
// outcome decided, no branch pending, no Timer G/H, no CANCEL being
// retransmitted, no t_newtran release pending, and no onreply route that
// would need its AVPs — unlock moves it into the wait log of its timer
// queue: one record in append-only chunks of bytes (which the collector
// does not scan) holding what absorbing needs, indexed by a
// map[uint64]uint64 (hash → position; neither key nor value is a pointer,
// so the map is not scanned either). The *txn becomes garbage at once.
//
// A record holds the wait deadline, the transaction's id, numbers and
// flags, its matching key, method and Call-ID, the last reply sent
// upstream as sent and where it went, how the request arrived, and per
// branch its states, final status, destination, the ACK of a negative
// reply and — for a branch whose final status was given here (timeout,
// cancelled before a provisional) — the request as sent, for the late
// reply. Destinations are encoded without pointers: protocol, address,
// port, TCP connection id and the socket's index in the listen list.
//
// Every lookup by hash consults the table, then the wait log (both under
// the table shard's lock, so a transaction moving between them is never
// missed). What only needs the record is done from a copy of it:
// a retransmitted request gets the last reply again, an ACK to a negative
// reply is absorbed, a retransmitted negative final reply from downstream
// gets its branch's ACK again, other replies are absorbed. Whatever would
// change the transaction — a 2xx to relay upstream, an onreply route to
// run, a late final reply for a branch ended here, t_lookup_request, a
// script function acting on the request's own transaction — revives it:
// the record is decoded back into a *txn, put in the table and the usual
// code runs; a revived transaction stays in the table until it is
// deleted. A goroutine that looked a *txn up just before it moved finds it
// Terminated with flagMoved set and looks the hash up again.
//
// wt_timer is one value for all, so records expire in append order: the
// timer queue's goroutine deletes the records at the head of its log whose
// deadline passed (deadline stored per record) and drops whole chunks,
// keeping a few for reuse. A transaction whose deadline is earlier than
// the newest record's (wt_timer lowered by a reload, a revived one) stays
// in the table and is deleted by its own timer, so every deadline holds.
// Counters (t_stats "current" and "waiting", t_hash's per-bucket counts,
// deletions) treat a record exactly as the transaction it stands for.

import (
	"encoding/binary"
	"math"
	"net/netip"
	"sync"

	"ser/core/sipmsg"
)

// waitChunkSize is the size of a wait log chunk under load (a larger
// record gets a chunk of its own); a log that emptied starts again with
// waitChunkMin and doubles the size of each new chunk up to waitChunkSize.
const (
	waitChunkSize = 64 << 10
	waitChunkMin  = 4 << 10
)

// waitFree is how many dropped chunks a wait log keeps for reuse.
const waitFree = 4

// waitLog is the wait log of one timer queue.
type waitLog struct {
	mu sync.Mutex
	// idx maps the hash of each transaction in the log to the position
	// of its record: chunk sequence number << 32 | offset.
	idx map[uint64]uint64
	// chunks are the records, oldest first; new records go at the end of
	// the last one.
	chunks [][]byte
	first  uint64  // sequence number of chunks[0]
	head   int     // offset in chunks[0] of the oldest record not expired
	lastAt instant // deadline of the newest record
	free   [][]byte
	// stopped: Stop cleared the log; nothing is added any more.
	stopped bool
}

// Record layout (little endian). The header:
const (
	recSize     = 0  // u32: the whole record
	recHash     = 4  // u64
	recWaitAt   = 12 // i64: instant of deletion
	recLabel    = 20 // u32
	recFlags    = 24 // u32: sipmsg.Flags
	recCSeq     = 28 // u32
	recStatus   = 32 // u16: highest status sent upstream
	recOnReply  = 34 // u16
	recOnNeg    = 36 // u16
	recState    = 38 // u8: txnState
	recBits     = 39 // u8: txnFlags
	recBranches = 40 // u8
	recMethodN  = 41 // u8
	recKeyN     = 42 // u16
	recCallIDN  = 44 // u16
	recWireN    = 46 // u32: last reply sent upstream
	recLastDst  = 50 // dest: where it went
	recRcv      = recLastDst + destSize
	recHead     = recRcv + destSize
)

// then key, method, Call-ID and the last reply; then per branch:
const (
	brState  = 0 // u8: branchState
	brCancel = 1 // u8: cancelState
	brBlind  = 2 // u8
	brStatus = 3 // u16: highest provisional
	brFinal  = 5 // u16: final status
	brAckN   = 7 // u32
	brReqN   = 11
	brDst    = 15 // dest
	brHead   = brDst + destSize
)

// then the ACK and the request as sent (kept only for a branch whose
// final status was given here).

// A destination (sipmsg.Dest, or the sipmsg.RcvInfo of the request):
const (
	destProto = 0  // u8
	destKind  = 1  // u8: 0 no address, 4 IPv4, 6 IPv6
	destAddr  = 2  // 16 bytes
	destPort  = 18 // u16
	destSock  = 20 // u16: index in the listen list + 1, 0 none
	destConn  = 22 // u64: TCP connection id
	destSize  = 30
)

var le = binary.LittleEndian

// waitRec is one record (a view of a chunk under the log's lock, or a copy).
type waitRec []byte

func (r waitRec) size() int         { return int(le.Uint32(r[recSize:])) }
func (r waitRec) hash() uint64      { return le.Uint64(r[recHash:]) }
func (r waitRec) waitAt() instant   { return instant(le.Uint64(r[recWaitAt:])) }
func (r waitRec) label() uint32     { return le.Uint32(r[recLabel:]) }
func (r waitRec) cseq() uint32      { return le.Uint32(r[recCSeq:]) }
func (r waitRec) status() int       { return int(le.Uint16(r[recStatus:])) }
func (r waitRec) onReply() int      { return int(le.Uint16(r[recOnReply:])) }
func (r waitRec) state() txnState   { return txnState(r[recState]) }
func (r waitRec) bits() txnFlags    { return txnFlags(r[recBits]) }
func (r waitRec) branches() int     { return int(r[recBranches]) }
func (r waitRec) upstream() bool    { return r.bits()&flagUpstream != 0 }
func (r waitRec) invite() bool      { return r.bits()&flagInvite != 0 }
func (r waitRec) key() []byte       { o := recHead; return r[o : o+r.keyN()] }
func (r waitRec) method() []byte    { o := recHead + r.keyN(); return r[o : o+int(r[recMethodN])] }
func (r waitRec) keyN() int         { return int(le.Uint16(r[recKeyN:])) }
func (r waitRec) callIDN() int      { return int(le.Uint16(r[recCallIDN:])) }
func (r waitRec) wireN() int        { return int(le.Uint32(r[recWireN:])) }
func (r waitRec) strEnd() int       { return recHead + r.keyN() + int(r[recMethodN]) + r.callIDN() }
func (r waitRec) callID() []byte    { e := r.strEnd(); return r[e-r.callIDN() : e] }
func (r waitRec) wire() []byte      { e := r.strEnd(); return r[e : e+r.wireN()] }
func (r waitRec) branchAt(i int) wb { return r.branchAtOff(i, r.strEnd()+r.wireN()) }

// branchAtOff walks the branches from off (the first one) to the i-th.
func (r waitRec) branchAtOff(i, off int) wb {
	for ; i > 0; i-- {
		off += wb(r[off:]).size()
	}
	b := wb(r[off:])
	return b[:b.size()]
}

// wb is a branch in a record.
type wb []byte

func (b wb) size() int           { return brHead + b.ackN() + b.reqN() }
func (b wb) ackN() int           { return int(le.Uint32(b[brAckN:])) }
func (b wb) reqN() int           { return int(le.Uint32(b[brReqN:])) }
func (b wb) state() branchState  { return branchState(b[brState]) }
func (b wb) cancel() cancelState { return cancelState(b[brCancel]) }
func (b wb) ack() []byte         { return b[brHead : brHead+b.ackN()] }
func (b wb) req() []byte         { o := brHead + b.ackN(); return b[o : o+b.reqN()] }

// sockIndex is s's index in socks + 1 (0 for nil); ok is false when s is
// not a listening socket.
func sockIndex(s *sipmsg.Socket, socks []*sipmsg.Socket) (uint16, bool) {
	if s == nil {
		return 0, true
	}
	if s.Index >= 0 && s.Index < len(socks) && socks[s.Index] == s {
		return uint16(s.Index + 1), s.Index < 0xffff
	}
	for i, o := range socks {
		if o == s {
			return uint16(i + 1), i < 0xffff
		}
	}
	return 0, false
}

// destOK reports whether a destination can be encoded: a listening socket
// (or none) and an address without IPv6 zone.
func destOK(ap netip.AddrPort, s *sipmsg.Socket, socks []*sipmsg.Socket) bool {
	_, ok := sockIndex(s, socks)
	return ok && ap.Addr().Zone() == ""
}

func putDest(b []byte, proto sipmsg.Proto, ap netip.AddrPort, s *sipmsg.Socket, conn uint64, socks []*sipmsg.Socket) {
	b[destProto] = byte(proto)
	a := ap.Addr()
	switch {
	case a.Is4():
		b[destKind] = 4
		a4 := a.As4()
		copy(b[destAddr:destAddr+16], a4[:])
	case a.Is6():
		b[destKind] = 6
		a16 := a.As16()
		copy(b[destAddr:destAddr+16], a16[:])
	default:
		b[destKind] = 0
	}
	le.PutUint16(b[destPort:], ap.Port())
	si, _ := sockIndex(s, socks)
	le.PutUint16(b[destSock:], si)
	le.PutUint64(b[destConn:], conn)
}

func getDest(b []byte, socks []*sipmsg.Socket) (proto sipmsg.Proto, ap netip.AddrPort, s *sipmsg.Socket, conn uint64) {
	proto = sipmsg.Proto(b[destProto])
	var a netip.Addr
	switch b[destKind] {
	case 4:
		a = netip.AddrFrom4([4]byte(b[destAddr : destAddr+4]))
	case 6:
		a = netip.AddrFrom16([16]byte(b[destAddr : destAddr+16]))
	}
	if a.IsValid() {
		ap = netip.AddrPortFrom(a, le.Uint16(b[destPort:]))
	}
	if i := int(le.Uint16(b[destSock:])); i > 0 && i <= len(socks) {
		s = socks[i-1]
	}
	return proto, ap, s, le.Uint64(b[destConn:])
}

func decodeDest(b []byte, socks []*sipmsg.Socket) sipmsg.Dest {
	p, ap, s, c := getDest(b, socks)
	return sipmsg.Dest{Proto: p, Addr: ap, Sock: s, ConnID: c}
}

// lastDst is where the record's last reply went.
func (r waitRec) lastDst(socks []*sipmsg.Socket) sipmsg.Dest {
	return decodeDest(r[recLastDst:], socks)
}

// dst is where the branch's requests go.
func (b wb) dst(socks []*sipmsg.Socket) sipmsg.Dest { return decodeDest(b[brDst:], socks) }

// compactable reports whether x (locked) has nothing left to do but
// absorb retransmissions until its wait deadline: see the top of this file.
func (x *txn) compactable(now instant) bool {
	if x.bits&flagPinned != 0 || !x.completed() || x.waitAt.IsZero() || !now.Before(x.waitAt) ||
		!x.gAt.IsZero() || !x.hAt.IsZero() || !x.uasUntil.IsZero() || x.uacDone != nil ||
		x.snap != nil || x.vals != nil || x.avps != nil && x.onReply > 0 ||
		x.onReply < 0 || x.onReply > 0xffff || x.onNegative < 0 || x.onNegative > 0xffff {
		return false
	}
	for _, br := range x.branches {
		if br.pending() || br.cancel == cancelTrying {
			return false
		}
	}
	return true
}

// recordSize returns the size of x's record, ok false when x cannot be
// encoded (a destination on a socket not listening, an IPv6 zone, fields
// too long).
func recordSize(x *txn, socks []*sipmsg.Socket) (int, bool) {
	u16 := func(n int) bool { return n >= 0 && n <= 0xffff }
	if !u16(len(x.key)) || len(x.method) > 0xff || !u16(len(x.callID)) || len(x.branches) > 0xff || !u16(x.status) ||
		!destOK(x.lastDst.Addr, x.lastDst.Sock, socks) || !destOK(x.rcv.Src, x.rcv.Sock, socks) {
		return 0, false
	}
	n := recHead + len(x.key) + len(x.method) + len(x.callID) + len(x.lastWire)
	for _, br := range x.branches {
		if !destOK(br.dst.Addr, br.dst.Sock, socks) || !u16(br.status) || !u16(br.finalCode) {
			return 0, false
		}
		n += brHead + len(br.ack)
		if !br.received() {
			n += len(br.req)
		}
	}
	return n, uint64(n) <= math.MaxUint32
}

// encode writes x's record into b (recordSize bytes).
func encode(b []byte, x *txn, socks []*sipmsg.Socket) {
	le.PutUint32(b[recSize:], uint32(len(b)))
	le.PutUint64(b[recHash:], x.hash)
	le.PutUint64(b[recWaitAt:], uint64(x.waitAt))
	le.PutUint32(b[recLabel:], x.label)
	le.PutUint32(b[recFlags:], uint32(x.flags))
	le.PutUint32(b[recCSeq:], x.cseq)
	le.PutUint16(b[recStatus:], uint16(x.status))
	le.PutUint16(b[recOnReply:], uint16(x.onReply))
	le.PutUint16(b[recOnNeg:], uint16(x.onNegative))
	b[recState] = byte(x.state)
	b[recBits] = byte(x.bits &^ (flagMoved | flagPinned))
	b[recBranches] = byte(len(x.branches))
	b[recMethodN] = byte(len(x.method))
	le.PutUint16(b[recKeyN:], uint16(len(x.key)))
	le.PutUint16(b[recCallIDN:], uint16(len(x.callID)))
	le.PutUint32(b[recWireN:], uint32(len(x.lastWire)))
	putDest(b[recLastDst:], x.lastDst.Proto, x.lastDst.Addr, x.lastDst.Sock, x.lastDst.ConnID, socks)
	putDest(b[recRcv:], x.rcv.Proto, x.rcv.Src, x.rcv.Sock, x.rcv.ConnID, socks)
	o := recHead
	o += copy(b[o:], x.key)
	o += copy(b[o:], x.method)
	o += copy(b[o:], x.callID)
	o += copy(b[o:], x.lastWire)
	for _, br := range x.branches {
		w := b[o:]
		w[brState] = byte(br.state)
		w[brCancel] = byte(br.cancel)
		w[brBlind] = 0
		if br.blind {
			w[brBlind] = 1
		}
		le.PutUint16(w[brStatus:], uint16(br.status))
		le.PutUint16(w[brFinal:], uint16(br.finalCode))
		var req []byte
		if !br.received() {
			req = br.req
		}
		le.PutUint32(w[brAckN:], uint32(len(br.ack)))
		le.PutUint32(w[brReqN:], uint32(len(req)))
		putDest(w[brDst:], br.dst.Proto, br.dst.Addr, br.dst.Sock, br.dst.ConnID, socks)
		o += brHead
		o += copy(b[o:], br.ack)
		o += copy(b[o:], req)
	}
}

// decode rebuilds the transaction a record stands for (revive).
func (t *TM) decode(r waitRec, socks []*sipmsg.Socket) *txn {
	h := r.hash()
	x := &txn{
		tm: t, key: string(r.key()), hash: h, bucket: bucketOf(h), label: r.label(),
		method: string(r.method()), callID: string(r.callID()), cseq: r.cseq(),
		state: r.state(), bits: r.bits() | flagPinned,
		flags: sipmsg.Flags(le.Uint32(r[recFlags:])), status: r.status(),
		onReply: r.onReply(), onNegative: int(le.Uint16(r[recOnNeg:])),
		lastDst: r.lastDst(socks), waitAt: r.waitAt(),
	}
	if w := r.wire(); len(w) > 0 {
		x.lastWire = append([]byte(nil), w...)
	}
	p, src, s, c := getDest(r[recRcv:], socks)
	x.rcv = sipmsg.RcvInfo{Src: src, Sock: s, Proto: p, ConnID: c}
	x.branches = make([]*branch, r.branches())
	off := r.strEnd() + r.wireN()
	for i := range x.branches {
		w := r.branchAtOff(0, off)
		off += len(w)
		br := &branch{idx: i, dst: w.dst(socks), state: w.state(), cancel: w.cancel(), blind: w[brBlind] != 0,
			status: int(le.Uint16(w[brStatus:])), finalCode: int(le.Uint16(w[brFinal:]))}
		if a := w.ack(); len(a) > 0 {
			br.ack = append([]byte(nil), a...)
		}
		if q := w.req(); len(q) > 0 {
			br.req = append([]byte(nil), q...)
		}
		x.branches[i] = br
	}
	return x
}

// at returns the record at position p (wl.mu held).
func (wl *waitLog) at(p uint64) waitRec {
	c := wl.chunks[p>>32-wl.first]
	r := waitRec(c[uint32(p):])
	return r[:r.size()]
}

// get returns the record of hash h, or nil (wl.mu held).
func (wl *waitLog) get(h uint64) waitRec {
	p, ok := wl.idx[h]
	if !ok {
		return nil
	}
	return wl.at(p)
}

// empty reports whether every record was walked by expire (wl.mu held).
func (wl *waitLog) empty() bool {
	n := len(wl.chunks)
	return n == 0 || n == 1 && wl.head >= len(wl.chunks[0])
}

// add appends x's record (size bytes) and indexes it (wl.mu held). It
// refuses (false) once the log is stopped, and when x's deadline is
// earlier than the newest record's: records expire in append order. wake
// reports that the log was empty (its timer queue does not watch it).
func (wl *waitLog) add(x *txn, size int, socks []*sipmsg.Socket) (ok, wake bool) {
	if wl.stopped || x.waitAt.Before(wl.lastAt) {
		return false, false
	}
	wake = wl.empty()
	if wl.idx == nil {
		wl.idx = make(map[uint64]uint64)
	}
	n := len(wl.chunks)
	if n == 0 || cap(wl.chunks[n-1])-len(wl.chunks[n-1]) < size {
		wl.chunks = append(wl.chunks, wl.newChunk(size))
		n++
	}
	c := wl.chunks[n-1]
	off := len(c)
	c = c[:off+size]
	encode(c[off:], x, socks)
	wl.chunks[n-1] = c
	wl.idx[x.hash] = (wl.first+uint64(n-1))<<32 | uint64(off)
	wl.lastAt = x.waitAt
	return true, wake
}

func (wl *waitLog) newChunk(size int) []byte {
	if size <= waitChunkSize && len(wl.free) > 0 {
		c := wl.free[len(wl.free)-1]
		wl.free = wl.free[:len(wl.free)-1]
		return c[:0]
	}
	n := waitChunkMin
	if k := len(wl.chunks); k > 0 {
		n = min(2*cap(wl.chunks[k-1]), waitChunkSize)
	}
	return make([]byte, 0, max(size, n))
}

// expire deletes the records whose deadline passed (accounting each live
// one to t as a deleted transaction) and drops the chunks walked; it
// returns the deadline of the oldest record left (zero: none).
func (wl *waitLog) expire(now instant, t *TM) instant {
	wl.mu.Lock()
	defer wl.mu.Unlock()
	for len(wl.chunks) > 0 {
		c := wl.chunks[0]
		if wl.head >= len(c) {
			if len(wl.chunks) == 1 {
				// Empty (no record is indexed any more): give the memory
				// back; the next record starts a small chunk.
				wl.idx, wl.chunks, wl.free = nil, nil, nil
				wl.first++
				wl.head = 0
				return 0
			}
			if cap(c) == waitChunkSize && len(wl.free) < waitFree {
				wl.free = append(wl.free, c[:0])
			}
			wl.chunks[0] = nil
			wl.chunks = wl.chunks[1:]
			wl.first++
			wl.head = 0
			continue
		}
		r := waitRec(c[wl.head:])
		if at := r.waitAt(); now.Before(at) {
			return at
		}
		h := r.hash()
		if p, ok := wl.idx[h]; ok && p == wl.first<<32|uint64(wl.head) {
			delete(wl.idx, h)
			t.expired(h)
		}
		wl.head += r.size()
	}
	return 0
}

// expired accounts the deletion of a transaction from the wait log, as
// txn.remove does for one in the table.
func (t *TM) expired(h uint64) {
	t.stats.waiting.Add(-1)
	t.table.cur[bucketOf(h)].Add(^uint32(0))
	t.table.count.Add(-1)
	t.stats.deleted.Add(1)
}

// find returns a copy of the first record for which match holds.
func (wl *waitLog) find(match func(waitRec) bool) waitRec {
	wl.mu.Lock()
	defer wl.mu.Unlock()
	for _, p := range wl.idx {
		if r := wl.at(p); match(r) {
			return append(waitRec(nil), r...)
		}
	}
	return nil
}

// stop empties the log for good (TM.Stop).
func (wl *waitLog) stop() {
	wl.mu.Lock()
	wl.stopped = true
	wl.idx, wl.chunks, wl.free = nil, nil, nil
	wl.head = 0
	wl.mu.Unlock()
}

// count is the number of records indexed (tests).
func (wl *waitLog) count() int {
	wl.mu.Lock()
	defer wl.mu.Unlock()
	return len(wl.idx)
}

// compact moves x (locked) into the wait log when it has nothing left to
// do but absorb retransmissions until its deadline, and reports whether it
// did: x is then Terminated with flagMoved, off the table and the timer
// queue, and the record stands for it.
func (x *txn) compact(now instant) bool {
	t := x.tm
	if t.core == nil || t.keepInTable || t.closed.Load() || !x.compactable(now) {
		return false
	}
	socks := t.core.Sockets()
	size, ok := recordSize(x, socks)
	if !ok {
		return false
	}
	s := t.table.shardOf(x.hash)
	wl := t.table.logOf(x.hash)
	moved, wake := false, false
	s.mu.Lock()
	if s.m[x.hash] == x {
		wl.mu.Lock()
		moved, wake = wl.add(x, size, socks)
		wl.mu.Unlock()
		if moved {
			delete(s.m, x.hash)
		}
	}
	s.mu.Unlock()
	if !moved {
		return false
	}
	x.to(txnTerminated)
	x.bits |= flagMoved
	q := t.queueOf(x)
	q.cancel(x)
	x.timerAt = 0
	if wake {
		q.poke()
	}
	return true
}

// revive brings the transaction of hash h back from the wait log into the
// table, where it stays until deleted, and returns it (unlocked). When the
// table has it already, that one is returned; nil when neither has it.
func (t *TM) revive(h uint64) *txn {
	socks := t.core.Sockets()
	s := t.table.shardOf(h)
	s.mu.Lock()
	x := s.m[h]
	revived := false
	if x == nil {
		wl := t.table.logOf(h)
		wl.mu.Lock()
		if r := wl.get(h); r != nil {
			x = t.decode(r, socks)
			delete(wl.idx, h)
			s.m[h] = x
			revived = true
		}
		wl.mu.Unlock()
	}
	s.mu.Unlock()
	if revived {
		// Queue it for its deadline (or delete it when that passed).
		x.mu.Lock()
		x.unlock()
	}
	return x
}

// lockLive locks x, found in the table earlier. When x moved to the wait
// log meanwhile, its hash is looked up again: the transaction now in the
// table is returned locked, or a copy of its wait log record (w), or
// neither when it is gone.
func (t *TM) lockLive(x *txn) (_ *txn, w waitRec) {
	for x != nil {
		x.mu.Lock()
		if !x.moved() {
			return x, nil
		}
		x.mu.Unlock()
		if x, w = t.table.get(x.hash); w != nil {
			return nil, w
		}
	}
	return nil, nil
}

// relock locks x, or when x moved to the wait log, the transaction revived
// from its record; nil when it is gone (x unlocked then).
func (t *TM) relock(x *txn) *txn {
	for x != nil {
		x.mu.Lock()
		if !x.moved() {
			return x
		}
		x.mu.Unlock()
		x = t.revive(x.hash)
	}
	return nil
}

// resend sends the last reply of a transaction in the wait log again (a
// retransmitted request); it reports whether it was sent.
func (t *TM) resend(w waitRec) bool {
	if !w.upstream() || w.wireN() == 0 {
		return false
	}
	return t.core.Send(w.lastDst(t.core.Sockets()), w.wire()) == nil
}

// waitReply handles a reply to a branch of a transaction in the wait log
// as HandleReply would, when the record is enough: true when it was
// absorbed (a negative final reply again: the branch's ACK is re-sent);
// false when the transaction must be revived (a 2xx to relay upstream, an
// onreply route to run, a late reply for a branch ended here, a wanted
// CANCEL to send).
func (t *TM) waitReply(w waitRec, idx int, m *sipmsg.Msg) bool {
	resp := m.Resp
	cs := resp.CSeq()
	if idx >= w.branches() || cs == nil {
		return true
	}
	if string(cs.MethodName) != string(w.method()) {
		// A reply to our CANCEL (none is being retransmitted in the wait
		// log), or to another method: absorbed.
		return true
	}
	if w.onReply() > 0 && w.upstream() {
		return false
	}
	br := w.branchAt(idx)
	code := resp.StatusCode
	switch {
	case code < 200:
		return br.cancel() != cancelWanted
	case br.state() != brCompleted:
		return false
	case code >= 300:
		if ack := br.ack(); len(ack) > 0 {
			t.send(br.dst(t.core.Sockets()), ack)
		}
		return true
	}
	return !w.invite() || !w.upstream()
}
