package store

import (
	"testing"
	"time"
)

func TestTimeScan(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want time.Time
	}{
		{"store layout", "2005-02-10 11:09:21", t0},
		{"bytes", []byte("2005-02-10 11:09:21"), t0},
		{"time", t0.In(time.FixedZone("CET", 3600)), t0},
		{"forever", "9999-12-31 23:59:59", Forever},
		{"fraction", "2005-02-10 11:09:21.5", t0.Add(500 * time.Millisecond)},
		{"rfc3339", "2005-02-10T12:09:21+01:00", t0},
		{"date only", "2005-02-10", time.Date(2005, 2, 10, 0, 0, 0, 0, time.UTC)},
		{"mysql zero date", "0000-00-00 00:00:00", time.Time{}},
		{"garbage", "yesterday", time.Time{}},
		{"null", nil, time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := time.Unix(1, 0)
			if err := (timeScan{&got}).Scan(tc.in); err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tc.want) || got.Location() != time.UTC {
				t.Errorf("Scan(%v) = %v, want %v UTC", tc.in, got, tc.want)
			}
		})
	}
	var x time.Time
	if err := (timeScan{&x}).Scan(42); err == nil {
		t.Error("Scan(42) succeeded")
	}
	if dbTime(t0.In(time.FixedZone("CET", 3600))) != "2005-02-10 11:09:21" {
		t.Errorf("dbTime does not write UTC")
	}
}
