package daemon

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"ser/core"
)

func TestLongOptions(t *testing.T) {
	for _, tc := range []struct {
		args []string
		ok   func(c *cmdline) bool
	}{
		{[]string{"--version"}, func(c *cmdline) bool { return c.version }},
		{[]string{"-V"}, func(c *cmdline) bool { return c.version }},
		{[]string{"--help"}, func(c *cmdline) bool { return c.help }},
		{[]string{"-h"}, func(c *cmdline) bool { return c.help }},
		{[]string{"-E", "--log-format=json", "-dd"}, func(c *cmdline) bool {
			return c.logFormat == core.LogJSON && c.stderr && c.debug == 2
		}},
		{[]string{"--log-format", "TEXT", "-f", "x.cfg"}, func(c *cmdline) bool {
			return c.logFormat == core.LogText && c.cfgFile == "x.cfg"
		}},
		{[]string{"--", "--version"}, func(c *cmdline) bool { return !c.version && c.extra[0] == "--version" }},
	} {
		c, err := parseArgs(tc.args)
		if err != nil || !tc.ok(c) {
			t.Errorf("%q: %+v, %v", tc.args, c, err)
		}
	}
	for _, bad := range [][]string{{"--versions"}, {"--help=yes"}, {"--log-format"}, {"--log-format=xml"}} {
		if _, err := parseArgs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if o := mustParse(t, "--log-format=json").options(); o.LogFormat != core.LogJSON {
		t.Errorf("--log-format=json: log_format %q", o.LogFormat)
	}
}

func mustParse(t *testing.T, args ...string) *cmdline {
	t.Helper()
	c, err := parseArgs(args)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestOverridden: the config file wins over the command line (SER's
// rule), and every flag it overrides is reported with both values; flags
// the config agrees with or does not set are not.
func TestOverridden(t *testing.T) {
	c := mustParse(t, "-i", "/run/ser/fifo", "-n", "2", "-dd", "-H", "off", "--log-format", "json")
	cfg := `fifo="/tmp/ser_fifo"
children=4
debug=2
log_format=text
`
	in, err := core.Load("o.cfg", []byte(cfg), core.LoadOptions{Base: c.options(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	final := in.Server.Options()
	if final.FIFO != "/tmp/ser_fifo" || final.Children != 4 || final.HTTP != "off" {
		t.Fatalf("precedence: fifo %q children %d http %q", final.FIFO, final.Children, final.HTTP)
	}
	var got []string
	for _, o := range c.overridden(final) {
		got = append(got, fmt.Sprintf("%s %v -> %s %v", o.flag, o.cmdline, o.option, o.cfg))
	}
	want := "-n 2 -> children 4; -i /run/ser/fifo -> fifo /tmp/ser_fifo; --log-format json -> log_format text"
	if strings.Join(got, "; ") != want {
		t.Errorf("overridden:\n got %s\nwant %s", strings.Join(got, "; "), want)
	}
}
