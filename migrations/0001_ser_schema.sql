-- SER 0.9.6 schema (kamailio v_0_9_6 scripts/ser_mysql.sh, USERCOL=username).
--
-- Portable SQL for SQLite and MySQL/MariaDB. The store replaces these tokens
-- per engine before running a statement:
--   {{AUTO_ID}}        auto-increment integer primary key
--   {{TIMESTAMP}}      SER's timestamp(14): set to now on insert (and on
--                      update in MySQL)
--   {{TABLE_OPTIONS}}  engine/charset clause after CREATE TABLE (…)
-- Deviations from ser_mysql.sh, all documented in core/store/README.md:
--   * datetime defaults are '1970-01-01 00:00:01' instead of the zero date
--     '0000-00-00 00:00:00' (refused by MySQL strict mode);
--   * location/aliases expires defaults to '9999-12-31 23:59:59' (the store's
--     Forever) because SER's FOREVER '2020-05-28 21:32:15' is in the past;
--   * acc and missed_calls get a trailing id column (stable paging, deletion);
--   * index names are prefixed with their table (SQLite index names are
--     global to the schema);
--   * version.table_name is UNIQUE;
--   * column display widths (int(10)) are dropped; silo.body has no default
--     (MySQL refuses a default on BLOB).

CREATE TABLE version (
  table_name VARCHAR(64) NOT NULL DEFAULT '',
  table_version SMALLINT NOT NULL DEFAULT 0,
  UNIQUE (table_name)
){{TABLE_OPTIONS}};

-- acc: accounted calls (acc module, serweb "accounting").
CREATE TABLE acc (
  sip_from VARCHAR(128) NOT NULL DEFAULT '',
  sip_to VARCHAR(128) NOT NULL DEFAULT '',
  sip_status VARCHAR(128) NOT NULL DEFAULT '',
  sip_method VARCHAR(16) NOT NULL DEFAULT '',
  i_uri VARCHAR(128) NOT NULL DEFAULT '',
  o_uri VARCHAR(128) NOT NULL DEFAULT '',
  from_uri VARCHAR(128) NOT NULL DEFAULT '',
  to_uri VARCHAR(128) NOT NULL DEFAULT '',
  sip_callid VARCHAR(128) NOT NULL DEFAULT '',
  username VARCHAR(64) NOT NULL DEFAULT '',
  domain VARCHAR(128) NOT NULL DEFAULT '',
  fromtag VARCHAR(128) NOT NULL DEFAULT '',
  totag VARCHAR(128) NOT NULL DEFAULT '',
  time DATETIME NOT NULL DEFAULT '1970-01-01 00:00:01',
  timestamp {{TIMESTAMP}},
  caller_deleted CHAR(1) NOT NULL DEFAULT '0',
  callee_deleted CHAR(1) NOT NULL DEFAULT '0',
  id {{AUTO_ID}}
){{TABLE_OPTIONS}};
CREATE INDEX acc_user ON acc (username, domain);
CREATE INDEX acc_sip_callid ON acc (sip_callid);
CREATE INDEX acc_time ON acc (time);

-- active_sessions: PHPLIB web sessions (serweb).
CREATE TABLE active_sessions (
  sid VARCHAR(32) NOT NULL DEFAULT '',
  name VARCHAR(32) NOT NULL DEFAULT '',
  val TEXT,
  changed VARCHAR(14) NOT NULL DEFAULT '',
  PRIMARY KEY (name, sid)
){{TABLE_OPTIONS}};
CREATE INDEX active_sessions_changed ON active_sessions (changed);

-- admin_privileges: serweb admin rights (is_admin, change_privileges,
-- acl_control).
CREATE TABLE admin_privileges (
  username VARCHAR(64) NOT NULL DEFAULT '',
  domain VARCHAR(128) NOT NULL DEFAULT '',
  priv_name VARCHAR(64) NOT NULL DEFAULT '',
  priv_value VARCHAR(64) NOT NULL DEFAULT '',
  PRIMARY KEY (username, priv_name, priv_value, domain)
){{TABLE_OPTIONS}};

