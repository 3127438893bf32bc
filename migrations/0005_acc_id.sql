-- acc and missed_calls of a database made by SER 0.9's ser_mysql.sh have
-- no id column; the store pages and deletes accounting records by id (the
-- web console's accounting pages). Added only when missing: a database
-- ser created has it from 0001 and this changes nothing there.
--
-- MySQL numbers the existing rows 1, 2, … in their stored order; SQLite
-- cannot add a primary key with ALTER TABLE, so the store rebuilds the
-- table with the column inside the migration's transaction (see
-- core/store/README.md, "Adopting a SER 0.9 database"). SER's own tools
-- and SER's acc module name the columns they insert, so the extra column
-- changes nothing for them.

ALTER TABLE acc ADD COLUMN id {{AUTO_ID}};
ALTER TABLE missed_calls ADD COLUMN id {{AUTO_ID}};
