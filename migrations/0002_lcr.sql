-- Least cost routing: SER trunk (2005-08, kamailio aa86b4b1) gw, gw_grp and
-- lcr tables, plus Inode's gw_cap capability table (the LCR-Capability
-- patch for rel_0_9_0).
--
-- gw.ip_addr keeps SER's encoding: the IPv4 address bytes in network order
-- read as a little-endian integer (the in_addr s_addr of an x86 host), so
-- 127.0.0.1 is 16777343. The store converts to and from netip.Addr.
-- uri_scheme: NULL or 1 = sip, 2 = sips. transport: NULL, 1 udp, 2 tcp,
-- 3 tls.

CREATE TABLE gw (
  gw_name VARCHAR(128) NOT NULL,
  grp_id INT UNSIGNED NOT NULL,
  ip_addr INT UNSIGNED NOT NULL,
  port SMALLINT UNSIGNED,
  uri_scheme TINYINT UNSIGNED,
  transport TINYINT UNSIGNED,
  prefix VARCHAR(16) DEFAULT NULL,
  PRIMARY KEY (gw_name)
){{TABLE_OPTIONS}};
CREATE INDEX gw_grp_id ON gw (grp_id);

CREATE TABLE gw_grp (
  grp_id {{AUTO_ID}},
  grp_name VARCHAR(64) NOT NULL
){{TABLE_OPTIONS}};

CREATE TABLE lcr (
  prefix VARCHAR(16) NOT NULL,
  from_uri VARCHAR(128) NOT NULL DEFAULT '%',
  grp_id INT UNSIGNED NOT NULL,
  priority TINYINT UNSIGNED NOT NULL
){{TABLE_OPTIONS}};
CREATE INDEX lcr_prefix ON lcr (prefix);
CREATE INDEX lcr_from_uri ON lcr (from_uri);
CREATE INDEX lcr_grp_id ON lcr (grp_id);

-- gw_cap: one row per gateway trunk. cap is a bit field (1 phone, 2 fax,
-- 4, 8 … site-defined); load_gws(caps) selects trunks whose cap shares a
-- bit with caps. prefix is put in front of the R-URI user for that trunk;
-- priority orders trunks (lower first) and is the weight among equals.
CREATE TABLE gw_cap (
  gw_name VARCHAR(128) NOT NULL,
  cap INT UNSIGNED NOT NULL,
  prefix VARCHAR(16) NOT NULL DEFAULT '',
  priority INT NOT NULL DEFAULT 1,
  PRIMARY KEY (gw_name, cap),
  FOREIGN KEY (gw_name) REFERENCES gw (gw_name) ON DELETE CASCADE ON UPDATE CASCADE
){{TABLE_OPTIONS}};

-- SER 0.9.6's table versions, each added only when the version table has
-- no row for its table yet: an adopted SER database keeps its own rows.
INSERT INTO version (table_name, table_version)
SELECT t.table_name, t.table_version FROM (
  SELECT 'gw' AS table_name, 3 AS table_version
  UNION ALL SELECT 'gw_grp', 1
  UNION ALL SELECT 'lcr', 1
  UNION ALL SELECT 'gw_cap', 1
) AS t
WHERE NOT EXISTS (SELECT 1 FROM version AS v WHERE v.table_name = t.table_name);
