package dispatcher

import (
	"context"
	"errors"
	"fmt"

	"ser/core/modules/tm"
)

// update applies a state to a destination (ds_mark_dst, probe results).
// The trying state counts consecutive failures: at ds_probing_threshold
// the destination becomes inactive instead; an inactive destination stays
// inactive on further failures. An active state clears the count. A
// change between up and down is logged.
func (d *Dispatcher) update(ds *dest, state uint32, why string) {
	ds.mu.Lock()
	old := ds.flags.Load()
	switch {
	case state&StateTrying != 0 && old&StateInactive != 0:
		state = state&^StateTrying | StateInactive
	case state&StateTrying != 0:
		ds.failures++
		if ds.failures >= d.threshold {
			state = state&^StateTrying | StateInactive
			ds.failures = 0
		}
	case state&(StateInactive|StateDisabled) == 0:
		ds.failures = 0
	}
	now := old&^stateAll | state
	ds.flags.Store(now)
	ds.mu.Unlock()
	wasUp, isUp := old&(StateInactive|StateDisabled) == 0, now&(StateInactive|StateDisabled) == 0
	switch {
	case wasUp && !isUp:
		d.log.Warn("dispatcher: destination down", "set", ds.set, "destination", ds.uri, "by", why, "state", stateString(now))
	case !wasUp && isUp:
		d.log.Info("dispatcher: destination up", "set", ds.set, "destination", ds.uri, "by", why, "state", stateString(now))
	}
}

// setState is ds_set_state: the state bits are replaced and the failure
// count cleared.
func (d *Dispatcher) setState(ds *dest, state uint32) {
	ds.mu.Lock()
	ds.flags.Store(ds.flags.Load()&^stateAll | state)
	ds.failures = 0
	ds.mu.Unlock()
	d.log.Info("dispatcher: destination state set", "set", ds.set, "destination", ds.uri, "state", stateString(state))
}

// alive reports whether a probe's final reply means the destination is
// up: any 2xx, 3xx or 4xx reply except 408 — the destination processed
// the request. A timeout (tm's local 408), 408, 5xx and 6xx are failures.
func alive(code int) bool {
	return code >= 200 && code < 500 && code != 408
}

// Start launches the prober when ds_ping_interval is set: every interval
// each destination (ds_probing_mode 1) or each destination in the probing
// state (mode 0) that is not disabled gets a ds_ping_method request
// through tm. Exports.Start.
func (d *Dispatcher) Start(ctx context.Context) error {
	if d.pingInterval <= 0 {
		return nil
	}
	if d.uac == nil {
		return fmt.Errorf("dispatcher: probing needs the tm module")
	}
	if err := d.prober.Start(ctx, d.pingInterval, func() { d.ProbeAll() }); err != nil {
		return fmt.Errorf("dispatcher: prober: %w", err)
	}
	return nil
}

// Stop ends the prober and waits for it. Probes still pending complete in
// tm; their results are applied when they arrive. It is
// the table's Stop.
func (d *Dispatcher) Stop() { d.prober.Stop() }

// ProbeAll sends one probe to every destination due (see Start); a
// destination whose previous probe is still pending is skipped. It
// returns the number of probes sent.
func (d *Dispatcher) ProbeAll() int {
	tab := d.tab.Load()
	n := 0
	for _, id := range tab.ids {
		for _, ds := range tab.sets[id].dests {
			f := ds.flags.Load()
			if f&StateDisabled != 0 || d.probingMode == 0 && f&StateProbing == 0 {
				continue
			}
			if d.probe(ds) {
				n++
			}
		}
	}
	return n
}

// probe sends one request to ds: R-URI and To the destination, From
// ds_ping_from. The reply (or tm's 408 after fr_timer) is applied by
// probed; a request that cannot be sent at all counts as a failure.
func (d *Dispatcher) probe(ds *dest) bool {
	ds.mu.Lock()
	if ds.inFlight {
		ds.mu.Unlock()
		return false
	}
	ds.inFlight = true
	ds.mu.Unlock()
	_, err := d.uac.Originate(tm.UACRequest{
		Method: d.pingMethod, RURI: ds.uri, To: ds.uri, From: d.pingFrom,
	}, func(res tm.UACResult) {
		d.probed(ds, alive(res.Code), fmt.Sprintf("probe reply %d", res.Code))
	})
	if err != nil {
		why := "probe not sent"
		var ue *tm.UACError
		if errors.As(err, &ue) {
			why = fmt.Sprintf("probe not sent (%d)", ue.Code)
		}
		d.log.Debug("dispatcher: probe not sent", "destination", ds.uri, "err", err)
		d.probed(ds, false, why)
	}
	return true
}

// probed applies a probe's outcome (Kamailio's ds_options_callback).
func (d *Dispatcher) probed(ds *dest, up bool, why string) {
	ds.mu.Lock()
	ds.inFlight = false
	disabled := ds.flags.Load()&StateDisabled != 0
	ds.mu.Unlock()
	if disabled {
		return
	}
	if up {
		var st uint32
		if d.probingMode == 1 {
			st = StateProbing
		}
		d.update(ds, st, why)
		return
	}
	d.update(ds, StateTrying|StateProbing, why)
}
