// Package modules links every built-in SER module into the binary: each
// module registers itself with core/module from its init function, and a
// config's loadmodule directive picks it by name.
package modules

import (
	_ "ser/core/modules/acc"
	_ "ser/core/modules/auth"
	_ "ser/core/modules/avpops"
	_ "ser/core/modules/dispatcher"
	_ "ser/core/modules/diversion"
	_ "ser/core/modules/domain"
	_ "ser/core/modules/exec"
	_ "ser/core/modules/group"
	_ "ser/core/modules/jabber"
	_ "ser/core/modules/lcr"
	_ "ser/core/modules/maxfwd"
	_ "ser/core/modules/msilo"
	_ "ser/core/modules/mysql"
	_ "ser/core/modules/nathelper"
	_ "ser/core/modules/options"
	_ "ser/core/modules/pa"
	_ "ser/core/modules/path"
	_ "ser/core/modules/permissions"
	_ "ser/core/modules/pike"
	_ "ser/core/modules/print"
	_ "ser/core/modules/registrar"
	_ "ser/core/modules/rr"
	_ "ser/core/modules/sl"
	_ "ser/core/modules/speeddial"
	_ "ser/core/modules/textops"
	_ "ser/core/modules/tm"
	_ "ser/core/modules/uri"
	_ "ser/core/modules/usrloc"
	_ "ser/core/modules/xlog"
)
