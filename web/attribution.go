package web

import (
	"context"
	"sort"
	"strings"

	"ser/core/store"
)

// attribution maps the username and domain of accounting rows to the
// subscriber they belong to. SER's acc writes what the request carried —
// missed_calls the original Request-URI's user and host (format "pD"),
// acc the From URI's — so a call to an alias is stored under the alias
// and a phone that dialled the server's IP gives the IP as domain. The
// console shows and selects such rows under the alias's target and the
// SIP domain, from the aliases ser has now (ul_dump) and the server's
// names (Options.LocalHosts); the rows themselves stay as SER wrote them.
type attribution struct {
	domain string            // the default SIP domain
	local  map[string]bool   // names of the default domain (lower case)
	target map[string]string // alias user@domain → target user@domain
	// AliasErr says why the aliases could not be read ("" when they were).
	AliasErr string
}

// attribution reads the aliases table; a failure leaves aliases out (the
// page says so) rather than failing the page.
func (a *App) attribution(ctx context.Context) attribution {
	at := attribution{domain: a.opts.Domain, local: map[string]bool{a.opts.Domain: true}, target: map[string]string{}}
	for _, h := range a.opts.LocalHosts {
		if h = strings.ToLower(strings.Trim(h, "[]")); h != "" {
			at.local[h] = true
		}
	}
	entries, _, err := a.aliasEntries(ctx)
	if err != nil {
		at.AliasErr = cmdErrText(err)
	}
	for _, e := range entries {
		tu, th := uriUserHost(e.Target)
		if tu == "" {
			continue
		}
		au, ad, ok := strings.Cut(e.AOR, "@")
		if !ok {
			ad = at.domain // usrloc without use_domain: the alias of the default domain
		}
		at.target[au+"@"+at.norm(ad)] = tu + "@" + at.norm(th)
	}
	return at
}

// norm returns domain d in lower case, the default domain for one of its
// other names.
func (at attribution) norm(d string) string {
	d = strings.ToLower(strings.Trim(d, "[]"))
	if at.local[d] {
		return at.domain
	}
	return d
}

// canon returns the subscriber a row's username@domain belongs to, and
// the alias it was reached by ("" when none).
func (at attribution) canon(user, domain string) (aor, via string) {
	k := user + "@" + at.norm(domain)
	if t, ok := at.target[k]; ok {
		return t, user
	}
	return k, ""
}

// spellings returns every username and domain pair that canon maps to
// user@domain: the user and its aliases, each under every name of its
// domain.
func (at attribution) spellings(user, domain string) []store.AccUser {
	domain = at.norm(domain)
	names := func(d string) []string {
		out := []string{d}
		if d == at.domain {
			for h := range at.local {
				if h != d {
					out = append(out, h)
				}
			}
			sort.Strings(out[1:])
		}
		return out
	}
	var out []store.AccUser
	add := func(u, d string) {
		for _, n := range names(d) {
			out = append(out, store.AccUser{Username: u, Domain: n})
		}
	}
	add(user, domain)
	var aliases []string
	for k, t := range at.target {
		if t == user+"@"+domain {
			aliases = append(aliases, k)
		}
	}
	sort.Strings(aliases)
	for _, k := range aliases {
		u, d, _ := strings.Cut(k, "@")
		add(u, d)
	}
	return out
}

// accRow is an accounting record with the subscriber it is attributed
// to.
type accRow struct {
	store.AccRecord
	AOR string // user@domain of the subscriber
	Via string // the alias the call was made to, "" when none
}

// rows attributes records.
func (at attribution) rows(recs []store.AccRecord) []accRow {
	out := make([]accRow, len(recs))
	for i, r := range recs {
		out[i].AccRecord = r
		out[i].AOR, out[i].Via = at.canon(r.Username, r.Domain)
	}
	return out
}

// accTotal is the number of records of a subscriber.
type accTotal struct {
	AOR     string
	Records int
}

// totals merges per-spelling counts into per-subscriber totals, largest
// first, at most max.
func (at attribution) totals(counts []store.AccCount, max int) []accTotal {
	sum := map[string]int{}
	for _, c := range counts {
		aor, _ := at.canon(c.Username, c.Domain)
		sum[aor] += c.Records
	}
	out := make([]accTotal, 0, len(sum))
	for aor, n := range sum {
		out = append(out, accTotal{aor, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Records != out[j].Records {
			return out[i].Records > out[j].Records
		}
		return out[i].AOR < out[j].AOR
	})
	if max > 0 && len(out) > max {
		out = out[:max]
	}
	return out
}
