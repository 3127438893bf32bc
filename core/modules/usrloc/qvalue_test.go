package usrloc

import "testing"

func TestParseQ(t *testing.T) {
	tests := []struct {
		in   string
		want Q
		ok   bool
	}{
		{"0", 0, true},
		{"1", 1000, true},
		{"1.0", 1000, true},
		{"1.00", 1000, true},
		{"1.000", 1000, true},
		{"0.5", 500, true},
		{".5", 500, true},
		{"0.25", 250, true},
		{"0.125", 125, true},
		{"0.05", 50, true},
		{" 0.7", 700, true},
		{"", 0, false},
		{" ", 0, false},
		{"1.", 0, false},
		{"0.", 0, false},
		{".", 0, false},
		{"1.5", 0, false},
		{"1.0000", 0, false},
		{"0.1234", 0, false},
		{"2", 0, false},
		{"-1", 0, false},
		{"0.5 ", 0, false},
		{"01", 0, false},
		{"abc", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseQ(tt.in)
			if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
				t.Fatalf("ParseQ(%q) = %d, %v; want %d ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestQString(t *testing.T) {
	tests := []struct {
		q    Q
		want string
	}{
		{QUnset, ""},
		{0, "0"},
		{1000, "1"},
		{1200, "1"},
		{500, "0.5"},
		{250, "0.25"},
		{125, "0.125"},
		{50, "0.05"},
		{5, "0.005"},
		{100, "0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.q.String(); got != tt.want {
				t.Fatalf("Q(%d).String() = %q, want %q", tt.q, got, tt.want)
			}
		})
	}
}

func TestQFloat(t *testing.T) {
	tests := []struct {
		name string
		f    float64
		q    Q
	}{
		{"unset", -1, QUnset},
		{"zero", 0, 0},
		{"half", 0.5, 500},
		{"one", 1, 1000},
		{"above one", 1.5, 1000},
		{"rounded", 0.3333, 333},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := QFromFloat(tt.f); got != tt.q {
				t.Fatalf("QFromFloat(%v) = %d, want %d", tt.f, got, tt.q)
			}
		})
	}
	if QUnset.Float() != -1 || Q(250).Float() != 0.25 {
		t.Fatalf("Float: %v %v", QUnset.Float(), Q(250).Float())
	}
}
