package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		name string
		url  string
		want Source
		err  error
	}{
		{"absolute", "sqlite:///var/lib/ser/ser.db", Source{Engine: "sqlite", Path: "/var/lib/ser/ser.db"}, nil},
		{"relative", "sqlite://ser.db", Source{Engine: "sqlite", Path: "ser.db"}, nil},
		{"relative dir", "sqlite://data/ser.db", Source{Engine: "sqlite", Path: "data/ser.db"}, nil},
		{"escaped", "sqlite:///tmp/a%20b.db", Source{Engine: "sqlite", Path: "/tmp/a b.db"}, nil},
		{"opaque", "sqlite:ser.db", Source{Engine: "sqlite", Path: "ser.db"}, nil},
		{"bare absolute", "/tmp/ser.db", Source{Engine: "sqlite", Path: "/tmp/ser.db"}, nil},
		{"bare relative", "ser.db", Source{Engine: "sqlite", Path: "ser.db"}, nil},
		{"memory", ":memory:", Source{Engine: "sqlite", Memory: true}, nil},
		{"sqlite memory", "sqlite::memory:", Source{Engine: "sqlite", Memory: true}, nil},
		{"sqlite url memory", "sqlite://:memory:", Source{Engine: "sqlite", Memory: true}, nil},
		{"mysql", "mysql://ser:heslo@localhost/ser", Source{Engine: "mysql", User: "ser", Password: "heslo", Host: "localhost", Database: "ser"}, nil},
		{"mysql port", "mysql://ser:heslo@db.example.com:3307/ser", Source{Engine: "mysql", User: "ser", Password: "heslo", Host: "db.example.com", Port: 3307, Database: "ser"}, nil},
		{"ser legacy", "sql://ser:heslo@localhost/ser", Source{Engine: "mysql", User: "ser", Password: "heslo", Host: "localhost", Database: "ser"}, nil},
		{"mysql password escaped", "mysql://ser:p%40ss%2Fw@db/ser", Source{Engine: "mysql", User: "ser", Password: "p@ss/w", Host: "db", Database: "ser"}, nil},
		{"mysql socket", "mysql://ser:heslo@localhost/ser?socket=/run/mysqld/mysqld.sock", Source{Engine: "mysql", User: "ser", Password: "heslo", Host: "localhost", Database: "ser", Socket: "/run/mysqld/mysqld.sock"}, nil},
		{"mysql timeouts", "sql://ser:heslo@db/ser?timeout=2s&readTimeout=500ms&writeTimeout=1m", Source{Engine: "mysql", User: "ser", Password: "heslo", Host: "db", Database: "ser",
			Timeout: 2 * time.Second, ReadTimeout: 500 * time.Millisecond, WriteTimeout: time.Minute}, nil},
		{"mysql unknown parameter", "mysql://ser:heslo@db/ser?parseTime=false", Source{}, ErrInvalid},
		{"mysql bad timeout", "mysql://ser:heslo@db/ser?timeout=soon", Source{}, ErrInvalid},
		{"mysql zero timeout", "mysql://ser:heslo@db/ser?readTimeout=0s", Source{}, ErrInvalid},
		{"mysql relative socket", "mysql://ser:heslo@db/ser?socket=mysqld.sock", Source{}, ErrInvalid},
		{"empty", "", Source{}, ErrInvalid},
		{"sqlite no path", "sqlite://", Source{}, ErrInvalid},
		{"mysql no db", "mysql://ser:heslo@localhost/", Source{}, ErrInvalid},
		{"mysql bad port", "mysql://ser@localhost:99999/ser", Source{}, ErrInvalid},
		{"postgres", "postgres://u@h/db", Source{}, ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseURL(tc.url)
			if !errors.Is(err, tc.err) {
				t.Fatalf("ParseURL(%q) error = %v, want %v", tc.url, err, tc.err)
			}
			if got != tc.want {
				t.Errorf("ParseURL(%q) = %+v, want %+v", tc.url, got, tc.want)
			}
		})
	}
}

func TestOpenMemory(t *testing.T) {
	ctx := context.Background()
	a, err := Open(ctx, ":memory:", WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, "sqlite::memory:", WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := a.AddDomain(ctx, "a.example"); err != nil {
		t.Fatal(err)
	}
	// Written through the write pool, visible on the read pool …
	if ok, err := a.IsLocalDomain(ctx, "a.example"); err != nil || !ok {
		t.Errorf("IsLocalDomain on the same memory store = %v, %v", ok, err)
	}
	// … and not in another in-memory store.
	if ok, err := b.IsLocalDomain(ctx, "a.example"); err != nil || ok {
		t.Errorf("IsLocalDomain on another memory store = %v, %v", ok, err)
	}
}
