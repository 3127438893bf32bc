package store

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Source is a parsed database URL (SER's db_url).
type Source struct {
	// Engine is "sqlite", "mysql" or "dbtext".
	Engine string
	// Path is the SQLite database file (empty when Memory is set) or the
	// dbtext directory.
	Path string
	// Memory asks for a private in-memory SQLite database (tests).
	Memory bool
	// User, Password, Host, Port and Database are the MySQL connection
	// parameters; Port is 0 when the URL has none (3306, or the Unix
	// socket for host "localhost", as SER's MySQL client did).
	User, Password, Host string
	Port                 int
	Database             string
	// Socket is the Unix socket named by the URL's socket parameter.
	Socket string
	// Timeout, ReadTimeout and WriteTimeout are the URL's timeout,
	// readTimeout and writeTimeout parameters (0: the store's defaults).
	Timeout, ReadTimeout, WriteTimeout time.Duration
}

// ParseURL parses a database URL:
//
//	sqlite:///abs/path.db   absolute path
//	sqlite://relative.db    path relative to the working directory
//	sqlite:relative.db      the same
//	/abs/path.db, rel.db    a bare path is an SQLite file
//	:memory:, sqlite::memory:, sqlite://:memory:   in-memory (tests)
//	mysql://user:pass@host[:port]/db               MySQL/MariaDB
//	sql://user:pass@host[:port]/db                 SER's legacy MySQL URL
//	dbtext:///abs/dir, dbtext://rel/dir            SER's dbtext directory
//	/abs/dir, rel/dir   a bare path naming an existing directory is dbtext
//
// A MySQL URL may end in ?socket=/path (connect through that Unix socket),
// timeout=, readTimeout= and writeTimeout= (Go durations: the dial
// timeout and the I/O timeouts of each network read and write); other
// parameters are refused.
func ParseURL(raw string) (Source, error) {
	if raw == "" {
		return Source{}, fmt.Errorf("store: empty database url: %w", ErrInvalid)
	}
	if raw == ":memory:" {
		return Source{Engine: "sqlite", Memory: true}, nil
	}
	scheme, rest, hasScheme := strings.Cut(raw, "://")
	if !hasScheme {
		if p, ok := strings.CutPrefix(raw, "sqlite:"); ok {
			return sqliteSource(p)
		}
		if fi, err := os.Stat(raw); err == nil && fi.IsDir() {
			// SER's dbtext took the directory as its db_url.
			return Source{Engine: "dbtext", Path: raw}, nil
		}
		return Source{Engine: "sqlite", Path: raw}, nil
	}
	switch strings.ToLower(scheme) {
	case "sqlite", "sqlite3":
		p, err := url.PathUnescape(rest)
		if err != nil {
			return Source{}, fmt.Errorf("store: database url %q: %v: %w", raw, err, ErrInvalid)
		}
		return sqliteSource(p)
	case "mysql", "sql":
		return mysqlSource(raw)
	case "dbtext":
		p, err := url.PathUnescape(rest)
		if err != nil || p == "" {
			return Source{}, fmt.Errorf("store: dbtext url %q needs a directory: %w", raw, ErrInvalid)
		}
		return Source{Engine: "dbtext", Path: p}, nil
	default:
		return Source{}, fmt.Errorf("store: unsupported database url scheme %q: %w", scheme, ErrInvalid)
	}
}

// sqliteSource makes the Source of an SQLite path.
func sqliteSource(p string) (Source, error) {
	if p == ":memory:" {
		return Source{Engine: "sqlite", Memory: true}, nil
	}
	if p == "" {
		return Source{}, fmt.Errorf("store: sqlite url without a path: %w", ErrInvalid)
	}
	return Source{Engine: "sqlite", Path: p}, nil
}

// mysqlSource parses mysql://user:pass@host[:port]/db.
func mysqlSource(raw string) (Source, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the whole URL, password included: say less.
		return Source{}, fmt.Errorf("store: malformed %s url: %w", strings.SplitN(raw, ":", 2)[0], ErrInvalid)
	}
	src := Source{Engine: "mysql", Host: u.Hostname(), Database: strings.TrimPrefix(u.Path, "/")}
	if u.User != nil {
		src.User = u.User.Username()
		src.Password, _ = u.User.Password()
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return Source{}, fmt.Errorf("store: database url: bad port %q: %w", p, ErrInvalid)
		}
		src.Port = n
	}
	if src.Host == "" || src.Database == "" {
		return Source{}, fmt.Errorf("store: mysql url %q needs a host and a database: %w", u.Redacted(), ErrInvalid)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Source{}, fmt.Errorf("store: mysql url %q: bad parameters: %w", u.Redacted(), ErrInvalid)
	}
	for k, vs := range q {
		v := vs[len(vs)-1]
		var d *time.Duration
		switch k {
		case "socket":
			if !strings.HasPrefix(v, "/") {
				return Source{}, fmt.Errorf("store: mysql url: socket %q is not an absolute path: %w", v, ErrInvalid)
			}
			src.Socket = v
			continue
		case "timeout":
			d = &src.Timeout
		case "readTimeout":
			d = &src.ReadTimeout
		case "writeTimeout":
			d = &src.WriteTimeout
		default:
			return Source{}, fmt.Errorf("store: mysql url: unknown parameter %q: %w", k, ErrInvalid)
		}
		if *d, err = time.ParseDuration(v); err != nil || *d <= 0 {
			return Source{}, fmt.Errorf("store: mysql url: %s=%q is not a positive duration: %w", k, v, ErrInvalid)
		}
	}
	return src, nil
}
