package core

import (
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"ser/core/sipmsg"
	"ser/core/store"
	"ser/internal/pwhash"
)

// ListenAddr is one listen entry: [proto:]host[:port]. Proto 0 means both
// UDP and TCP; Port 0 means "the port option" (default 5060).
type ListenAddr struct {
	Proto sipmsg.Proto
	Host  string
	Port  int
	// PortSet is true when the entry had an explicit port.
	PortSet bool
}

// String formats the entry as written in the config.
func (l ListenAddr) String() string {
	var b strings.Builder
	if l.Proto != sipmsg.ProtoNone {
		b.WriteString(l.Proto.String() + ":")
	}
	if strings.Contains(l.Host, ":") {
		b.WriteString("[" + l.Host + "]")
	} else {
		b.WriteString(l.Host)
	}
	if l.PortSet {
		fmt.Fprintf(&b, ":%d", l.Port)
	}
	return b.String()
}

// ParseListen parses "[proto:]host[:port]" (IPv6 hosts in brackets).
func ParseListen(s string) (ListenAddr, error) {
	var l ListenAddr
	rest := strings.TrimSpace(s)
	if i := strings.Index(rest, ":"); i > 0 {
		if p, ok := sipmsg.ParseProto(rest[:i]); ok {
			l.Proto = p
			rest = rest[i+1:]
		}
	}
	if strings.HasPrefix(rest, "[") {
		end := strings.Index(rest, "]")
		if end < 0 {
			return l, fmt.Errorf("bad address %q: missing ']'", s)
		}
		l.Host = rest[1:end]
		rest = rest[end+1:]
		if rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return l, fmt.Errorf("bad address %q", s)
			}
			rest = rest[1:]
			if err := l.setPort(rest, s); err != nil {
				return l, err
			}
		}
	} else if i := strings.LastIndex(rest, ":"); i >= 0 && strings.Count(rest, ":") == 1 {
		l.Host = rest[:i]
		if err := l.setPort(rest[i+1:], s); err != nil {
			return l, err
		}
	} else {
		l.Host = rest
	}
	if l.Host == "" {
		return l, fmt.Errorf("bad address %q: empty host", s)
	}
	return l, nil
}

func (l *ListenAddr) setPort(p, orig string) error {
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("bad port in %q", orig)
	}
	l.Port, l.PortSet = n, true
	return nil
}

