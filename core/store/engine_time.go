package store

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// timeLayout is how DATETIME values are written: UTC, second precision.
// SQLite stores it as TEXT (which sorts chronologically), MySQL parses it.
const timeLayout = "2006-01-02 15:04:05"

// sessionLayout is PHPLIB's active_sessions.changed format (varchar(14)).
const sessionLayout = "20060102150405"

// Forever is the expires value of permanent contacts (flags bit
// FlagPermanent), and the default of the expires column: the largest
// DATETIME both engines accept. SER used '2020-05-28 21:32:15', which is in
// the past now.
var Forever = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// dbTime formats t for a DATETIME parameter.
func dbTime(t time.Time) string {
	return t.UTC().Format(timeLayout)
}

// timeScan scans a DATETIME column into a time.Time whatever the driver
// hands over: time.Time (go-sqlite3 for DATETIME columns, go-sql-driver
// with parseTime), text or bytes. Values that do not parse (MySQL's zero
// date) and NULL become the zero time.
type timeScan struct{ t *time.Time }

// Scan implements sql.Scanner.
func (ts timeScan) Scan(v any) error {
	switch x := v.(type) {
	case time.Time:
		*ts.t = x.UTC()
	case string:
		*ts.t = parseDBTime(x)
	case []byte:
		*ts.t = parseDBTime(string(x))
	case nil:
		*ts.t = time.Time{}
	default:
		return fmt.Errorf("store: cannot scan %T into a time", v)
	}
	return nil
}

// parseDBTime parses the layouts a DATETIME column may hold. The store's
// own layout is parsed by hand (LoadContacts reads two per row).
func parseDBTime(s string) time.Time {
	if t, ok := parseFixed(s); ok {
		return t
	}
	for _, layout := range []string{timeLayout, time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

var _ interface{ Scan(any) error } = timeScan{}
var _ driver.Valuer = nullString("")

// nullString is a string parameter stored as NULL when empty (nullable
// VARCHAR columns such as location.received or subscriber.rpid).
type nullString string

// Value implements driver.Valuer.
func (n nullString) Value() (driver.Value, error) {
	if n == "" {
		return nil, nil
	}
	return string(n), nil
}

// parseFixed parses exactly "YYYY-MM-DD hh:mm:ss" (UTC).
func parseFixed(s string) (time.Time, bool) {
	if len(s) != len(timeLayout) || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	var v [6]int
	for i, pos := range [6][2]int{{0, 4}, {5, 7}, {8, 10}, {11, 13}, {14, 16}, {17, 19}} {
		for j := pos[0]; j < pos[1]; j++ {
			c := s[j]
			if c < '0' || c > '9' {
				return time.Time{}, false
			}
			v[i] = v[i]*10 + int(c-'0')
		}
	}
	if v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 59 {
		return time.Time{}, false
	}
	return time.Date(v[0], time.Month(v[1]), v[2], v[3], v[4], v[5], 0, time.UTC), true
}
