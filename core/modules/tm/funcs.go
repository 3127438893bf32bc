package tm

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"ser/core/module"
	"ser/core/sipmsg"
)

func fixupRelay(t *TM, env *module.Env, args []module.Value) (module.Handler, error) {
	if len(args) == 2 {
		nh, err := fixupHop("t_relay", args, sipmsg.ProtoUDP)
		if err != nil {
			return nil, err
		}
		return func(m *sipmsg.Msg) (int, error) { return t.relay(m, nh, false), nil }, nil
	}
	if len(args) != 0 {
		return nil, fmt.Errorf("t_relay takes no arguments or host and port")
	}
	return func(m *sipmsg.Msg) (int, error) { return t.relay(m, nil, false), nil }, nil
}

// fixupRelayTo binds t_relay_to / t_relay_to_udp / t_relay_to_tcp and the
// t_replicate family for a protocol.
func fixupRelayTo(name string, proto sipmsg.Proto, replicate bool) func(any, *module.Env, []module.Value) (module.Handler, error) {
	return module.FixupOf(func(t *TM, env *module.Env, args []module.Value) (module.Handler, error) {
		nh, err := fixupHop(name, args, proto)
		if err != nil {
			return nil, err
		}
		return func(m *sipmsg.Msg) (int, error) { return t.relay(m, nh, replicate), nil }, nil
	})
}

func fixupHop(name string, args []module.Value, proto sipmsg.Proto) (*hop, error) {
	host := strings.TrimSpace(args[0].String())
	if host == "" {
		return nil, fmt.Errorf("%s: empty host", name)
	}
	port, err := args[1].Int()
	if err != nil {
		return nil, fmt.Errorf("%s: bad port: %w", name, err)
	}
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("%s: port %d out of range", name, port)
	}
	return &hop{host: host, port: port, proto: proto}, nil
}

func fixupNewTran(t *TM, env *module.Env, args []module.Value) (module.Handler, error) {
	return func(m *sipmsg.Msg) (int, error) { return t.NewTran(m), nil }, nil
}

func fixupReply(t *TM, env *module.Env, args []module.Value) (module.Handler, error) {
	code, err := args[0].Int()
	if err != nil {
		return nil, fmt.Errorf("t_reply: bad reply code: %w", err)
	}
	if code < 100 || code > 699 {
		return nil, fmt.Errorf("t_reply: reply code %d out of range 100..699", code)
	}
	reason := args[1].String()
	return func(m *sipmsg.Msg) (int, error) {
		err := t.Reply(m, code, reason)
		switch {
		case err == errRetransmission:
			return 0, nil
		case err != nil:
			t.log.WarnContext(module.MsgCtx(m), "t_reply failed", "code", code, "err", err)
			return -1, nil
		}
		return 1, nil
	}, nil
}

func fixupRetransmit(t *TM, env *module.Env, args []module.Value) (module.Handler, error) {
	return func(m *sipmsg.Msg) (int, error) { return t.RetransmitReply(m), nil }, nil
}

func fixupRelease(t *TM, env *module.Env, args []module.Value) (module.Handler, error) {
	return func(m *sipmsg.Msg) (int, error) { return t.Release(m), nil }, nil
}

// fixupOnRoute binds t_on_negative / t_on_failure (kind Failure) and
// t_on_reply (kind OnReply); the block must exist. Route 0 disarms it, as
// in SER (serial_183.cfg resets the failure route from an onreply route
// once the callee rings).
func fixupOnRoute(name string, kind module.Route) func(any, *module.Env, []module.Value) (module.Handler, error) {
	return module.FixupOf(func(t *TM, env *module.Env, args []module.Value) (module.Handler, error) {
		n, err := args[0].Int()
		if err != nil {
			return nil, fmt.Errorf("%s: bad route number: %w", name, err)
		}
		if n < 0 {
			return nil, fmt.Errorf("%s: route number %d must not be negative", name, n)
		}
		if n > 0 && env.Core != nil && !env.Core.HasRoute(kind, n) {
			return nil, fmt.Errorf("%s: %s[%d] is not defined", name, kind, n)
		}
		return func(m *sipmsg.Msg) (int, error) {
			t.setRoute(m, kind, n)
			return 1, nil
		}, nil
	})
}