-- aliases: location-like table of alternative user names (usrloc).
CREATE TABLE aliases (
  username VARCHAR(64) NOT NULL DEFAULT '',
  domain VARCHAR(128) NOT NULL DEFAULT '',
  contact VARCHAR(255) NOT NULL DEFAULT '',
  received VARCHAR(255) DEFAULT NULL,
  expires DATETIME NOT NULL DEFAULT '9999-12-31 23:59:59',
  q FLOAT(10,2) NOT NULL DEFAULT 1.0,
  callid VARCHAR(255) NOT NULL DEFAULT 'Default-Call-ID',
  cseq INT NOT NULL DEFAULT 42,
  last_modified {{TIMESTAMP}},
  replicate INT UNSIGNED NOT NULL DEFAULT 0,
  state TINYINT UNSIGNED NOT NULL DEFAULT 0,
  flags INT NOT NULL DEFAULT 0,
  user_agent VARCHAR(50) NOT NULL DEFAULT '',
  PRIMARY KEY (username, domain, contact)
){{TABLE_OPTIONS}};
CREATE INDEX aliases_contact ON aliases (contact);

-- calls_forwarding: serweb caller screening.
CREATE TABLE calls_forwarding (
  username VARCHAR(64) NOT NULL DEFAULT '',
  domain VARCHAR(128) NOT NULL DEFAULT '',
  uri_re VARCHAR(128) NOT NULL DEFAULT '',
  purpose VARCHAR(32) NOT NULL DEFAULT '',
  action VARCHAR(32) NOT NULL DEFAULT '',
  param1 VARCHAR(128) DEFAULT NULL,
  param2 VARCHAR(128) DEFAULT NULL,
  PRIMARY KEY (username, domain, uri_re, purpose)
){{TABLE_OPTIONS}};

-- config: attribute-value hook table (unused by SER itself).
CREATE TABLE config (
  attribute VARCHAR(32) NOT NULL DEFAULT '',
  value VARCHAR(128) NOT NULL DEFAULT '',
  username VARCHAR(64) NOT NULL DEFAULT '',
  domain VARCHAR(128) NOT NULL DEFAULT '',
  modified {{TIMESTAMP}}
){{TABLE_OPTIONS}};

-- domain: domains the proxy is responsible for (domain module).
CREATE TABLE domain (
  domain VARCHAR(128) NOT NULL DEFAULT '',
  last_modified DATETIME NOT NULL DEFAULT '1970-01-01 00:00:01',
  PRIMARY KEY (domain)
){{TABLE_OPTIONS}};

-- event: services a user subscribed to (serweb notification subscription).
CREATE TABLE event (
  id {{AUTO_ID}},
  username VARCHAR(64) NOT NULL DEFAULT '',
  domain VARCHAR(128) NOT NULL DEFAULT '',
  uri VARCHAR(255) NOT NULL DEFAULT '',
  description VARCHAR(255) NOT NULL DEFAULT ''
){{TABLE_OPTIONS}};

-- grp: group membership (group module, serctl acl).
CREATE TABLE grp (
  username VARCHAR(64) NOT NULL DEFAULT '',
  domain VARCHAR(128) NOT NULL DEFAULT '',
  grp VARCHAR(50) NOT NULL DEFAULT '',
  last_modified DATETIME NOT NULL DEFAULT '1970-01-01 00:00:01',
  PRIMARY KEY (username, domain, grp)
){{TABLE_OPTIONS}};

-- location: persistent user location (usrloc db_mode 1-3). core/store creates
-- the other location-like tables usrloc uses from this statement (with their
-- name): keep it the only definition of the layout.
CREATE TABLE location (
  username VARCHAR(64) NOT NULL DEFAULT '',
  domain VARCHAR(128) NOT NULL DEFAULT '',
  contact VARCHAR(255) NOT NULL DEFAULT '',
  received VARCHAR(255) DEFAULT NULL,
  expires DATETIME NOT NULL DEFAULT '9999-12-31 23:59:59',
  q FLOAT(10,2) NOT NULL DEFAULT 1.0,
  callid VARCHAR(255) NOT NULL DEFAULT 'Default-Call-ID',
  cseq INT NOT NULL DEFAULT 42,
  last_modified {{TIMESTAMP}},
  replicate INT UNSIGNED NOT NULL DEFAULT 0,
  state TINYINT UNSIGNED NOT NULL DEFAULT 0,
  flags INT NOT NULL DEFAULT 0,
  user_agent VARCHAR(50) NOT NULL DEFAULT '',
  PRIMARY KEY (username, domain, contact)
){{TABLE_OPTIONS}};

