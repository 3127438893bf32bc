package core

import _ "embed"

// DefaultConfig is the built-in ser.cfg used when no config file exists:
// the admin guide's default script.
//
//go:embed default.cfg
var DefaultConfig string
