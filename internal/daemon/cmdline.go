package daemon

import (
	"fmt"
	"strconv"
	"strings"

	"ser/core"
)

// getoptSpec is SER 0.9's getopt string (letters followed by ':' take an
// argument) plus -H, the HTTP listener of the XML-RPC bridge and the web
// console, which SER did not have.
const getoptSpec = "f:cp:m:b:l:n:rRvdDEVhw:t:u:g:P:i:H:"

// cmdline is the parsed command line.
type cmdline struct {
	cfgFile    string // -f
	check      bool   // -c
	foreground bool   // -D
	stderr     bool   // -E
	debug      int    // -d, repeatable
	version    bool   // -V
	help       bool   // -h
	pidFile    string // -P
	fifo       string // -i
	http       string // -H
	workDir    string // -w
	chroot     string // -t
	user       string // -u
	group      string // -g
	children   int    // -n
	maxBuf     int    // -b
	shmMB      int    // -m (accepted; Go manages memory)
	dns        bool   // -r
	revDNS     bool   // -R
	checkVia   bool   // -v
	port       int    // -p (last one, for the options' default port)
	listen     []core.ListenAddr
	logFormat  string // --log-format
	// set records which options were given, so that only those override
	// the defaults.
	set map[byte]bool
	// extra are non-option arguments (a subcommand and its arguments).
	extra []string
}

// parseArgs parses SER's command line the way getopt(3) does: grouped
// flags (-ddd, -DE), arguments attached (-f/etc/ser.cfg) or separate
// (-f /etc/ser.cfg), "--" ends the options. The GNU-style --version,
// --help and --log-format are accepted beside them.
func parseArgs(args []string) (*cmdline, error) {
	c := &cmdline{set: map[byte]bool{}}
	lastListenNoPort := -1
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if strings.HasPrefix(a, "--") {
			name, val, hasVal := strings.Cut(a[2:], "=")
			switch name {
			case "version":
				c.version = true
			case "help":
				c.help = true
			case "log-format":
				if !hasVal {
					if i+1 >= len(args) {
						return nil, fmt.Errorf("option --log-format requires an argument")
					}
					i++
					val = args[i]
				}
				f, err := core.ParseLogFormat(val)
				if err != nil {
					return nil, fmt.Errorf("option --log-format: %v", err)
				}
				c.logFormat = f
				continue
			default:
				return nil, fmt.Errorf("unknown option --%s (try -h)", name)
			}
			if hasVal {
				return nil, fmt.Errorf("option --%s takes no argument", name)
			}
			continue
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		for j := 1; j < len(a); j++ {
			opt := a[j]
			k := strings.IndexByte(getoptSpec, opt)
			if k < 0 || opt == ':' {
				return nil, fmt.Errorf("unknown option -%c (try -h)", opt)
			}
			var val string
			if k+1 < len(getoptSpec) && getoptSpec[k+1] == ':' {
				if j+1 < len(a) {
					val = a[j+1:]
				} else if i+1 < len(args) {
					i++
					val = args[i]
				} else {
					return nil, fmt.Errorf("option -%c requires an argument", opt)
				}
				j = len(a)
			}
			c.set[opt] = true
			if err := c.apply(opt, val, &lastListenNoPort); err != nil {
				return nil, err
			}
		}
	}
	c.extra = args[i:]
	return c, nil
}

func (c *cmdline) apply(opt byte, val string, lastNoPort *int) error {
	num := func() (int, error) {
		n, err := strconv.Atoi(val)
		if err != nil {
			return 0, fmt.Errorf("option -%c: %q is not a number", opt, val)
		}
		return n, nil
	}
	var err error
	switch opt {
	case 'f':
		c.cfgFile = val
	case 'c':
		c.check = true
	case 'D':
		c.foreground = true
	case 'E':
		c.stderr = true
	case 'd':
		c.debug++
	case 'V':
		c.version = true
	case 'h':
		c.help = true
	case 'P':
		c.pidFile = val
	case 'i':
		c.fifo = val
	case 'H':
		c.http = val
	case 'w':
		c.workDir = val
	case 't':
		c.chroot = val
	case 'u':
		c.user = val
	case 'g':
		c.group = val
	case 'n':
		c.children, err = num()
	case 'b':
		c.maxBuf, err = num()
	case 'm':
		c.shmMB, err = num()
	case 'r':
		c.dns = true
	case 'R':
		c.revDNS = true
	case 'v':
		c.checkVia = true
	case 'l':
		l, perr := core.ParseListen(val)
		if perr != nil {
			return fmt.Errorf("option -l: %v", perr)
		}
		c.listen = append(c.listen, l)
		if !l.PortSet {
			*lastNoPort = len(c.listen) - 1
		} else {
			*lastNoPort = -1
		}
	case 'p':
		var p int
		if p, err = num(); err == nil {
			if p < 0 || p > 65535 {
				return fmt.Errorf("option -p: bad port %d", p)
			}
			// SER: -p applies to the last -l address and to all the
			// following ones without their own port.
			if *lastNoPort >= 0 {
				c.listen[*lastNoPort].Port, c.listen[*lastNoPort].PortSet = p, true
			}
			c.port = p
		}
	}
	return err
}