// setRoute arms a failure or onreply route for m's transaction (or for the
// transaction t_relay will create).
func (t *TM) setRoute(m *sipmsg.Msg, kind module.Route, n int) {
	st := state(m)
	if kind == module.OnReply {
		st.onReply = n
	} else {
		st.onNegative = n
	}
	x := st.txn
	if x == nil || st.failure {
		return // copied when the transaction is created / the route ends
	}
	if !st.reply {
		if x = t.relock(x); x == nil {
			return // deleted
		}
		st.txn = x // revived when it had moved to the wait log
		defer x.unlock()
	}
	if kind == module.OnReply {
		x.onReply = n
	} else {
		x.onNegative = n
	}
}

// params

func setSeconds(dst func(*TM) *time.Duration) func(any, module.Value) error {
	return module.SetOf(func(t *TM, v module.Value) error {
		n, err := v.Int()
		if err != nil {
			return err
		}
		if n <= 0 {
			return fmt.Errorf("value %d must be positive", n)
		}
		*dst(t) = time.Duration(n) * time.Second
		return nil
	})
}

// reloadSeconds changes a timer of a running tm (a configuration reload):
// deadlines already running keep their length; every one set from then on
// (new transactions, a branch's fr_inv_timer restarted by a provisional
// reply) uses the new value.
func reloadSeconds(field func(*Timers) *time.Duration) func(any, module.Value) error {
	return module.SetOf(func(t *TM, v module.Value) error {
		n, err := v.Int()
		if err != nil {
			return err
		}
		if n <= 0 {
			return fmt.Errorf("value %d must be positive", n)
		}
		tt := t.Timers()
		*field(&tt) = time.Duration(n) * time.Second
		t.SetTimers(tt)
		return nil
	})
}

func setMillis(dst func(*TM) *time.Duration) func(any, module.Value) error {
	return module.SetOf(func(t *TM, v module.Value) error {
		n, err := v.Int()
		if err != nil {
			return err
		}
		if n <= 0 {
			return fmt.Errorf("value %d must be positive", n)
		}
		*dst(t) = time.Duration(n) * time.Millisecond
		return nil
	})
}

func setNoisy(t *TM, v module.Value) error {
	n, err := v.Int()
	if err != nil {
		return err
	}
	t.noisy = n != 0
	return nil
}

// setMaxTransactions is max_transactions (not in SER, whose bound was the
// shared memory size): how many transactions may be live at once.
func setMaxTransactions(t *TM, v module.Value) error {
	n, err := v.Int()
	if err != nil {
		return err
	}
	if n <= 0 {
		return fmt.Errorf("value %d must be positive", n)
	}
	t.maxTxns = int64(n)
	return nil
}

// fixupLookupRequest binds t_lookup_request: true when the request belongs
// to an existing transaction (a retransmission, or an ACK to a negative
// reply of ours); later calls that act on "the transaction" (t_check_status,
// t_retransmit_reply) then use it, as SER's T did.
func fixupLookupRequest(t *TM, env *module.Env, args []module.Value) (module.Handler, error) {
	return func(m *sipmsg.Msg) (int, error) {
		if t.requestTxn(m) == nil {
			return -1, nil
		}
		return 1, nil
	}, nil
}

// requestTxn returns the transaction of a request in a request route: the
// one t_newtran/t_relay created, else the one the request matches (kept in
// m's state as found).
func (t *TM) requestTxn(m *sipmsg.Msg) *txn {
	if m.Req == nil {
		return nil
	}
	st := state(m)
	if st.txn != nil {
		return st.txn
	}
	if st.found == nil {
		x, w := t.lookupRequest(m, "")
		if w != nil {
			x = t.revive(w.hash())
		}
		st.found = x
	}
	return st.found
}

