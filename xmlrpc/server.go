package xmlrpc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"ser/core/rpc"
	"ser/internal/hostcheck"
	"ser/internal/pwhash"
	"ser/internal/throttle"
)

// Defaults of Options.
const (
	DefaultPath         = "/xmlrpc"
	DefaultRealm        = "ser xmlrpc"
	DefaultMaxBodyBytes = 1 << 20
	DefaultMaxMulticall = 100
	DefaultMaxInFlight  = 32
	DefaultCallTimeout  = 10 * time.Second
)

// Options configures the bridge. The zero value is usable: loopback
// clients only, no authentication, 1 MiB requests, 10 s per request.
type Options struct {
	// Path is where Mount and the stand-alone server serve the bridge
	// (default "/xmlrpc"). ServeHTTP itself answers on any path.
	Path string

	// Users enables HTTP basic authentication: user name → password,
	// plain or as "{SHA256}" and the SHA-256 digest of the password in
	// hex (sha256sum's output) or base64 (see ParsePassword).
	Users map[string]string
	// Authenticate, when set, also enables basic authentication and is
	// asked for credentials not found in Users (e.g. a subscriber table).
	Authenticate func(user, password string) bool
	// Realm is the basic-auth realm (default "ser xmlrpc").
	Realm string

	// Allow lists the client networks admitted, matched against the TCP
	// peer address (X-Forwarded-For is not trusted). Empty means loopback
	// only (127.0.0.0/8 and ::1); use 0.0.0.0/0 and ::/0 to admit anyone.
	Allow []netip.Prefix

	// Hosts lists more names the Host header may carry (anti DNS
	// rebinding): "name" (any port) or "name:port". The listener's own
	// names are always accepted: localhost, loopback addresses and the
	// address the client connected to, each with the listener's port.
	// "*" turns the Host check off (e.g. behind a reverse proxy that
	// rewrites Host).
	Hosts []string

	// MaxBodyBytes bounds a request body (default 1 MiB); a larger one
	// gets HTTP 413 with a FaultTooLarge fault and is not decoded.
	MaxBodyBytes int64
	// MaxMulticall bounds the calls in one system.multicall (default 100).
	MaxMulticall int
	// MaxInFlight bounds the commands running at once (default 32). A
	// call waits for a slot until its deadline, then gets FaultTimeout.
	MaxInFlight int
	// CallTimeout is the deadline of each request, passed to the Executor
	// in the context (default 10 s); a system.multicall shares it.
	CallTimeout time.Duration

	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout are
	// used by HTTPServer (defaults 5 s, 30 s,
	// CallTimeout+5 s, 120 s).
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration

	// Logger receives the bridge's logs (default slog.Default()); a
	// "module"="xmlrpc" attribute is added.
	Logger *slog.Logger
}

