package sercmd

import "context"

// TStats are tm's t_stats figures.
type TStats struct {
	Current, Waiting, Total, Local, RepliedLocally uint64
	// Completed counts transactions by final class: index 0 is 2xx, 4 is
	// 6xx.
	Completed [5]uint64
	// Timeouts counts branches whose final response timer fired (in
	// process only: SER's t_stats text has no such line).
	Timeouts uint64
	// Refused counts new transactions refused because max_transactions
	// were live (in process only).
	Refused uint64
}

// SLStats are sl's sl_stats counters. The 2xx..5xx fields count the codes
// of their class that have no field of their own; Rxxx counts the rest
// (1xx and codes out of range).
type SLStats struct {
	R200, R202, R2xx                               uint64
	R300, R301, R302, R3xx                         uint64
	R400, R401, R403, R404, R407, R408, R483, R4xx uint64
	R500, R5xx, R6xx, Rxxx                         uint64
	Failures                                       uint64
}

// Replies returns the number of replies sent, all classes together: the
// sum of every counter but failures (a code counts in one of them only).
func (s SLStats) Replies() uint64 {
	var n uint64
	for _, c := range s.Counters() {
		if c.Name != "failures" {
			n += c.Value
		}
	}
	return n
}

// Counter is one named figure.
type Counter struct {
	Name  string `json:"name"`
	Value uint64 `json:"value"`
}

// ULStat is one table of ul_stats.
type ULStat struct {
	Table string `json:"table"`
	// Registered is the number of AORs (records) in the table, as SER's
	// ul_stats printed it.
	Registered int64 `json:"aors"`
	Expired    int64 `json:"expired"`
	// Contacts is the number of contacts (in process only: SER's
	// ul_stats text has no such column).
	Contacts int64 `json:"contacts"`
}

// ULStats is ul_stats' result, one entry per table.
type ULStats []ULStat

// CoreStats is core_stats' result: the core's and the transports'
// counters in the order printed.
type CoreStats []Counter

// Uptime is the core's uptime reply.
type Uptime struct {
	Now     string `json:"now"` // ctime() strings as ser printed them, without the newline
	Since   string `json:"since"`
	Seconds int64  `json:"seconds"`
}

// Version is the core's version reply.
type Version struct {
	// Server is the server description, e.g. "Sip EXpress router
	// (0.9.6-go (amd64/linux))".
	Server string `json:"server"`
}

// TStats runs t_stats (tm).
func (c *Client) TStats(ctx context.Context) (TStats, error) {
	rep, err := c.Run(ctx, "t_stats")
	if err != nil {
		return TStats{}, err
	}
	return AsTStats(rep), nil
}

// SLStats runs sl_stats (sl).
func (c *Client) SLStats(ctx context.Context) (SLStats, error) {
	rep, err := c.Run(ctx, "sl_stats")
	if err != nil {
		return SLStats{}, err
	}
	return AsSLStats(rep), nil
}

// ULStats runs ul_stats (usrloc).
func (c *Client) ULStats(ctx context.Context) (ULStats, error) {
	rep, err := c.Run(ctx, "ul_stats")
	if err != nil {
		return nil, err
	}
	return AsULStats(rep), nil
}

// CoreStats runs core_stats (core).
func (c *Client) CoreStats(ctx context.Context) (CoreStats, error) {
	rep, err := c.Run(ctx, "core_stats")
	if err != nil {
		return nil, err
	}
	return AsCoreStats(rep), nil
}

// Uptime runs uptime (core).
func (c *Client) Uptime(ctx context.Context) (Uptime, error) {
	rep, err := c.Run(ctx, "uptime")
	if err != nil {
		return Uptime{}, err
	}
	return AsUptime(rep), nil
}

// Version runs version (core) and returns the server description, e.g.
// "Sip EXpress router (0.9.6-go (amd64/linux))".
func (c *Client) Version(ctx context.Context) (string, error) {
	rep, err := c.Run(ctx, "version")
	if err != nil {
		return "", err
	}
	return AsVersion(rep).Server, nil
}
