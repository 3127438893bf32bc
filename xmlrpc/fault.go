package xmlrpc

import "fmt"

// Fault codes of the bridge. The negative codes follow the xmlrpc-epi
// "specification for fault code interoperability" that PHP's and Python's
// XML-RPC servers use; a FIFO reply with a status of 400 or more is passed
// through unchanged as a positive fault code (404, 400, 500, …).
const (
	// FaultParse: the body is not well-formed XML.
	FaultParse = -32700
	// FaultEncoding: the XML declaration names a charset the bridge cannot
	// read (UTF-8, US-ASCII, ISO-8859-1 and windows-1252 are accepted).
	FaultEncoding = -32701
	// FaultInvalidRequest: well-formed XML that is not an XML-RPC
	// methodCall (unknown value type, bad integer, missing methodName, …).
	FaultInvalidRequest = -32600
	// FaultMethodNotFound: no built-in method and no FIFO command has
	// that name.
	FaultMethodNotFound = -32601
	// FaultInvalidParams: wrong parameter count or type.
	FaultInvalidParams = -32602
	// FaultInternal: the bridge failed to build a response.
	FaultInternal = -32603
	// FaultTooLarge: the request body exceeds Options.MaxBodyBytes; sent
	// with HTTP status 413.
	FaultTooLarge = -32300
	// FaultUnavailable: the SER server did not answer (the Executor
	// reported a transport failure: FIFO missing, nobody reading it, …).
	FaultUnavailable = -32400
	// FaultTimeout: the command did not finish before the request deadline
	// (Options.CallTimeout), or no execution slot became free in time.
	FaultTimeout = -32000
)

// Fault is an XML-RPC fault: the error answer of a method call.
type Fault struct {
	Code   int
	String string
}

// Error returns the fault as text.
func (f *Fault) Error() string {
	return fmt.Sprintf("xmlrpc: fault %d: %s", f.Code, f.String)
}

// faultf builds a Fault with a formatted string.
func faultf(code int, format string, a ...any) *Fault {
	return &Fault{Code: code, String: fmt.Sprintf(format, a...)}
}