// Options are SER's global ("core") options, set by the config and the
// command line. Defaults are the admin guide's.
type Options struct {
	Debug       int          // debug: log level 0..9 (default 0)
	Fork        bool         // fork: spawn children (yes) or process everything in one worker (no)
	LogStderr   bool         // log_stderror: log to stderr instead of syslog
	LogFacility string       // log_facility: syslog facility (default LOG_DAEMON)
	LogFormat   string       // log_format: text (default) or json
	Listen      []ListenAddr // listen (repeatable); empty = all IPv4 interfaces
	Aliases     []ListenAddr // alias (repeatable)
	Port        int          // port (default 5060)
	Children    int          // children (default 8)
	DNS         bool         // dns: check Via host by DNS before adding received=
	RevDNS      bool         // rev_dns: same with reverse DNS
	CheckVia    bool         // check_via: accepted; replies not for us are always dropped
	SynBranch   bool         // syn_branch (default yes)
	SipWarning  bool         // sip_warning (default yes)
	ServerSig   bool         // server_signature (default yes)
	ReplyToVia  bool         // reply_to_via (default no)
	MaxBuffer   int          // maxbuffer: UDP receive buffer limit (default 256 KiB)
	MemLog      int          // mem_log: accepted, Go has no SER allocator to report on
	FIFO        string       // fifo: path of the FIFO ("" = none)
	FIFOMode    uint32       // fifo_mode / sock_mode / file_mode (default 0660)
	FIFODir     string       // fifo_dir (default "/tmp/")
	FIFOUser    string       // fifo_user / sock_user
	FIFOGroup   string       // fifo_group / sock_group
	FIFODBURL   string       // fifo_db_url (the DB FIFO command)
	UnixSock    string       // unix_sock: path of the unix socket ("" = none)
	UnixSockCh  int          // unix_sock_children (default 1)
	UnixTxTO    int          // unix_tx_timeout in ms (default 2000)
	User        string       // user / uid
	Group       string       // group / gid
	WorkDir     string       // wdir / workdir (-w)
	Chroot      string       // chroot (-t)
	TCPChildren int          // tcp_children (accepted; TCP readers are goroutines)
	DisableTCP  bool         // disable_tcp
	// TCPAcceptAliases is tcp_accept_aliases: a ";alias" in the top Via of
	// a request received over TCP makes the connection also stand for the
	// Via's port on the peer's address.
	TCPAcceptAliases bool
	TCPConnLife      int    // tcp_connection_lifetime, seconds (idle close)
	TCPMaxConns      int    // tcp_max_connections (accepted and dialled)
	TCPPerIP         int    // tcp_accept_iplimit (accepted from one address; -1 none)
	TCPDataTO        int    // tcp_msg_data_timeout, seconds (first data of an accepted connection)
	TCPReadTO        int    // tcp_msg_read_timeout, seconds (a begun message must be complete)
	TCPWQMax         int    // tcp_wq_max, bytes queued for TCP writes in all
	TCPSendTO        int    // tcp_send_timeout, seconds
	TCPConnTO        int    // tcp_connect_timeout, seconds
	Advertised       string // advertised_address
	AdvPort          int    // advertised_port
	SharedMem        int    // -m shared memory size in MB (accepted, unused)

	// DBURL is the default database of every module that takes a db_url
	// (db_url option; DefaultDBURL when empty).
	DBURL string

	// HTTP is the listener of the XML-RPC bridge and the web console
	// (http_listen / xmlrpc_listen, -H; "" or "off" disables it).
	HTTP string
	// HTTPUser and HTTPPassword enable HTTP basic authentication on the
	// XML-RPC bridge (xmlrpc_user, xmlrpc_password: plain, or "{SHA256}"
	// and the password's SHA-256 digest in hex or base64).
	HTTPUser, HTTPPassword string
	// HTTPAllow lists the client networks the bridge admits (xmlrpc_allow,
	// repeatable; default loopback only).
	HTTPAllow []string
	// HTTPHosts are more names the bridge's Host header check accepts
	// (xmlrpc_host, repeatable: "name" or "name:port"; "*" turns the check
	// off).
	HTTPHosts []string
	// MetricsAllow lists networks that may read /metrics without the
	// XML-RPC credentials, and /health and /ready (metrics_allow,
	// repeatable; default none beyond xmlrpc_allow).
	MetricsAllow []string
	// HTTPCert and HTTPKey turn the listener into HTTPS (http_cert,
	// http_key).
	HTTPCert, HTTPKey string
	// Web turns the web console on the HTTP listener on or off (web,
	// default on).
	Web bool
	// SIPDomain is the SIP domain of the web console's users (sip_domain;
	// default: the first alias, else the host name).
	SIPDomain string
	// StorePlaintextPasswords keeps subscribers' plain-text passwords in
	// the password column when the console adds users or changes
	// passwords (store_plaintext_passwords, default off: ha1/ha1b only).
	StorePlaintextPasswords bool
	// DBFileMode is the mode new SQLite database files are created with
	// (db_file_mode, default 0600; e.g. 0640 for a group).
	DBFileMode uint32

	// Ignored lists options that were accepted but have no effect in this
	// implementation, with the reason, so start-up can say so.
	Ignored []string
}

