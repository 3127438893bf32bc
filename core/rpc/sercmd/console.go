package sercmd

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"ser/core/rpc"
)

// DSDest is a destination of a dispatcher set as ds_list prints it.
type DSDest struct {
	URI string `json:"uri"`
	// State is ds_list's first flag letter: A (active), I (inactive), D
	// (disabled), T (trying).
	State string `json:"state"`
	// Probing is ds_list's second letter P (the destination is pinged).
	Probing  bool `json:"probing"`
	Priority int  `json:"priority"`
	// Description is the destination's description (in process only).
	Description string `json:"description,omitempty"`
}

// DSSet is a dispatcher set with its destinations in selection order.
type DSSet struct {
	ID    int      `json:"id"`
	Dests []DSDest `json:"destinations"`
}

// DSList runs ds_list and reads its text ("SET:: id", then a
// tab-indented "URI:: uri flags=AX priority=n" per destination).
func (c *Client) DSList(ctx context.Context) ([]DSSet, error) {
	rep, err := c.Run(ctx, "ds_list")
	if err != nil {
		return nil, err
	}
	return AsDSList(rep), nil
}

// parseDSList reads ds_list's lines; lines it does not know are skipped.
func parseDSList(lines []string) DSList {
	var out DSList
	for _, l := range lines {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "SET:: "):
			id, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(l, "SET:: ")))
			if err == nil {
				out = append(out, DSSet{ID: id})
			}
		case strings.HasPrefix(l, "URI:: ") && len(out) > 0:
			f := strings.Fields(strings.TrimPrefix(l, "URI:: "))
			if len(f) == 0 {
				continue
			}
			d := DSDest{URI: f[0]}
			for _, kv := range f[1:] {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "flags":
					if len(v) > 0 {
						d.State = v[:1]
					}
					d.Probing = len(v) > 1 && v[1] == 'P'
				case "priority":
					d.Priority, _ = strconv.Atoi(v)
				}
			}
			out[len(out)-1].Dests = append(out[len(out)-1].Dests, d)
		}
	}
	return out
}

// DSSetState runs ds_set_state with Kamailio's parameter order: state
// (a, i, d or t, optionally followed by p), set, destination URI.
func (c *Client) DSSetState(ctx context.Context, state string, set int, uri string) error {
	_, err := c.Run(ctx, "ds_set_state", state, strconv.Itoa(set), uri)
	return err
}

// Domains is domain_dump's result: the domain module's cache in SER's
// order (by hash index; within one, the name loaded last first).
type Domains []DomainEntry

// DomainEntry is one line of domain_dump.
type DomainEntry struct {
	// Index is the SER hash bucket (0–127) the name is in.
	Index int    `json:"index"`
	Name  string `json:"name"`
}

// WriteBody writes domain_dump's lines: "%4d %s" (index, domain).
func (d Domains) WriteBody(b *strings.Builder) {
	for _, e := range d {
		fmt.Fprintf(b, "%4d %s\n", e.Index, e.Name)
	}
}

// parseDomains reads domain_dump's lines.
func parseDomains(lines []string) Domains {
	var out Domains
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				out = append(out, DomainEntry{Index: n, Name: f[1]})
			}
		}
	}
	return out
}

// AsDomains returns domain_dump's result from its 200 reply.
func AsDomains(rep *rpc.Reply) Domains { return typed(rep, parseDomains) }

// DomainDump runs domain_dump and returns the domains ser has in memory,
// in the order printed.
func (c *Client) DomainDump(ctx context.Context) ([]string, error) {
	rep, err := c.Run(ctx, "domain_dump")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range AsDomains(rep) {
		out = append(out, e.Name)
	}
	return out, nil
}