-- missed_calls: acc-like table of missed calls.
CREATE TABLE missed_calls (
  sip_from VARCHAR(128) NOT NULL DEFAULT '',
  sip_to VARCHAR(128) NOT NULL DEFAULT '',
  sip_status VARCHAR(128) NOT NULL DEFAULT '',
  sip_method VARCHAR(16) NOT NULL DEFAULT '',
  i_uri VARCHAR(128) NOT NULL DEFAULT '',
  o_uri VARCHAR(128) NOT NULL DEFAULT '',
  from_uri VARCHAR(128) NOT NULL DEFAULT '',
  to_uri VARCHAR(128) NOT NULL DEFAULT '',
  sip_callid VARCHAR(128) NOT NULL DEFAULT '',
  username VARCHAR(64) NOT NULL DEFAULT '',
  domain VARCHAR(128) NOT NULL DEFAULT '',
  fromtag VARCHAR(128) NOT NULL DEFAULT '',
  totag VARCHAR(128) NOT NULL DEFAULT '',
  time DATETIME NOT NULL DEFAULT '1970-01-01 00:00:01',
  timestamp {{TIMESTAMP}},
  id {{AUTO_ID}}
){{TABLE_OPTIONS}};
CREATE INDEX mc_user ON missed_calls (username, domain);
CREATE INDEX mc_time ON missed_calls (time);

-- pending: unconfirmed self-registrations (same layout as subscriber).
CREATE TABLE pending (
  phplib_id VARCHAR(32) NOT NULL DEFAULT '',
  username VARCHAR(64) NOT NULL DEFAULT '',
  domain VARCHAR(128) NOT NULL DEFAULT '',
  password VARCHAR(25) NOT NULL DEFAULT '',
  first_name VARCHAR(25) NOT NULL DEFAULT '',
  last_name VARCHAR(45) NOT NULL DEFAULT '',
  phone VARCHAR(15) NOT NULL DEFAULT '',
  email_address VARCHAR(50) NOT NULL DEFAULT '',
  datetime_created DATETIME NOT NULL DEFAULT '1970-01-01 00:00:01',
  datetime_modified DATETIME NOT NULL DEFAULT '1970-01-01 00:00:01',
  confirmation VARCHAR(64) NOT NULL DEFAULT '',
  flag CHAR(1) NOT NULL DEFAULT 'o',
  sendnotification VARCHAR(50) NOT NULL DEFAULT '',
  greeting VARCHAR(50) NOT NULL DEFAULT '',
  ha1 VARCHAR(128) NOT NULL DEFAULT '',
  ha1b VARCHAR(128) NOT NULL DEFAULT '',
  allow_find CHAR(1) NOT NULL DEFAULT '0',
  timezone VARCHAR(128) DEFAULT NULL,
  rpid VARCHAR(128) DEFAULT NULL,
  domn INT DEFAULT NULL,
  uuid VARCHAR(64) DEFAULT NULL,
  PRIMARY KEY (username, domain),
  UNIQUE (phplib_id)
){{TABLE_OPTIONS}};
CREATE INDEX pending_user_2 ON pending (username);

-- phonebook: users' personal phone books (serweb).
CREATE TABLE phonebook (
  id {{AUTO_ID}},
  username VARCHAR(64) NOT NULL DEFAULT '',
  domain VARCHAR(128) NOT NULL DEFAULT '',
  fname VARCHAR(32) NOT NULL DEFAULT '',
  lname VARCHAR(32) NOT NULL DEFAULT '',
  sip_uri VARCHAR(128) NOT NULL DEFAULT ''
){{TABLE_OPTIONS}};
CREATE INDEX phonebook_user ON phonebook (username, domain);

-- preferences_types: attribute types of usr_preferences (serweb admin).
CREATE TABLE preferences_types (
  att_name VARCHAR(50) NOT NULL DEFAULT '',
  att_rich_type VARCHAR(32) NOT NULL DEFAULT 'string',
  att_raw_type INT UNSIGNED NOT NULL DEFAULT 2,
  att_type_spec TEXT,
  default_value VARCHAR(100) NOT NULL DEFAULT '',
  PRIMARY KEY (att_name)
){{TABLE_OPTIONS}};

