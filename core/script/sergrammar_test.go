package script

import (
	"net/netip"
	"testing"

	"ser/core/sipmsg"
)

// serGrammar uses every action and condition keyword of SER 0.9.6's
// cfg.lex/cfg.y in the forms its grammar takes (strings spanning lines,
// escapes, hex numbers, bare IPv6 addresses and networks included).
const serGrammar = `
route {
	forward(10.0.0.1); forward(gw.foo.bar, 5060); forward("10.0.0.1", 0x13c4);
	forward(uri:host, uri:port); forward(uri:host, 5060); forward(uri:host);
	forward_udp(10.0.0.1, 5060); forward_tcp(uri:host, uri:port); forward_tls(gw.foo.bar);
	send(10.0.0.1); send(10.0.0.1, 5060); send_tcp("10.0.0.1", 5060);
	log("one"); log(1, "two
	lines\x21 \101\n"); error("a", "b"); exec("true");
	setflag(1); resetflag(1); if (isflagset(1)) drop;
	rewritehost("h"); sethost("h"); seth("h");
	rewritehostport("h:1"); sethostport("h:1"); sethp("h:1");
	rewriteuser("u"); setuser("u"); setu("u");
	rewriteuserpass("u:p"); setuserpass("u:p"); setup("u:p");
	rewriteport("5"); setport("5"); setp("5");
	rewriteuri("sip:a@b"); seturi("sip:a@b"); revert_uri(); revert_uri;
	prefix("0"); strip(1); strip_tail(1);
	append_branch("sip:c@d", "0.5"); append_branch("sip:c@d"); append_branch(); append_branch;
	force_rport(); force_rport; add_rport;
	force_send_socket(udp:127.0.0.1:5060); force_send_socket(127.0.0.1);
	set_advertised_address(sip.foo.bar); set_advertised_address("10.0.0.1"); set_advertised_port(5080);
	force_tcp_alias(); force_tcp_alias(5060); force_tcp_alias; add_tcp_alias(); add_tcp_alias;
	route(1);
	if (method=="INVITE" && method==INVITE || method=~"^(REGISTER|BYE)$" && !(method!="ACK")) break;
	if (uri==myself || uri=="sip:a@b" || uri=~'^sip:[0-9]+@' || uri!=gw.foo.bar || status=~"18[0-9]") break;
	if (from_uri==myself || to_uri=~"@foo" || myself==uri || myself!=src_ip || myself==dst_ip) break;
	if (src_ip==10.0.0.0/8 || src_ip==10.0.0.0/255.0.0.0 || src_ip==::1 || src_ip==fe80::/10 ||
	    src_ip==[::1] || src_ip=="10.1.2.3" || src_ip==myself || dst_ip!=127.0.0.1 || src_ip=~"^10\.") break;
	if (src_port==5060 || src_port>1024 || dst_port<=5061 || dst_port>=5060 || dst_port!=0 || src_port<0x10000) break;
	if (proto==udp || proto!=TCP || proto==tls || af==inet || af!=INET6 || af==2) break;
	if (msg:len>max_len || msg:len<=4096 || 1 || not 0 and 1 or 0 & 1 | 0) break;
	if ({ log("block"); }) break;
	if (if (uri==myself) log("x"); else log("y");) break;
}
route[1] { break; }
failure_route[1] { append_branch("sip:e@f"); forward(uri:host, uri:port); }
onreply_route[1] { if (status=~"^2") { log(1, "ok"); drop; } }
`

// TestSER096Grammar compiles a script using all of SER 0.9.6's core
// language.
func TestSER096Grammar(t *testing.T) {
	core := newFakeCore()
	core.socks = []*sipmsg.Socket{{Proto: sipmsg.ProtoUDP, IP: netip.MustParseAddr("127.0.0.1"), Port: 5060}}
	build(t, testHead+serGrammar, core)
}
