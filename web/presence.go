package web

import (
	"context"

	"ser/core/rpc/sercmd"
)

// presence is the pa module's presence of a local user (pa_status):
// "open" or "closed" and the note; "" when ser runs no pa module or does
// not answer (the phonebook then shows the registration state alone).
func (a *App) presence(ctx context.Context, aor string) (basic, note string) {
	p, err := a.ser.PresenceStatus(ctx, "sip:"+aor)
	if err != nil {
		if !sercmd.IsNotAvailable(err) {
			a.log.Warn("web: pa_status failed", "aor", aor, "err", err)
		}
		return "", ""
	}
	return p.Basic, p.Note
}
