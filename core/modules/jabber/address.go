package jabber

import (
	"fmt"
	"strconv"
	"strings"
)

// defaultDelim is SER's XJ_DEF_JDELIM: the character that stands for '@'
// in the user part of a SIP address of an XMPP user.
const defaultDelim = '*'

// alias is an IM network's host name (an XMPP transport's JID) with the
// delimiter its user names use, 0 when they are passed unchanged.
type alias struct {
	host  string
	delim byte
}

// addressing is jdomain and aliases: which SIP addresses belong to the
// gateway and how they translate to JIDs and back (SER's xj_jalias).
type addressing struct {
	jdomain string
	delim   byte
	aliases []alias
}

// parseJDomain reads jdomain ("jabber.example.com" or
// "jabber.example.com=<delim>").
func parseJDomain(s string) (string, byte, error) {
	s = strings.TrimSpace(s)
	host, d, ok := strings.Cut(s, "=")
	delim := byte(defaultDelim)
	if ok {
		if len(d) != 1 {
			return "", 0, fmt.Errorf("jdomain %q: the delimiter after '=' must be one character", s)
		}
		delim = d[0]
	}
	if host == "" || strings.ContainsAny(host, "@;: ") {
		return "", 0, fmt.Errorf("jdomain %q is not a host name", s)
	}
	if delim == '@' || delim == ':' || delim == ';' {
		return "", 0, fmt.Errorf("jdomain %q: %q cannot be the delimiter", s, delim)
	}
	return strings.ToLower(host), delim, nil
}

// parseAliases reads SER's "N;alias1=<d1>;alias2;…;" list.
func parseAliases(s string) ([]alias, error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 {
		return nil, nil
	}
	n, rest, ok := strings.Cut(s, ";")
	if !ok {
		return nil, fmt.Errorf("aliases %q: expected \"N;alias1[=delim];…;\"", s)
	}
	count, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || count < 0 {
		return nil, fmt.Errorf("aliases %q: %q is not a count", s, n)
	}
	var out []alias
	for i := 0; i < count; i++ {
		item, r, ok := strings.Cut(rest, ";")
		if !ok {
			return nil, fmt.Errorf("aliases %q: %d aliases announced, %d given (each ends with ';')", s, count, i)
		}
		rest = r
		host, d, hasD := strings.Cut(strings.TrimSpace(item), "=")
		a := alias{host: strings.ToLower(host)}
		if hasD && d != "" {
			if len(d) != 1 {
				return nil, fmt.Errorf("aliases %q: delimiter of %s must be one character", s, host)
			}
			a.delim = d[0]
		}
		if a.host == "" {
			return nil, fmt.Errorf("aliases %q: empty alias", s)
		}
		out = append(out, a)
	}
	return out, nil
}

// ours reports whether host is jdomain or an alias (SER's
// xj_wlist_check_aliases).
func (a *addressing) ours(host string) bool {
	host = strings.ToLower(host)
	if host == a.jdomain {
		return true
	}
	return a.alias(host) != nil
}

func (a *addressing) alias(host string) *alias {
	for i := range a.aliases {
		if a.aliases[i].host == host {
			return &a.aliases[i]
		}
	}
	return nil
}

// isConference reports whether the user part of a gateway address names
// a conference room: nick<d>room<d>server (SER's xj_jconf_check_addr).
func (a *addressing) isConference(user string) bool {
	return strings.Count(user, string(a.delim)) == 2
}

// room splits a conference address's user part into the room's JID and
// the nickname (SIP user name of sipUser when the nick is empty).
func (a *addressing) room(user, sipUser string) (roomJID, nick string, err error) {
	p := strings.Split(user, string(a.delim))
	if len(p) != 3 || p[1] == "" || p[2] == "" {
		return "", "", fmt.Errorf("%q is not nick%croom%cserver", user, a.delim, a.delim)
	}
	nick = p[0]
	if nick == "" {
		nick = sipUser
	}
	return p[1] + "@" + p[2], nick, nil
}

// toJID translates a gateway address (user, host) into the JID the message
// goes to (SER's xj_address_translation, SIP to XMPP).
func (a *addressing) toJID(user, host string) (string, error) {
	host = strings.ToLower(host)
	if al := a.alias(host); al != nil {
		if al.delim != 0 {
			user = strings.ReplaceAll(user, string(a.delim), string(al.delim))
		}
		return user + "@" + host, nil
	}
	if host != a.jdomain {
		return "", fmt.Errorf("%s@%s is not an address of the gateway", user, host)
	}
	i := strings.IndexByte(user, a.delim)
	if i <= 0 || i == len(user)-1 {
		return "", fmt.Errorf("%s@%s: the user part must be user%cserver", user, host, a.delim)
	}
	return user[:i] + "@" + user[i+1:], nil
}

// toSIP translates a JID (its resource is dropped) into the gateway
// address its messages come from: user<d>server@jdomain, or for a
// transport's user the alias with its delimiter turned back.
func (a *addressing) toSIP(jid string) string {
	jid, _, _ = strings.Cut(jid, "/")
	user, host, ok := strings.Cut(jid, "@")
	if !ok {
		return jid + "@" + a.jdomain
	}
	if al := a.alias(strings.ToLower(host)); al != nil {
		if al.delim != 0 {
			user = strings.ReplaceAll(user, string(al.delim), string(a.delim))
		}
		return user + "@" + host
	}
	return user + string(a.delim) + host + "@" + a.jdomain
}
