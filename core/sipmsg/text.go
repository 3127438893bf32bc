package sipmsg

import (
	"fmt"

	"github.com/emiago/sipgo/sip"
)

// MaxMsgLen is the largest message the server parses (SER 0.9's BUF_SIZE;
// the script's max_len).
const MaxMsgLen = 65535

// parser accepts messages larger than max_len so that the script can
// answer them with 513 (len_gt(max_len), msg:len > max_len).
var parser = func() *sip.Parser {
	p := sip.NewParser()
	p.MaxMessageLength = 4 * MaxMsgLen
	return p
}()

// Parse parses raw bytes into a sipgo message.
func Parse(raw []byte) (sip.Message, error) { return parser.ParseSIP(raw) }

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
