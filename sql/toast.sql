-- Unchanged TOASTed values are not in the WAL: Debezium's placeholder.
\i sql/setup.inc
\set VERBOSITY terse
SET synchronous_commit = on;
CREATE TABLE toasted (id int PRIMARY KEY, big text, blob bytea, small text);
ALTER TABLE toasted ALTER COLUMN big SET STORAGE EXTERNAL;
ALTER TABLE toasted ALTER COLUMN blob SET STORAGE EXTERNAL;
CREATE TABLE toasted_full (id int PRIMARY KEY, big text);
ALTER TABLE toasted_full ALTER COLUMN big SET STORAGE EXTERNAL;
ALTER TABLE toasted_full REPLICA IDENTITY FULL;

SELECT 'init' FROM pg_create_logical_replication_slot('toast_slot', 'cdc_kafka');

INSERT INTO toasted VALUES (1, repeat('x', 100000), convert_to(repeat('y', 5000), 'UTF8'), 's');
INSERT INTO toasted_full VALUES (1, repeat('z', 100000));
UPDATE toasted SET small = 't' WHERE id = 1;
UPDATE toasted SET big = repeat('w', 90000) WHERE id = 1;
UPDATE toasted_full SET id = 1 WHERE id = 1;

SELECT c->>'topic' AS topic, c->'value'->>'op' AS op,
	   length(c->'value'->'after'->>'big') AS big_len,
	   left(c->'value'->'after'->>'big', 30) AS big_head,
	   left(c->'value'->'after'->>'blob', 30) AS blob_head,
	   c->'value'->'after'->>'small' AS small,
	   length(c->'value'->'before'->>'big') AS before_big_len
  FROM changes('toast_slot', 'schemas', 'false') AS c;

SELECT 'drop' FROM pg_drop_replication_slot('toast_slot');

-- A snapshot reads rows from the table, whose TOASTed values are pointers
-- to fetch, not "unchanged": the values themselves, never the placeholder.
SELECT length((value::jsonb)->'after'->>'big') AS big_len,
	   left((value::jsonb)->'after'->>'big', 10) AS big_head,
	   left((value::jsonb)->'after'->>'blob', 10) AS blob_head,
	   (value::jsonb)->'after'->>'small' AS small
  FROM cdc_kafka.snapshot_events('toasted', 'srv', '{schemas,false}');
SELECT length((value::jsonb)->'after'->>'big') AS big_len
  FROM cdc_kafka.snapshot_events('toasted_full', 'srv', '{schemas,false}');

-- A key change under REPLICA IDENTITY FULL is a delete and a create: the
-- create takes the unchanged TOASTed value from the old image too.
SELECT 'init' FROM pg_create_logical_replication_slot('toast_key_slot', 'cdc_kafka');
UPDATE toasted_full SET id = 2 WHERE id = 1;
SELECT c->'value'->>'op' AS op, length(c->'value'->'before'->>'big') AS before_big_len,
	   length(c->'value'->'after'->>'big') AS after_big_len
  FROM changes('toast_key_slot', 'schemas', 'false') AS c;
SELECT 'drop' FROM pg_drop_replication_slot('toast_key_slot');

-- A key stored out of line is in the WAL's old key with every update, and
-- the new tuple points at it: a plain update of another column is a "u" with
-- the real key, not a delete and a create under the placeholder.
CREATE TABLE toasted_key (k text PRIMARY KEY, v int);
ALTER TABLE toasted_key ALTER COLUMN k SET STORAGE EXTERNAL;
INSERT INTO toasted_key VALUES (repeat('k', 2500), 0);
SELECT 'init' FROM pg_create_logical_replication_slot('toast_pk_slot', 'cdc_kafka');
UPDATE toasted_key SET v = 1;
SELECT c->'value'->>'op' AS op, length(c->'key'->>'k') AS key_len,
	   left(c->'key'->>'k', 5) AS key_head, length(c->'value'->'after'->>'k') AS after_k_len,
	   c->'value'->'after'->>'v' AS v
  FROM changes('toast_pk_slot', 'schemas', 'false') AS c;
SELECT 'drop' FROM pg_drop_replication_slot('toast_pk_slot');

-- An unchanged TOASTed hstore (a JSON string): Debezium's placeholder map.
CREATE EXTENSION hstore;
CREATE TABLE toasted_hstore (id int PRIMARY KEY, h hstore, v int);
ALTER TABLE toasted_hstore ALTER COLUMN h SET STORAGE EXTERNAL;
INSERT INTO toasted_hstore SELECT 1, hstore(array_agg('k' || g), array_agg('v' || g)), 0
  FROM generate_series(1, 300) g;
SELECT 'init' FROM pg_create_logical_replication_slot('toast_hstore_slot', 'cdc_kafka');
UPDATE toasted_hstore SET v = 1;
SELECT c->'value'->'after'->>'h' AS h, (c->'value'->'after'->>'h')::jsonb AS h_json
  FROM changes('toast_hstore_slot', 'schemas', 'false') AS c;
SELECT 'drop' FROM pg_drop_replication_slot('toast_hstore_slot');
DROP TABLE toasted_hstore;
DROP EXTENSION hstore;

-- Under REPLICA IDENTITY FULL the old image holds a compressed key as it
-- was stored; stored anew with another compression it is the same key, and
-- the update is a "u", not a delete and a create.
CREATE TABLE compressed_key (k text PRIMARY KEY, v int);
ALTER TABLE compressed_key REPLICA IDENTITY FULL;
INSERT INTO compressed_key VALUES (repeat('ab', 3000), 0);
ALTER TABLE compressed_key ALTER COLUMN k SET COMPRESSION lz4;
SELECT 'init' FROM pg_create_logical_replication_slot('compressed_key_slot', 'cdc_kafka');
UPDATE compressed_key SET k = k || '', v = 1;
SELECT c->'value'->>'op' AS op, length(c->'key'->>'k') AS key_len,
	   c->'value'->'before'->>'v' AS before_v, c->'value'->'after'->>'v' AS after_v
  FROM changes('compressed_key_slot', 'schemas', 'false') AS c;
SELECT 'drop' FROM pg_drop_replication_slot('compressed_key_slot');
