package dispatcher

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/emiago/sipgo/sip"

	"ser/core/sipmsg"
)

// Destination state bits (Kamailio's DS_*_DST): the list file's and the
// table's flags column, ds_set_state and ds_mark_dst set them.
const (
	// StateInactive marks a destination that is down: selection skips it.
	StateInactive uint32 = 1
	// StateTrying marks a destination whose probes (or ds_mark_dst("t"))
	// failed fewer than ds_probing_threshold times in a row; it is still
	// selected.
	StateTrying uint32 = 2
	// StateDisabled marks a destination switched off by the
	// administrator: skipped by selection and never probed.
	StateDisabled uint32 = 4
	// StateProbing marks a destination that is probed (with
	// ds_probing_mode 0 only such destinations are).
	StateProbing uint32 = 8

	stateAll = StateInactive | StateTrying | StateDisabled | StateProbing
)

// entry is one destination as read, before the table is built.
type entry struct {
	set         int
	uri         string
	parsed      sip.Uri
	flags       uint32
	priority    int
	description string
	// pos is where it was read ("file:line", "table t: row id n").
	pos string
}

// newEntry checks one destination's fields.
func newEntry(setID int, uri string, flags, priority int) (entry, error) {
	e := entry{set: setID, uri: uri, priority: priority}
	if setID < 0 {
		return e, fmt.Errorf("set id %d is negative", setID)
	}
	if err := parseDest(uri, &e.parsed); err != nil {
		return e, err
	}
	if flags < 0 || uint32(flags)&^stateAll != 0 {
		return e, fmt.Errorf("flags %d: want a combination of 1 inactive, 2 trying, 4 disabled, 8 probing", flags)
	}
	e.flags = uint32(flags)
	return e, nil
}

// parseDest parses a destination URI: sip: or sips:, with a host.
func parseDest(s string, u *sip.Uri) error {
	if err := sip.ParseUri(s, u); err != nil {
		return fmt.Errorf("bad destination %q: %v", s, err)
	}
	if u.Scheme != "sip" && u.Scheme != "sips" {
		return fmt.Errorf("bad destination %q: not a sip: or sips: URI", s)
	}
	if u.Host == "" {
		return fmt.Errorf("bad destination %q: no host", s)
	}
	return nil
}

// table is an immutable snapshot of the destination sets; only the
// destinations' states change.
type table struct {
	sets  map[int]*set
	ids   []int // set ids, ascending
	count int
}

// set is a destination set.
type set struct {
	id    int
	dests []*dest // priority descending, then in load order
	rr    atomic.Uint32
}

// dest is a destination with its run-time state.
type dest struct {
	uri         string
	parsed      sip.Uri
	set         int
	priority    int
	description string

	// ip, port and proto are what ds_is_from_list compares with a
	// message's source; port 0 and proto none match any.
	ip    netip.Addr
	port  int
	proto sipmsg.Proto

	flags atomic.Uint32

	mu       sync.Mutex
	failures int  // consecutive failures counted in the trying state
	inFlight bool // a probe is pending
}

// usable reports whether selection may use the destination.
func (ds *dest) usable() bool {
	return ds.flags.Load()&(StateInactive|StateDisabled) == 0
}

// buildTable groups the entries into sets and resolves the addresses
// ds_is_from_list needs.
func (d *Dispatcher) buildTable(entries []entry) *table {
	tab := &table{sets: map[int]*set{}}
	for _, e := range entries {
		s := tab.sets[e.set]
		if s == nil {
			s = &set{id: e.set}
			tab.sets[e.set] = s
			tab.ids = append(tab.ids, e.set)
		}
		ds := &dest{uri: e.uri, parsed: e.parsed, set: e.set, priority: e.priority, description: e.description}
		ds.flags.Store(e.flags)
		d.resolve(ds, e.pos)
		s.dests = append(s.dests, ds)
		tab.count++
	}
	sort.Ints(tab.ids)
	for _, s := range tab.sets {
		sort.SliceStable(s.dests, func(i, j int) bool { return s.dests[i].priority > s.dests[j].priority })
	}
	return tab
}

// resolve sets the address of a destination for ds_is_from_list: an IP
// literal as it is, a host name through the core's resolver (a failure is
// logged: the destination is still used for forwarding, where the core
// resolves it again, but ds_is_from_list does not match it).
func (d *Dispatcher) resolve(ds *dest, pos string) {
	u := &ds.parsed
	ds.port = u.Port
	if tp, ok := u.UriParams.Get("transport"); ok {
		ds.proto, _ = sipmsg.ParseProto(tp)
	}
	host := strings.Trim(u.Host, "[]")
	if ip, err := netip.ParseAddr(host); err == nil {
		ds.ip = ip.Unmap()
		return
	}
	if d.core == nil {
		return
	}
	proto := ds.proto
	if proto == sipmsg.ProtoNone {
		proto = sipmsg.ProtoUDP
	}
	dst, err := d.core.ResolveHost(host, u.Port, proto)
	if err != nil {
		d.log.Warn("dispatcher: cannot resolve destination; ds_is_from_list will not match it", "destination", ds.uri, "at", pos, "err", err)
		return
	}
	ds.ip = dst.Addr.Addr().Unmap()
}
