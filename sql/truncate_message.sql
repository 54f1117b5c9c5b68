-- Truncate events and logical decoding messages.
\i sql/setup.inc
\set VERBOSITY terse
SET synchronous_commit = on;
CREATE TABLE trunc_a (id int PRIMARY KEY);
CREATE TABLE trunc_b (id int PRIMARY KEY);
INSERT INTO trunc_a VALUES (1);
INSERT INTO trunc_b VALUES (1);

SELECT 'init' FROM pg_create_logical_replication_slot('tm_slot', 'cdc_kafka');
TRUNCATE trunc_a, trunc_b;
SELECT 'msg' FROM pg_logical_emit_message(true, 'audit', 'bar');
SELECT 'msg' FROM pg_logical_emit_message(false, 'audit', E'\\x00ff'::bytea);
SELECT 'msg' FROM pg_logical_emit_message(true, 'other', 'skip me when filtered');

SELECT c->>'topic' AS topic, c->'key' AS key, c->'value'->>'op' AS op,
	   c->'value'->'before' AS before, c->'value'->'after' AS after,
	   c->'value'->'message' AS message,
	   c->'value'->'source'->>'table' AS source_table,
	   c->'value'->'source'->>'txId' AS txid
  FROM changes('tm_slot', 'schemas', 'false', 'include-truncate', 'true') AS c;

-- truncates are skipped by default, as Debezium 2.x skips them
TRUNCATE trunc_b;
SELECT count(*) FROM changes('tm_slot', 'schemas', 'false');

-- filters: only the "audit" prefix; truncates and messages can be off
TRUNCATE trunc_a;
SELECT 'msg' FROM pg_logical_emit_message(true, 'audit', 'kept');
SELECT 'msg' FROM pg_logical_emit_message(true, 'other', 'dropped');
SELECT c->>'topic' AS topic, c->'value'->>'op' AS op, c->'value'->'message' AS message
  FROM changes('tm_slot', 'schemas', 'false', 'message-prefixes', 'audit,x',
			   'include-truncate', 'false') AS c;
SELECT 'msg' FROM pg_logical_emit_message(true, 'audit', 'dropped too');
SELECT count(*) FROM changes('tm_slot', 'include-messages', 'false');

-- with schemas: Debezium's message key and value schema names
SELECT 'msg' FROM pg_logical_emit_message(true, 'audit', 'bar');
SELECT c->'key'->'schema'->>'name' AS key_schema,
	   c->'value'->'schema'->>'name' AS value_schema,
	   c->'key'->'payload' AS key
  FROM changes('tm_slot') AS c;
SELECT 'drop' FROM pg_drop_replication_slot('tm_slot');
