package store

import "testing"

// The benchmarks of bench_test.go on MariaDB over TCP on 127.0.0.1 (a
// server of internal/testing/mariadb: no fsync, so these measure the store, the
// driver and the protocol, not a disk).

func BenchmarkMariaDBLoadContacts100k(b *testing.B) {
	s, _ := mariadbEngine.open(b)
	if err := fillLocation(s); err != nil {
		b.Fatal(err)
	}
	benchLoad(b, s)
}

func BenchmarkMariaDBFlushContacts(b *testing.B) {
	s, _ := mariadbEngine.open(b)
	benchFlush(b, s)
}

func BenchmarkMariaDBUpsertContact(b *testing.B) {
	s, _ := mariadbEngine.open(b)
	benchUpsert(b, s)
}

func BenchmarkMariaDBCredentials(b *testing.B) {
	s, _ := mariadbEngine.open(b)
	benchCredentials(b, s)
}
