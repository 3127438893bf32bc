package tm

import (
	"testing"

	"ser/core/modules/internal/modtest"
	"ser/core/sipmsg"
)

type modtestRouteKey = modtest.RouteKey

func modtestRequest(tb testing.TB, method, uri string) *sipmsg.Msg {
	tb.Helper()
	return modtest.Request{Method: method, URI: uri, To: "<" + uri + ">"}.Msg(tb)
}