// options turns the command line into base options; the config file's
// options override them.
func (c *cmdline) options() *core.Options {
	o := core.DefaultOptions()
	if c.set['p'] {
		o.Port = c.port
		for i := range c.listen {
			if !c.listen[i].PortSet {
				c.listen[i].Port, c.listen[i].PortSet = c.port, true
			}
		}
	}
	o.Listen = append(o.Listen, c.listen...)
	if c.set['E'] {
		o.LogStderr = true
	}
	if c.logFormat != "" {
		o.LogFormat = c.logFormat
	}
	if c.set['d'] {
		o.Debug = c.debug
	}
	if c.set['n'] {
		o.Children = c.children
	}
	if c.set['b'] {
		o.MaxBuffer = c.maxBuf
	}
	if c.set['i'] {
		o.FIFO = c.fifo
	}
	if c.set['H'] {
		o.HTTP = c.http
	}
	if c.set['r'] {
		o.DNS = true
	}
	if c.set['R'] {
		o.RevDNS = true
	}
	if c.set['v'] {
		o.CheckVia = true
	}
	if c.set['u'] {
		o.User = c.user
	}
	if c.set['g'] {
		o.Group = c.group
	}
	if c.set['w'] {
		o.WorkDir = c.workDir
	}
	if c.set['t'] {
		o.Chroot = c.chroot
	}
	if c.set['m'] {
		o.SharedMem = c.shmMB
		o.Ignored = append(o.Ignored, "-m: Go's runtime sizes its own heap; there is no shared memory segment to reserve")
	}
	return o
}

// flagOptions names the global option each command-line flag sets, so
// that a flag the config file overrides (SER's rule: the config wins) is
// reported at start-up instead of being lost silently.
var flagOptions = []struct {
	flag   string
	set    func(c *cmdline) bool
	option string
	get    func(o *core.Options) any
}{
	{"-E", isSet('E'), "log_stderror", func(o *core.Options) any { return o.LogStderr }},
	{"-d", isSet('d'), "debug", func(o *core.Options) any { return o.Debug }},
	{"-n", isSet('n'), "children", func(o *core.Options) any { return o.Children }},
	{"-b", isSet('b'), "maxbuffer", func(o *core.Options) any { return o.MaxBuffer }},
	{"-p", isSet('p'), "port", func(o *core.Options) any { return o.Port }},
	{"-i", isSet('i'), "fifo", func(o *core.Options) any { return o.FIFO }},
	{"-H", isSet('H'), "http_listen", func(o *core.Options) any { return o.HTTP }},
	{"-r", isSet('r'), "dns", func(o *core.Options) any { return o.DNS }},
	{"-R", isSet('R'), "rev_dns", func(o *core.Options) any { return o.RevDNS }},
	{"-v", isSet('v'), "check_via", func(o *core.Options) any { return o.CheckVia }},
	{"-u", isSet('u'), "user", func(o *core.Options) any { return o.User }},
	{"-g", isSet('g'), "group", func(o *core.Options) any { return o.Group }},
	{"-w", isSet('w'), "wdir", func(o *core.Options) any { return o.WorkDir }},
	{"-t", isSet('t'), "chroot", func(o *core.Options) any { return o.Chroot }},
	{"--log-format", func(c *cmdline) bool { return c.logFormat != "" }, "log_format", func(o *core.Options) any { return o.LogFormat }},
}

func isSet(flag byte) func(c *cmdline) bool { return func(c *cmdline) bool { return c.set[flag] } }

// override is a command-line setting the config file replaced.
type override struct {
	flag, option string
	cmdline, cfg any
}

// overridden lists the command-line settings that the config file
// changed: final holds the options after the config was applied.
func (c *cmdline) overridden(final *core.Options) []override {
	base := c.options()
	var out []override
	for _, f := range flagOptions {
		if !f.set(c) {
			continue
		}
		if a, b := f.get(base), f.get(final); a != b {
			out = append(out, override{flag: f.flag, option: f.option, cmdline: a, cfg: b})
		}
	}
	return out
}

const usage = `ser %s -- SIP Express Router, rebuilt in Go
Usage: ser -l address [-p port] [-l address [-p port]...] [options]
Options:
    -f file      Configuration file (default ./ser.cfg; the built-in
                 default config when ./ser.cfg does not exist)
    -c           Check configuration file for errors and exit
    -l address   Listen on the specified address/interface (multiple -l
                 mean listening on more addresses). The address format is
                 [proto:]addr[:port], where proto=udp|tcp and
                 addr= host|ip_address|interface_name. Default: all IPv4
                 interfaces, UDP and TCP
    -p port      Listen on the specified port (default: 5060); applies to
                 the last address in -l and to all following that do not
                 have a corresponding -p
    -n processes Number of request workers (goroutines) (default: 8)
    -r           Use dns to check if is necessary to add a "received="
                 field to a via
    -R           Same as -r but use reverse dns
    -v           Turn on "via:" host checking when forwarding replies
    -d           Debugging mode (multiple -d increase the level)
    -D           Do not fork into the background (stay in the foreground)
    -E           Log to stderr
    -V, --version  Version number
    -h, --help   This help message
    -b nr        Maximum receive buffer size which will not be exceeded by
                 the auto-probing procedure even if the OS allows
    -m nr        Size of shared memory allocated in Megabytes (accepted for
                 compatibility: Go sizes its own heap, the value is unused)
    -w dir       Change the working directory to "dir" (default: unchanged)
    -t dir       Chroot to "dir" after reading the config
    -u uid       Change uid (after binding the sockets)
    -g gid       Change gid
    -P file      Create a pid file
    -i fifo_path Create a fifo (useful for monitoring ser)
    -H addr      HTTP listener of the XML-RPC bridge (/xmlrpc) and the web
                 console (/) (default 127.0.0.1:5080; "off" disables it)
    --log-format text|json
                 Log lines as key=value text (default) or JSON objects
                 (log_format)

Options set in the configuration file take precedence over the command
line, as in SER; a command-line setting the file changes is logged.

Subcommands:
    ser xmlrpc [flags]   the XML-RPC bridge alone, in front of a running
                         ser's FIFO or unix socket (ser xmlrpc -h)
    ser web [flags]      the web console alone, in front of a running ser's
                         FIFO and database (ser web -h)
`
