-- Indexes beyond SER's schema for the store's hot paths: the usrloc timer
-- deletes expired contacts (WHERE expires < now) every few seconds; without
-- an index that is a full scan of a table that may hold a million rows.

CREATE INDEX location_expires ON location (expires);
CREATE INDEX aliases_expires ON aliases (expires);
