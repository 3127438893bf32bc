package sercmd

import (
	"context"
	"strings"

	"ser/core/rpc"
)

// Presence is pa_status's result: a presentity's basic state ("open" or
// "closed") and note; the text is one line "basic note".
type Presence struct {
	Basic string
	Note  string
}

// WriteBody implements rpc.Body.
func (p Presence) WriteBody(b *strings.Builder) {
	b.WriteString(p.Basic)
	if p.Note != "" {
		b.WriteString(" " + strings.ReplaceAll(p.Note, "\n", " "))
	}
	b.WriteByte('\n')
}

// AsPresence reads pa_status's reply.
func AsPresence(rep *rpc.Reply) Presence {
	if p, ok := rep.Value.(Presence); ok {
		return p
	}
	lines := rep.Lines()
	if len(lines) == 0 {
		return Presence{}
	}
	basic, note, _ := strings.Cut(lines[0], " ")
	return Presence{Basic: basic, Note: note}
}

// PresenceStatus runs pa_status for uri (sip:user@host). Without the pa
// module loaded the error satisfies IsNotAvailable.
func (c *Client) PresenceStatus(ctx context.Context, uri string) (Presence, error) {
	rep, err := c.Run(ctx, "pa_status", uri)
	if err != nil {
		return Presence{}, err
	}
	return AsPresence(rep), nil
}