// loopback is the default allow-list.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// ParseAllow parses an allow-list: CIDRs ("10.0.0.0/8") or single
// addresses ("192.0.2.7").
func ParseAllow(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("xmlrpc: allow: %w", err)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("xmlrpc: allow: %w", err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Server is the XML-RPC bridge; it is an http.Handler.
type Server struct {
	exec rpc.Executor
	cmds rpc.Lister // exec's own list, or "which" (executor.go)
	opts Options
	log  *slog.Logger
	gate *rpc.Bounded // exec, at most MaxInFlight commands at once
	// hosts is the Host check over Options.Hosts.
	hosts *hostcheck.Checker
	// users are the SHA-256 digests of Options.Users' passwords; logins
	// are the password-guessing limits (the web console's); checks
	// counts the credentials compared.
	users  map[string][sha256.Size]byte
	logins *throttle.Logins
	checks atomic.Int64
	cop    *http.CrossOriginProtection
	// methods holds the built-in methods (tests add an echo method).
	methods map[string]method
}

// New returns a bridge running commands through exec, with defaults filled
// into opts.
func New(exec rpc.Executor, opts Options) (*Server, error) {
	if exec == nil {
		return nil, errors.New("xmlrpc: new: nil executor")
	}
	if opts.MaxBodyBytes < 0 || opts.MaxMulticall < 0 || opts.MaxInFlight < 0 || opts.CallTimeout < 0 {
		return nil, errors.New("xmlrpc: new: negative limit")
	}
	if opts.Path == "" {
		opts.Path = DefaultPath
	}
	if !strings.HasPrefix(opts.Path, "/") {
		return nil, fmt.Errorf("xmlrpc: new: path %q must start with /", opts.Path)
	}
	if opts.Realm == "" {
		opts.Realm = DefaultRealm
	}
	if len(opts.Allow) == 0 {
		opts.Allow = loopback
	}
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxMulticall == 0 {
		opts.MaxMulticall = DefaultMaxMulticall
	}
	if opts.MaxInFlight == 0 {
		opts.MaxInFlight = DefaultMaxInFlight
	}
	if opts.CallTimeout == 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	if opts.ReadHeaderTimeout == 0 {
		opts.ReadHeaderTimeout = 5 * time.Second
	}
	if opts.ReadTimeout == 0 {
		opts.ReadTimeout = 30 * time.Second
	}
	if opts.WriteTimeout == 0 {
		opts.WriteTimeout = opts.CallTimeout + 5*time.Second
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = 120 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("module", "xmlrpc")
	s := &Server{
		exec: exec,
		gate: rpc.NewBounded(exec, opts.MaxInFlight, log),
		cmds: lister(exec),
		opts: opts,
		log:  log,
	}
	hosts, err := hostcheck.New(opts.Hosts)
	if err != nil {
		return nil, fmt.Errorf("xmlrpc: %w", err)
	}
	s.hosts = hosts
	s.users = make(map[string][sha256.Size]byte, len(opts.Users))
	for u, pw := range opts.Users {
		d, err := ParsePassword(pw)
		if err != nil {
			return nil, fmt.Errorf("xmlrpc: password of %q: %w", u, err)
		}
		s.users[u] = d
	}
	s.logins = throttle.NewLogins(throttle.DefaultLogins, nil)
	s.cop = http.NewCrossOriginProtection()
	s.methods = s.builtins()
	return s, nil
}

// Options returns the server's options with defaults filled in.
func (s *Server) Options() Options { return s.opts }

// Router is what Mount needs of a router: chi.Router and *http.ServeMux
// both have this method.
type Router interface {
	Handle(pattern string, h http.Handler)
}

// Mount registers the bridge at Options.Path on r (e.g. the web console's
// chi router, so both share one listener). Access control stays inside the
// bridge's handler.
func (s *Server) Mount(r Router) { r.Handle(s.opts.Path, s) }

// ServeHTTP answers one XML-RPC request: access control (403, 401, 429),
// POST only (405), body limit (413), then decode, dispatch and encode.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.check(w, r) {
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "405 method not allowed: XML-RPC takes a POST of a text/xml methodCall", http.StatusMethodNotAllowed)
		return
	}
	if why := contentTypeRefused(r); why != "" {
		s.log.Warn("request refused", "remote", r.RemoteAddr, "status", http.StatusUnsupportedMediaType, "reason", why)
		http.Error(w, "415 "+why, http.StatusUnsupportedMediaType)
		return
	}
	body, err := s.readBody(w, r)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			f := faultf(FaultTooLarge, "request too large: over %d bytes", s.opts.MaxBodyBytes)
			s.log.Warn("request refused", "remote", r.RemoteAddr, "status", http.StatusRequestEntityTooLarge, "reason", f.String)
			writeXML(w, http.StatusRequestEntityTooLarge, EncodeFault(f))
			return
		}
		s.log.Debug("reading request", "remote", r.RemoteAddr, "err", err)
		http.Error(w, "400 cannot read request body", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(rpc.WithInterface(r.Context(), "xmlrpc"), s.opts.CallTimeout)
	defer cancel()
	start := time.Now()
	method := ""
	var out []byte
	call, err := DecodeCall(bytes.NewReader(body))
	if err != nil {
		out = EncodeFault(asFault(err))
	} else {
		method = call.Method
		out = s.respond(ctx, call)
	}
	s.log.Debug("call", "remote", r.RemoteAddr, "method", method, "duration", time.Since(start))
	writeXML(w, http.StatusOK, out)
}

// check applies the access control (admit, then authenticate) and answers
// a refused request; it reports whether the request may proceed.
func (s *Server) check(w http.ResponseWriter, r *http.Request) bool {
	if status, why := s.admit(r); status != 0 {
		s.log.Warn("request refused", "remote", r.RemoteAddr, "path", r.URL.Path, "status", status, "reason", why)
		s.refuse(w, status, why)
		return false
	}
	if status, why, wait := s.authenticate(r); status != 0 {
		s.log.Warn("request refused", "remote", r.RemoteAddr, "path", r.URL.Path, "status", status, "reason", why)
		if wait > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		}
		s.refuse(w, status, why)
		return false
	}
	return true
}

// Guard returns next behind the bridge's access control: the allow-list,
// the Host check, the cross-origin check and, when configured, basic
// authentication under the same password-guessing limits (one state for
// every guarded path). The HTTP listener puts the JSON-RPC bridge and
// /metrics behind it, so that every management endpoint of the listener
// follows one set of rules.
func (s *Server) Guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.check(w, r) {
			next.ServeHTTP(w, r)
		}
	})
}

