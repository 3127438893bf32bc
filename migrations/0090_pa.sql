-- Presence agent (pa): SER 0.9's pa tables (its pa.sql) with the columns
-- ser needs to send NOTIFYs after a restart.
--
-- presentity: one row per presentity (uri "sip:user@domain") of a presence
-- domain (pdomain, the argument of handle_subscription and friends).
-- presentity_contact: the tuples published with PUBLISH (RFC 3903): basic
-- is "open" or "closed", status the note, contact the tuple's contact,
-- tupleid the tuple id; ser adds etag (the entity tag, SIP-ETag) and
-- expires is when the publication ends. Registration-derived state is not
-- stored: it comes from usrloc.
-- watcherinfo: one row per subscription (s_id its id) with its status
-- (active, pending, terminated) and, ser's additions, the dialog: call_id,
-- from_tag (the watcher's), to_tag (ours), contact (the watcher's target),
-- route (the route set, comma-separated), cseq (our last NOTIFY CSeq). A row
-- with status 'rejected' is an authorisation rule: the watcher w_uri may
-- not see r_uri (any s_id that is unique, e.g. 'deny-1').

CREATE TABLE presentity (
  presid {{AUTO_ID}},
  uri VARCHAR(128) NOT NULL DEFAULT '',
  pdomain VARCHAR(128) NOT NULL DEFAULT ''
){{TABLE_OPTIONS}};
CREATE INDEX presentity_uri ON presentity (uri);

CREATE TABLE presentity_contact (
  contactid {{AUTO_ID}},
  presid INT NOT NULL DEFAULT 0,
  basic VARCHAR(32) NOT NULL DEFAULT 'offline',
  status VARCHAR(128) NOT NULL DEFAULT '',
  location VARCHAR(128) NOT NULL DEFAULT '',
  expires INT NOT NULL DEFAULT 0,
  placeid INT DEFAULT NULL,
  priority FLOAT NOT NULL DEFAULT 0.5,
  contact VARCHAR(128) DEFAULT NULL,
  tupleid VARCHAR(64) NOT NULL DEFAULT '',
  prescaps INT DEFAULT NULL,
  etag VARCHAR(64) NOT NULL DEFAULT ''
){{TABLE_OPTIONS}};
CREATE INDEX presentity_contact_presid ON presentity_contact (presid);

CREATE TABLE watcherinfo (
  r_uri VARCHAR(128) NOT NULL DEFAULT '',
  w_uri VARCHAR(128) NOT NULL DEFAULT '',
  display_name VARCHAR(128) NOT NULL DEFAULT '',
  s_id VARCHAR(64) NOT NULL DEFAULT '',
  package VARCHAR(32) NOT NULL DEFAULT 'presence',
  status VARCHAR(32) NOT NULL DEFAULT 'pending',
  event VARCHAR(32) DEFAULT NULL,
  expires INT DEFAULT NULL,
  accepts VARCHAR(64) DEFAULT NULL,
  pdomain VARCHAR(128) NOT NULL DEFAULT '',
  call_id VARCHAR(255) NOT NULL DEFAULT '',
  from_tag VARCHAR(128) NOT NULL DEFAULT '',
  to_tag VARCHAR(128) NOT NULL DEFAULT '',
  contact VARCHAR(255) NOT NULL DEFAULT '',
  route VARCHAR(512) NOT NULL DEFAULT '',
  cseq INT NOT NULL DEFAULT 0,
  PRIMARY KEY (s_id)
){{TABLE_OPTIONS}};
CREATE INDEX watcherinfo_r_uri ON watcherinfo (r_uri);
CREATE INDEX watcherinfo_w_uri ON watcherinfo (w_uri);
