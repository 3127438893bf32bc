package main

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"ser/core/store"
)

// Defaults, as SER 0.9's serctl and the Go server use them.
const (
	defaultFIFO        = "/tmp/ser_fifo"
	defaultFIFODir     = "/tmp/"
	defaultDBURL       = "sqlite://ser.db" // the ser daemon's default db_url
	defaultPIDFile     = "/var/run/ser.pid"
	defaultWatchPeriod = 2 * time.Second
	defaultFIFOTimeout = 60 * time.Second
	defaultACLGroups   = "local ld int voicemail free-pstn prepaid"
)

// config is serctl's environment and global flags.
type config struct {
	fifo        string        // SER_FIFO, --fifo
	fifoDir     string        // SER_FIFO_DIR, --fifo-dir: the server's fifo_dir
	fifoTimeout time.Duration // SER_FIFO_TIMEOUT (seconds)
	dbURL       string        // SER_DB_URL, -d, --db; SQL_* for MySQL
	domain      string        // SIP_DOMAIN
	watchPeriod time.Duration // WATCH_PERIOD (seconds)
	pidFile     string        // SER_PID_FILE, --pid-file
	serBin      string        // SER_BIN, --ser-bin ("" = next to serctl, else PATH)
	serCfg      string        // SER_CFG, -f
	ulTable     string        // UL_TABLE
	aliasTable  string        // ALS_TABLE
	aclGroups   []string      // ACL_GROUPS
	verifyACL   bool          // VERIFY_ACL
	plaintext   bool          // STORE_PLAINTEXT_PASSWORDS: keep the password column (SER's old behaviour)
	dbFileMode  os.FileMode   // SER_DB_FILE_MODE: mode of a database file serctl creates (0600)
	help        bool          // -h, --help
}

// parseConfig reads the environment, then the global flags in front of
// the command; it returns the command and its arguments.
func parseConfig(args []string, getenv func(string) string) (config, []string, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	c := config{
		fifo:       env("SER_FIFO", defaultFIFO),
		fifoDir:    env("SER_FIFO_DIR", defaultFIFODir),
		dbURL:      getenv("SER_DB_URL"),
		domain:     getenv("SIP_DOMAIN"),
		pidFile:    env("SER_PID_FILE", defaultPIDFile),
		serBin:     getenv("SER_BIN"),
		serCfg:     getenv("SER_CFG"),
		ulTable:    env("UL_TABLE", "location"),
		aliasTable: env("ALS_TABLE", "aliases"),
		aclGroups:  strings.Fields(env("ACL_GROUPS", defaultACLGroups)),
		verifyACL:  env("VERIFY_ACL", "1") != "0",
		plaintext:  env("STORE_PLAINTEXT_PASSWORDS", "0") != "0",
	}
	var err error
	mode, err := strconv.ParseUint(env("SER_DB_FILE_MODE", "0600"), 8, 32)
	if err == nil {
		err = store.CheckFileMode(os.FileMode(mode))
	}
	if err != nil {
		return c, nil, fmt.Errorf("SER_DB_FILE_MODE %q: an octal mode such as 0600 or 0640 expected (%v)", getenv("SER_DB_FILE_MODE"), err)
	}
	c.dbFileMode = os.FileMode(mode)
	if c.watchPeriod, err = seconds("WATCH_PERIOD", getenv("WATCH_PERIOD"), defaultWatchPeriod); err != nil {
		return c, nil, err
	}
	if c.fifoTimeout, err = seconds("SER_FIFO_TIMEOUT", getenv("SER_FIFO_TIMEOUT"), defaultFIFOTimeout); err != nil {
		return c, nil, err
	}
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		name, val, hasVal := strings.Cut(a, "=")
		var dst *string
		switch name {
		case "-h", "--help":
			c.help = true
			continue
		case "-d", "--db":
			dst = &c.dbURL
		case "--fifo":
			dst = &c.fifo
		case "--fifo-dir":
			dst = &c.fifoDir
		case "--pid-file":
			dst = &c.pidFile
		case "--ser-bin":
			dst = &c.serBin
		case "-f", "--cfg":
			dst = &c.serCfg
		default:
			return c, nil, fmt.Errorf("unknown option %s (try serctl help)", name)
		}
		if !hasVal {
			if i+1 >= len(args) {
				return c, nil, fmt.Errorf("option %s needs a value", name)
			}
			i++
			val = args[i]
		}
		*dst = val
	}
	if c.dbURL == "" {
		c.dbURL = legacyMySQLURL(getenv)
	}
	if c.dbURL == "" {
		c.dbURL = defaultDBURL
	}
	return c, args[i:], nil
}

// seconds parses a duration in (possibly fractional) seconds, as sleep(1)
// takes them.
func seconds(name, v string, def time.Duration) (time.Duration, error) {
	if v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1e6 {
		return 0, fmt.Errorf("%s=%q: want a number of seconds", name, v)
	}
	return time.Duration(f * float64(time.Second)), nil
}

// legacyMySQLURL builds a mysql:// URL from SER's SQL_HOST, SQL_USER, PW
// and SQL_DB when SQL_HOST is set.
func legacyMySQLURL(getenv func(string) string) string {
	host := getenv("SQL_HOST")
	if host == "" {
		return ""
	}
	user := getenv("SQL_USER")
	if user == "" {
		user = "ser"
	}
	db := getenv("SQL_DB")
	if db == "" {
		db = "ser"
	}
	u := url.URL{Scheme: "mysql", Host: host, Path: "/" + db}
	if pw := getenv("PW"); pw != "" {
		u.User = url.UserPassword(user, pw)
	} else {
		u.User = url.User(user)
	}
	return u.String()
}

// redactURL hides the password of a database URL in messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
