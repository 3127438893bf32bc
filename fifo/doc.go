// Package fifo is SER's management transports around the command registry
// (core/rpc): the FIFO server (a named pipe with SER 0.8/0.9 framing and
// reply FIFOs), the unix socket server of SER 0.9 (one request per
// datagram, plus an optional stream socket), and Go clients for both, used
// by serctl, the stand-alone XML-RPC bridge and the web console.
//
// The wire formats follow SER 0.9's fifo_server.c and unixsock_server.c to
// the byte; see README.md for the protocol as implemented and the few
// deliberate differences (request framing that cannot desynchronise,
// commands that do not block each other).
package fifo
