package usrloc

import "errors"

// Q is a contact's q-value in thousandths, as SER 0.9's qvalue_t: 0 … 1000
// for 0.0 … 1.0, or QUnset when the contact carried none.
type Q int16

// Q values with a name.
const (
	// QUnset marks a contact registered without a q parameter (SER's
	// Q_UNSPECIFIED). It sorts below every set value, as in SER.
	QUnset Q = -1
	// QMin is 0.0.
	QMin Q = 0
	// QMax is 1.0.
	QMax Q = 1000
)

// errQ is returned by ParseQ for every malformed q-value.
var errQ = errors.New("usrloc: invalid q value")

// ParseQ parses a q-value the way SER's str2q does: leading white space,
// then "0", "1", "0." or "." followed by one to three digits, or "1."
// followed by one to three zeros. Anything else, including values above
// 1, is an error.
func ParseQ(s string) (Q, error) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
		i++
	}
	s = s[i:]
	if s == "" {
		return 0, errQ
	}
	var q Q
	switch s[0] {
	case '0':
		s = s[1:]
	case '1':
		q, s = QMax, s[1:]
	case '.':
		// ".5" is 0.5; the dot is consumed below.
	default:
		return 0, errQ
	}
	if s == "" {
		return q, nil
	}
	if s[0] != '.' || len(s) == 1 || len(s) > 4 {
		return 0, errQ
	}
	order := Q(100)
	for _, c := range []byte(s[1:]) {
		if c < '0' || c > '9' || (q == QMax && c != '0') {
			return 0, errQ
		}
		if q != QMax {
			q += Q(c-'0') * order
		}
		order /= 10
	}
	return q, nil
}

// String formats q as SER's q2str: "" for QUnset, "1", "0", or "0."
// followed by one to three digits without trailing zeros ("0.5", "0.25").
func (q Q) String() string {
	switch {
	case q == QUnset:
		return ""
	case q >= QMax:
		return "1"
	case q <= QMin:
		return "0"
	}
	b := []byte{'0', '.', byte('0' + q/100)}
	q %= 100
	if q != 0 {
		b = append(b, byte('0'+q/10))
		q %= 10
		if q != 0 {
			b = append(b, byte('0'+q))
		}
	}
	return string(b)
}

// Float returns q as a float (1000 → 1.0), or -1 for QUnset.
func (q Q) Float() float32 {
	if q == QUnset {
		return -1
	}
	return float32(q) / 1000
}

// QFromFloat converts a float q-value (0.0 … 1.0; negative: unset) into a Q,
// rounding to thousandths and clamping to 1.
func QFromFloat(f float64) Q {
	switch {
	case f < 0:
		return QUnset
	case f >= 1:
		return QMax
	}
	return Q(f*1000 + 0.5)
}
