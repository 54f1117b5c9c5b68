-- Topic names: Kafka allows only [a-zA-Z0-9._-], so every other character
-- of a schema or table name becomes "_", one per UTF-16 unit, as Debezium's
-- topic naming does; the source block keeps the real names.
\i sql/setup.inc
\set VERBOSITY terse
SET synchronous_commit = on;
CREATE SCHEMA "Café";
CREATE TABLE "Café"."Order Items/2024" (id int PRIMARY KEY);
CREATE TABLE "Café"."ok-Name_1.x" (id int PRIMARY KEY);
SELECT 'init' FROM pg_create_logical_replication_slot('topics_slot', 'cdc_kafka');
INSERT INTO "Café"."Order Items/2024" VALUES (1);
INSERT INTO "Café"."ok-Name_1.x" VALUES (1);
SELECT c->>'topic' AS topic, c->'value'->'source'->>'schema' AS schema,
	   c->'value'->'source'->>'table' AS "table"
  FROM changes('topics_slot', 'schemas', 'false') AS c;
SELECT topic FROM cdc_kafka.snapshot_events('"Café"."Order Items/2024"', 'srv', '{schemas,false}');
SELECT 'drop' FROM pg_drop_replication_slot('topics_slot');
DROP SCHEMA "Café" CASCADE;
-- the default prefix, the database's name, is made a topic name the same way
CREATE DATABASE "cdc db-é";
\c "cdc db-é"
SET synchronous_commit = on;
CREATE TABLE t (id int PRIMARY KEY);
SELECT 'init' FROM pg_create_logical_replication_slot('topics_db_slot', 'cdc_kafka');
INSERT INTO t VALUES (1);
SELECT substring(data from '"topic":"([^"]*)"') AS topic
  FROM pg_logical_slot_get_changes('topics_db_slot', NULL, NULL);
SELECT 'drop' FROM pg_drop_replication_slot('topics_db_slot');
\c contrib_regression
DROP DATABASE "cdc db-é";
-- in a SQL_ASCII database (names often hold UTF-8 bytes) and in LATIN1,
-- still one "_" per character as Debezium counts them
CREATE DATABASE cdc_topics_ascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
\c cdc_topics_ascii
SET synchronous_commit = on;
CREATE TABLE "Café✓" (id int PRIMARY KEY);
SELECT 'init' FROM pg_create_logical_replication_slot('topics_ascii_slot', 'cdc_kafka');
INSERT INTO "Café✓" VALUES (1);
SELECT substring(data from '"topic":"([^"]*)"') AS topic
  FROM pg_logical_slot_get_changes('topics_ascii_slot', NULL, NULL);
SELECT 'drop' FROM pg_drop_replication_slot('topics_ascii_slot');
\c contrib_regression
DROP DATABASE cdc_topics_ascii;