// HostAllowed reports whether the Host header of r names this listener
// (the anti DNS-rebinding check, internal/hostcheck).
func (s *Server) HostAllowed(r *http.Request) bool { return s.hosts.Allowed(r) }

func prefixesContain(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// respond runs a decoded call and encodes its result or fault.
func (s *Server) respond(ctx context.Context, call *Call) []byte {
	res, f := s.dispatch(ctx, call.Method, call.Params, false)
	if f != nil {
		return EncodeFault(f)
	}
	out, err := EncodeResponse(res)
	if err != nil {
		return EncodeFault(faultf(FaultInternal, "internal error: %v", err))
	}
	return out
}

// asFault returns err as a fault (decoder errors already are).
func asFault(err error) *Fault {
	var f *Fault
	if errors.As(err, &f) {
		return f
	}
	return faultf(FaultInternal, "internal error: %v", err)
}

// readBody reads the request body up to MaxBodyBytes.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	limit := s.opts.MaxBodyBytes
	if r.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
}

// refuse answers a refused request with status and a text body.
func (s *Server) refuse(w http.ResponseWriter, status int, why string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Basic realm=%q, charset="UTF-8"`, s.opts.Realm))
	}
	http.Error(w, fmt.Sprintf("%d %s", status, why), status)
}

// admit applies the allow-list, the Host check (anti DNS rebinding) and
// the cross-origin check (Sec-Fetch-Site / Origin, as the web console's);
// it returns 0 when the request may proceed, else the HTTP status and a
// reason.
func (s *Server) admit(r *http.Request) (int, string) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return http.StatusForbidden, "forbidden: unknown client address"
	}
	if !prefixesContain(s.opts.Allow, ap.Addr().Unmap()) {
		return http.StatusForbidden, "forbidden: client address not allowed"
	}
	if !s.hosts.Allowed(r) {
		return hostcheck.Status, hostcheck.Reason(r, "xmlrpc_host")
	}
	if err := s.cop.Check(r); err != nil {
		return http.StatusForbidden, "forbidden: cross-origin request from a web page"
	}
	return 0, ""
}

// authenticate applies basic authentication, when configured, under the
// web console's password-guessing limits (throttle.Logins, keyed by the
// user name and the client address): 0 when the request may proceed,
// else 401 (no or wrong credentials) or 429 with the wait (too many
// failures: the password is not compared, so a guess learns nothing —
// the right password is refused too until the back-off ends).
func (s *Server) authenticate(r *http.Request) (status int, why string, wait time.Duration) {
	if len(s.users) == 0 && s.opts.Authenticate == nil {
		return 0, "", 0
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		return http.StatusUnauthorized, "unauthorized: credentials required", 0
	}
	addr := ""
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		addr = throttle.AddrKey(ap.Addr())
	}
	out, _ := s.logins.Check(r.Context(), throttle.LoginKeysFor(addr, user), func() (bool, error) {
		return s.credentialsOK(user, pass), nil
	})
	switch {
	case out.Refused != nil:
		return http.StatusTooManyRequests, "too many failed logins: " + out.Refused.Why, out.Refused.Wait
	case !out.OK:
		for _, b := range out.Backoffs {
			s.log.Warn("basic auth back-off", "user", user, "remote", r.RemoteAddr, "started", b)
		}
		return http.StatusUnauthorized, "unauthorized: wrong user name or password", 0
	}
	return 0, "", 0
}

// credentialsOK compares a password with the user's in constant time
// (SHA-256 digests, so neither length nor content leaks; an unknown user
// costs the same comparison), then asks Options.Authenticate for users
// not in Options.Users.
func (s *Server) credentialsOK(user, pass string) bool {
	s.checks.Add(1)
	want, known := s.users[user]
	got := sha256.Sum256([]byte(pass))
	if subtle.ConstantTimeCompare(got[:], want[:]) == 1 && known {
		return true
	}
	return !known && s.opts.Authenticate != nil && s.opts.Authenticate(user, pass)
}

// PasswordPrefix marks a password given as its SHA-256 digest.
const PasswordPrefix = pwhash.Prefix

// ParsePassword returns the SHA-256 digest of a configured password
// (xmlrpc_password): "{SHA256}" and the digest in hex or base64, or else
// the plain password, hashed (internal/pwhash, which the options use to
// check the value when the config is read).
func ParsePassword(pw string) ([sha256.Size]byte, error) { return pwhash.Parse(pw) }

// writeXML writes an XML-RPC response document.
func writeXML(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/xml; charset=utf-8")
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
