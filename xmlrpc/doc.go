// Package xmlrpc is ser's XML-RPC bridge: management commands (the FIFO
// commands of core/rpc) over HTTP, for PHP and Python scripts.
//
// It serves Andreas Granig's "fifo.execute" convention (2005):
//
//	fifo.execute({cmdname: "ul_show_contact", cmdparams: ["location", "012345"]})
//
// every FIFO command as a method of its own (ul_show_contact("location",
// "012345"), serweb's convention), and system.listMethods, methodHelp,
// methodSignature and multicall. A command's answer is the struct {code,
// reason, lines, output}; a FIFO status of 400 or more is a fault with that
// status as faultCode and the reason as faultString.
//
// Commands run through an rpc.Executor: rpc.NewLocal over the in-process
// registry, or a FIFO or unix-socket client (fifo.Client, fifo.UnixClient)
// when the bridge runs beside a separate ser. New builds the http.Handler;
// Mount adds it to a router, Handler gives it a mux of its own and
// HTTPServer the bridge's timeouts. ser's HTTP listener (internal/frontend)
// serves it, inside ser and as `ser xmlrpc`, with TLS when configured.
// Requests are admitted by client network (loopback by default) and
// optionally HTTP basic authentication, bounded in size, and given a
// deadline that the Executor receives in its context.
//
// The codec is the package's own (DecodeCall, EncodeResponse, EncodeFault);
// it reads every XML-RPC type, untyped values as strings, i8 and nil
// extensions, and ISO-8859-1 documents as PHP's xmlrpc extension sends them.
package xmlrpc
