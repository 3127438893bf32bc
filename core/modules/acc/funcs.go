package acc

import (
	"fmt"

	"ser/core/module"
	"ser/core/sipmsg"
	"ser/core/store"
)

// fixupLogRequest binds acc_log_request(comment): report the current
// request to the log as "ACC: request accounted: …" with the comment as
// status (e.g. "404 Not Found" for a request replied statelessly).
func fixupLogRequest(a *Acc, env *module.Env, args []module.Value) (module.Handler, error) {
	comment := args[0].String()
	return func(m *sipmsg.Msg) (int, error) {
		if m.Req == nil || a.skipCancel(m) {
			return 1, nil
		}
		a.logLine(leadRequest, &event{req: m, to: m.HeaderBody("To"), phrase: comment})
		return 1, nil
	}, nil
}

// fixupDBRequest binds acc_db_request(comment, table): write the current
// request as a row of table (acc layout) with the comment as sip_status.
// The database (db_url) is opened when the script is loaded.
func fixupDBRequest(a *Acc, env *module.Env, args []module.Value) (module.Handler, error) {
	comment, table := args[0].String(), args[1].String()
	if !store.ValidIdent(table) {
		return nil, fmt.Errorf("acc_db_request: invalid table name %q", table)
	}
	if a.env == nil {
		a.env = env
	}
	if err := a.openDB(); err != nil {
		return nil, fmt.Errorf("acc_db_request: %w", err)
	}
	return func(m *sipmsg.Msg) (int, error) {
		if m.Req == nil || a.skipCancel(m) {
			return 1, nil
		}
		if !a.insert(table, sqlAccFmt, &event{req: m, to: m.HeaderBody("To"), phrase: comment}) {
			return -1, nil
		}
		return 1, nil
	}, nil
}
