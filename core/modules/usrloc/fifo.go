package usrloc

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"ser/core/rpc"
	"ser/core/rpc/sercmd"
)

// FIFO line limits of SER 0.9 (MAX_TABLE, MAX_USER, MAX_CONTACT, …): its
// read_line fails on a line that does not fit the buffer with its newline,
// and the command then answers "… expected".
const (
	maxTable     = 128
	maxUser      = 256
	maxContact   = 128
	maxExpires   = 20
	maxQ         = 20
	maxReplicate = 12
	maxFlags     = 12
)

// FIFO constants of ul_add (SER's ul_fifo.c).
const (
	// fifoCallID is dedicated to Douglas Adams, don't panic.
	fifoCallID    = "The-Answer-To-The-Ultimate-Question-Of-Life-Universe-And-Everything"
	fifoCSeq      = 42
	fifoUserAgent = "SIP Express Router FIFO"
)

// commands are the ul_* commands (Exports.Commands), in SER's order.
func (m *Module) commands() []rpc.Command {
	return []rpc.Command{
		{Name: "ul_stats", Help: "print the number of records and expired contacts per table", Handler: m.cmdStats},
		{Name: "ul_rm", Params: []string{"table", "aor"}, Help: "delete an address-of-record and its contacts", Handler: m.cmdRm},
		{Name: "ul_rm_contact", Params: []string{"table", "aor", "contact"}, Help: "delete one contact", Handler: m.cmdRmContact},
		{Name: "ul_dump", Help: "dump all tables", Handler: m.cmdDump},
		{Name: "ul_flush", Help: "run the expiry timer now", Handler: m.cmdFlush},
		{Name: "ul_add", Params: []string{"table", "aor", "contact", "expires", "q", "replicate", "[flags]"}, Help: "add or update a contact", Handler: m.cmdAdd},
		{Name: "ul_show_contact", Params: []string{"table", "aor"}, Help: "list the contacts of an address-of-record", Handler: m.cmdShowContact},
	}
}

// readLine reads one parameter line; ok is false when the line is missing,
// empty, or too long for SER's buffer of size max.
func readLine(p rpc.Params, max int) (string, bool) {
	l, ok := p.Line()
	if !ok || l == "" || len(l) > max-2 {
		return "", false
	}
	return l, true
}

// readTableAOR reads the table and user lines every ul_* command starts
// with and applies use_domain to the user; on a missing or malformed line
// it returns SER's 400 reply for cmd, whose wording for the user line
// (userWord: "aor name", "user name") and the AOR check (aorWord:
// "username@domain", "user@domain") differs between commands.
func (m *Module) readTableAOR(p rpc.Params, cmd, userWord, aorWord string) (table, aor, shown string, bad *rpc.Reply) {
	table, ok := readLine(p, maxTable)
	if !ok {
		return "", "", "", rpc.Raw("400 " + cmd + ": table name expected\n")
	}
	user, ok := readLine(p, maxUser)
	if !ok {
		return "", "", "", rpc.Raw("400 " + cmd + ": " + userWord + " expected\n")
	}
	aor, shown, ok = m.fifoAOR(user)
	if !ok {
		return "", "", "", rpc.Raw("400 " + cmd + ": " + aorWord + " expected\n")
	}
	return table, aor, shown, nil
}

// fifoAOR applies use_domain to an AOR line as SER's FIFO commands did: the
// key is the user part (or all of user@domain with use_domain) in lower
// case; shown is the line as SER printed it afterwards — lower-cased in
// place over the key's length only.
func (m *Module) fifoAOR(line string) (key, shown string, ok bool) {
	n := len(line)
	if at := strings.IndexByte(line, '@'); at >= 0 {
		if !m.cfg.UseDomain {
			n = at
		}
	} else if m.cfg.UseDomain {
		return "", "", false
	}
	key = asciiLower(line[:n])
	return key, key + line[n:], true
}

