package sercmd

import (
	"context"
	"strings"
)

// Message is an instant message to send with t_uac_dlg MESSAGE.
type Message struct {
	// From is the sender's SIP URI (sip:user@domain).
	From string
	// To is the recipient's SIP URI: the Request-URI and the To header.
	To string
	// NextHop is the URI of the first hop ("" sends to the Request-URI's
	// host, t_uac_dlg's ".").
	NextHop string
	// Contact, when set, is put in a Contact header.
	Contact string
	// Body is the text (UTF-8, text/plain).
	Body string
}

// Result is the outcome of a request sent with t_uac_dlg: its final
// status.
type Result struct {
	Code   int
	Reason string
}

// Delivered reports a 2xx final reply.
func (r Result) Delivered() bool { return r.Code >= 200 && r.Code < 300 }

// messageParams builds t_uac_dlg's parameter lines for m, as serweb's
// send-IM did: method, Request-URI, next hop ("." for none), the header
// lines ended by ".", the body lines ended by ".".
func messageParams(m Message) []string {
	next := m.NextHop
	if next == "" {
		next = "."
	}
	p := []string{"MESSAGE", m.To, next,
		"From: <" + m.From + ">",
		"To: <" + m.To + ">",
	}
	if m.Contact != "" {
		p = append(p, "Contact: <"+m.Contact+">")
	}
	p = append(p, "Content-Type: text/plain; charset=UTF-8", ".")
	p = append(p, BodyLines(m.Body)...)
	return append(p, ".")
}

// BodyLines splits a message body into FIFO body lines. A line that the
// FIFO would read as the body terminator "." is escaped. serweb sent
// ". " for it, but SER's FIFO server (and ours, and the unix socket)
// right-trims every line, so ". " arrived as "." and cut the message
// short; the escape used here is a leading space (" ."), which survives
// the trimming.
func BodyLines(body string) []string {
	body = strings.ReplaceAll(body, "\r\n", "\n")
	body = strings.ReplaceAll(body, "\r", "\n")
	body = strings.TrimRight(body, "\n")
	if body == "" {
		return nil
	}
	lines := strings.Split(body, "\n")
	for i, l := range lines {
		if strings.TrimRight(l, " \t") == "." {
			lines[i] = " ."
		}
	}
	return lines
}

// SendMessage sends m with t_uac_dlg and waits for the final reply (or the
// context's end). Any final status — 2xx or not — is a Result; an error
// means the command could not be run.
func (c *Client) SendMessage(ctx context.Context, m Message) (Result, error) {
	rep, err := c.Run(ctx, "t_uac_dlg", messageParams(m)...)
	if rep == nil {
		return Result{}, err
	}
	return Result{Code: rep.Code, Reason: strings.TrimSpace(rep.Reason())}, nil
}
