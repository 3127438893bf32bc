-- A database as SER 0.9's scripts/ser_mysql.sh ("create") left it, in the
-- form a mysqldump of it restored on a current MariaDB has: written for
-- ser's tests from the table list of that script and SER 0.9's documented
-- schema, not copied from it.
--
-- What makes it SER's and not ser's:
--   * MyISAM tables (the script's TABLE_TYPE; "TYPE=" is spelled
--     "ENGINE=" since MySQL 5.5) in latin1, the server default of the time;
--   * the zero date '0000-00-00 00:00:00' as datetime default and SER's
--     FOREVER '2020-05-28 21:32:15' as location/aliases expires default;
--   * SER's index names (user_2 twice, sip_callid, changed, phplib_id);
--   * version without any key, with SER 0.9.6's rows;
--   * acc and missed_calls without an id column;
--   * timestamp(14) columns, which a current server shows as
--     "timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE …".

CREATE TABLE version (
  table_name varchar(64) NOT NULL,
  table_version smallint(5) NOT NULL DEFAULT '0'
) ENGINE=MyISAM DEFAULT CHARSET=latin1;

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
  timestamp timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
  caller_deleted char(1) NOT NULL DEFAULT '0',
  callee_deleted char(1) NOT NULL DEFAULT '0',
  KEY acc_user (username, domain),
  KEY sip_callid (sip_callid)
) ENGINE=MyISAM DEFAULT CHARSET=latin1;

CREATE TABLE active_sessions (
  sid varchar(32) NOT NULL DEFAULT '',
  name varchar(32) NOT NULL DEFAULT '',
  val text,
  changed varchar(14) NOT NULL DEFAULT '',
  PRIMARY KEY (name, sid),
  KEY changed (changed)
) ENGINE=MyISAM DEFAULT CHARSET=latin1;

CREATE TABLE aliases (
  username varchar(64) NOT NULL DEFAULT '',
  domain varchar(128) NOT NULL DEFAULT '',
  contact varchar(255) NOT NULL DEFAULT '',
  received varchar(255) DEFAULT NULL,
  expires datetime NOT NULL DEFAULT '2020-05-28 21:32:15',
  q float(10,2) NOT NULL DEFAULT '1.00',
  callid varchar(255) NOT NULL DEFAULT 'Default-Call-ID',
  cseq int(11) NOT NULL DEFAULT '42',
  last_modified timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
  replicate int(10) unsigned NOT NULL DEFAULT '0',
  state tinyint(1) unsigned NOT NULL DEFAULT '0',
  flags int(11) NOT NULL DEFAULT '0',
  user_agent varchar(50) NOT NULL DEFAULT '',
  PRIMARY KEY (username, domain, contact),
  KEY aliases_contact (contact)
) ENGINE=MyISAM DEFAULT CHARSET=latin1;

CREATE TABLE event (
  id int(10) unsigned NOT NULL AUTO_INCREMENT,
  username varchar(64) NOT NULL DEFAULT '',
  domain varchar(128) NOT NULL DEFAULT '',
  uri varchar(255) NOT NULL DEFAULT '',
  description varchar(255) NOT NULL DEFAULT '',
  PRIMARY KEY (id)
) ENGINE=MyISAM DEFAULT CHARSET=latin1;

CREATE TABLE grp (
  username varchar(64) NOT NULL DEFAULT '',
  domain varchar(128) NOT NULL DEFAULT '',
  grp varchar(50) NOT NULL DEFAULT '',
  last_modified datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  PRIMARY KEY (username, domain, grp)
) ENGINE=MyISAM DEFAULT CHARSET=latin1;

CREATE TABLE location (
  username varchar(64) NOT NULL DEFAULT '',
  domain varchar(128) NOT NULL DEFAULT '',
  contact varchar(255) NOT NULL DEFAULT '',
  received varchar(255) DEFAULT NULL,
  expires datetime NOT NULL DEFAULT '2020-05-28 21:32:15',
  q float(10,2) NOT NULL DEFAULT '1.00',
  callid varchar(255) NOT NULL DEFAULT 'Default-Call-ID',
  cseq int(11) NOT NULL DEFAULT '42',
  last_modified timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
  replicate int(10) unsigned NOT NULL DEFAULT '0',
  state tinyint(1) unsigned NOT NULL DEFAULT '0',
  flags int(11) NOT NULL DEFAULT '0',
  user_agent varchar(50) NOT NULL DEFAULT '',
  PRIMARY KEY (username, domain, contact)
) ENGINE=MyISAM DEFAULT CHARSET=latin1;

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
  timestamp timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
  KEY mc_user (username, domain)
) ENGINE=MyISAM DEFAULT CHARSET=latin1;

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
  PRIMARY KEY (username, domain),
  UNIQUE KEY phplib_id (phplib_id),
  KEY user_2 (username)
) ENGINE=MyISAM DEFAULT CHARSET=latin1;

CREATE TABLE phonebook (
  id int(10) unsigned NOT NULL AUTO_INCREMENT,
  username varchar(64) NOT NULL DEFAULT '',
  domain varchar(128) NOT NULL DEFAULT '',
  fname varchar(32) NOT NULL DEFAULT '',
  lname varchar(32) NOT NULL DEFAULT '',
  sip_uri varchar(128) NOT NULL DEFAULT '',
  PRIMARY KEY (id)
) ENGINE=MyISAM DEFAULT CHARSET=latin1;

