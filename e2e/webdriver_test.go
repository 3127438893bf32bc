package e2e

// A small W3C WebDriver client (chromedriver over HTTP), enough to drive
// the web console in a real headless Chromium: navigate, find elements by
// CSS, type, click, read the page, take screenshots.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"ser/internal/testing/testutil"
)

// elementKey is the W3C web element identifier.
const elementKey = "element-6066-11e4-a52e-4f735466cecf"

// browserSession is one WebDriver session of a headless Chromium.
type browserSession struct {
	t     *testing.T
	base  string // http://127.0.0.1:port of chromedriver
	sid   string
	http  *http.Client
	shots string // screenshot directory
	n     int    // screenshots taken
}

// startBrowser starts chromedriver on a free port in its own process
// group, opens a session of headless Chromium with a fresh profile (and
// extraArgs on its command line), and
// at the end of the test closes the session and kills both.
func startBrowser(t *testing.T, shots string, extraArgs ...string) *browserSession {
	t.Helper()
	driver := testutil.RequireTool(t, "chromedriver")
	chromium := testutil.RequireTool(t, "chromium")
	port := testutil.FreePort(t)
	var out bytes.Buffer
	cmd := exec.Command(driver, fmt.Sprintf("--port=%d", port), "--log-level=WARNING")
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromedriver: %v", err)
	}
	waited := make(chan struct{})
	go func() { cmd.Wait(); close(waited) }()
	t.Cleanup(func() {
		// The whole group: chromedriver and the browser it started.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-waited
		if t.Failed() {
			t.Logf("chromedriver output:\n%s", out.String())
		}
	})
	b := &browserSession{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port), http: &http.Client{Timeout: 120 * time.Second}, shots: shots}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := b.http.Get(b.base + "/status")
		if err == nil {
			var st struct {
				Value struct{ Ready bool } `json:"value"`
			}
			json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if st.Value.Ready {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("chromedriver not ready: %v\n%s", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{
			"binary": chromium,
			"args": append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
				"--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--disable-dev-shm-usage", "--disable-crash-reporter", "--disable-breakpad", "--window-size=1280,1000", "--user-data-dir=" + t.TempDir()}, extraArgs...),
		},
	}}}
	var sess struct {
		SessionID string `json:"sessionId"`
	}
	b.call(http.MethodPost, "/session", caps, &sess)
	if sess.SessionID == "" {
		t.Fatal("no WebDriver session")
	}
	b.sid = sess.SessionID
	t.Cleanup(func() { b.try(http.MethodDelete, "/session/"+b.sid, nil, nil) })
	b.call(http.MethodPost, b.path("/timeouts"), map[string]any{"implicit": 5000, "pageLoad": 60000}, nil)
	return b
}

// path prefixes p with the session.
func (b *browserSession) path(p string) string { return "/session/" + b.sid + p }

// try runs one WebDriver command and decodes its "value" into out.
func (b *browserSession) try(method, p string, body, out any) error {
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, b.base+p, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var env struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("%s %s: %d %s", method, p, resp.StatusCode, raw)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %d %s", method, p, resp.StatusCode, env.Value)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(env.Value, out)
}

// call is try failing the test on error.
func (b *browserSession) call(method, p string, body, out any) {
	b.t.Helper()
	if err := b.try(method, p, body, out); err != nil {
		b.t.Fatal(err)
	}
}

// open navigates to url and waits for the page to load.
func (b *browserSession) open(url string) {
	b.t.Helper()
	b.call(http.MethodPost, b.path("/url"), map[string]string{"url": url}, nil)
}

// find returns the element matching a CSS selector (waiting up to the
// implicit timeout).
func (b *browserSession) find(css string) string {
	b.t.Helper()
	var el map[string]string
	if err := b.try(http.MethodPost, b.path("/element"), map[string]string{"using": "css selector", "value": css}, &el); err != nil {
		b.shot("error")
		b.t.Fatalf("find %q: %v\npage:\n%s", css, err, b.text())
	}
	return el[elementKey]
}

// fill clears an input and types text into it.
func (b *browserSession) fill(css, text string) {
	b.t.Helper()
	id := b.find(css)
	b.call(http.MethodPost, b.path("/element/"+id+"/clear"), map[string]any{}, nil)
	b.call(http.MethodPost, b.path("/element/"+id+"/value"), map[string]string{"text": text}, nil)
}

// click clicks an element (a submit button waits for the next page).
func (b *browserSession) click(css string) {
	b.t.Helper()
	b.call(http.MethodPost, b.path("/element/"+b.find(css)+"/click"), map[string]any{}, nil)
}

// text returns the page's visible text.
func (b *browserSession) text() string {
	var s string
	if err := b.try(http.MethodPost, b.path("/execute/sync"), map[string]any{"script": "return document.body.innerText", "args": []any{}}, &s); err != nil {
		return "(no page text: " + err.Error() + ")"
	}
	return s
}

// currentURL returns the address of the page shown.
func (b *browserSession) currentURL() string {
	b.t.Helper()
	var s string
	b.call(http.MethodGet, b.path("/url"), nil, &s)
	return s
}