// fixupCheckStatus binds t_check_status(re): the regular expression is
// matched against, in an onreply route, the reply's status code; in a
// failure route, the code of the reply the route runs for (the best one);
// in a request route, the last status sent upstream by the request's
// transaction (0 when none yet; false without a transaction).
func fixupCheckStatus(t *TM, env *module.Env, args []module.Value) (module.Handler, error) {
	re, err := regexp.Compile(args[0].String())
	if err != nil {
		return nil, fmt.Errorf("t_check_status: bad regular expression %q: %v", args[0].String(), err)
	}
	return func(m *sipmsg.Msg) (int, error) {
		code, ok := t.checkedStatus(m)
		if !ok || !re.MatchString(strconv.Itoa(code)) {
			return -1, nil
		}
		return 1, nil
	}, nil
}

// checkedStatus is the status t_check_status looks at.
func (t *TM) checkedStatus(m *sipmsg.Msg) (int, bool) {
	if m.Resp != nil {
		return m.Resp.StatusCode, true
	}
	if st := peekState(m); st != nil && st.failure {
		return st.bestCode, true
	}
	x := t.requestTxn(m)
	if x == nil {
		t.log.ErrorContext(module.MsgCtx(m), "tm: t_check_status: the request has no transaction")
		return 0, false
	}
	x.mu.Lock()
	code := x.status // kept by a transaction moved to the wait log too
	x.unlockNoTimer()
	return code, true
}

// fixupForwardNonACK binds t_forward_nonack(host, port) and its _udp/_tcp
// forms (withHop) and t_forward_nonack_uri().
func fixupForwardNonACK(name string, proto sipmsg.Proto, withHop bool) func(any, *module.Env, []module.Value) (module.Handler, error) {
	return module.FixupOf(func(t *TM, env *module.Env, args []module.Value) (module.Handler, error) {
		var nh *hop
		if withHop {
			var err error
			if nh, err = fixupHop(name, args, proto); err != nil {
				return nil, err
			}
		}
		return func(m *sipmsg.Msg) (int, error) { return t.forwardNonACK(m, nh), nil }, nil
	})
}

// setOff sets a flag that is true when an SER on/off modparam (default 1)
// is set to 0.
func setOff(dst func(*TM) *bool) func(any, module.Value) error {
	return module.SetOf(func(t *TM, v module.Value) error {
		n, err := v.Int()
		*dst(t) = n == 0
		return err
	})
}

// setInert accepts a modparam of SER 0.9.6's tm that changes nothing here
// and notes why (logged at init).
func setInert(name, why string) func(any, module.Value) error {
	return module.SetOf(func(t *TM, v module.Value) error {
		t.inert = append(t.inert, name+": "+why)
		return nil
	})
}

// setFrInvAVP is fr_inv_timer_avp: "i:N" or "s:name" (default
// "callee_fr_inv_timer"); "" switches the lookup off.
func setFrInvAVP(t *TM, v module.Value) error {
	s := v.String()
	if s == "" {
		t.frInvAVPOn = false
		return nil
	}
	if strings.HasPrefix(s, "$") {
		return fmt.Errorf("fr_inv_timer_avp %q: give the AVP as i:N or s:name (aliases are avpops')", s)
	}
	n, err := sipmsg.ParseAVPName(s)
	if err != nil {
		return fmt.Errorf("fr_inv_timer_avp: %w", err)
	}
	t.frInvAVP, t.frInvAVPOn = n, true
	return nil
}

// frInv is the fr_inv_timer of x (x locked): the fr_inv_timer_avp AVP's
// value in seconds when the transaction has it (an integer or a numeric
// string, as SER's str2s took it), else fr_inv_timer.
func (t *TM) frInv(x *txn, def time.Duration) time.Duration {
	if !t.frInvAVPOn || x.avps == nil {
		return def
	}
	v, ok := x.avps.First(t.frInvAVP)
	if !ok {
		return def
	}
	n := v.Int
	if v.IsStr {
		var err error
		if n, err = strconv.Atoi(strings.TrimSpace(v.Str)); err != nil {
			t.log.ErrorContext(module.CallIDCtx(x.callID), "tm: fr_inv_timer_avp is not a number; fr_inv_timer applies", "avp", t.frInvAVP.String(), "value", v.Str)
			return def
		}
	}
	if n <= 0 {
		return def
	}
	return time.Duration(n) * time.Second
}
