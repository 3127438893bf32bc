package permissions

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"ser/core/module"
	"ser/core/rpc"
	"ser/core/sipmsg"
	"ser/core/store"
)

// trustedEntry is a trusted row ready for matching.
type trustedEntry struct {
	srcIP string
	proto int // SER's numbers: 0 any, 1 udp, 2 tcp, 3 tls, 4 sctp
	raw   string
	re    *regexp.Regexp
}

// protoNumber maps the proto column to SER's protocol numbers.
func protoNumber(s string) (int, bool) {
	switch strings.ToLower(s) {
	case "any":
		return 0, true
	case "udp":
		return 1, true
	case "tcp":
		return 2, true
	case "tls":
		return 3, true
	case "sctp":
		return 4, true
	}
	return 0, false
}

func newEntry(t store.Trusted) (*trustedEntry, error) {
	proto, ok := protoNumber(t.Proto)
	if !ok {
		return nil, fmt.Errorf("unknown protocol %q", t.Proto)
	}
	re, err := compileBRE(t.FromPattern)
	if err != nil {
		return nil, fmt.Errorf("bad from_pattern %q: %v", t.FromPattern, err)
	}
	return &trustedEntry{srcIP: t.SrcIP, proto: proto, raw: t.FromPattern, re: re}, nil
}

func (e *trustedEntry) matches(src string, proto int, from string) bool {
	return strings.EqualFold(e.srcIP, src) && (e.proto == 0 || e.proto == proto) && e.re.MatchString(from)
}

// trustedCache is db_mode 1's copy of the table, in SER's 128 buckets
// (trusted_dump prints them).
type trustedCache struct {
	buckets [hashSize][]*trustedEntry
}

const hashSize = 128

// hashIP is SER's hash of the src_ip string.
func hashIP(s string) int {
	var h uint32
	for i := 0; i < len(s); i++ {
		h = h<<5 - h + uint32(int8(s[i]))
	}
	return int(h % hashSize)
}

func newCache(rows []store.Trusted) (*trustedCache, error) {
	c := &trustedCache{}
	for _, r := range rows {
		e, err := newEntry(r)
		if err != nil {
			return nil, fmt.Errorf("trusted row <%s, %s, %s>: %w", r.SrcIP, r.Proto, r.FromPattern, err)
		}
		// SER put new entries at the head of their bucket.
		h := hashIP(strings.ToUpper(e.srcIP))
		c.buckets[h] = append([]*trustedEntry{e}, c.buckets[h]...)
	}
	return c, nil
}

func (c *trustedCache) match(srcs []string, proto int, from string) bool {
	for _, src := range srcs {
		for _, e := range c.buckets[hashIP(strings.ToUpper(src))] {
			if e.matches(src, proto, from) {
				return true
			}
		}
	}
	return false
}

// UseStore makes the instance read the trusted table from st: the table
// and columns are checked and, with db_mode 1, loaded.
func (p *Permissions) UseStore(ctx context.Context, st *store.Store) error {
	c := p.schema
	if err := st.CheckColumns(ctx, c.Table, c.SourceColumn, c.ProtoColumn, c.FromColumn); err != nil {
		return fmt.Errorf("permissions: %w", err)
	}
	p.mu.Lock()
	p.db = st
	p.mu.Unlock()
	if p.dbMode == 1 {
		return p.Reload(ctx)
	}
	return nil
}

// Reload re-reads the trusted table into the cache (db_mode 1); on error
// the previous cache stays.
func (p *Permissions) Reload(ctx context.Context) error {
	p.mu.Lock()
	db := p.db
	p.mu.Unlock()
	if db == nil {
		return fmt.Errorf("permissions: no database")
	}
	rows, err := db.TrustedEntries(ctx, p.schema)
	if err != nil {
		return fmt.Errorf("permissions: %w", err)
	}
	c, err := newCache(rows)
	if err != nil {
		return fmt.Errorf("permissions: %w", err)
	}
	p.mu.Lock()
	p.cache = c
	p.mu.Unlock()
	return nil
}

func fixupTrusted(p *Permissions, _ *module.Env, _ []module.Value) (module.Handler, error) {
	p.mu.Lock()
	first := !p.trustedU
	p.trustedU = true
	late := first && p.started
	p.mu.Unlock()
	if late {
		// A configuration reload brings the first allow_trusted: open the
		// database and load the table now, as Start would have (a failure
		// refuses the reload).
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := p.openTrusted(ctx); err != nil {
			p.mu.Lock()
			p.trustedU = false
			p.mu.Unlock()
			return nil, fmt.Errorf("allow_trusted: %w", err)
		}
	}
	return p.AllowTrusted, nil
}

// AllowTrusted is allow_trusted(): 1 when the trusted table has a row
// for the request's source address (written as SER wrote it, or in the
// usual IPv6 short form) whose proto is the request's transport or "any"
// and whose from_pattern matches the From URI; -1 otherwise.
func (p *Permissions) AllowTrusted(m *sipmsg.Msg) (int, error) {
	ctx := module.MsgCtx(m)
	ip := m.Rcv.Src.Addr().Unmap()
	srcs := []string{sipmsg.SERAddr(ip)}
	if ip.Is6() {
		srcs = append(srcs, ip.String())
	}
	from := sipmsg.NameAddrURI(m.HeaderBody("From"))
	if from == "" {
		return -1, nil
	}
	proto := int(m.Rcv.Proto)
	p.mu.Lock()
	db, cache := p.db, p.cache
	p.mu.Unlock()
	if p.dbMode == 1 {
		if cache == nil || !cache.match(srcs, proto, from) {
			return -1, nil
		}
		return 1, nil
	}
	if db == nil {
		p.log.ErrorContext(ctx, "allow_trusted: no database")
		return -1, nil
	}
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rows, err := db.TrustedEntries(qctx, p.schema, srcs...)
	if err != nil {
		p.log.ErrorContext(ctx, "allow_trusted: error while querying database", "err", err)
		return -1, nil
	}
	for _, r := range rows {
		e, err := newEntry(r)
		if err != nil {
			p.log.ErrorContext(ctx, "allow_trusted: bad trusted row", "src_ip", r.SrcIP, "err", err)
			continue
		}
		for _, src := range srcs {
			if e.matches(src, proto, from) {
				return 1, nil
			}
		}
	}
	return -1, nil
}

// commands are SER's trusted_reload and trusted_dump (db_mode 1 only, as
// in SER).
func (p *Permissions) commands() []rpc.Command {
	if p.dbMode != 1 {
		return nil
	}
	return []rpc.Command{
		{Name: "trusted_reload", Help: "re-read the trusted table into the cache", Handler: func(ctx context.Context, _ *rpc.Request) *rpc.Reply {
			if err := p.Reload(ctx); err != nil {
				p.log.Error("permissions: trusted_reload failed", "err", err)
				return rpc.NewReply(400, "Trusted table reload failed", "")
			}
			return rpc.NewReply(200, "OK", "")
		}},
		{Name: "trusted_dump", Help: "print the cached trusted table: bucket <src_ip, proto, from_pattern>", Handler: func(context.Context, *rpc.Request) *rpc.Reply {
			p.mu.Lock()
			c := p.cache
			p.mu.Unlock()
			var b strings.Builder
			if c != nil {
				for i, bucket := range c.buckets {
					for _, e := range bucket {
						fmt.Fprintf(&b, "%4d <%s, %d, %s>\n", i, e.srcIP, e.proto, e.raw)
					}
				}
			}
			return rpc.NewReply(200, "OK", b.String())
		}},
	}
}
