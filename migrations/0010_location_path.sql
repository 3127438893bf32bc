-- Path (RFC 3327): the registrar stores the Path header of a REGISTER with
-- each contact (Kamailio's registrar, use_path) and lookup() sends requests
-- to the contact along it. Kamailio's location table has the same column:
-- path VARCHAR(512) DEFAULT NULL, NULL when the REGISTER had no Path.
--
-- aliases is a location-like table (usrloc reads and writes it with the same
-- columns), so it gets the column too. Added only when missing; SER's tools
-- name the columns they write, so the extra column changes nothing for them.
-- core/store's EnsureLocationTable replays this file's statement on location
-- (and 0001's CREATE TABLE location, 0003's index) for the other location-like
-- tables usrloc is told to use: these files are the one source of that layout.

ALTER TABLE location ADD COLUMN path VARCHAR(512) DEFAULT NULL;
ALTER TABLE aliases ADD COLUMN path VARCHAR(512) DEFAULT NULL;