CREATE TABLE reserved (
  username char(64) NOT NULL DEFAULT '',
  UNIQUE KEY user2 (username)
) ENGINE=MyISAM DEFAULT CHARSET=latin1;

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
  PRIMARY KEY (username, domain),
  UNIQUE KEY phplib_id (phplib_id),
  KEY user_2 (username)
) ENGINE=MyISAM DEFAULT CHARSET=latin1;

CREATE TABLE config (
  attribute varchar(32) NOT NULL,
  value varchar(128) NOT NULL,
  username varchar(64) NOT NULL DEFAULT '',
  domain varchar(128) NOT NULL DEFAULT '',
  modified timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp()
) ENGINE=MyISAM DEFAULT CHARSET=latin1;

CREATE TABLE silo (
  mid int(11) NOT NULL AUTO_INCREMENT,
  src_addr varchar(255) NOT NULL DEFAULT '',
  dst_addr varchar(255) NOT NULL DEFAULT '',
  r_uri varchar(255) NOT NULL DEFAULT '',
  username varchar(64) NOT NULL DEFAULT '',
  domain varchar(128) NOT NULL DEFAULT '',
  inc_time int(11) NOT NULL DEFAULT '0',
  exp_time int(11) NOT NULL DEFAULT '0',
  ctype varchar(32) NOT NULL DEFAULT 'text/plain',
  body blob NOT NULL,
  PRIMARY KEY (mid)
) ENGINE=MyISAM DEFAULT CHARSET=latin1;

CREATE TABLE domain (
  domain varchar(128) NOT NULL DEFAULT '',
  last_modified datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  PRIMARY KEY (domain)
) ENGINE=MyISAM DEFAULT CHARSET=latin1;

CREATE TABLE uri (
  username varchar(64) NOT NULL DEFAULT '',
  domain varchar(128) NOT NULL DEFAULT '',
  uri_user varchar(50) NOT NULL DEFAULT '',
  last_modified datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  PRIMARY KEY (username, domain, uri_user)
) ENGINE=MyISAM DEFAULT CHARSET=latin1;

CREATE TABLE server_monitoring (
  time datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  id int(10) unsigned NOT NULL DEFAULT '0',
  param varchar(32) NOT NULL DEFAULT '',
  value int(10) NOT NULL DEFAULT '0',
  increment int(10) NOT NULL DEFAULT '0',
  PRIMARY KEY (id, param)
) ENGINE=MyISAM DEFAULT CHARSET=latin1;

CREATE TABLE usr_preferences (
  uuid varchar(64) NOT NULL DEFAULT '',
  username varchar(100) NOT NULL DEFAULT '0',
  domain varchar(128) NOT NULL DEFAULT '',
  attribute varchar(32) NOT NULL DEFAULT '',
  value varchar(128) NOT NULL DEFAULT '',
  type int(11) NOT NULL DEFAULT '0',
  modified timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
  PRIMARY KEY (attribute, username, domain)
) ENGINE=MyISAM DEFAULT CHARSET=latin1;

CREATE TABLE preferences_types (
  att_name varchar(50) NOT NULL DEFAULT '',
  att_rich_type varchar(32) NOT NULL DEFAULT 'string',
  att_raw_type int(11) unsigned NOT NULL DEFAULT '2',
  att_type_spec text,
  default_value varchar(100) NOT NULL DEFAULT '',
  PRIMARY KEY (att_name)
) ENGINE=MyISAM DEFAULT CHARSET=latin1;

CREATE TABLE trusted (
  src_ip varchar(39) NOT NULL,
  proto varchar(4) NOT NULL,
  from_pattern varchar(64) NOT NULL,
  PRIMARY KEY (src_ip, proto, from_pattern)
) ENGINE=MyISAM DEFAULT CHARSET=latin1;

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
) ENGINE=MyISAM DEFAULT CHARSET=latin1;

CREATE TABLE admin_privileges (
  username varchar(64) NOT NULL DEFAULT '',
  domain varchar(128) NOT NULL DEFAULT '',
  priv_name varchar(64) NOT NULL DEFAULT '',
  priv_value varchar(64) NOT NULL DEFAULT '',
  PRIMARY KEY (username, priv_name, priv_value, domain)
) ENGINE=MyISAM DEFAULT CHARSET=latin1;

CREATE TABLE calls_forwarding (
  username varchar(64) NOT NULL DEFAULT '',
  domain varchar(128) NOT NULL DEFAULT '',
  uri_re varchar(128) NOT NULL DEFAULT '',
  purpose varchar(32) NOT NULL DEFAULT '',
  action varchar(32) NOT NULL DEFAULT '',
  param1 varchar(128) DEFAULT NULL,
  param2 varchar(128) DEFAULT NULL,
  PRIMARY KEY (username, domain, uri_re, purpose)
) ENGINE=MyISAM DEFAULT CHARSET=latin1;

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
) ENGINE=MyISAM DEFAULT CHARSET=latin1;