// DefaultOptions returns the documented defaults.
func DefaultOptions() *Options {
	return &Options{
		Fork: true, Port: 5060, Children: 8, SynBranch: true, SipWarning: true,
		ServerSig: true, MaxBuffer: 256 * 1024, FIFOMode: 0o660, FIFODir: "/tmp/",
		UnixSockCh: 1, UnixTxTO: 2000, TCPConnLife: 120, TCPSendTO: 3, TCPConnTO: 3,
		TCPMaxConns: 2048, TCPPerIP: 1024, TCPDataTO: 20, TCPReadTO: 20, TCPWQMax: 32 << 20,
		HTTP: "127.0.0.1:5080", Web: true, DBFileMode: 0o600,
	}
}

// OptValue is an option's value as written in the config.
type OptValue struct {
	Text   string // the value's text (string contents when quoted)
	N      int    // numeric value when IsNum
	IsNum  bool   // a number, or yes/no/on/off/true/false
	Quoted bool
}

type optKind uint8

const (
	optBool optKind = iota
	optInt
	optStr
	optAddr
)

type optDef struct {
	kind optKind
	set  func(o *Options, v OptValue) error
	// ignored, when set, is why the option has no effect here.
	ignored string
}

func boolOpt(f func(o *Options) *bool) optDef {
	return optDef{kind: optBool, set: func(o *Options, v OptValue) error {
		b, err := v.bool()
		*f(o) = b
		return err
	}}
}

func intOpt(f func(o *Options) *int) optDef {
	return optDef{kind: optInt, set: func(o *Options, v OptValue) error {
		n, err := v.int()
		*f(o) = n
		return err
	}}
}

// posIntOpt is intOpt for limits, which must be positive.
func posIntOpt(f func(o *Options) *int) optDef {
	return optDef{kind: optInt, set: func(o *Options, v OptValue) error {
		n, err := v.int()
		if err == nil && n <= 0 {
			err = fmt.Errorf("must be positive, not %d", n)
		}
		*f(o) = n
		return err
	}}
}

func strOpt(f func(o *Options) *string) optDef {
	return optDef{kind: optStr, set: func(o *Options, v OptValue) error {
		*f(o) = v.Text
		return nil
	}}
}

func modeOpt() optDef { return fileModeOpt(func(o *Options) *uint32 { return &o.FIFOMode }) }

// fileModeOpt is an octal file mode option (SER accepts 0660-style octal
// numbers).
func fileModeOpt(f func(o *Options) *uint32) optDef {
	return optDef{kind: optInt, set: func(o *Options, v OptValue) error {
		n, err := strconv.ParseUint(v.Text, 8, 32)
		if err != nil || n > 0o777 {
			return fmt.Errorf("bad file mode %q", v.Text)
		}
		*f(o) = uint32(n)
		return nil
	}}
}

func ignoredInt(reason string) optDef {
	return optDef{kind: optInt, ignored: reason, set: func(o *Options, v OptValue) error {
		_, err := v.int()
		return err
	}}
}