-- reserved: user names serweb refuses for new accounts.
CREATE TABLE reserved (
  username CHAR(64) NOT NULL DEFAULT '',
  UNIQUE (username)
){{TABLE_OPTIONS}};

-- server_monitoring: t_stats/sl_stats/ul_stats samples (serweb graphs).
CREATE TABLE server_monitoring (
  time DATETIME NOT NULL DEFAULT '1970-01-01 00:00:01',
  id INT UNSIGNED NOT NULL DEFAULT 0,
  param VARCHAR(32) NOT NULL DEFAULT '',
  value INT NOT NULL DEFAULT 0,
  increment INT NOT NULL DEFAULT 0,
  PRIMARY KEY (id, param)
){{TABLE_OPTIONS}};

-- server_monitoring_agg: aggregated server_monitoring values.
CREATE TABLE server_monitoring_agg (
  param VARCHAR(32) NOT NULL DEFAULT '',
  s_value INT NOT NULL DEFAULT 0,
  s_increment INT NOT NULL DEFAULT 0,
  last_aggregated_increment INT NOT NULL DEFAULT 0,
  av FLOAT NOT NULL DEFAULT 0,
  mv INT NOT NULL DEFAULT 0,
  ad FLOAT NOT NULL DEFAULT 0,
  lv INT NOT NULL DEFAULT 0,
  min_val INT NOT NULL DEFAULT 0,
  max_val INT NOT NULL DEFAULT 0,
  min_inc INT NOT NULL DEFAULT 0,
  max_inc INT NOT NULL DEFAULT 0,
  lastupdate DATETIME NOT NULL DEFAULT '1970-01-01 00:00:01',
  PRIMARY KEY (param)
){{TABLE_OPTIONS}};

-- silo: msilo message store for undelivered instant messages.
CREATE TABLE silo (
  mid {{AUTO_ID}},
  src_addr VARCHAR(255) NOT NULL DEFAULT '',
  dst_addr VARCHAR(255) NOT NULL DEFAULT '',
  r_uri VARCHAR(255) NOT NULL DEFAULT '',
  username VARCHAR(64) NOT NULL DEFAULT '',
  domain VARCHAR(128) NOT NULL DEFAULT '',
  inc_time INT NOT NULL DEFAULT 0,
  exp_time INT NOT NULL DEFAULT 0,
  ctype VARCHAR(32) NOT NULL DEFAULT 'text/plain',
  body BLOB NOT NULL
){{TABLE_OPTIONS}};

-- speed_dial: serweb speed dial entries.
CREATE TABLE speed_dial (
  username VARCHAR(64) NOT NULL DEFAULT '',
  domain VARCHAR(128) NOT NULL DEFAULT '',
  sd_username VARCHAR(64) NOT NULL DEFAULT '',
  sd_domain VARCHAR(128) NOT NULL DEFAULT '',
  new_uri VARCHAR(192) NOT NULL DEFAULT '',
  fname VARCHAR(128) NOT NULL DEFAULT '',
  lname VARCHAR(128) NOT NULL DEFAULT '',
  description VARCHAR(64) NOT NULL DEFAULT '',
  PRIMARY KEY (username, domain, sd_username, sd_domain)
){{TABLE_OPTIONS}};

