package module

import (
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/emiago/sipgo/sip"

	"ser/core/rpc"
	"ser/core/sipmsg"
	"ser/core/store"
)

// Env is what a module instance gets from the server it runs in.
type Env struct {
	// Log has the module's name as its "module" attribute.
	Log *slog.Logger
	// RPC is the server's command registry (FIFO, unix socket, XML-RPC).
	RPC *rpc.Registry
	// Core gives access to transport, replies and script routes.
	Core Core
	// Instance returns the instance of another loaded module, or nil when
	// that module is not loaded.
	Instance func(name string) any
	// DB opens (once per URL, shared by every module of the server) the
	// database a db_url names; an empty url means the server's default
	// database (the db_url option, "sqlite://ser.db" unless set). The
	// server closes it at shutdown.
	DB func(url string) (*store.Store, error)
	// ConfigFile is the configuration file's path as given (-f): a module
	// resolves the file names of its modparams and arguments that have no
	// '/' against its directory, as SER's modules did (permissions).
	ConfigFile string
	// Check is set when the configuration is only checked (ser -c): Init
	// and the fixups validate what they are given but open no database,
	// file, FIFO or socket and send nothing (DB must not be called; use
	// CheckDBURL). Neither Start nor any handler runs afterwards.
	Check bool
}

// CheckDBURL validates a db_url without connecting (a config check); ""
// is the server's default database.
func (e *Env) CheckDBURL(url string) error {
	if url == "" {
		return nil
	}
	_, err := store.ParseURL(url)
	return err
}

// OpenDB is what a module's Init does with its db_url: the database
// opened through DB, with errors named after the module ("msilo: no
// database available", "msilo: db_url: …"). Not for a config check (Check).
func (e *Env) OpenDB(module, url string) (*store.Store, error) {
	if e.DB == nil {
		return nil, fmt.Errorf("%s: no database available", module)
	}
	st, err := e.DB(url)
	if err != nil {
		return nil, fmt.Errorf("%s: db_url: %w", module, err)
	}
	return st, nil
}

// ReplyOpts are the optional parts of a locally generated reply.
type ReplyOpts struct {
	// ToTag is put in the To header when the request's To has none (not for
	// 100 Trying). Empty: the core derives a stable tag from the request.
	ToTag string
	// Headers are extra header lines ("Name: value", no CRLF).
	Headers []string
	// ContentType and Body give the reply a body.
	ContentType string
	Body        []byte
}

// Core is the server as seen by modules.
type Core interface {
	// Sockets returns the listening sockets.
	Sockets() []*sipmsg.Socket
	// IsMyself reports whether host (and port; 0 = the default port) names
	// this server: one of the listen addresses or an alias.
	IsMyself(host string, port int, proto sipmsg.Proto) bool
	// IsMyselfIP reports whether ip is one of the listen addresses.
	IsMyselfIP(ip netip.Addr) bool

	// BuildReply makes a reply to the request in m, with the core's
	// Server and Warning headers when server_signature / sip_warning are on.
	BuildReply(m *sipmsg.Msg, code int, reason string, o ReplyOpts) *sip.Response
	// SendReply sends a reply to a request received as described by rcv:
	// to the top Via's received/rport address, over the same connection or
	// from the same socket it arrived on.
	SendReply(rcv sipmsg.RcvInfo, resp *sip.Response) error
	// Reply builds and sends a reply to the request in m: the reply
	// SendReply(m.Rcv, BuildReply(m, code, reason, o)) sends, which the
	// core may write straight into its send buffer.
	Reply(m *sipmsg.Msg, code int, reason string, o ReplyOpts) error
	// ReplyWire returns the bytes of the reply BuildReply(m, code, reason,
	// o) describes, as sipmsg.AppendResponse writes them, and where it
	// goes (ReplyDest of its top Via), for a caller that keeps them (tm's
	// retransmissions).
	ReplyWire(m *sipmsg.Msg, code int, reason string, o ReplyOpts) ([]byte, sipmsg.Dest, error)
	// ReplyDest computes where a reply to the request with the given top
	// Via, received as described by rcv, goes (RFC 3261 §18.2.2, RFC 3581).
	ReplyDest(rcv sipmsg.RcvInfo, via *sip.ViaHeader) (sipmsg.Dest, error)

	// Resolve turns a next-hop URI ("sip:host:port;transport=tcp") into a
	// destination.
	Resolve(uri *sip.Uri) (sipmsg.Dest, error)
	// ResolveHost resolves host:port for the protocol (0 port = 5060).
	ResolveHost(host string, port int, proto sipmsg.Proto) (sipmsg.Dest, error)
	// Send transmits data.
	Send(dst sipmsg.Dest, data []byte) error
	// SocketFor picks the socket to send to dst from.
	SocketFor(dst sipmsg.Dest) *sipmsg.Socket

	// Forward relays the request in m statelessly to dst (RFC 3261 §16.11):
	// it puts the server's Via on top with a deterministic branch and sends
	// the current message (R-URI rewrites, added headers included).
	Forward(m *sipmsg.Msg, dst sipmsg.Dest) error
	// RequestBytes serialises the request in m as it is forwarded from sock
	// with the given branch: the previous hop's Via completed with
	// received/rport, our Via on top, every rewrite applied. m is left
	// unchanged (tm builds its branches with it).
	RequestBytes(m *sipmsg.Msg, sock *sipmsg.Socket, branch string) []byte
	// SendAsIs sends the current request to dst without adding a Via
	// (SER's send()).
	SendAsIs(m *sipmsg.Msg, dst sipmsg.Dest) error

	// Log writes a script log line (log(level, text)) about m (its
	// Call-ID is logged; m may be nil) when level is within the configured
	// debug level. Levels are SER's: -3 alert, -2 crit, -1 err, 1 warn,
	// 2 notice, 3 info, 4 debug.
	Log(m *sipmsg.Msg, level int, text string)

	// HasRoute reports whether the script defines the given block
	// (kind Request: route[n]; Failure: failure_route[n]; OnReply:
	// onreply_route[n]).
	HasRoute(kind Route, n int) bool
	// RunRoute runs a script block for m and returns the block's value
	// (m.Dropped is set when the script executed drop).
	RunRoute(kind Route, n int, m *sipmsg.Msg) int

	// ServerHeader is the value of the Server/User-Agent header
	// ("Sip EXpress router (x.y.z (arch/os))").
	ServerHeader() string
	// ServerSignature reports whether locally generated messages carry it.
	ServerSignature() bool
}