var optDefs = map[string]optDef{
	"debug":        intOpt(func(o *Options) *int { return &o.Debug }),
	"fork":         boolOpt(func(o *Options) *bool { return &o.Fork }),
	"log_stderror": boolOpt(func(o *Options) *bool { return &o.LogStderr }),
	"log_facility": {kind: optStr, set: func(o *Options, v OptValue) error {
		if _, err := ParseFacility(v.Text); err != nil {
			return err
		}
		o.LogFacility = v.Text
		return nil
	}},
	"log_format": {kind: optStr, set: func(o *Options, v OptValue) error {
		f, err := ParseLogFormat(v.Text)
		if err != nil {
			return err
		}
		o.LogFormat = f
		return nil
	}},
	"port":     intOpt(func(o *Options) *int { return &o.Port }),
	"children": intOpt(func(o *Options) *int { return &o.Children }),
	"dns":      boolOpt(func(o *Options) *bool { return &o.DNS }),
	"rev_dns":  boolOpt(func(o *Options) *bool { return &o.RevDNS }),
	"check_via": {kind: optBool, ignored: "a reply whose top Via is not ours is always dropped (RFC 3261 §18.1.2), as check_via=yes does",
		set: func(o *Options, v OptValue) error { b, err := v.bool(); o.CheckVia = b; return err }},
	"syn_branch": {kind: optBool, ignored: "branches are always derived from the transaction's identity (RFC 3261 §16.11), as syn_branch=no does",
		set: func(o *Options, v OptValue) error { b, err := v.bool(); o.SynBranch = b; return err }},
	"sip_warning": boolOpt(func(o *Options) *bool { return &o.SipWarning }),
	"server_signature": boolOpt(func(o *Options) *bool {
		return &o.ServerSig
	}),
	"reply_to_via": boolOpt(func(o *Options) *bool { return &o.ReplyToVia }),
	"maxbuffer":    intOpt(func(o *Options) *int { return &o.MaxBuffer }),
	"mem_log":      ignoredInt("Go's runtime manages memory; there is no SER allocator to report on"),
	"memlog":       ignoredInt("Go's runtime manages memory; there is no SER allocator to report on"),
	"fifo":         strOpt(func(o *Options) *string { return &o.FIFO }),
	"fifo_mode":    modeOpt(),
	"sock_mode":    modeOpt(),
	"file_mode":    modeOpt(),
	"fifo_dir":     strOpt(func(o *Options) *string { return &o.FIFODir }),
	"fifo_user":    strOpt(func(o *Options) *string { return &o.FIFOUser }),
	"sock_user":    strOpt(func(o *Options) *string { return &o.FIFOUser }),
	"fifo_group":   strOpt(func(o *Options) *string { return &o.FIFOGroup }),
	"sock_group":   strOpt(func(o *Options) *string { return &o.FIFOGroup }),
	"fifo_db_url":  strOpt(func(o *Options) *string { return &o.FIFODBURL }),
	"unix_sock":    strOpt(func(o *Options) *string { return &o.UnixSock }),
	"unix_sock_children": intOpt(func(o *Options) *int {
		return &o.UnixSockCh
	}),
	"unix_tx_timeout": intOpt(func(o *Options) *int { return &o.UnixTxTO }),
	"user":            strOpt(func(o *Options) *string { return &o.User }),
	"uid":             strOpt(func(o *Options) *string { return &o.User }),
	"group":           strOpt(func(o *Options) *string { return &o.Group }),
	"gid":             strOpt(func(o *Options) *string { return &o.Group }),
	"wdir":            strOpt(func(o *Options) *string { return &o.WorkDir }),
	"workdir":         strOpt(func(o *Options) *string { return &o.WorkDir }),
	"chroot":          strOpt(func(o *Options) *string { return &o.Chroot }),
	"tcp_children": {kind: optInt, ignored: "TCP connections are read by goroutines, not a fixed process pool",
		set: func(o *Options, v OptValue) error {
			n, err := v.int()
			o.TCPChildren = n
			return err
		}},
	"disable_tcp": boolOpt(func(o *Options) *bool { return &o.DisableTCP }),
	"tcp_connection_lifetime": intOpt(func(o *Options) *int {
		return &o.TCPConnLife
	}),
	"tcp_max_connections": posIntOpt(func(o *Options) *int { return &o.TCPMaxConns }),
	"tcp_accept_iplimit": {kind: optInt, set: func(o *Options, v OptValue) error {
		n, err := v.int()
		if err == nil && (n == 0 || n < -1) {
			err = fmt.Errorf("must be positive, or -1 for no limit, not %d", n)
		}
		o.TCPPerIP = n
		return err
	}},
	"tcp_msg_data_timeout": posIntOpt(func(o *Options) *int { return &o.TCPDataTO }),
	"tcp_msg_read_timeout": posIntOpt(func(o *Options) *int { return &o.TCPReadTO }),
	"tcp_wq_max":           posIntOpt(func(o *Options) *int { return &o.TCPWQMax }),
	"tcp_send_timeout":     intOpt(func(o *Options) *int { return &o.TCPSendTO }),
	"tcp_connect_timeout":  intOpt(func(o *Options) *int { return &o.TCPConnTO }),
	"advertised_address":   strOpt(func(o *Options) *string { return &o.Advertised }),
	"advertised_port":      intOpt(func(o *Options) *int { return &o.AdvPort }),
	"xmlrpc_listen":        strOpt(func(o *Options) *string { return &o.HTTP }),
	"db_url":               strOpt(func(o *Options) *string { return &o.DBURL }),
	"xmlrpc_user":          strOpt(func(o *Options) *string { return &o.HTTPUser }),
	"http_cert":            strOpt(func(o *Options) *string { return &o.HTTPCert }),
	"http_key":             strOpt(func(o *Options) *string { return &o.HTTPKey }),
	"web":                  boolOpt(func(o *Options) *bool { return &o.Web }),
	"sip_domain":           strOpt(func(o *Options) *string { return &o.SIPDomain }),
	"store_plaintext_passwords": boolOpt(func(o *Options) *bool {
		return &o.StorePlaintextPasswords
	}),
	"db_file_mode": {kind: optInt, set: func(o *Options, v OptValue) error {
		if err := fileModeOpt(func(o *Options) *uint32 { return &o.DBFileMode }).set(o, v); err != nil {
			return err
		}
		return store.CheckFileMode(os.FileMode(o.DBFileMode))
	}},
	"xmlrpc_password": {kind: optStr, set: func(o *Options, v OptValue) error {
		// Plain, or "{SHA256}" and the password's digest.
		if _, err := pwhash.Parse(v.Text); err != nil {
			return err
		}
		o.HTTPPassword = v.Text
		return nil
	}},
	"xmlrpc_allow": {kind: optAddr, set: func(o *Options, v OptValue) error {
		o.HTTPAllow = append(o.HTTPAllow, v.Text)
		return nil
	}},
	"metrics_allow": {kind: optAddr, set: func(o *Options, v OptValue) error {
		if _, err := netip.ParsePrefix(v.Text); err != nil {
			if _, err2 := netip.ParseAddr(v.Text); err2 != nil {
				return fmt.Errorf("metrics_allow: %q is not an address or CIDR network", v.Text)
			}
		}
		o.MetricsAllow = append(o.MetricsAllow, v.Text)
		return nil
	}},
	"xmlrpc_host": {kind: optAddr, set: func(o *Options, v OptValue) error {
		o.HTTPHosts = append(o.HTTPHosts, v.Text)
		return nil
	}},
	"http_listen": strOpt(func(o *Options) *string { return &o.HTTP }),
	"listen": {kind: optAddr, set: func(o *Options, v OptValue) error {
		l, err := ParseListen(v.Text)
		if err == nil {
			o.Listen = append(o.Listen, l)
		}
		return err
	}},
	"alias": {kind: optAddr, set: func(o *Options, v OptValue) error {
		l, err := ParseListen(v.Text)
		if err == nil {
			o.Aliases = append(o.Aliases, l)
		}
		return err
	}},
	"loop_checks":             ignoredBool("SER 0.8's loop_checks was never implemented"),
	"mhomed":                  ignoredBool("the sending socket is chosen by protocol and address family"),
	"dns_try_ipv6":            ignoredBool("name resolution uses the system resolver for both families"),
	"disable_core_dump":       ignoredBool("a Go program writes no core dump unless GOTRACEBACK=crash"),
	"open_files_limit":        ignoredInt("the Go runtime raises the open files limit itself"),
	"statistics":              ignoredStr("SER wrote it only when built with STATS; the counters are read with the FIFO/unix socket/XML-RPC statistics commands"),
	"tcp_accept_aliases":      boolOpt(func(o *Options) *bool { return &o.TCPAcceptAliases }),
	"mcast_loopback":          ignoredBool(noMcast),
	"mcast_ttl":               ignoredInt(noMcast),
	"disable_tls":             ignoredBool(noTLS),
	"tls_log":                 ignoredInt(noTLS),
	"tlslog":                  ignoredInt(noTLS),
	"tls_port_no":             ignoredInt(noTLS),
	"tls_method":              ignoredStr(noTLS),
	"tls_verify":              ignoredBool(noTLS),
	"tls_require_certificate": ignoredBool(noTLS),
	"tls_certificate":         ignoredStr(noTLS),
	"tls_private_key":         ignoredStr(noTLS),
	"tls_ca_list":             ignoredStr(noTLS),
	"tls_handshake_timeout":   ignoredInt(noTLS),
	"tls_send_timeout":        ignoredInt(noTLS),
}

