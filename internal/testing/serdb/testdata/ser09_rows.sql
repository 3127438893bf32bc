-- Rows of a small SER 0.9 installation, as SER's tools wrote them:
-- ser_mysql.sh's initial admin (password "heslo"), users added with
-- "serctl add" (password kept in clear and as ha1/ha1b = MD5 of
-- user:realm:password and user@domain:realm:password, realm = domain),
-- one user whose clear password was blanked by the administrator (only
-- ha1 authenticates her), registrations written by usrloc (one live, one
-- permanent from "serctl ul add" with flags 128 and expires 0 in SER's
-- local time, one long expired), an alias from "serctl alias add", ACL
-- groups from "serctl acl grant", accounting records of the acc module
-- (no id column) and serweb's rows. Loaded the same way into MySQL and
-- SQLite after ser09_mysql.sql or ser09_sqlite.sql.
--
-- Passwords: admin heslo, alice wonderland, bob builder, carol cinnamon.

INSERT INTO subscriber (username, password, first_name, last_name, phone, email_address, datetime_created,
  datetime_modified, confirmation, flag, sendnotification, greeting, ha1, domain, ha1b, phplib_id)
VALUES ('admin', 'heslo', 'Initial', 'Admin', '123', 'root@localhost', '2002-09-04 19:37:45',
  '0000-00-00 00:00:00', '57DaSIPuCm52UNe54LF545750cfdL48OMZfroM53', 'o', '', '',
  '5f2efb3a4d593b680f9fe412796bd530', 'example.org', 'f9081991ee3a8986a6f237da3359fecd',
  '2364fa031f012cf2a4790a82870f3b90');
INSERT INTO subscriber (phplib_id, username, domain, password, first_name, last_name, phone, email_address,
  datetime_created, datetime_modified, confirmation, flag, sendnotification, greeting, ha1, ha1b, allow_find,
  timezone, rpid, domn, uuid)
VALUES ('9e1b3e7c1f0a4d2b8c6a5e4f3d2c1b0a', 'alice', 'example.org', 'wonderland', 'Alice', 'Liddell',
  '+420 2 1234', 'alice@example.org', '2005-03-07 10:02:11', '2005-03-07 10:02:11', '', 'o', '', '',
  '72f86f2053703faa0f521ce71cfe6f59', 'f5d991d8b5ad4d9bcb5958f6cd125f8c', '1', 'Europe/Prague',
  'sip:+4202001@example.org', NULL, NULL);
INSERT INTO subscriber (phplib_id, username, domain, password, first_name, last_name, phone, email_address,
  datetime_created, datetime_modified, confirmation, flag, sendnotification, greeting, ha1, ha1b, allow_find,
  timezone, rpid, domn, uuid)
VALUES ('0a1b2c3d4e5f60718293a4b5c6d7e8f9', 'bob', 'example.org', 'builder', 'Bob', 'Müller',
  '', 'bob@example.org', '2005-03-07 10:03:40', '2005-04-01 08:30:00', '', 'o', '', '',
  'b70615a74a524becc6960f540634bb00', 'a2a8234821da075df8915cea3307dfe8', '0', NULL, NULL, NULL, NULL);
INSERT INTO subscriber (phplib_id, username, domain, password, first_name, last_name, phone, email_address,
  datetime_created, datetime_modified, confirmation, flag, sendnotification, greeting, ha1, ha1b, allow_find)
VALUES ('f0e1d2c3b4a5968778695a4b3c2d1e0f', 'carol', 'example.org', '', 'Carol', 'Danvers',
  '', 'carol@example.org', '2005-05-12 14:00:00', '2005-06-01 09:00:00', '', 'o', '', '',
  'eb368e8392b70dad596b53c0de4a68cb', 'cf30b1ceac9d06fa7bbd66f0b71f0861', '0');

INSERT INTO pending (phplib_id, username, domain, password, first_name, last_name, email_address,
  datetime_created, confirmation, ha1, ha1b)
