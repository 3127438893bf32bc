package store

// MySQL/MariaDB connection set-up (github.com/go-sql-driver/mysql).

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/go-sql-driver/mysql"
)

// MySQL connection defaults; the URL's timeout, readTimeout and
// writeTimeout parameters override the first three.
const (
	// mysqlDialTimeout bounds establishing a connection: a server that
	// is down answers at once (connection refused), an unreachable host
	// costs this long.
	mysqlDialTimeout = 5 * time.Second
	// mysqlIOTimeout bounds each network read and write of a
	// connection, so a server that stops answering (host gone, network
	// cut) fails calls after this long instead of after TCP's own
	// timeouts (minutes). No statement of the store runs this long.
	mysqlIOTimeout = 30 * time.Second
	// mysqlMaxLifetime replaces every connection after this long, well
	// below MySQL's wait_timeout (8 h) and the idle timeouts of
	// firewalls and load balancers, and so that a pool follows a
	// fail-over of the name it connects to.
	mysqlMaxLifetime = 5 * time.Minute
	// mysqlMaxIdleTime closes connections unused for this long.
	mysqlMaxIdleTime = 2 * time.Minute
)

// defaultSockets are where MySQL and MariaDB put their Unix socket
// (Debian, Red Hat, the compiled-in default), tried in order for host
// "localhost" without a port.
var defaultSockets = []string{"/run/mysqld/mysqld.sock", "/var/run/mysqld/mysqld.sock",
	"/var/lib/mysql/mysql.sock", "/tmp/mysql.sock"}

// mysqlAddress returns the network and address to connect to for src.
// As with SER's MySQL client library, host "localhost" without a port
// means the local server's Unix socket: $MYSQL_UNIX_PORT when set, else
// the first of defaultSockets that exists; with none of them there, TCP
// to localhost:3306. A socket parameter in the URL always wins.
func mysqlAddress(src Source) (network, addr string) {
	if src.Socket != "" {
		return "unix", src.Socket
	}
	if src.Host == "localhost" && src.Port == 0 {
		if p := os.Getenv("MYSQL_UNIX_PORT"); p != "" {
			return "unix", p
		}
		for _, p := range defaultSockets {
			if fi, err := os.Stat(p); err == nil && fi.Mode()&os.ModeSocket != 0 {
				return "unix", p
			}
		}
	}
	port := src.Port
	if port == 0 {
		port = 3306
	}
	return "tcp", net.JoinHostPort(src.Host, strconv.Itoa(port))
}

// mysqlConfig returns the driver configuration for src: UTC times parsed
// into time.Time, utf8mb4 with the binary collation of the tables, the
// number of matched (not changed) rows from UPDATE (so that an update
// writing the values a row already has is not "not found"), client-side
// parameter interpolation (one round trip per statement instead of
// prepare, execute, close), and the timeouts.
func mysqlConfig(src Source, log *slog.Logger) *mysql.Config {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.DBName = src.User, src.Password, src.Database
	cfg.Net, cfg.Addr = mysqlAddress(src)
	cfg.ParseTime, cfg.Loc = true, time.UTC
	cfg.Collation = "utf8mb4_bin"
	cfg.ClientFoundRows = true
	cfg.InterpolateParams = true
	cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = mysqlDialTimeout, mysqlIOTimeout, mysqlIOTimeout
	if src.Timeout > 0 {
		cfg.Timeout = src.Timeout
	}
	if src.ReadTimeout > 0 {
		cfg.ReadTimeout = src.ReadTimeout
	}
	if src.WriteTimeout > 0 {
		cfg.WriteTimeout = src.WriteTimeout
	}
	// TIMESTAMP columns convert from the session's time zone: the store
	// writes UTC.
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	cfg.Logger = driverLogger{log}
	return cfg
}

// driverLogger sends the driver's own messages (a connection found dead
// and dropped, a packet error) to the store's logger.
type driverLogger struct{ log *slog.Logger }

// Print implements mysql.Logger.
func (l driverLogger) Print(v ...any) {
	l.log.Warn("mysql driver: " + fmt.Sprint(v...))
}

// connector wraps the driver's connector so that a failure to connect
// names the database: "cannot connect to mysql ser@db:3306/ser: dial tcp
// …: connection refused" reaches the module's log line.
type connector struct {
	driver.Connector
	what string
}

// Connect implements driver.Connector.
func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to %s: %w", c.what, err)
	}
	return conn, nil
}

// openMySQL opens the pool of a MySQL/MariaDB database and checks that
// the server answers. One pool serves reads and writes: the server does
// the locking, so writers need no queue in Go.
//
// database/sql replaces broken connections by itself: after a server
// restart the driver notices a dead idle connection before using it
// (CheckConnLiveness) and the pool dials a new one, so the store works
// again as soon as the server does, without a restart of ser. Statements
// that were running when the server went away fail.
func (s *Store) openMySQL(ctx context.Context, conns int) error {
	cfg := mysqlConfig(s.src, s.log)
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return fmt.Errorf("store: open %s: %w", s.describe(), err)
	}
	db := sql.OpenDB(timedConnector{connector{c, s.describe()}, s.stats})
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxLifetime(mysqlMaxLifetime)
	db.SetConnMaxIdleTime(mysqlMaxIdleTime)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return fmt.Errorf("store: open: %w", err)
	}
	s.w, s.r = db, db
	return nil
}
