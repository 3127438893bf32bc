package cfg

import "testing"

func TestParseHostPort(t *testing.T) {
	tests := []struct {
		in      string
		want    HostPort
		wantErr bool
	}{
		{in: "127.0.0.1", want: HostPort{Host: "127.0.0.1"}},
		{in: "udp:127.0.0.1:5060", want: HostPort{Proto: "udp", Host: "127.0.0.1", Port: 5060}},
		{in: "TCP:10.0.0.1", want: HostPort{Proto: "tcp", Host: "10.0.0.1"}},
		{in: "tcp:[::1]:5062", want: HostPort{Proto: "tcp", Host: "::1", Port: 5062}},
		{in: "[::1]", want: HostPort{Host: "::1"}},
		{in: "::1", want: HostPort{Host: "::1"}},
		{in: "2001:db8::5", want: HostPort{Host: "2001:db8::5"}},
		{in: "foo.bar:5060", want: HostPort{Host: "foo.bar", Port: 5060}},
		{in: "foo.bar", want: HostPort{Host: "foo.bar"}},
		{in: "eth0", want: HostPort{Host: "eth0"}},
		{in: "udp:eth0:*", want: HostPort{Proto: "udp", Host: "eth0"}},
		{in: "foo.bar:99999", wantErr: true},
		{in: "foo.bar:x", wantErr: true},
		{in: "udp:", wantErr: true},
		{in: "[::1", wantErr: true},
		{in: "[zz]:5060", wantErr: true},
		{in: "[::1]x", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseHostPort(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Errorf("ParseHostPort(%q) = %+v, want error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseHostPort(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestHostPortString(t *testing.T) {
	for _, s := range []string{"udp:127.0.0.1:5060", "tcp:[::1]:5062", "foo.bar"} {
		hp, err := ParseHostPort(s)
		if err != nil {
			t.Fatal(err)
		}
		if hp.String() != s {
			t.Errorf("%q → %q", s, hp.String())
		}
	}
}

func TestOptionValues(t *testing.T) {
	src := `debug=3
fork=no
log_stderror=yes
fifo="/tmp/ser_fifo"
listen=127.0.0.1
listen=udp:127.0.0.1:5060
listen=tcp:[::1]:5062 udp:10.0.0.1
listen=eth0
alias="foo.bar"
alias=foo.bar:5060
fifo_mode=0666
mem_log=-1
`
	f, errs := Parse("o.cfg", []byte(src))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	type want struct {
		name  string
		kind  ValueKind
		text  string
		n     int
		extra int
	}
	wants := []want{
		{"debug", NumberValue, "3", 3, 0},
		{"fork", BoolValue, "no", 0, 0},
		{"log_stderror", BoolValue, "yes", 1, 0},
		{"fifo", StringValue, "/tmp/ser_fifo", 0, 0},
		{"listen", WordValue, "127.0.0.1", 0, 0},
		{"listen", WordValue, "udp:127.0.0.1:5060", 0, 0},
		{"listen", WordValue, "tcp:[::1]:5062", 0, 1},
		{"listen", IdentValue, "eth0", 0, 0},
		{"alias", StringValue, "foo.bar", 0, 0},
		{"alias", WordValue, "foo.bar:5060", 0, 0},
		{"fifo_mode", NumberValue, "0666", 0666, 0},
		{"mem_log", NumberValue, "-1", -1, 0},
	}
	if len(f.Options) != len(wants) {
		t.Fatalf("got %d options, want %d", len(f.Options), len(wants))
	}
	for i, w := range wants {
		o := f.Options[i]
		v := o.Value()
		if o.Name != w.name || v.Kind != w.kind || v.Text != w.text || v.N != w.n || len(o.Values) != 1+w.extra {
			t.Errorf("option %d = %s %v %q %d (+%d), want %+v", i, o.Name, v.Kind, v.Text, v.N, len(o.Values)-1, w)
		}
		if o.Pos.Line != i+1 || o.Pos.Col != 1 || v.Pos.Line != i+1 || v.Pos.Col != len(w.name)+2 {
			t.Errorf("option %d at %s value at %s", i, o.Pos, v.Pos)
		}
	}
	hp, err := f.Options[6].Values[1].HostPort()
	if err != nil || hp != (HostPort{Proto: "udp", Host: "10.0.0.1"}) {
		t.Errorf("second listen value: %+v %v", hp, err)
	}
	if _, err := f.Options[0].Value().HostPort(); err == nil {
		t.Error("HostPort of a number should fail")
	}
}
