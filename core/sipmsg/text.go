package sipmsg

import (
	"fmt"

	"github.com/emiago/sipgo/sip"
)

// Bytes serialises the current message (all rewrites and added headers
// applied).
func (m *Msg) Bytes() []byte {
	return Exact(m.Append)
}

// Append appends the current message (see Bytes) to buf.
func (m *Msg) Append(buf []byte) []byte {
	if m.Req != nil {
		return AppendRequest(buf, m.Req)
	}
	return AppendResponse(buf, m.Resp)
}

// ReplaceText re-parses the message from text after a textual edit
// (textops replace/subst). The receive information, flags, destination
// set and per-message values are kept; the R-URI comes from the new text.
func (m *Msg) ReplaceText(text []byte) error {
	msg, err := Parse(text)
	if err != nil {
		return fmt.Errorf("sipmsg: re-parse after edit: %w", err)
	}
	switch v := msg.(type) {
	case *sip.Request:
		if m.Req == nil {
			return fmt.Errorf("sipmsg: re-parse after edit: request became a reply")
		}
		v.SetSource(m.Req.Source())
		v.SetTransport(m.Req.Transport())
		m.Req = v
	case *sip.Response:
		if m.Resp == nil {
			return fmt.Errorf("sipmsg: re-parse after edit: reply became a request")
		}
		v.SetSource(m.Resp.Source())
		v.SetTransport(m.Resp.Transport())
		m.Resp = v
	}
	m.Raw = text
	m.uriStr = ""
	return nil
}

// SetError records why the last action failed, for sl_reply_error():
// the SIP status and reason it should answer with.
func (m *Msg) SetError(code int, reason string) {
	m.ErrCode, m.ErrReason = code, reason
}
