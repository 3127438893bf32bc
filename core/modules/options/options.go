// Package options is SER's options module: options_reply() answers an
// OPTIONS request addressed to the server itself (no user part in the
// Request-URI) with a stateless 200 OK carrying the server's capabilities
// — the SIP layer's "ping" for monitoring.
package options

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"ser/core/module"
	"ser/core/modules/sl"
	"ser/core/sipmsg"
)

func init() { module.Register(Exports) }

// Exports is the options module's export table.
var Exports = &module.Exports{
	Name: "options",
	Params: []module.Param{
		{Name: "accept", Kind: module.Str, Set: module.StrParam(func(o *Options, s string) { o.Accept = s })},
		{Name: "accept_encoding", Kind: module.Str, Set: module.StrParam(func(o *Options, s string) { o.AcceptEncoding = s })},
		{Name: "accept_language", Kind: module.Str, Set: module.StrParam(func(o *Options, s string) { o.AcceptLanguage = s })},
		// SER 0.9 called it "support", the later SER line "supported".
		{Name: "support", Kind: module.Str, Set: module.StrParam(func(o *Options, s string) { o.Supported = s })},
		{Name: "supported", Kind: module.Str, Set: module.StrParam(func(o *Options, s string) { o.Supported = s })},
		{Name: "contact", Kind: module.Str, Set: module.StrParam(func(o *Options, s string) { o.Contact = s })},
		{Name: "contact_param", Kind: module.Str, Set: module.StrParam(func(o *Options, s string) { o.ContactParam = s })},
	},
	Funcs: []module.Func{
		{Name: "options_reply", Routes: module.Request, Fixup: module.FixupOf(func(o *Options, _ *module.Env, _ []module.Value) (module.Handler, error) {
			return o.reply, nil
		})},
	},
	Deps: []string{"sl"},
	New:  func() any { return &Options{Accept: "*/*", AcceptLanguage: "en", log: slog.Default()} },
	Init: module.InitOf(initModule),
}

// Options is one server's options instance; the fields are the modparams.
type Options struct {
	Accept, AcceptEncoding, AcceptLanguage, Supported string
	// Contact is "" (no Contact), "dstip" (the receiving socket), "ruri"
	// (the Request-URI's host and port) or a URI without "sip:".
	Contact, ContactParam string

	sl  *sl.Module
	log *slog.Logger
}

func initModule(o *Options, env *module.Env) error {
	if env.Log != nil {
		o.log = env.Log
	}
	s, ok := module.Get[*sl.Module](env, "sl")
	if !ok {
		return fmt.Errorf("options: needs the sl module")
	}
	o.sl = s
	if o.ContactParam != "" && o.Contact == "" {
		o.Contact = "dstip" // as SER: a contact_param alone adds the socket's address
	}
	for _, v := range []string{o.Accept, o.AcceptEncoding, o.AcceptLanguage, o.Supported, o.Contact, o.ContactParam} {
		if strings.ContainsAny(v, "\r\n") {
			return fmt.Errorf("options: parameter value %q spans lines", v)
		}
	}
	return nil
}

// Headers returns the header lines of the 200 OK to msg.
func (o *Options) Headers(msg *sipmsg.Msg) []string {
	h := []string{
		"Accept: " + o.Accept,
		"Accept-Encoding: " + o.AcceptEncoding,
		"Accept-Language: " + o.AcceptLanguage,
		"Supported: " + o.Supported,
	}
	if c := o.contact(msg); c != "" {
		h = append(h, "Contact: <sip:"+c+">")
	}
	return h
}

// contact returns the Contact URI without "sip:", or "" for none.
func (o *Options) contact(msg *sipmsg.Msg) string {
	var c string
	switch strings.ToLower(o.Contact) {
	case "":
		return ""
	case "dstip":
		if s := msg.Rcv.Sock; s != nil {
			c = s.HostPort()
			if s.Proto == sipmsg.ProtoTCP || s.Proto == sipmsg.ProtoTLS {
				c += ";transport=" + s.Proto.String()
			}
		}
	case "ruri":
		u := msg.OrigURI()
		c = u.Host
		if strings.Contains(c, ":") && !strings.HasPrefix(c, "[") {
			c = "[" + c + "]"
		}
		if u.Port > 0 {
			c += ":" + strconv.Itoa(u.Port)
		}
	default:
		c = o.Contact
	}
	if o.ContactParam != "" {
		if !strings.HasPrefix(o.ContactParam, ";") {
			c += ";"
		}
		c += o.ContactParam
	}
	return c
}

// reply is options_reply(): false (-1) for a request that is not an
// OPTIONS or whose Request-URI has a user part; otherwise the 200 OK is
// sent and, as in SER 0.9, the script stops (0). A reply that cannot be
// sent is answered 500 when possible.
func (o *Options) reply(msg *sipmsg.Msg) (int, error) {
	ctx := module.MsgCtx(msg)
	if msg.Req == nil || !strings.EqualFold(msg.Method(), "OPTIONS") {
		o.log.ErrorContext(ctx, "options_reply(): called for non-OPTIONS request")
		return -1, nil
	}
	if msg.URI().User != "" {
		o.log.ErrorContext(ctx, "options_reply(): ruri contains username", "ruri", msg.URIString())
		return -1, nil
	}
	msg.ReplyHeaders = append(msg.ReplyHeaders, o.Headers(msg)...)
	if err := o.sl.Reply(msg, 200, "OK"); err != nil {
		o.log.ErrorContext(ctx, "options_reply(): failed to send 200", "err", err)
		return -1, nil
	}
	return 0, nil
}
