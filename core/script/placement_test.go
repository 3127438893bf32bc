package script

import (
	"strings"
	"testing"

	"ser/core/module"
)

// serPlacement is where SER 0.9 let each module function be called: the
// route flags of its cmd_export_t (tm from SER 0.9.6's tm.c; the other
// modules from the SER tree the 0.9 branch was cut from). R is
// REQUEST_ROUTE, F FAILURE_ROUTE, O ONREPLY_ROUTE.
var serPlacement = map[string]string{
	// tm
	"t_newtran": "R", "t_lookup_request": "R", "t_reply": "RF", "t_retransmit_reply": "R",
	"t_release": "R", "t_relay_to_udp": "RF", "t_relay_to_tcp": "RF", "t_replicate": "R",
	"t_replicate_udp": "R", "t_replicate_tcp": "R", "t_relay": "RF", "t_forward_nonack": "R",
	"t_forward_nonack_uri": "R", "t_forward_nonack_udp": "R", "t_forward_nonack_tcp": "R",
	"t_on_failure": "RFO", "t_on_reply": "RFO", "t_check_status": "RFO",
	"t_write_req": "RF", "t_write_unix": "RF",
	// acc, auth, auth_db, group
	"acc_log_request": "R", "acc_db_request": "R",
	"www_challenge": "R", "proxy_challenge": "R", "consume_credentials": "R",
	"is_rpid_user_e164": "R", "append_rpid_hf": "R",
	"www_authorize": "R", "proxy_authorize": "R",
	"is_user_in": "R",
	// exec, maxfwd
	"exec_dset": "RF", "exec_msg": "RF",
	"mf_process_maxfwd_header": "R",
	// msilo, print
	"m_store": "RF", "m_dump": "R", "print": "R",
	// nathelper
	"fix_nated_contact": "RO", "fix_nated_sdp": "RFO", "unforce_rtp_proxy": "RFO",
	"force_rtp_proxy": "RO", "nat_uac_test": "RFO", "fix_nated_register": "R", "add_rcv_param": "R",
	// registrar, rr, sl
	"save": "R", "save_noreply": "R", "save_memory": "R", "lookup": "RF", "registered": "RF",
	"loose_route": "R", "record_route": "R", "record_route_preset": "R",
	"sl_send_reply": "R", "sl_reply_error": "R",
	// textops
	"search": "RFO", "search_append": "RFO", "replace": "RFO", "replace_all": "RFO",
	"append_to_reply": "R", "append_hf": "RFO", "append_urihf": "RF", "remove_hf": "RFO",
	"is_present_hf": "RFO", "subst": "RFO", "subst_uri": "RFO", "subst_user": "RFO", "append_time": "R",
	// uri, uri_db
	"is_user": "R", "has_totag": "R", "uri_param": "R", "add_uri_param": "R", "tel2sip": "R",
	"check_to": "R", "check_from": "R", "does_uri_exist": "R",
}

// knownWider are functions allowed in more blocks than SER 0.9 allowed,
// with the reason. A config SER accepted is accepted either way.
var knownWider = map[string]string{
	"is_user_in": "failure_route too: SER 0.8's is_user_in had no block restriction",
}

// TestSERPlacement checks every linked module's functions against SER
// 0.9's placement rules.
func TestSERPlacement(t *testing.T) {
	flags := func(s string) module.Route {
		var r module.Route
		for _, c := range s {
			r |= map[rune]module.Route{'R': module.Request, 'F': module.Failure, 'O': module.OnReply}[c]
		}
		return r
	}
	checked := 0
	for _, name := range module.Names() {
		if strings.HasPrefix(name, "bench_") {
			continue // bench_test.go's copies
		}
		n, _ := module.LookupName(name)
		for _, f := range allFuncs(n) {
			want, ok := serPlacement[f.Name]
			if !ok {
				continue
			}
			checked++
			w := flags(want)
			if _, wider := knownWider[f.Name]; wider && f.Routes&w == w {
				continue
			}
			if f.Routes != w {
				t.Errorf("%s.%s allowed in %s, SER 0.9: %s", name, f.Name, f.Routes, w)
			}
		}
	}
	if checked < 40 {
		t.Errorf("only %d functions checked", checked)
	}
}

// allFuncs lists the functions of every SER 0.9 table loaded under a
// name: the fallback tables are SER 0.8's (module.Table.Fallback), which
// had no block restriction.
func allFuncs(n *module.Name) []module.Func {
	var fs []module.Func
	for _, p := range n.Parts {
		if !p.Fallback {
			fs = append(fs, p.Funcs...)
		}
	}
	return fs
}
