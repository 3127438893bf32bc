// Package xlog is SER 0.9's xlog module: xlog(level, format) and
// xdbg(format) print a line built from a printf-like format whose %
// specifiers are replaced by parts of the message (%ci the Call-ID, %fu
// the From URI, %ru the Request-URI, %{name} any header, …). The line goes
// through the server's logger as the script's log() does, at the SER level
// given, with the message's Call-ID as call_id.
package xlog

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"ser/core/module"
	"ser/core/sipmsg"
)

func init() { module.Register(Exports) }

// Exports is the xlog module's export table.
var Exports = &module.Exports{
	Name: "xlog",
	Params: []module.Param{
		{Name: "buf_size", Kind: module.Int, Set: module.IntParam(func(x *XLog, n int) error {
			if n <= 0 {
				return fmt.Errorf("buf_size must be positive")
			}
			x.bufSize = n
			return nil
		})},
	},
	Funcs: []module.Func{
		{Name: "xlog", MinArgs: 2, MaxArgs: 2, Routes: module.Any, Fixup: module.FixupOf(fixupXlog)},
		{Name: "xdbg", MinArgs: 1, MaxArgs: 1, Routes: module.Any, Fixup: module.FixupOf(fixupXdbg)},
	},
	New:  func() any { return &XLog{bufSize: 4096} },
	Init: module.InitOf(func(x *XLog, env *module.Env) error { x.env = env; return nil }),
}

// XLog is one server's xlog instance.
type XLog struct {
	bufSize int
	env     *module.Env
}

// Level parses xlog's first argument as SER did: only the third letter
// counts (L_ALERT, L_CRIT, L_ERR, L_WARN, L_NOTICE, L_INFO, L_DBG).
func Level(s string) (int, error) {
	if len(s) < 3 {
		return 0, fmt.Errorf("xlog: wrong log level %q", s)
	}
	switch s[2] {
	case 'A':
		return module.LAlert, nil
	case 'C':
		return module.LCrit, nil
	case 'E':
		return module.LErr, nil
	case 'W':
		return module.LWarn, nil
	case 'N':
		return module.LNotice, nil
	case 'I':
		return module.LInfo, nil
	case 'D':
		return module.LDbg, nil
	}
	return 0, fmt.Errorf("xlog: unknown log level %q (L_ALERT, L_CRIT, L_ERR, L_WARN, L_NOTICE, L_INFO or L_DBG)", s)
}

func fixupXlog(x *XLog, env *module.Env, args []module.Value) (module.Handler, error) {
	level, err := Level(args[0].String())
	if err != nil {
		return nil, err
	}
	return x.handler(env, level, args[1].String())
}

func fixupXdbg(x *XLog, env *module.Env, args []module.Value) (module.Handler, error) {
	return x.handler(env, module.LDbg, args[0].String())
}

func (x *XLog) handler(env *module.Env, level int, format string) (module.Handler, error) {
	f, err := Parse(format)
	if err != nil {
		return nil, err
	}
	return func(m *sipmsg.Msg) (int, error) {
		line, ok := f.Print(m, x.bufSize)
		if !ok {
			env.Log.ErrorContext(module.MsgCtx(m), "xlog: buffer overflow -- increase the buffer size (buf_size)", "buf_size", x.bufSize)
			return -1, nil
		}
		// SER's formats end in "\n" for its LOG(); a log line has its own end.
		env.Core.Log(m, level, strings.TrimSuffix(line, "\n"))
		return 1, nil
	}, nil
}

// msgStamp is what SER kept per message for %mi and %Ts/%Tf: a message id
// and the time the first specifier asked for it.
type msgStamp struct {
	id uint64
	t  time.Time
}

var (
	stampKey = sipmsg.NewKey()
	lastID   atomic.Uint64
	// now is the clock (tests replace it).
	now = time.Now
)

func stamp(m *sipmsg.Msg) *msgStamp {
	if s, ok := m.Get(stampKey).(*msgStamp); ok {
		return s
	}
	s := &msgStamp{id: lastID.Add(1), t: now()}
	m.Set(stampKey, s)
	return s
}