-- subscriber: the users, their credentials and profile.
CREATE TABLE subscriber (
  phplib_id VARCHAR(32) NOT NULL DEFAULT '',
  username VARCHAR(64) NOT NULL DEFAULT '',
  domain VARCHAR(128) NOT NULL DEFAULT '',
  password VARCHAR(25) NOT NULL DEFAULT '',
  first_name VARCHAR(25) NOT NULL DEFAULT '',
  last_name VARCHAR(45) NOT NULL DEFAULT '',
  phone VARCHAR(15) NOT NULL DEFAULT '',
  email_address VARCHAR(50) NOT NULL DEFAULT '',
  datetime_created DATETIME NOT NULL DEFAULT '1970-01-01 00:00:01',
  datetime_modified DATETIME NOT NULL DEFAULT '1970-01-01 00:00:01',
  confirmation VARCHAR(64) NOT NULL DEFAULT '',
  flag CHAR(1) NOT NULL DEFAULT 'o',
  sendnotification VARCHAR(50) NOT NULL DEFAULT '',
  greeting VARCHAR(50) NOT NULL DEFAULT '',
  ha1 VARCHAR(128) NOT NULL DEFAULT '',
  ha1b VARCHAR(128) NOT NULL DEFAULT '',
  allow_find CHAR(1) NOT NULL DEFAULT '0',
  timezone VARCHAR(128) DEFAULT NULL,
  rpid VARCHAR(128) DEFAULT NULL,
  domn INT DEFAULT NULL,
  uuid VARCHAR(64) DEFAULT NULL,
  PRIMARY KEY (username, domain),
  UNIQUE (phplib_id)
){{TABLE_OPTIONS}};
CREATE INDEX subscriber_user_2 ON subscriber (username);

-- trusted: trusted source addresses (permissions module).
CREATE TABLE trusted (
  src_ip VARCHAR(39) NOT NULL DEFAULT '',
  proto VARCHAR(4) NOT NULL DEFAULT '',
  from_pattern VARCHAR(64) NOT NULL DEFAULT '',
  PRIMARY KEY (src_ip, proto, from_pattern)
){{TABLE_OPTIONS}};

-- uri: URI user parts a user may use (uri_db module, serctl add).
CREATE TABLE uri (
  username VARCHAR(64) NOT NULL DEFAULT '',
  domain VARCHAR(128) NOT NULL DEFAULT '',
  uri_user VARCHAR(50) NOT NULL DEFAULT '',
  last_modified DATETIME NOT NULL DEFAULT '1970-01-01 00:00:01',
  PRIMARY KEY (username, domain, uri_user)
){{TABLE_OPTIONS}};

-- usr_preferences: per-user attribute values (serweb user preferences).
CREATE TABLE usr_preferences (
  uuid VARCHAR(64) NOT NULL DEFAULT '',
  username VARCHAR(100) NOT NULL DEFAULT '',
  domain VARCHAR(128) NOT NULL DEFAULT '',
  attribute VARCHAR(32) NOT NULL DEFAULT '',
  value VARCHAR(128) NOT NULL DEFAULT '',
  type INT NOT NULL DEFAULT 0,
  modified {{TIMESTAMP}},
  PRIMARY KEY (attribute, username, domain)
){{TABLE_OPTIONS}};
CREATE INDEX usr_preferences_user ON usr_preferences (username, domain);

-- SER 0.9.6's table versions, each added only when the version table has
-- no row for its table yet: an adopted SER database keeps its own rows.
INSERT INTO version (table_name, table_version)
SELECT t.table_name, t.table_version FROM (
  SELECT 'subscriber' AS table_name, 5 AS table_version
  UNION ALL SELECT 'reserved', 1
  UNION ALL SELECT 'phonebook', 1
  UNION ALL SELECT 'pending', 4
  UNION ALL SELECT 'missed_calls', 2
  UNION ALL SELECT 'location', 6
  UNION ALL SELECT 'grp', 2
  UNION ALL SELECT 'event', 1
  UNION ALL SELECT 'aliases', 6
  UNION ALL SELECT 'active_sessions', 1
  UNION ALL SELECT 'admin_privileges', 1
  UNION ALL SELECT 'speed_dial', 2
  UNION ALL SELECT 'acc', 2
  UNION ALL SELECT 'config', 1
  UNION ALL SELECT 'silo', 3
  UNION ALL SELECT 'realm', 1
  UNION ALL SELECT 'domain', 1
  UNION ALL SELECT 'uri', 1
  UNION ALL SELECT 'server_monitoring', 1
  UNION ALL SELECT 'server_monitoring_agg', 1
  UNION ALL SELECT 'trusted', 1
  UNION ALL SELECT 'usr_preferences', 2
  UNION ALL SELECT 'preferences_types', 1
  UNION ALL SELECT 'calls_forwarding', 1
) AS t
WHERE NOT EXISTS (SELECT 1 FROM version AS v WHERE v.table_name = t.table_name);
