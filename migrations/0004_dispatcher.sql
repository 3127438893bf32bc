-- Dispatcher (SIP load balancer) destination sets: Kamailio's dispatcher
-- table before its attrs column (id, setid, destination, flags, priority,
-- description). One row per destination: setid is the set number used by
-- ds_select_dst(set, alg), destination a SIP URI (sip:10.0.0.1:5060), flags
-- the initial state bits (1 inactive, 2 trying, 4 disabled, 8 probing),
-- priority orders the destinations of a set (higher first), description
-- is free text for the administrator.
--
-- No row is added to the version table: ser checks no table versions and
-- the version table keeps SER 0.9's list.

CREATE TABLE dispatcher (
  id {{AUTO_ID}},
  setid INT NOT NULL DEFAULT 0,
  destination VARCHAR(192) NOT NULL DEFAULT '',
  flags INT NOT NULL DEFAULT 0,
  priority INT NOT NULL DEFAULT 0,
  description VARCHAR(64) NOT NULL DEFAULT ''
){{TABLE_OPTIONS}};
CREATE INDEX dispatcher_setid ON dispatcher (setid);
