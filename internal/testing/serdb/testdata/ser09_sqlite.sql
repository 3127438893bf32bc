-- The SQLite equivalent of ser09_mysql.sql: SER 0.9's tables, keys and
-- rows as SER's ser_mysql.sh made them on MySQL (SER itself never ran on
-- SQLite), for testing that ser adopts such a database on SQLite too.
-- Differences forced by SQLite: KEY clauses are CREATE INDEX statements,
-- and the index names SER used twice (user_2 and phplib_id of subscriber
-- and pending) get their table as a prefix (SQLite index names are
-- global); "unsigned" and the engine clause are dropped; the
-- auto-increment columns are INTEGER PRIMARY KEY AUTOINCREMENT.

CREATE TABLE version (
  table_name varchar(64) NOT NULL,
  table_version smallint(5) NOT NULL DEFAULT '0'
);

INSERT INTO version VALUES ('subscriber', '5');
INSERT INTO version VALUES ('reserved', '1');
INSERT INTO version VALUES ('phonebook', '1');
INSERT INTO version VALUES ('pending', '4');
INSERT INTO version VALUES ('missed_calls', '2');
INSERT INTO version VALUES ('location', '6');
INSERT INTO version VALUES ('grp', '2');
INSERT INTO version VALUES ('event', '1');
INSERT INTO version VALUES ('aliases', '6');
INSERT INTO version VALUES ('active_sessions', '1');
INSERT INTO version VALUES ('acc', '2');
INSERT INTO version VALUES ('config', '1');
INSERT INTO version VALUES ('silo', '3');
INSERT INTO version VALUES ('realm', '1');
INSERT INTO version VALUES ('domain', '1');
INSERT INTO version VALUES ('uri', '1');
INSERT INTO version VALUES ('server_monitoring', '1');
INSERT INTO version VALUES ('server_monitoring_agg', '1');
INSERT INTO version VALUES ('trusted', '1');
INSERT INTO version VALUES ('usr_preferences', '2');
INSERT INTO version VALUES ('preferences_types', '1');
INSERT INTO version VALUES ('admin_privileges', '1');
INSERT INTO version VALUES ('calls_forwarding', '1');
INSERT INTO version VALUES ('speed_dial', '2');

CREATE TABLE acc (
  sip_from varchar(128) NOT NULL DEFAULT '',
  sip_to varchar(128) NOT NULL DEFAULT '',
  sip_status varchar(128) NOT NULL DEFAULT '',
  sip_method varchar(16) NOT NULL DEFAULT '',
  i_uri varchar(128) NOT NULL DEFAULT '',
  o_uri varchar(128) NOT NULL DEFAULT '',
  from_uri varchar(128) NOT NULL DEFAULT '',
  to_uri varchar(128) NOT NULL DEFAULT '',
  sip_callid varchar(128) NOT NULL DEFAULT '',
  username varchar(64) NOT NULL DEFAULT '',
  domain varchar(128) NOT NULL DEFAULT '',
  fromtag varchar(128) NOT NULL DEFAULT '',
  totag varchar(128) NOT NULL DEFAULT '',
  time datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  timestamp timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  caller_deleted char(1) NOT NULL DEFAULT '0',
  callee_deleted char(1) NOT NULL DEFAULT '0'
);
CREATE INDEX acc_user ON acc (username, domain);
CREATE INDEX sip_callid ON acc (sip_callid);

CREATE TABLE active_sessions (
  sid varchar(32) NOT NULL DEFAULT '',
  name varchar(32) NOT NULL DEFAULT '',
  val text,
  changed varchar(14) NOT NULL DEFAULT '',
  PRIMARY KEY (name, sid)
);
CREATE INDEX changed ON active_sessions (changed);

CREATE TABLE aliases (
  username varchar(64) NOT NULL DEFAULT '',
  domain varchar(128) NOT NULL DEFAULT '',
  contact varchar(255) NOT NULL DEFAULT '',
  received varchar(255) DEFAULT NULL,
  expires datetime NOT NULL DEFAULT '2020-05-28 21:32:15',
  q float(10,2) NOT NULL DEFAULT '1.00',
  callid varchar(255) NOT NULL DEFAULT 'Default-Call-ID',
  cseq int(11) NOT NULL DEFAULT '42',
  last_modified timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  replicate int(10) NOT NULL DEFAULT '0',
  state tinyint(1) NOT NULL DEFAULT '0',
  flags int(11) NOT NULL DEFAULT '0',
  user_agent varchar(50) NOT NULL DEFAULT '',
  PRIMARY KEY (username, domain, contact)
);
CREATE INDEX aliases_contact ON aliases (contact);

CREATE TABLE event (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  username varchar(64) NOT NULL DEFAULT '',
  domain varchar(128) NOT NULL DEFAULT '',
  uri varchar(255) NOT NULL DEFAULT '',
  description varchar(255) NOT NULL DEFAULT ''
);

CREATE TABLE grp (
  username varchar(64) NOT NULL DEFAULT '',
  domain varchar(128) NOT NULL DEFAULT '',
  grp varchar(50) NOT NULL DEFAULT '',
  last_modified datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  PRIMARY KEY (username, domain, grp)
);

