package script

// The real modules written so far. The admin guide's scripts
// (testdata_test.go) compile against them; fake_test.go registers stand-in
// export tables only for the modules not linked here (tm, auth, acc, exec,
// group, mysql until they exist). Add each module here when it lands.
import (
	_ "ser/core/modules/acc"
	_ "ser/core/modules/auth"
	_ "ser/core/modules/dispatcher"
	_ "ser/core/modules/exec"
	_ "ser/core/modules/group"
	_ "ser/core/modules/lcr"
	_ "ser/core/modules/maxfwd"
	_ "ser/core/modules/mysql"
	_ "ser/core/modules/nathelper"
	_ "ser/core/modules/registrar"
	_ "ser/core/modules/rr"
	_ "ser/core/modules/sl"
	_ "ser/core/modules/textops"
	_ "ser/core/modules/tm"
	_ "ser/core/modules/uri"
	_ "ser/core/modules/usrloc"
)
