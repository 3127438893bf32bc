-- The jabber gateway's account table: SER 0.9's jabber module read the
-- XMPP account of a SIP user from `jusers` (doc/xjab.sql of the module,
-- the `sip_jab` database): the SIP user's address of record as the From
-- header carried it (`sip:alice@example.com`), the XMPP user name (the
-- local part; the XMPP domain is the module's jaddress, or a full JID)
-- and its password — in clear, as SER stored it, since the gateway logs
-- in with it — and `type` 0 for an enabled account (SER's subscription
-- page wrote 1 to disable one). SER's per-transport tables (icq, msn,
-- aim, yahoo) belonged to its web page, not the module, and are not made.

CREATE TABLE jusers (
  juid {{AUTO_ID}},
  jab_id VARCHAR(128) NOT NULL,
  jab_passwd VARCHAR(50),
  sip_id VARCHAR(128) NOT NULL,
  type INT NOT NULL DEFAULT 0
){{TABLE_OPTIONS}};

CREATE INDEX jusers_jab_id ON jusers (jab_id);
CREATE INDEX jusers_sip_id ON jusers (sip_id);