// waitText waits until the page shows every string.
func (b *browserSession) waitText(want ...string) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		txt := b.text()
		missing := ""
		for _, w := range want {
			if !strings.Contains(txt, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			b.shot("error")
			b.t.Fatalf("page (%s) never showed %q:\n%s", b.currentURL(), missing, txt)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// shot saves a screenshot as NN-name.png in the screenshot directory.
func (b *browserSession) shot(name string) {
	b.t.Helper()
	var data string
	if err := b.try(http.MethodGet, b.path("/screenshot"), nil, &data); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	png, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	b.n++
	p := filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.n, name))
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
}

// cdp runs a Chrome DevTools Protocol command through chromedriver.
func (b *browserSession) cdp(cmd string, params map[string]any, out any) error {
	return b.try(http.MethodPost, b.path("/goog/cdp/execute"), map[string]any{"cmd": cmd, "params": params}, out)
}

// setViewport emulates a viewport width CSS pixels wide (a phone's, with
// its meta viewport handling, below 600).
func (b *browserSession) setViewport(width int) {
	b.t.Helper()
	h := 900
	if width < 600 {
		h = 844
	}
	if err := b.cdp("Emulation.setDeviceMetricsOverride", map[string]any{
		"width": width, "height": h, "deviceScaleFactor": 1, "mobile": width < 600,
	}, nil); err != nil {
		b.t.Fatalf("viewport %d: %v", width, err)
	}
}

// layoutScript measures the page: the viewport and document widths and
// every visible element sticking out of the viewport that is not inside
// a box scrolling on its own.
const layoutScript = `
var vw = document.documentElement.clientWidth, bad = [];
function clipped(el) {
  for (var p = el.parentElement; p && p !== document.body; p = p.parentElement) {
    var ox = getComputedStyle(p).overflowX;
    if (ox === "auto" || ox === "scroll" || ox === "hidden") {
      var r = p.getBoundingClientRect();
      if (r.left >= -0.5 && r.right <= vw + 0.5) return true;
    }
  }
  return false;
}
document.querySelectorAll("body *").forEach(function (el) {
  var r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) return;
  if ((r.right > vw + 0.5 || r.left < -0.5) && !clipped(el)) {
    var name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
      (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "");
    bad.push(name + " [" + Math.round(r.left) + ".." + Math.round(r.right) + "]");
  }
});
var small = [];
if (vw < 600) {
  document.querySelectorAll("button, a.button, input:not([type=hidden]):not([type=checkbox]), select, textarea, nav.tabs a").forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && r.height < 43.5) {
      small.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + "(" + (el.textContent || el.name || "").trim().slice(0, 20) + ") " + Math.round(r.height) + "px");
    }
  });
}
return {inner: window.innerWidth, client: vw, scroll: document.documentElement.scrollWidth, bad: bad.slice(0, 12), small: small.slice(0, 12)};
`

// layout checks the page shown at 390 and 1280 CSS pixels: no horizontal
// page scroll (scrollWidth <= innerWidth) and no element wider than the
// viewport; it saves a full-page screenshot at each width
// (NN-390-name.png, NN-1280-name.png) and leaves the browser at 1280.
func (b *browserSession) layout(name string) {
	b.t.Helper()
	for _, w := range []int{390, 1280} {
		b.setViewport(w)
		var m struct {
			Inner, Client, Scroll int
			Bad, Small            []string
		}
		if err := b.try(http.MethodPost, b.path("/execute/sync"), map[string]any{"script": layoutScript, "args": []any{}}, &m); err != nil {
			b.t.Fatalf("layout %s at %d: %v", name, w, err)
		}
		b.fullShot(fmt.Sprintf("%d-%s", w, name))
		if len(m.Small) > 0 {
			b.t.Errorf("page %s (%s) at %d px: controls under 44 px tall: %v", name, b.currentURL(), w, m.Small)
		}
		if m.Inner != w || m.Scroll > m.Inner || len(m.Bad) > 0 {
			b.t.Errorf("page %s (%s) at %d px: innerWidth %d, clientWidth %d, scrollWidth %d; wider than the viewport: %v",
				name, b.currentURL(), w, m.Inner, m.Client, m.Scroll, m.Bad)
		}
	}
}

// fullShot saves a screenshot of the whole page (beyond the viewport) as
// NN-name.png.
func (b *browserSession) fullShot(name string) {
	b.t.Helper()
	var res struct {
		Data string `json:"data"`
	}
	if err := b.cdp("Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true}, &res); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	png, err := base64.StdEncoding.DecodeString(res.Data)
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	b.n++
	if err := os.WriteFile(filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.n, name)), png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
}

// hover moves the mouse over the middle of an element, then dx CSS
// pixels to the right of it.
func (b *browserSession) hover(css string, dx int) {
	b.t.Helper()
	id := b.find(css)
	b.call(http.MethodPost, b.path("/actions"), map[string]any{"actions": []any{map[string]any{
		"type": "pointer", "id": "mouse", "parameters": map[string]any{"pointerType": "mouse"},
		"actions": []any{map[string]any{"type": "pointerMove", "duration": 0, "x": dx, "y": 0,
			"origin": map[string]any{elementKey: id}}},
	}}}, nil)
}

// eval runs a script in the page and decodes its result into out.
func (b *browserSession) eval(script string, out any) {
	b.t.Helper()
	b.call(http.MethodPost, b.path("/execute/sync"), map[string]any{"script": script, "args": []any{}}, out)
}
