package tm

import (
	"sync"
	"testing"

	"ser/core/sipmsg"
	"ser/internal/testing/modtest"
)

type modtestRouteKey = modtest.RouteKey

func modtestRequest(tb testing.TB, method, uri string) *sipmsg.Msg {
	tb.Helper()
	return modtest.Request{Method: method, URI: uri, To: "<" + uri + ">"}.Msg(tb)
}

// intLog is a slice of ints appended from server goroutines.
type intLog struct {
	mu sync.Mutex
	v  []int
}

func (l *intLog) add(n int) {
	l.mu.Lock()
	l.v = append(l.v, n)
	l.mu.Unlock()
}

func (l *intLog) get() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int(nil), l.v...)
}
