// Package mysql stands for SER's database driver modules, mysql.so and
// dbtext.so. SER configs load one before the modules that take a db_url;
// here the drivers are built into the store and chosen by each db_url
// (mysql://, sql://, dbtext://, a directory), so loading them only keeps
// those configs valid. They export no functions and no parameters.
package mysql

import "ser/core/module"

func init() { module.Register(Exports) }

// Exports is the (empty) export table of mysql, also loaded as dbtext.
var Exports = &module.Exports{
	Name: "mysql",
	New:  func() any { return struct{}{} },
	Also: []module.Table{{Name: "dbtext"}},
}