// Why SER's TLS and multicast options change nothing here (SER built
// without USE_TLS / USE_MCAST warned the same way).
const (
	noTLS   = "SIP over TLS is not implemented (SER 0.9 shipped it as a separate patch): no tls listener is opened"
	noMcast = "multicast listen addresses are not supported"
)

func ignoredBool(reason string) optDef {
	return optDef{kind: optBool, ignored: reason, set: func(o *Options, v OptValue) error {
		_, err := v.bool()
		return err
	}}
}

func ignoredStr(reason string) optDef {
	return optDef{kind: optStr, ignored: reason, set: func(o *Options, v OptValue) error { return nil }}
}

// Set applies one option. It returns an error for an unknown name or a
// value of the wrong type.
func (o *Options) Set(name string, v OptValue) error {
	d, ok := optDefs[name]
	if !ok {
		return fmt.Errorf("unknown option '%s'", name)
	}
	if err := d.set(o, v); err != nil {
		return fmt.Errorf("option '%s': %w", name, err)
	}
	if d.ignored != "" {
		o.Ignored = append(o.Ignored, name+": "+d.ignored)
	}
	return nil
}

// KnownOption reports whether name is a global option.
func KnownOption(name string) bool { _, ok := optDefs[name]; return ok }

func (v OptValue) bool() (bool, error) {
	if v.IsNum {
		return v.N != 0, nil
	}
	switch strings.ToLower(v.Text) {
	case "yes", "on", "true", "1":
		return true, nil
	case "no", "off", "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("expected yes or no, got %q", v.Text)
}

func (v OptValue) int() (int, error) {
	if v.IsNum {
		return v.N, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v.Text))
	if err != nil {
		return 0, fmt.Errorf("expected a number, got %q", v.Text)
	}
	return n, nil
}

