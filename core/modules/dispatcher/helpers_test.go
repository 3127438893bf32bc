package dispatcher

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"ser/core/module"
	"ser/core/modules/tm"
	"ser/core/sipmsg"
	"ser/internal/testing/modtest"
)

// writeList writes a list file into a temporary directory.
func writeList(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "dispatcher.list")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// load loads the module over a list file with probing off (params may
// override), without tm.
func load(t *testing.T, list string, params map[string]any) (*Dispatcher, *module.Env) {
	t.Helper()
	p := map[string]any{"list_file": writeList(t, list), "ds_ping_interval": 0}
	for k, v := range params {
		p[k] = v
	}
	inst, env := modtest.Load(t, Exports, modtest.NewCore(), p)
	return inst.(*Dispatcher), env
}

// threeProxies is set 1 with three destinations and set 2 with two.
const threeProxies = `# proxies
1 sip:10.0.0.1:5060
1 sip:10.0.0.2:5060
1 sip:10.0.0.3:5060
# registrars
2 sip:10.0.1.1:5060
2 sip:10.0.1.2
`

// invite returns a request with the given Call-ID.
func invite(t *testing.T, callID string) *sipmsg.Msg {
	t.Helper()
	return modtest.Request{CallID: callID}.Msg(t)
}

// fakeUAC records probes; answer decides each probe's reply code (0:
// leave it pending until reply is called).
type fakeUAC struct {
	mu      sync.Mutex
	answer  func(r tm.UACRequest) int
	err     error
	sent    []tm.UACRequest
	pending map[string]func(tm.UACResult)
}

func (f *fakeUAC) Originate(r tm.UACRequest, done func(tm.UACResult)) (string, error) {
	f.mu.Lock()
	if f.err != nil {
		f.mu.Unlock()
		return "", f.err
	}
	f.sent = append(f.sent, r)
	code := 0
	if f.answer != nil {
		code = f.answer(r)
	}
	if code == 0 {
		if f.pending == nil {
			f.pending = map[string]func(tm.UACResult){}
		}
		f.pending[r.RURI] = done
		f.mu.Unlock()
		return "1:1", nil
	}
	f.mu.Unlock()
	done(tm.UACResult{Code: code})
	return "1:1", nil
}

// reply completes a pending probe to uri.
func (f *fakeUAC) reply(uri string, code int) {
	f.mu.Lock()
	done := f.pending[uri]
	delete(f.pending, uri)
	f.mu.Unlock()
	if done != nil {
		done(tm.UACResult{Code: code})
	}
}

// count returns the number of probes sent.
func (f *fakeUAC) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent)
}

// state returns a destination's state string.
func state(t *testing.T, d *Dispatcher, set int, uri string) string {
	t.Helper()
	f, ok := d.State(set, uri)
	if !ok {
		t.Fatalf("no destination %s in set %d", uri, set)
	}
	return stateString(f)
}
