package store

import (
	"reflect"
	"strings"
	"testing"
)

func TestDialectSQL(t *testing.T) {
	cols := []string{"a", "b", "c"}
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"sqlite upsert", SQLite.Upsert("t", cols, []string{"a"}, []string{"b", "c"}),
			"INSERT INTO t (a, b, c) VALUES (?, ?, ?) ON CONFLICT (a) DO UPDATE SET b = excluded.b, c = excluded.c"},
		{"mysql upsert", MySQL.Upsert("t", cols, []string{"a"}, []string{"b", "c"}),
			"INSERT INTO t (a, b, c) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE b = VALUES(b), c = VALUES(c)"},
		{"mysql upsert rows", MySQL.UpsertRows("t", cols[:2], []string{"a"}, []string{"b"}, 3),
			"INSERT INTO t (a, b) VALUES (?, ?), (?, ?), (?, ?) ON DUPLICATE KEY UPDATE b = VALUES(b)"},
		{"sqlite upsert rows", SQLite.UpsertRows("t", cols[:2], []string{"a"}, []string{"b"}, 2),
			"INSERT INTO t (a, b) VALUES (?, ?), (?, ?) ON CONFLICT (a) DO UPDATE SET b = excluded.b"},
		{"sqlite insert ignore", SQLite.InsertIgnore("t", cols), "INSERT OR IGNORE INTO t (a, b, c) VALUES (?, ?, ?)"},
		{"mysql insert ignore", MySQL.InsertIgnore("t", cols), "INSERT IGNORE INTO t (a, b, c) VALUES (?, ?, ?)"},
		{"sqlite concat", SQLite.Concat("p", "'%'"), "(p || '%')"},
		{"mysql concat", MySQL.Concat("p", "'%'"), "CONCAT(p, '%')"},
		{"sqlite length", SQLite.Length("x"), "LENGTH(x)"},
		{"mysql length", MySQL.Length("x"), "CHAR_LENGTH(x)"},
		{"sqlite quote", SQLite.Quote("location"), `"location"`},
		{"mysql quote", MySQL.Quote("location"), "`location`"},
		{"sqlite expand", SQLite.Expand("CREATE TABLE t (id {{AUTO_ID}}, m {{TIMESTAMP}}){{TABLE_OPTIONS}}"),
			"CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, m DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP)"},
		{"mysql expand", MySQL.Expand("CREATE TABLE t (id {{AUTO_ID}}, m {{TIMESTAMP}}){{TABLE_OPTIONS}}"),
			"CREATE TABLE t (id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, m TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got  %s\nwant %s", tc.got, tc.want)
			}
		})
	}
}

func TestValidIdent(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"plain", "location", true},
		{"underscore", "_loc_2", true},
		{"upper", "Location", true},
		{"empty", "", false},
		{"leading digit", "1loc", false},
		{"dash", "loc-x", false},
		{"space", "loc x", false},
		{"injection", "location; DROP TABLE subscriber", false},
		{"quote", `loc"`, false},
		{"dot", "ser.location", false},
		{"too long", strings.Repeat("a", 65), false},
		{"64 chars", strings.Repeat("a", 64), true},
		{"unicode", "locé", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ValidIdent(tc.in); got != tc.want {
				t.Errorf("ValidIdent(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestSplitStatements(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []statement
		bad  bool
	}{
		{"two", "CREATE TABLE a (x INT);\nCREATE TABLE b (y INT);\n",
			[]statement{{"CREATE TABLE a (x INT)", 1}, {"CREATE TABLE b (y INT)", 2}}, false},
		{"comments", "-- head; comment\n/* block; */ INSERT INTO a VALUES (1); -- tail\n",
			[]statement{{"INSERT INTO a VALUES (1)", 2}}, false},
		{"quoted semicolon", "INSERT INTO a VALUES ('x;y', \"p;q\", `r;s`);",
			[]statement{{"INSERT INTO a VALUES ('x;y', \"p;q\", `r;s`)", 1}}, false},
		{"doubled quote", "INSERT INTO a VALUES ('it''s;');",
			[]statement{{"INSERT INTO a VALUES ('it''s;')", 1}}, false},
		{"no trailing semicolon", "\n\nSELECT 1", []statement{{"SELECT 1", 3}}, false},
		{"dash in string", "INSERT INTO a VALUES ('--not a comment');",
			[]statement{{"INSERT INTO a VALUES ('--not a comment')", 1}}, false},
		{"empty", "-- nothing\n;;\n", nil, false},
		{"unterminated quote", "INSERT INTO a VALUES ('x);", nil, true},
		{"unterminated comment", "/* x", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := splitStatements(tc.in)
			if (err != nil) != tc.bad {
				t.Fatalf("splitStatements error = %v, want error %v", err, tc.bad)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("splitStatements = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseStep(t *testing.T) {
	tests := []struct {
		in   string
		want step
	}{
		{"CREATE TABLE t (\n  a INT NOT NULL DEFAULT 0,\n  b VARCHAR(10),\n  PRIMARY KEY (a),\n  UNIQUE (b)\n){{TABLE_OPTIONS}}",
			step{kind: stepCreateTable, table: "t", cols: []string{"a", "b"}}},
		{"CREATE UNIQUE INDEX t_ab ON t (a, b)", step{kind: stepCreateIndex, table: "t", index: "t_ab", cols: []string{"a", "b"}, unique: true}},
		{"ALTER TABLE location ADD COLUMN path VARCHAR(512) NOT NULL DEFAULT ''", step{kind: stepAddColumn, table: "location", column: "path"}},
		{"ALTER TABLE location ADD path VARCHAR(512)", step{kind: stepAddColumn, table: "location", column: "path"}},
		{"ALTER TABLE acc ADD COLUMN id {{AUTO_ID}}", step{kind: stepAddColumn, table: "acc", column: "id", autoID: true}},
		{"INSERT INTO version (table_name, table_version) SELECT 'x', 1", step{kind: stepData}},
	}
	for _, tc := range tests {
		got, err := parseStep(statement{text: tc.in, line: 1})
		tc.want.statement = statement{text: tc.in, line: 1}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseStep(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"DROP TABLE t", "ALTER TABLE t ADD INDEX i (a)", "ALTER TABLE t MODIFY a BIGINT", "SELECT 1", "RENAME TABLE a TO b"} {
		if _, err := parseStep(statement{text: bad, line: 3}); err == nil || !strings.Contains(err.Error(), "line 3:") {
			t.Errorf("parseStep(%q) error = %v", bad, err)
		}
	}
}
