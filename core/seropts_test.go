package core

import (
	"strings"
	"testing"

	"ser/core/cfg"
)

// serOptions sets every global option SER 0.9.6's lexer (cfg.lex) knows,
// with each alias, in the value forms its grammar (cfg.y) takes. SER 0.8.14
// knew a subset of them.
const serOptions = `
debug=3
fork=yes
log_stderror=no
log_facility=LOG_LOCAL0
listen=udp:127.0.0.1:5060 tcp:127.0.0.1
alias=foo.bar alias2.foo.bar:5060
dns=off
rev_dns=no
port=5060
statistics="/tmp/ser_stats"
maxbuffer=262144
children=4
check_via=no
syn_branch=1
memlog=2
mem_log=2
sip_warning=no
fifo="/tmp/ser_fifo"
fifo_dir="/tmp/"
fifo_mode=0660
sock_mode=0600
file_mode=0666
fifo_user="ser"
sock_user=ser
fifo_group="ser"
sock_group=ser
fifo_db_url="mysql://ser:heslo@localhost/ser"
unix_sock="/tmp/ser_sock"
unix_sock_children=1
unix_tx_timeout=2000
server_signature=yes
reply_to_via=no
user=ser
uid="ser"
group=ser
gid="ser"
chroot="/"
workdir="/"
wdir=/
mhomed=0
disable_tcp=no
tcp_children=4
tcp_accept_aliases=no
tcp_send_timeout=10
tcp_connect_timeout=10
disable_tls=yes
tlslog=1
tls_log=1
tls_port_no=5061
tls_method=SSLv23
tls_verify=on
tls_require_certificate=off
tls_certificate="/etc/ser/cert.pem"
tls_private_key="/etc/ser/key.pem"
tls_ca_list="/etc/ser/ca.pem"
tls_handshake_timeout=120
tls_send_timeout=120
advertised_address="sip.foo.bar"
advertised_port=5060
disable_core_dump=yes
open_files_limit=2048
mcast_loopback=no
mcast_ttl=1
`

func TestSEROptions(t *testing.T) {
	f, errs := cfg.Parse("ser096.cfg", []byte(serOptions))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	o := DefaultOptions()
	seen := map[string]bool{}
	for _, opt := range f.Options {
		seen[opt.Name] = true
		for _, v := range opt.Values {
			if err := o.Set(opt.Name, optValue(v)); err != nil {
				t.Errorf("%s: %v", opt.Pos, err)
			}
		}
	}
	if len(seen) != 63 {
		t.Errorf("%d option names, want SER 0.9.6's 63", len(seen))
	}
	if o.Debug != 3 || o.LogFacility != "LOG_LOCAL0" || len(o.Listen) != 2 || len(o.Aliases) != 2 ||
		o.FIFOMode != 0o666 || o.FIFOUser != "ser" || o.User != "ser" || o.WorkDir != "/" {
		t.Errorf("values not applied: %+v", o)
	}
	// Options without effect here are listed at start-up with the reason.
	var ignored []string
	for _, ign := range o.Ignored {
		ignored = append(ignored, ign[:strings.Index(ign, ":")])
	}
	for _, name := range []string{"statistics", "disable_tls", "tls_method", "mcast_ttl", "mhomed", "memlog"} {
		found := false
		for _, ig := range ignored {
			found = found || ig == name
		}
		if !found {
			t.Errorf("%s is not listed as without effect (%v)", name, ignored)
		}
	}
}
