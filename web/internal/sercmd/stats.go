package sercmd

import "context"

// TStats runs t_stats (tm).
func (c *Client) TStats(ctx context.Context) (TStats, error) {
	rep, err := c.Run(ctx, "t_stats")
	if err != nil {
		return TStats{}, err
	}
	return parseTStats(rep.Lines()), nil
}

// SLStats runs sl_stats (sl).
func (c *Client) SLStats(ctx context.Context) (SLStats, error) {
	rep, err := c.Run(ctx, "sl_stats")
	if err != nil {
		return nil, err
	}
	return parseSLStats(rep.Lines()), nil
}

// ULStats runs ul_stats (usrloc).
func (c *Client) ULStats(ctx context.Context) ([]ULStat, error) {
	rep, err := c.Run(ctx, "ul_stats")
	if err != nil {
		return nil, err
	}
	return parseULStats(rep.Lines()), nil
}

// Uptime runs uptime (core).
func (c *Client) Uptime(ctx context.Context) (Uptime, error) {
	rep, err := c.Run(ctx, "uptime")
	if err != nil {
		return Uptime{}, err
	}
	return parseUptime(rep.Lines()), nil
}

// Version runs version (core) and returns the server description, e.g.
// "Sip EXpress router (0.9.6-go (amd64/linux))".
func (c *Client) Version(ctx context.Context) (string, error) {
	rep, err := c.Run(ctx, "version")
	if err != nil {
		return "", err
	}
	return parseVersion(rep.Lines()), nil
}
