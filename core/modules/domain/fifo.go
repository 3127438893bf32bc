package domain

import (
	"context"
	"fmt"

	"ser/core/rpc"
	"ser/core/rpc/sercmd"
)

// commands are domain_reload and domain_dump (Exports.Commands).
func (m *Module) commands() []rpc.Command {
	return []rpc.Command{
		{Name: "domain_reload", Help: "re-read the domain table into memory", Handler: m.fifoReload},
		{Name: "domain_dump", Help: "print the domains in memory with their hash index", Handler: m.fifoDump},
	}
}

// fifoReload is domain_reload: "200 OK" or "400 Domain table reload
// failed" (SER's texts). With db_mode 0 there is no cache: the table is
// read once to answer whether it can be.
func (m *Module) fifoReload(ctx context.Context, _ *rpc.Request) *rpc.Reply {
	var err error
	if m.cfg.Cache {
		err = m.Reload(ctx)
	} else if m.st == nil {
		err = fmt.Errorf("database not open")
	} else {
		_, err = m.st.LocalDomains(ctx, m.schema())
	}
	if err != nil {
		m.log.Error("domain: domain_reload failed", "err", err)
		return rpc.NewReply(400, "Domain table reload failed", "")
	}
	return rpc.NewReply(200, "OK", "")
}

// fifoDump is domain_dump: "200 OK", then "%4d %s" (hash index, domain)
// per domain, by hash index, as SER printed its cache; in-process callers
// get it as a sercmd.Domains value. With db_mode 0 the table is read and
// printed the same way.
func (m *Module) fifoDump(ctx context.Context, _ *rpc.Request) *rpc.Reply {
	t := m.cache.Load()
	if !m.cfg.Cache {
		if m.st == nil {
			return rpc.NewReply(500, "Domain table not available", "")
		}
		names, err := m.st.LocalDomains(ctx, m.schema())
		if err != nil {
			m.log.Error("domain: domain_dump failed", "err", err)
			return rpc.NewReply(500, "Domain table not available", "")
		}
		t = newTable(names)
	}
	var d sercmd.Domains
	for i, bucket := range t.buckets {
		for _, n := range bucket {
			d = append(d, sercmd.DomainEntry{Index: i, Name: n})
		}
	}
	return rpc.Typed("200 OK", d)
}
