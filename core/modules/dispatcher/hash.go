package dispatcher

import (
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Algorithms of ds_select_dst / ds_select_domain (Kamailio's numbers).
const (
	// AlgCallID hashes the Call-ID.
	AlgCallID = 0
	// AlgFromURI hashes the From URI (the user only with flags 1).
	AlgFromURI = 1
	// AlgToURI hashes the To URI (the user only with flags 1).
	AlgToURI = 2
	// AlgRURI hashes the Request-URI (the user only with flags 1).
	AlgRURI = 3
	// AlgRoundRobin takes the destinations in turn, one counter per set.
	AlgRoundRobin = 4
	// AlgRandom picks a destination at random.
	AlgRandom = 6
	// AlgFirst takes the first destination (highest priority) that is up.
	AlgFirst = 8
)

// validAlg reports whether ds_select_dst implements algorithm alg.
func validAlg(alg int) bool {
	switch alg {
	case AlgCallID, AlgFromURI, AlgToURI, AlgRURI, AlgRoundRobin, AlgRandom, AlgFirst:
		return true
	}
	return false
}

// algNames is the list of implemented algorithms for error messages.
const algNames = "0 Call-ID hash, 1 From URI hash, 2 To URI hash, 3 R-URI hash, 4 round-robin, 6 random, 8 first"

// dsHash is Kamailio's ds_get_hash over one or two keys (nil: absent).
// Bytes are taken unsigned; for ASCII keys the value is Kamailio's.
func dsHash(x, y *string) uint32 {
	if x == nil && y == nil {
		return 0
	}
	var h uint32
	mix := func(s string) {
		p := 0
		for ; p+4 <= len(s); p += 4 {
			v := uint32(s[p])<<24 + uint32(s[p+1])<<16 + uint32(s[p+2])<<8 + uint32(s[p+3])
			h += v ^ (v >> 3)
		}
		var v uint32
		for ; p < len(s); p++ {
			v <<= 8
			v += uint32(s[p])
		}
		h += v ^ (v >> 3)
	}
	if x != nil {
		mix(*x)
	}
	if y != nil {
		mix(*y)
	}
	h = (h + (h >> 11)) + ((h >> 13) + (h >> 23))
	if h == 0 {
		return 1
	}
	return h
}

// callIDHash is algorithm 0.
func callIDHash(callID string) uint32 {
	cid := strings.TrimSpace(callID)
	return dsHash(&cid, nil)
}

// uriHash is algorithms 1–3 (Kamailio's get_uri_hash_keys): the user
// part, and unless userOnly the host with the port when it is not the
// scheme's default ("host" or "host:port").
func uriHash(u *sip.Uri, userOnly bool) uint32 {
	user := u.User
	if userOnly {
		return dsHash(&user, nil)
	}
	host := u.Host
	def := 5060
	if u.Scheme == "sips" {
		def = 5061
	}
	if u.Port != 0 && u.Port != def {
		host += ":" + strconv.Itoa(u.Port)
	}
	return dsHash(&user, &host)
}
