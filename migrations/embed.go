// Package migrations holds the numbered SQL files that create and evolve the
// ser database schema (SER 0.9's tables plus the LCR tables). The store
// applies them in order at Open; see core/store/README.md for the file
// format and the dialect tokens ({{AUTO_ID}}, {{TIMESTAMP}},
// {{TABLE_OPTIONS}}) the store substitutes per database engine.
package migrations

import "embed"

// FS is the set of migration files, named NNNN_description.sql.
//
//go:embed *.sql
var FS embed.FS