// listenSockets expands the listen entries into sockets. hostIPs resolves
// a listen host (name or interface) into addresses.
func (o *Options) listenSockets(hostIPs func(string) ([]netip.Addr, error)) ([]*sipmsg.Socket, error) {
	entries := o.Listen
	if len(entries) == 0 {
		// SER listens on all IPv4 interfaces by default.
		entries = []ListenAddr{{Host: "*"}}
	}
	var socks []*sipmsg.Socket
	seen := map[string]bool{}
	for _, e := range entries {
		ips, err := hostIPs(e.Host)
		if err != nil {
			return nil, fmt.Errorf("listen %s: %w", e, err)
		}
		port := o.Port
		if e.PortSet {
			port = e.Port
		}
		protos := []sipmsg.Proto{e.Proto}
		if e.Proto == sipmsg.ProtoNone {
			protos = []sipmsg.Proto{sipmsg.ProtoUDP, sipmsg.ProtoTCP}
		}
		for _, ip := range ips {
			for _, p := range protos {
				if p == sipmsg.ProtoTCP && o.DisableTCP {
					continue
				}
				if p == sipmsg.ProtoTLS {
					return nil, fmt.Errorf("listen %s: tls is not supported", e)
				}
				key := fmt.Sprintf("%s:%s:%d", p, ip, port)
				if seen[key] {
					continue
				}
				seen[key] = true
				name := ip.String()
				if o.Advertised != "" {
					name = o.Advertised
				}
				socks = append(socks, &sipmsg.Socket{Proto: p, IP: ip, Port: port, Name: name, AdvPort: o.AdvPort, Index: len(socks)})
			}
		}
	}
	return socks, nil
}