CREATE TABLE location (
  username varchar(64) NOT NULL DEFAULT '',
  domain varchar(128) NOT NULL DEFAULT '',
  contact varchar(255) NOT NULL DEFAULT '',
  received varchar(255) DEFAULT NULL,
  expires datetime NOT NULL DEFAULT '2020-05-28 21:32:15',
  q float(10,2) NOT NULL DEFAULT '1.00',
  callid varchar(255) NOT NULL DEFAULT 'Default-Call-ID',
  cseq int(11) NOT NULL DEFAULT '42',
  last_modified timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  replicate int(10) NOT NULL DEFAULT '0',
  state tinyint(1) NOT NULL DEFAULT '0',
  flags int(11) NOT NULL DEFAULT '0',
  user_agent varchar(50) NOT NULL DEFAULT '',
  PRIMARY KEY (username, domain, contact)
);

CREATE TABLE missed_calls (
  sip_from varchar(128) NOT NULL DEFAULT '',
  sip_to varchar(128) NOT NULL DEFAULT '',
  sip_status varchar(128) NOT NULL DEFAULT '',
  sip_method varchar(16) NOT NULL DEFAULT '',
  i_uri varchar(128) NOT NULL DEFAULT '',
  o_uri varchar(128) NOT NULL DEFAULT '',
  from_uri varchar(128) NOT NULL DEFAULT '',
  to_uri varchar(128) NOT NULL DEFAULT '',
  sip_callid varchar(128) NOT NULL DEFAULT '',
  username varchar(64) NOT NULL DEFAULT '',
  domain varchar(128) NOT NULL DEFAULT '',
  fromtag varchar(128) NOT NULL DEFAULT '',
  totag varchar(128) NOT NULL DEFAULT '',
  time datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  timestamp timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX mc_user ON missed_calls (username, domain);

CREATE TABLE pending (
  phplib_id varchar(32) NOT NULL DEFAULT '',
  username varchar(64) NOT NULL DEFAULT '',
  domain varchar(128) NOT NULL DEFAULT '',
  password varchar(25) NOT NULL DEFAULT '',
  first_name varchar(25) NOT NULL DEFAULT '',
  last_name varchar(45) NOT NULL DEFAULT '',
  phone varchar(15) NOT NULL DEFAULT '',
  email_address varchar(50) NOT NULL DEFAULT '',
  datetime_created datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  datetime_modified datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  confirmation varchar(64) NOT NULL DEFAULT '',
  flag char(1) NOT NULL DEFAULT 'o',
  sendnotification varchar(50) NOT NULL DEFAULT '',
  greeting varchar(50) NOT NULL DEFAULT '',
  ha1 varchar(128) NOT NULL DEFAULT '',
  ha1b varchar(128) NOT NULL DEFAULT '',
  allow_find char(1) NOT NULL DEFAULT '0',
  timezone varchar(128) DEFAULT NULL,
  rpid varchar(128) DEFAULT NULL,
  domn int(10) DEFAULT NULL,
  uuid varchar(64) DEFAULT NULL,
  PRIMARY KEY (username, domain)
);
CREATE UNIQUE INDEX pending_phplib_id ON pending (phplib_id);
CREATE INDEX pending_user_2 ON pending (username);

CREATE TABLE phonebook (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  username varchar(64) NOT NULL DEFAULT '',
  domain varchar(128) NOT NULL DEFAULT '',
  fname varchar(32) NOT NULL DEFAULT '',
  lname varchar(32) NOT NULL DEFAULT '',
  sip_uri varchar(128) NOT NULL DEFAULT ''
);

CREATE TABLE reserved (
  username char(64) NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX user2 ON reserved (username);

CREATE TABLE subscriber (
  phplib_id varchar(32) NOT NULL DEFAULT '',
  username varchar(64) NOT NULL DEFAULT '',
  domain varchar(128) NOT NULL DEFAULT '',
  password varchar(25) NOT NULL DEFAULT '',
  first_name varchar(25) NOT NULL DEFAULT '',
  last_name varchar(45) NOT NULL DEFAULT '',
  phone varchar(15) NOT NULL DEFAULT '',
  email_address varchar(50) NOT NULL DEFAULT '',
  datetime_created datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  datetime_modified datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  confirmation varchar(64) NOT NULL DEFAULT '',
  flag char(1) NOT NULL DEFAULT 'o',
  sendnotification varchar(50) NOT NULL DEFAULT '',
  greeting varchar(50) NOT NULL DEFAULT '',
  ha1 varchar(128) NOT NULL DEFAULT '',
  ha1b varchar(128) NOT NULL DEFAULT '',
  allow_find char(1) NOT NULL DEFAULT '0',
  timezone varchar(128) DEFAULT NULL,
  rpid varchar(128) DEFAULT NULL,
  domn int(10) DEFAULT NULL,
  uuid varchar(64) DEFAULT NULL,
  PRIMARY KEY (username, domain)
);
CREATE UNIQUE INDEX subscriber_phplib_id ON subscriber (phplib_id);
CREATE INDEX subscriber_user_2 ON subscriber (username);

CREATE TABLE config (
  attribute varchar(32) NOT NULL,
  value varchar(128) NOT NULL,
  username varchar(64) NOT NULL DEFAULT '',
  domain varchar(128) NOT NULL DEFAULT '',
  modified timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE silo (
  mid INTEGER PRIMARY KEY AUTOINCREMENT,
  src_addr varchar(255) NOT NULL DEFAULT '',
  dst_addr varchar(255) NOT NULL DEFAULT '',
  r_uri varchar(255) NOT NULL DEFAULT '',
  username varchar(64) NOT NULL DEFAULT '',
  domain varchar(128) NOT NULL DEFAULT '',
  inc_time int(11) NOT NULL DEFAULT '0',
  exp_time int(11) NOT NULL DEFAULT '0',
  ctype varchar(32) NOT NULL DEFAULT 'text/plain',
  body blob NOT NULL
);

CREATE TABLE domain (
  domain varchar(128) NOT NULL DEFAULT '',
  last_modified datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  PRIMARY KEY (domain)
);

CREATE TABLE uri (
  username varchar(64) NOT NULL DEFAULT '',
  domain varchar(128) NOT NULL DEFAULT '',
  uri_user varchar(50) NOT NULL DEFAULT '',
  last_modified datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  PRIMARY KEY (username, domain, uri_user)
);

CREATE TABLE server_monitoring (
  time datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  id int(10) NOT NULL DEFAULT '0',
  param varchar(32) NOT NULL DEFAULT '',
  value int(10) NOT NULL DEFAULT '0',
  increment int(10) NOT NULL DEFAULT '0',
  PRIMARY KEY (id, param)
);

CREATE TABLE usr_preferences (
  uuid varchar(64) NOT NULL DEFAULT '',
  username varchar(100) NOT NULL DEFAULT '0',
  domain varchar(128) NOT NULL DEFAULT '',
  attribute varchar(32) NOT NULL DEFAULT '',
  value varchar(128) NOT NULL DEFAULT '',
  type int(11) NOT NULL DEFAULT '0',
  modified timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (attribute, username, domain)
);

CREATE TABLE preferences_types (
  att_name varchar(50) NOT NULL DEFAULT '',
  att_rich_type varchar(32) NOT NULL DEFAULT 'string',
  att_raw_type int(11) NOT NULL DEFAULT '2',
  att_type_spec text,
  default_value varchar(100) NOT NULL DEFAULT '',
  PRIMARY KEY (att_name)
);

CREATE TABLE trusted (
  src_ip varchar(39) NOT NULL,
  proto varchar(4) NOT NULL,
  from_pattern varchar(64) NOT NULL,
  PRIMARY KEY (src_ip, proto, from_pattern)
);

CREATE TABLE server_monitoring_agg (
  param varchar(32) NOT NULL DEFAULT '',
  s_value int(10) NOT NULL DEFAULT '0',
  s_increment int(10) NOT NULL DEFAULT '0',
  last_aggregated_increment int(10) NOT NULL DEFAULT '0',
  av float NOT NULL DEFAULT '0',
  mv int(10) NOT NULL DEFAULT '0',
  ad float NOT NULL DEFAULT '0',
  lv int(10) NOT NULL DEFAULT '0',
  min_val int(10) NOT NULL DEFAULT '0',
  max_val int(10) NOT NULL DEFAULT '0',
  min_inc int(10) NOT NULL DEFAULT '0',
  max_inc int(10) NOT NULL DEFAULT '0',
  lastupdate datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  PRIMARY KEY (param)
);

CREATE TABLE admin_privileges (
  username varchar(64) NOT NULL DEFAULT '',
  domain varchar(128) NOT NULL DEFAULT '',
  priv_name varchar(64) NOT NULL DEFAULT '',
  priv_value varchar(64) NOT NULL DEFAULT '',
  PRIMARY KEY (username, priv_name, priv_value, domain)
);

CREATE TABLE calls_forwarding (
  username varchar(64) NOT NULL DEFAULT '',
  domain varchar(128) NOT NULL DEFAULT '',
  uri_re varchar(128) NOT NULL DEFAULT '',
  purpose varchar(32) NOT NULL DEFAULT '',
  action varchar(32) NOT NULL DEFAULT '',
  param1 varchar(128) DEFAULT NULL,
  param2 varchar(128) DEFAULT NULL,
  PRIMARY KEY (username, domain, uri_re, purpose)
);

CREATE TABLE speed_dial (
  username varchar(64) NOT NULL DEFAULT '',
  domain varchar(128) NOT NULL DEFAULT '',
  sd_username varchar(64) NOT NULL DEFAULT '',
  sd_domain varchar(128) NOT NULL DEFAULT '',
  new_uri varchar(192) NOT NULL DEFAULT '',
  fname varchar(128) NOT NULL DEFAULT '',
  lname varchar(128) NOT NULL DEFAULT '',
  description varchar(64) NOT NULL DEFAULT '',
  PRIMARY KEY (username, domain, sd_username, sd_domain)
);