VALUES ('5c4b3a29180f7e6d5c4b3a2918070605', 'dave', 'example.org', 'secret', 'Dave', 'Jones',
  'dave@example.org', '2005-06-02 11:00:00', '8d0e5a1f2b3c4d5e6f708192a3b4c5d6',
  'c2f1bd64d0fd35a3f0a1bbdd1b5b36f3', '0b7c2a4f7e6d5c4b3a29180716253443');

INSERT INTO admin_privileges (username, domain, priv_name, priv_value) VALUES ('admin', 'example.org', 'is_admin', '1');
INSERT INTO admin_privileges (username, domain, priv_name, priv_value) VALUES ('admin', 'example.org', 'change_privileges', '1');

INSERT INTO uri (username, domain, uri_user, last_modified) VALUES ('alice', 'example.org', 'alice', '2005-03-07 10:02:11');
INSERT INTO uri (username, domain, uri_user, last_modified) VALUES ('bob', 'example.org', 'bob', '2005-03-07 10:03:40');
INSERT INTO uri (username, domain, uri_user, last_modified) VALUES ('carol', 'example.org', 'carol', '2005-05-12 14:00:00');

INSERT INTO grp (username, domain, grp, last_modified) VALUES ('alice', 'example.org', 'local', '2005-03-07 10:05:00');
INSERT INTO grp (username, domain, grp, last_modified) VALUES ('alice', 'example.org', 'ld', '2005-03-07 10:05:02');
INSERT INTO grp (username, domain, grp, last_modified) VALUES ('bob', 'example.org', 'local', '2005-03-07 10:05:10');

INSERT INTO domain (domain, last_modified) VALUES ('example.org', '2005-03-07 10:00:00');

INSERT INTO location (username, domain, contact, received, expires, q, callid, cseq, last_modified, replicate,
  state, flags, user_agent)
VALUES ('alice', 'example.org', 'sip:alice@192.0.2.10:5060', NULL, '2037-12-31 23:00:00', 1.00,
  'a84b4c76e66710@pc33.example.org', 3, '2005-03-07 10:15:00', 0, 0, 0, 'X-Lite release 1105x');
INSERT INTO location (username, domain, contact, received, expires, q, callid, cseq, last_modified, replicate,
  state, flags, user_agent)
VALUES ('bob', 'example.org', 'sip:bob@192.0.2.20', NULL, '1970-01-01 01:00:00', 1.00,
  'dfjrewr12386fd6-343@Jiri.Ser.Fifo.Request', 1, '2005-03-07 10:20:00', 0, 0, 128, '');
INSERT INTO location (username, domain, contact, received, expires, q, callid, cseq, last_modified, replicate,
  state, flags, user_agent)
VALUES ('carol', 'example.org', 'sip:carol@198.51.100.7:5060', NULL, '2005-06-01 10:00:00', 0.50,
  '3848276298220188511@198.51.100.7', 12, '2005-06-01 09:00:00', 0, 0, 0, 'Grandstream BT100 1.0.5.11');

INSERT INTO aliases (username, domain, contact, received, expires, q, callid, cseq, last_modified, replicate,
  state, flags, user_agent)
VALUES ('7001', 'example.org', 'sip:alice@example.org', NULL, '1970-01-01 01:00:00', 1.00,
  'dfjrewr12386fd6-343@Jiri.Ser.Fifo.Request', 1, '2005-03-07 10:30:00', 0, 0, 128, '');

INSERT INTO acc (sip_from, sip_to, sip_status, sip_method, i_uri, o_uri, from_uri, to_uri, sip_callid, username,
  domain, fromtag, totag, time, timestamp, caller_deleted, callee_deleted)
VALUES ('"Alice" <sip:alice@example.org>;tag=1928301774', '<sip:bob@example.org>;tag=a6c85cf', '200',
  'INVITE', 'sip:bob@example.org', 'sip:bob@192.0.2.20', 'sip:alice@example.org', 'sip:bob@example.org',
  'a84b4c76e66710@pc33.example.org', 'alice', 'example.org', '1928301774', 'a6c85cf',
  '2005-03-07 11:00:02', '2005-03-07 11:00:02', '0', '0');
