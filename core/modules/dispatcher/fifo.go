package dispatcher

import (
	"context"
	"strconv"
	"strings"

	"ser/core/rpc"
	"ser/core/rpc/sercmd"
)

// maxParam bounds a parameter line of the FIFO commands.
const maxParam = 512

// commands are ds_list, ds_set_state and ds_reload (Exports.Commands).
func (d *Dispatcher) commands() []rpc.Command {
	return []rpc.Command{
		{Name: "ds_list", Help: "print the destination sets and the states of their destinations", Handler: d.fifoList},
		{Name: "ds_set_state", Params: []string{"state", "group", "address"},
			Help: "set the state (a, i, t, d, optionally followed by p) of a destination", Handler: d.fifoSetState},
		{Name: "ds_reload", Help: "re-read the list file or the dispatcher table", Handler: d.fifoReload},
	}
}

// stateString prints a destination's state as Kamailio's ds_list: I
// (inactive), D (disabled), T (trying) or A (active), then P (probing)
// or X.
func stateString(f uint32) string {
	var b [2]byte
	switch {
	case f&StateInactive != 0:
		b[0] = 'I'
	case f&StateDisabled != 0:
		b[0] = 'D'
	case f&StateTrying != 0:
		b[0] = 'T'
	default:
		b[0] = 'A'
	}
	b[1] = 'X'
	if f&StateProbing != 0 {
		b[1] = 'P'
	}
	return string(b[:])
}

// Sets returns ds_list's result: the sets by ascending id, each with its
// destinations in selection order and their states.
func (d *Dispatcher) Sets() sercmd.DSList {
	tab := d.tab.Load()
	out := make(sercmd.DSList, 0, len(tab.ids))
	for _, id := range tab.ids {
		set := sercmd.DSSet{ID: id, Dests: []sercmd.DSDest{}}
		for _, ds := range tab.sets[id].dests {
			flags := stateString(ds.flags.Load())
			set.Dests = append(set.Dests, sercmd.DSDest{URI: ds.uri, State: flags[:1], Probing: flags[1] == 'P',
				Priority: ds.priority, Description: ds.description})
		}
		out = append(out, set)
	}
	return out
}

// List returns ds_list's body: "SET_NO:: n", then per set (ascending id)
// "SET:: id" and a tab-indented "URI:: uri flags=XY priority=n" line per
// destination in selection order (Kamailio's MI tree as the FIFO prints
// it).
func (d *Dispatcher) List() string {
	var b strings.Builder
	d.Sets().WriteBody(&b)
	return b.String()
}

// fifoList is ds_list; in-process callers get the sets as a
// sercmd.DSList value.
func (d *Dispatcher) fifoList(_ context.Context, _ *rpc.Request) *rpc.Reply {
	return rpc.Typed("200 OK", d.Sets())
}

// fifoSetState is ds_set_state. Parameters, Kamailio's order: state,
// group, address; the order set, address, state is accepted too (told
// apart by the second line: a group number or an address).
func (d *Dispatcher) fifoSetState(_ context.Context, req *rpc.Request) *rpc.Reply {
	var lines []string
	for i := 0; i < 3; i++ {
		l, ok := req.Params.Line()
		if !ok {
			break
		}
		lines = append(lines, strings.TrimSpace(l))
	}
	if len(lines) != 3 || lines[0] == "" || lines[1] == "" || lines[2] == "" {
		return rpc.NewReply(400, "Too few or too many arguments", "")
	}
	for _, l := range lines {
		if len(l) > maxParam {
			return rpc.NewReply(400, "Bad parameter", "")
		}
	}
	stateText, groupText, addr := lines[0], lines[1], lines[2]
	if _, err := strconv.Atoi(lines[1]); err != nil {
		// The second line is not a group: the order is set, address, state.
		groupText, addr, stateText = lines[0], lines[1], lines[2]
	}
	state, err := parseState(stateText)
	if err != nil {
		return rpc.NewReply(400, "Bad parameter", "")
	}
	group, err := strconv.Atoi(groupText)
	if err != nil || group < 0 {
		return rpc.NewReply(400, "Bad parameter", "")
	}
	if !d.SetState(group, addr, state) {
		return rpc.NewReply(404, "destination not found", "")
	}
	return rpc.NewReply(200, "OK", "")
}

// SetState sets the state bits of every destination of set group whose
// URI is address (compared without case); false when there is none.
func (d *Dispatcher) SetState(group int, address string, state uint32) bool {
	s := d.tab.Load().sets[group]
	if s == nil {
		return false
	}
	found := false
	for _, ds := range s.dests {
		if strings.EqualFold(ds.uri, address) {
			d.setState(ds, state)
			found = true
		}
	}
	return found
}

// State returns the state bits of the first destination of set group
// whose URI is address.
func (d *Dispatcher) State(group int, address string) (uint32, bool) {
	s := d.tab.Load().sets[group]
	if s == nil {
		return 0, false
	}
	for _, ds := range s.dests {
		if strings.EqualFold(ds.uri, address) {
			return ds.flags.Load(), true
		}
	}
	return 0, false
}

// fifoReload is ds_reload: "200 OK", or Kamailio's "500 ERROR Reloading
// data" (the cause is logged, the sets in use stay).
func (d *Dispatcher) fifoReload(ctx context.Context, _ *rpc.Request) *rpc.Reply {
	if err := d.Reload(ctx); err != nil {
		d.log.Error("dispatcher: ds_reload failed", "err", err)
		return rpc.NewReply(500, "ERROR Reloading data", "")
	}
	return rpc.NewReply(200, "OK", "")
}
