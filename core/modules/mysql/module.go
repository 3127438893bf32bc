// Package mysql stands for SER's mysql.so database driver module. SER
// configs load it before the modules that take a db_url; here the SQL
// driver is built into the store and chosen by each db_url, so loading
// mysql.so only keeps those configs valid. It exports no functions and no
// parameters.
package mysql

import "ser/core/module"

func init() { module.Register(Exports) }

// Exports is the mysql module's (empty) export table.
var Exports = &module.Exports{
	Name: "mysql",
	New:  func() any { return struct{}{} },
}