// asciiLower lower-cases ASCII letters only, as C's tolower in SER.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// parseUint is SER's str2int: decimal digits only, no sign.
func parseUint(s string) (uint32, bool) {
	if s == "" || s[0] == '+' || s[0] == '-' {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err == nil
}

func (m *Module) cmdStats(_ context.Context, req *rpc.Request) *rpc.Reply {
	var out sercmd.ULStats
	for _, d := range m.Domains() {
		st, err := d.CheckedStats()
		if err != nil {
			m.log.Error("ul_stats failed", "table", d.Name(), "err", err)
			return rpc.Raw("500 ul_stats: database error\n")
		}
		out = append(out, sercmd.ULStat{Table: st.Name, Registered: st.Records, Expired: st.Expired, Contacts: st.Contacts})
	}
	return rpc.Typed(req.OK(), out)
}

func (m *Module) cmdDump(_ context.Context, req *rpc.Request) *rpc.Reply {
	if req.Flavor == rpc.UnixSock {
		return rpc.Raw("500 Not Implemented\n")
	}
	d, err := m.dump()
	if err != nil {
		m.log.Error("ul_dump failed", "err", err)
		return rpc.Raw("500 ul_dump: database error\n")
	}
	return rpc.Typed("200 ok", d)
}

func (m *Module) cmdFlush(_ context.Context, req *rpc.Request) *rpc.Reply {
	// SER's synchronize_all_udomains runs the timer of every table:
	// pending changes are written (db_mode 1 and 2), then expired
	// contacts removed.
	if err := m.Sync(); err != nil {
		return rpc.Raw("500 ul_flush: database error\n")
	}
	if req.Flavor == rpc.UnixSock {
		return rpc.Raw("200 ul_flush completed\n")
	}
	return rpc.Raw("200 ul_flush completed")
}

func (m *Module) cmdAdd(_ context.Context, req *rpc.Request) *rpc.Reply {
	p := req.Params
	table, aor, _, bad := m.readTableAOR(p, "ul_add", "aor name", "username@domain")
	if bad != nil {
		return bad
	}
	contact, ok := readLine(p, maxContact)
	if !ok {
		return rpc.Raw("400 ul_add: contact expected\n")
	}
	expS, ok := readLine(p, maxExpires)
	if !ok {
		return rpc.Raw("400 ul_add: expires expected\n")
	}
	qS, ok := readLine(p, maxQ)
	if !ok {
		return rpc.Raw("400 ul_add: q expected\n")
	}
	repS, ok := readLine(p, maxReplicate)
	if !ok {
		return rpc.Raw("400 ul_add: replicate expected\n")
	}
	// SER 0.9 reads a seventh line, flags; 0.8 clients (serctl 0.8.14)
	// send six. A missing or empty flags line means no flags.
	flagsS, hasFlags := readLine(p, maxFlags)

	d, found := m.Domain(table)
	if !found {
		return rpc.Raw(fmt.Sprintf("400 Table '%s' not found in memory, use save(\"%s\") or lookup(\"%s\") in the configuration script first\n", table, table, table))
	}
	exp, ok := parseUint(expS)
	if !ok {
		return rpc.Raw("400 Invalid expires format\n")
	}
	q, err := ParseQ(qS)
	if err != nil {
		return rpc.Raw("400 Invalid q value\n")
	}
	rep, ok := parseUint(repS)
	if !ok {
		return rpc.Raw("400 Invalid replicate format\n")
	}
	var flags uint32
	if hasFlags {
		if flags, ok = parseUint(flagsS); !ok {
			return rpc.Raw("400 Invalid flags format\n")
		}
	}
	if err := m.fifoAdd(d, aor, contact, int64(exp), q, int32(rep), flags); err != nil {
		m.log.Error("ul_add failed", "table", table, "aor", aor, "contact", contact, "err", err)
		return rpc.Raw(fmt.Sprintf("500 Error while adding contact\n ('%s','%s') in table '%s'\n", aor, contact, table))
	}
	return rpc.Raw(fmt.Sprintf("200 Added to table\n('%s','%s') to '%s'\n", aor, contact, table))
}

// errZeroExpires refuses ul_add with expires 0 for a contact that is not
// permanent.
var errZeroExpires = errors.New("usrloc: expires 0 and not a permanent contact")

// fifoAdd inserts or updates a contact as SER's FIFO add_contact: the
// FIFO Call-ID, CSeq and User-Agent, expires relative to now, flags added
// to the existing ones, no received address.
func (m *Module) fifoAdd(d *Domain, aor, uri string, expires int64, q Q, rep int32, flags uint32) error {
	if expires == 0 && flags&FlagPermanent == 0 {
		return errZeroExpires
	}
	return d.Update(aor, func(r *Record) error {
		c, _ := r.Find(uri)
		c.URI = uri
		c.Expires = r.Now() + expires
		c.Q = q
		c.CallID = fifoCallID
		c.CSeq = fifoCSeq
		c.Replicate = rep
		c.Flags |= flags
		c.UserAgent = fifoUserAgent
		c.Received = ""
		r.Put(c)
		return nil
	})
}

func (m *Module) cmdRm(_ context.Context, req *rpc.Request) *rpc.Reply {
	p := req.Params
	table, aor, shown, bad := m.readTableAOR(p, "ul_rm", "user name", "username@domain")
	if bad != nil {
		return bad
	}
	d, found := m.Domain(table)
	if !found {
		return rpc.Raw(fmt.Sprintf("400 table (%s) not found\n", table))
	}
	m.log.Info("deleting user-loc", "table", table, "aor", aor)
	if _, err := d.RemoveAOR(aor); err != nil {
		m.log.Error("ul_rm failed", "table", table, "aor", aor, "err", err)
		return rpc.Raw(fmt.Sprintf("500 Error while deleting user %s\n", shown))
	}
	return rpc.Raw(fmt.Sprintf("200 user (%s, %s) deleted\n", table, shown))
}

func (m *Module) cmdRmContact(_ context.Context, req *rpc.Request) *rpc.Reply {
	p := req.Params
	table, aor, shown, bad := m.readTableAOR(p, "ul_rm_contact", "user name", "user@domain")
	if bad != nil {
		return bad
	}
	contact, ok := readLine(p, maxContact)
	if !ok {
		return rpc.Raw("400 ul_rm_contact: contact expected\n")
	}
	d, found := m.Domain(table)
	if !found {
		return rpc.Raw(fmt.Sprintf("400 table (%s) not found\n", table))
	}
	m.log.Info("deleting user-loc contact", "table", table, "aor", aor, "contact", contact)
	switch err := d.DeleteContact(aor, contact); {
	case errors.Is(err, ErrNoAOR):
		return rpc.Raw(fmt.Sprintf("404 Username %s in table %s not found\n", shown, table))
	case errors.Is(err, ErrNoContact):
		return rpc.Raw(fmt.Sprintf("404 Contact %s in table %s not found\n", contact, table))
	case err != nil:
		return rpc.Raw(fmt.Sprintf("500 ul_rm_contact: Error while deleting contact %s\n", contact))
	}
	return rpc.Raw(fmt.Sprintf("200 Contact (%s, %s) deleted from table %s\n", shown, contact, table))
}

func (m *Module) cmdShowContact(_ context.Context, req *rpc.Request) *rpc.Reply {
	p := req.Params
	table, aor, shown, bad := m.readTableAOR(p, "ul_show_contact", "user name", "user@domain")
	if bad != nil {
		return bad
	}
	d, found := m.Domain(table)
	if !found {
		return rpc.Raw(fmt.Sprintf("400 table (%s) not found\n", table))
	}
	contacts, found, err := d.Lookup(aor)
	if err != nil {
		m.log.Error("ul_show_contact failed", "table", table, "aor", aor, "err", err)
		return rpc.Raw("500 ul_show_contact: database error\n")
	}
	if !found {
		return rpc.Raw(fmt.Sprintf("404 Username %s in table %s not found\n", shown, table))
	}
	if len(contacts) == 0 {
		return rpc.Raw("404 No registered contacts found\n")
	}
	now := m.now().Unix()
	out := make(sercmd.Contacts, len(contacts))
	for i := range contacts {
		c := &contacts[i]
		out[i] = sercmd.Contact{URI: c.URI, Q: c.Q.String(), Expires: int(int32(c.ExpiresIn(now))), Permanent: c.Permanent()}
	}
	return rpc.Typed("200 OK", out)
}