INSERT INTO acc (sip_from, sip_to, sip_status, sip_method, i_uri, o_uri, from_uri, to_uri, sip_callid, username,
  domain, fromtag, totag, time, timestamp, caller_deleted, callee_deleted)
VALUES ('"Alice" <sip:alice@example.org>;tag=1928301774', '<sip:bob@example.org>;tag=a6c85cf', '200',
  'BYE', 'sip:bob@192.0.2.20', 'sip:bob@192.0.2.20', 'sip:alice@example.org', 'sip:bob@example.org',
  'a84b4c76e66710@pc33.example.org', 'alice', 'example.org', '1928301774', 'a6c85cf',
  '2005-03-07 11:04:40', '2005-03-07 11:04:40', '0', '0');
INSERT INTO acc (sip_from, sip_to, sip_status, sip_method, i_uri, o_uri, from_uri, to_uri, sip_callid, username,
  domain, fromtag, totag, time, timestamp, caller_deleted, callee_deleted)
VALUES ('<sip:bob@example.org>;tag=99a1', '<sip:7001@example.org>;tag=77f0', '200',
  'INVITE', 'sip:7001@example.org', 'sip:alice@192.0.2.10:5060', 'sip:bob@example.org', 'sip:7001@example.org',
  '1j9FpLxk3uxtm8tn@192.0.2.20', 'bob', 'example.org', '99a1', '77f0',
  '2005-03-08 09:12:00', '2005-03-08 09:12:00', '0', '0');

INSERT INTO missed_calls (sip_from, sip_to, sip_status, sip_method, i_uri, o_uri, from_uri, to_uri, sip_callid,
  username, domain, fromtag, totag, time, timestamp)
VALUES ('<sip:bob@example.org>;tag=5b22', '<sip:carol@example.org>', '486', 'INVITE',
  'sip:carol@example.org', 'sip:carol@198.51.100.7:5060', 'sip:bob@example.org', 'sip:carol@example.org',
  'f81d4fae-7dec-11d0-a765-00a0c91e6bf6@192.0.2.20', 'carol', 'example.org', '5b22', '',
  '2005-06-01 09:30:00', '2005-06-01 09:30:00');

INSERT INTO phonebook (username, domain, fname, lname, sip_uri)
VALUES ('alice', 'example.org', 'Bob', 'Müller', 'sip:bob@example.org');
INSERT INTO speed_dial (username, domain, sd_username, sd_domain, new_uri, fname, lname, description)
VALUES ('alice', 'example.org', '1', 'example.org', 'sip:bob@example.org', 'Bob', 'Müller', 'Bob at work');
INSERT INTO reserved (username) VALUES ('postmaster');
INSERT INTO preferences_types (att_name, att_rich_type, att_raw_type, att_type_spec, default_value)
VALUES ('fw_on_busy', 'boolean', 2, NULL, '0');
INSERT INTO usr_preferences (uuid, username, domain, attribute, value, type, modified)
VALUES ('', 'alice', 'example.org', 'fw_on_busy', '1', 2, '2005-03-07 10:40:00');
INSERT INTO trusted (src_ip, proto, from_pattern) VALUES ('192.0.2.99', 'udp', '^sip:.*@gw.example.org$');
INSERT INTO silo (src_addr, dst_addr, r_uri, username, domain, inc_time, exp_time, ctype, body)
VALUES ('sip:alice@example.org', 'sip:carol@example.org', 'sip:carol@example.org', 'carol', 'example.org',
  1117613400, 1117872600, 'text/plain', 'Call me back, please.');
INSERT INTO active_sessions (sid, name, val, changed)
VALUES ('3f2a9c0e7b1d4e5f8a6b2c9d0e1f2a3b', 'phplib_Session', 'phplib_Session:c2Vzc2lvbg==', '20050307104500');
