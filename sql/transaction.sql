-- Debezium transaction metadata: BEGIN/END on <prefix>.transaction and the
-- transaction block of each event.
\i sql/setup.inc
\set VERBOSITY terse
SET synchronous_commit = on;
CREATE TABLE tx_a (id int PRIMARY KEY);
CREATE TABLE tx_b (id int PRIMARY KEY);

SELECT 'init' FROM pg_create_logical_replication_slot('tx_slot', 'cdc_kafka');
BEGIN;
INSERT INTO tx_a VALUES (1), (2);
INSERT INTO tx_b VALUES (1);
COMMIT;
-- a transaction that changes nothing published writes no BEGIN/END
CREATE TABLE tx_ignored (id int);

SELECT c->>'topic' AS topic, c->'key' AS key,
	   coalesce(c->'value'->'transaction', (c->'value') - 'ts_ms'::text - 'ts_us'::text - 'ts_ns'::text) AS meta
  FROM changes('tx_slot', 'schemas', 'false', 'include-transaction', 'true',
			   'topic-prefix', 'srv') AS c;

-- transaction ids are "xid:lsn" as Debezium 2.7's: one xid; BEGIN's LSN is
-- the transaction's first, END's its commit's end, an event's its own
INSERT INTO tx_a VALUES (3);
SELECT count(DISTINCT split_part(coalesce(d::jsonb->'value'->>'id', d::jsonb->'value'->'transaction'->>'id'), ':', 1)) AS xids,
	   count(DISTINCT coalesce(d::jsonb->'value'->>'id', d::jsonb->'value'->'transaction'->>'id')) AS ids,
	   bool_and(coalesce(d::jsonb->'value'->>'id', d::jsonb->'value'->'transaction'->>'id') ~ '^[0-9]+:[0-9]+$') AS shaped
  FROM pg_logical_slot_get_changes('tx_slot', NULL, NULL, 'schemas', 'false',
								   'include-transaction', 'on') AS s(l, x, d);

-- with schemas: the transaction metadata schema names
INSERT INTO tx_a VALUES (4);
SELECT c->>'topic' AS topic, c->'key'->'schema'->>'name' AS key_schema,
	   c->'value'->'schema'->>'name' AS value_schema
  FROM changes('tx_slot', 'include-transaction', 'true') AS c;
SELECT 'drop' FROM pg_drop_replication_slot('tx_slot');
