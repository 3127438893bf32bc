package core

import (
	_ "embed"
	"regexp"
	"strings"
)

//go:embed default.cfg
var defaultConfig string

// DefaultConfig is the built-in ser.cfg used when no config file exists,
// for the SIP domain domain (main passes store.DefaultDomain(), the host
// name — the web console's and serctl's default domain): the admin
// guide's default script with digest authentication: an authenticated
// registrar, calls from the domain's addresses authenticated, and a proxy
// that relays to other domains for its authenticated users only. domain must be a domain name or an IP
// address; it becomes the alias, sip_domain and digest realm.
func DefaultConfig(domain string) string {
	return strings.NewReplacer("@DOMAIN@", domain, "@DOMAIN_RE@", regexp.QuoteMeta(domain)).Replace(defaultConfig)
}
