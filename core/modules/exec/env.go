package exec

import (
	"strings"

	"ser/core/sipmsg"
)

// knownHF are the variable names SER's exec_hf.h gave to parsed header
// types (compact forms included); other headers use their canonicalised
// name.
var knownHF = map[string]string{
	"via": "VIA", "v": "VIA",
	"content-type": "CONTENT_TYPE", "c": "CONTENT_TYPE",
	"from": "FROM", "f": "FROM",
	"call-id": "CALLID", "i": "CALLID",
	"supported": "SUPPORTED", "k": "SUPPORTED",
	"content-length": "CONTENT_LENGTH", "l": "CONTENT_LENGTH",
	"contact": "CONTACT", "m": "CONTACT",
	"to": "TO", "t": "TO",
	"event": "EVENT", "o": "EVENT",
}

// hfVarName returns the environment variable name of a header:
// "SIP_HF_" + its SER name (upper case, any character other than a
// letter or digit replaced by '_').
func hfVarName(name string) string {
	if n, ok := knownHF[strings.ToLower(name)]; ok {
		return "SIP_HF_" + n
	}
	b := []byte(strings.ToUpper(name))
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return "SIP_HF_" + string(b)
}

// environ returns the variables a command gets for m: SRC_IP and SRCIP
// (the request's source address; the admin guide names the first, its
// example script reads the second) always, and with setvars SER's SIP_*
// set: one SIP_HF_<NAME> per header name (values of repeated headers
// joined by ','), SIP_SRCIP, SIP_RURI, SIP_USER, SIP_ORUI (sic, SER's
// name for the original R-URI; SIP_ORURI too), SIP_OUSER, SIP_TID (top
// Via branch) and SIP_DID (To tag).
func (e *Exec) environ(m *sipmsg.Msg) []string {
	src := ""
	if m.Rcv.Src.IsValid() {
		src = m.Rcv.Src.Addr().Unmap().String()
	}
	env := []string{"SRC_IP=" + src, "SRCIP=" + src}
	if !e.setvars || m.Req == nil {
		return env
	}
	var (
		order []string
		vals  = map[string][]string{}
	)
	for _, h := range m.Req.Headers() {
		n := hfVarName(h.Name())
		if _, seen := vals[n]; !seen {
			order = append(order, n)
		}
		vals[n] = append(vals[n], h.Value())
	}
	for _, n := range order {
		env = append(env, n+"="+strings.Join(vals[n], ","))
	}
	orig := m.OrigURI()
	tid := ""
	if v := m.Req.Via(); v != nil {
		tid, _ = v.Params.Get("branch")
	}
	did := ""
	if to := m.Req.To(); to != nil && to.Params != nil {
		did, _ = to.Params.Get("tag")
	}
	return append(env,
		"SIP_SRCIP="+src,
		"SIP_RURI="+m.URIString(),
		"SIP_USER="+m.URI().User,
		"SIP_ORUI="+orig.String(),
		"SIP_ORURI="+orig.String(),
		"SIP_OUSER="+orig.User,
		"SIP_TID="+tid,
		"SIP_DID="+did,
	)
}
