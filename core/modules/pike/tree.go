package pike

import (
	"container/list"
	"fmt"
	"io"
)

// The IP tree of SER's pike (ip_tree.c): one tree for IPv4 and IPv6, a
// node per address byte, rooted at the address's first byte. A node is
// only expanded into a child for the next byte when it is hit often
// enough (a quarter of the limit per sampling unit), so the tree follows
// the busy prefixes; a node holding a whole address counts leaf hits and
// turns red (blocked) at the limit. Hits are kept for the current and the
// previous sampling unit.

const (
	prev = 0
	curr = 1
)

// Marking flags (SER's NEW_NODE, LEAF_NODE, RED_NODE, NO_UPDATE).
const (
	flagNew = 1 << iota
	flagLeaf
	flagRed
	flagNoUpdate
)

// counterMax is where SER's unsigned short hit counters stopped counting.
const counterMax = 1<<16 - 2

type node struct {
	byte     byte
	branch   byte
	hits     [2]uint16
	leafHits [2]uint16
	parent   *node
	kids     []*node
	// expires is the tick the node is removed at; elem is its place in
	// the timer list (nil: not in it).
	expires int64
	elem    *list.Element
}

// tree is the IP tree with its timer list, ordered by expiry (every node
// gets the same timeout, so appending keeps the order).
type tree struct {
	maxHits  uint16
	timeout  int64
	maxNodes int
	nodes    int
	full     bool  // the node limit was reached (logged once per episode)
	now      int64 // the current tick
	roots    [256]*node
	timer    list.List
}

func newTree(maxHits, timeout, maxNodes int) *tree {
	if maxHits > counterMax {
		maxHits = counterMax
	}
	t := &tree{maxHits: uint16(maxHits), timeout: int64(timeout), maxNodes: maxNodes}
	t.timer.Init()
	return t
}

func (t *tree) hotNonLeaf(n *node) bool {
	q := t.maxHits >> 2
	return n.hits[prev] >= q || n.hits[curr] >= q || (uint32(n.hits[prev])+uint32(n.hits[curr]))>>1 >= uint32(q)
}

func (t *tree) hotLeaf(n *node) bool {
	return n.leafHits[prev] >= t.maxHits || n.leafHits[curr] >= t.maxHits ||
		(uint32(n.leafHits[prev])+uint32(n.leafHits[curr]))>>1 >= uint32(t.maxHits)
}

func (t *tree) warmLeaf(n *node) bool { return n.hits[curr] >= t.maxHits>>2 }

func inc(c *uint16) {
	if *c < counterMax {
		*c++
	}
}

// newNode makes a node for byte b. At the node limit the least recently
// hit nodes are dropped to make room (never keep, the node the new one
// hangs from); nil when none can be.
func (t *tree) newNode(b byte, keep *node) *node {
	for t.nodes >= t.maxNodes {
		t.full = true
		if !t.evict(keep) {
			return nil
		}
	}
	t.nodes++
	return &node{byte: b}
}

// evict expires nodes from the front of the timer list (the least
// recently hit) until one leaves the tree; false when none can.
func (t *tree) evict(keep *node) bool {
	for i, l := 0, t.timer.Len(); i < l; i++ {
		e := t.timer.Front()
		n := e.Value.(*node)
		if n == keep {
			t.timer.MoveToBack(e)
			continue
		}
		if t.expire(n) {
			return true
		}
	}
	return false
}

// mark counts one hit for ip (4 or 16 bytes) and returns the node hit,
// its parent when a node was split off it, and the flags. node is nil
// when the tree is at its node limit and the address has no place.
func (t *tree) mark(ip []byte) (n, father *node, flags int) {
	pos := 0
	var level []*node
	if r := t.roots[ip[0]]; r != nil {
		level = []*node{r}
	}
	for pos < len(ip) {
		var found *node
		for _, k := range level {
			if k.byte == ip[pos] {
				found = k
				break
			}
		}
		if found == nil {
			break
		}
		n, level = found, found.kids
		pos++
	}
	switch {
	case pos == len(ip):
		flags = flagLeaf
		inc(&n.leafHits[curr])
		if t.hotLeaf(n) {
			flags |= flagRed
		}
	case pos == 0:
		if n = t.newNode(ip[0], nil); n == nil {
			return nil, nil, 0
		}
		n.hits[curr] = 1
		n.branch = ip[0]
		flags = flagNew
		t.roots[ip[0]] = n
	default:
		inc(&n.hits[curr])
		if t.hotNonLeaf(n) {
			kid := t.split(n, ip[pos])
			if kid == nil {
				return n, nil, flagNoUpdate
			}
			return kid, n, flagNew
		}
		if !t.warmLeaf(n) {
			flags = flagNoUpdate
		}
	}
	return n, nil, flags
}

