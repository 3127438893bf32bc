package sl

import (
	"math"
	"strconv"
	"strings"

	"ser/core/sipmsg"
)

// ContactLines returns the destination set of msg as Contact header lines
// for a 3xx reply: the current Request-URI first, then each branch, as
// "Contact: <uri>" with ";q=" when the entry has a q value.
func ContactLines(msg *sipmsg.Msg) []string {
	lines := make([]string, 0, 1+len(msg.Branches))
	if u := msg.URIString(); u != "" {
		lines = append(lines, contactLine(u, msg.RURIQ))
	}
	for _, b := range msg.Branches {
		lines = append(lines, contactLine(b.URI, b.Q))
	}
	return lines
}

func contactLine(uri string, q float32) string {
	l := "Contact: <" + uri + ">"
	if q >= 0 {
		l += ";q=" + FormatQ(q)
	}
	return l
}

// FormatQ prints a q value as SER does (q2str): "1", "0", or "0." with
// up to three digits and no trailing zeros.
func FormatQ(q float32) string {
	n := int(math.Round(float64(q) * 1000))
	switch {
	case n >= 1000:
		return "1"
	case n <= 0:
		return "0"
	}
	s := strconv.Itoa(n)
	s = strings.Repeat("0", 3-len(s)) + s
	return "0." + strings.TrimRight(s, "0")
}
