package tm

// errorText is SER's error_text: the reason phrase of locally generated
// replies (408 on timeout, 487 after CANCEL, the status line of faked
// UAC replies).
func errorText(code int) string {
	if p, ok := phrases[code]; ok {
		return p
	}
	switch {
	case code >= 600:
		return "Global Failure"
	case code >= 500:
		return "Server Failure"
	case code >= 400:
		return "Request Failure"
	case code >= 300:
		return "Redirection"
	case code >= 200:
		return "Successful"
	case code >= 100:
		return "Provisional"
	}
	return "Unspecified"
}

var phrases = map[int]string{
	100: "Trying", 180: "Ringing", 181: "Call is Being Forwarded", 182: "Queued",
	183: "Session Progress", 200: "OK", 300: "Multiple Choices",
	301: "Moved Permanently", 302: "Moved Temporarily", 305: "Use Proxy",
	380: "Alternative Service", 400: "Bad Request", 401: "Unauthorized",
	402: "Payment Required", 403: "Forbidden", 404: "Not Found",
	405: "Method not Allowed", 406: "Not Acceptable",
	407: "Proxy authentication Required", 408: "Request Timeout", 410: "Gone",
	413: "Request Entity Too Large", 414: "Request-URI Too Long",
	415: "Unsupported Media Type", 416: "Unsupported URI Scheme",
	417: "Bad Extension", 421: "Extension Required", 423: "Interval Too Brief",
	480: "Temporarily Unavailable", 481: "Call/Transaction Does not Exist",
	482: "Loop Detected", 483: "Too Many Hops", 484: "Address Incomplete",
	485: "Ambiguous", 486: "Busy Here", 487: "Request Terminated",
	488: "Not Acceptable Here", 491: "Request Pending",
	500: "Server Internal Error", 501: "Not Implemented", 502: "Bad Gateway",
	503: "Service Unavailable", 504: "Server Time-out", 505: "Version not Supported",
	513: "Message Too Large", 600: "Busy Everywhere", 603: "Decline",
	604: "Does not Exist Anywhere", 606: "Not Acceptable",
}