// split makes a child for byte b under dad; it inherits part of dad's
// hits, as in SER.
func (t *tree) split(dad *node, b byte) *node {
	n := t.newNode(b, dad)
	if n == nil {
		return nil
	}
	if dad.hits[curr] >= 1 {
		n.hits[curr] = dad.hits[curr] - 1
	}
	if dad.leafHits[curr] >= 1 && dad.leafHits[prev] >= 1 {
		n.leafHits[prev] = dad.leafHits[prev] - 1
	}
	n.branch = dad.branch
	n.parent = dad
	dad.kids = append([]*node{n}, dad.kids...)
	return n
}

// check is pike_check_req's bookkeeping for one request from ip at tick
// now: it reports whether the address is blocked, and ok false when the
// tree is full and the address could not be counted.
func (t *tree) check(ip []byte, now int64) (red, ok bool) {
	t.now = now
	n, father, flags := t.mark(ip)
	if n == nil {
		return false, false
	}
	switch {
	case flags&flagNew != 0:
		n.expires = now + t.timeout
		n.elem = t.timer.PushBack(n)
		// The father leaves the timer list while it has kids (unless it
		// holds a whole address itself).
		if father != nil && father.leafHits[curr] == 0 && len(father.kids) == 1 && father.elem != nil {
			t.timer.Remove(father.elem)
			father.elem = nil
		}
	case n.leafHits[curr] > 0 || len(n.kids) == 0:
		if flags&flagNoUpdate == 0 && n.elem != nil {
			n.expires = now + t.timeout
			t.timer.MoveToBack(n.elem)
		}
	}
	return flags&flagRed != 0, true
}

// clean removes the nodes that expired by tick now (SER's clean_routine):
// a node with kids only loses its leaf hits; a childless one is removed,
// and a father left without kids goes back into the timer list.
func (t *tree) clean(now int64) {
	t.now = now
	for e := t.timer.Front(); e != nil && e.Value.(*node).expires <= now; e = t.timer.Front() {
		t.expire(e.Value.(*node))
	}
	if t.nodes < t.maxNodes {
		t.full = false
	}
}

// expire takes n out of the timer list; a node with kids only loses its
// leaf hits, a childless one leaves the tree (freed true), and a father
// left without kids goes into the timer list.
func (t *tree) expire(n *node) (freed bool) {
	t.timer.Remove(n.elem)
	n.elem, n.expires = nil, 0
	if len(n.kids) > 0 {
		n.leafHits[curr] = 0
		return false
	}
	if dad := n.parent; dad != nil {
		for i, k := range dad.kids {
			if k == n {
				dad.kids = append(dad.kids[:i], dad.kids[i+1:]...)
				break
			}
		}
		if len(dad.kids) == 0 && dad.elem == nil {
			dad.expires = t.now + t.timeout
			dad.elem = t.timer.PushBack(dad)
		}
	} else {
		t.roots[n.byte] = nil
	}
	t.nodes--
	return true
}

// swap starts a new sampling unit (SER's swap_routine).
func (t *tree) swap() {
	var walk func(n *node)
	walk = func(n *node) {
		n.hits[prev], n.hits[curr] = n.hits[curr], 0
		n.leafHits[prev], n.leafHits[curr] = n.leafHits[curr], 0
		for _, k := range n.kids {
			walk(k)
		}
	}
	for _, r := range t.roots {
		if r != nil {
			walk(r)
		}
	}
}

// print writes the tree as SER's print_ip_tree did, one node a line,
// depth first ("[lN]" is the depth), without SER's memory addresses.
func (t *tree) print(w io.Writer) {
	var walk func(n *node, depth int)
	walk = func(n *node, depth int) {
		fmt.Fprintf(w, "[l%d] brh=%d byte=%d , hits={%d,%d} , leaf_hits={%d,%d}\n", depth, n.branch, n.byte,
			n.hits[prev], n.hits[curr], n.leafHits[prev], n.leafHits[curr])
		for _, k := range n.kids {
			walk(k, depth+1)
		}
	}
	for _, r := range t.roots {
		if r != nil {
			walk(r, 0)
		}
	}
}

// printTimer writes the timer list as SER's print_timer_list did.
func (t *tree) printTimer(w io.Writer) {
	for e := t.timer.Front(); e != nil; e = e.Next() {
		n := e.Value.(*node)
		fmt.Fprintf(w, " [byte=%d](expires=%d)\n", n.byte, n.expires)
	}
}
