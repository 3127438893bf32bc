package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestFileModes: a new database, its -wal and its -shm are created 0600
// (0640 with WithFileMode), whatever the umask lets through; an existing
// file keeps its mode; modes open to other users are refused.
func TestFileModes(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []Option
		want os.FileMode
	}{
		{"default", nil, 0o600},
		{"group readable", []Option{WithFileMode(0o640)}, 0o640},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sub", "ser.db")
			s, err := Open(context.Background(), path, append([]Option{WithLogger(quiet)}, tc.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			// A write makes sure the WAL and the shared memory exist.
			if err := s.AddSubscriber(context.Background(), Subscriber{Username: "alice", Domain: "example.com", Password: "x"}); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{path, path + "-wal", path + "-shm"} {
				fi, err := os.Stat(f)
				if err != nil {
					t.Fatal(err)
				}
				if got := fi.Mode().Perm(); got != tc.want {
					t.Errorf("%s: mode %#o, want %#o", filepath.Base(f), got, tc.want)
				}
			}
		})
	}
	t.Run("existing file keeps its mode", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ser.db")
		if err := os.WriteFile(path, nil, 0o640); err != nil {
			t.Fatal(err)
		}
		os.Chmod(path, 0o640)
		s, err := Open(context.Background(), path, WithLogger(quiet))
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
			t.Errorf("mode %#o, want 0640 kept", fi.Mode().Perm())
		}
	})
	for _, bad := range []os.FileMode{0o644, 0o400, 0o606, 0o1600} {
		if _, err := Open(context.Background(), filepath.Join(t.TempDir(), "x.db"), WithLogger(quiet), WithFileMode(bad)); !errors.Is(err, ErrInvalid) {
			t.Errorf("WithFileMode(%#o): %v, want ErrInvalid", bad, err)
		}
	}
}
