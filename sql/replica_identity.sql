-- before under each REPLICA IDENTITY, key changes, tables without a key.
\i sql/setup.inc
\set VERBOSITY terse
SET synchronous_commit = on;
CREATE TABLE ri_default (id int PRIMARY KEY, name text NOT NULL, note text, n int NOT NULL);
CREATE TABLE ri_full (id int PRIMARY KEY, name text NOT NULL, note text);
ALTER TABLE ri_full REPLICA IDENTITY FULL;
CREATE TABLE ri_nothing (id int PRIMARY KEY, name text);
ALTER TABLE ri_nothing REPLICA IDENTITY NOTHING;
CREATE TABLE ri_index (a int NOT NULL, b text NOT NULL, c text);
CREATE UNIQUE INDEX ri_index_ab ON ri_index (a, b);
ALTER TABLE ri_index REPLICA IDENTITY USING INDEX ri_index_ab;
CREATE TABLE no_key (x int, y text);
CREATE TABLE ri_defaults (id int PRIMARY KEY, s text NOT NULL DEFAULT 'abc',
						  n int NOT NULL DEFAULT 7, m int NOT NULL, o int DEFAULT 9);
-- a primary key and an identity index without it, or with all of it
CREATE TABLE ri_pk_other (id int PRIMARY KEY, code text NOT NULL, v text);
CREATE UNIQUE INDEX ri_pk_other_code ON ri_pk_other (code);
ALTER TABLE ri_pk_other REPLICA IDENTITY USING INDEX ri_pk_other_code;
CREATE TABLE ri_pk_wider (id int PRIMARY KEY, code text NOT NULL, v text);
CREATE UNIQUE INDEX ri_pk_wider_idcode ON ri_pk_wider (code, id);
ALTER TABLE ri_pk_wider REPLICA IDENTITY USING INDEX ri_pk_wider_idcode;
INSERT INTO ri_default VALUES (1, 'one', 'n1', 11), (2, 'two', NULL, 22);
INSERT INTO ri_full VALUES (1, 'one', 'n1');
INSERT INTO ri_nothing VALUES (1, 'one');
INSERT INTO ri_index VALUES (1, 'b1', 'c1');
INSERT INTO no_key VALUES (1, 'y1');
INSERT INTO ri_defaults VALUES (1, 'x', 1, 1, 1);
INSERT INTO ri_pk_other VALUES (7, 'x', 'a');
INSERT INTO ri_pk_wider VALUES (7, 'x', 'a');

SELECT 'init' FROM pg_create_logical_replication_slot('ri_slot', 'cdc_kafka');

-- DEFAULT: update has no before; delete has the key, other required
-- columns at their zero value, optional ones null.
UPDATE ri_default SET name = 'uno' WHERE id = 1;
DELETE FROM ri_default WHERE id = 2;
-- a key change is a delete of the old key and a create of the new one
UPDATE ri_default SET id = 3 WHERE id = 1;
-- the required columns a delete does not log take the schema's default
-- first, as Debezium's converters do; optional ones are null
DELETE FROM ri_defaults WHERE id = 1;
-- FULL: the whole old row
UPDATE ri_full SET name = 'uno' WHERE id = 1;
UPDATE ri_full SET id = 4 WHERE id = 1;
DELETE FROM ri_full WHERE id = 4;
-- NOTHING: no old values at all, no crash
UPDATE ri_nothing SET name = 'uno' WHERE id = 1;
DELETE FROM ri_nothing WHERE id = 1;
-- USING INDEX without a primary key: the index columns are the key
UPDATE ri_index SET c = 'c2' WHERE a = 1;
DELETE FROM ri_index WHERE a = 1;
-- the identity index leaves out the primary key: the index is the key, so
-- a delete is keyed by what its WAL holds, and a change of the identity is
-- a change of the key (never a delete of {"id":0})
INSERT INTO ri_pk_other VALUES (8, 'p', 'b');
UPDATE ri_pk_other SET v = 'b' WHERE id = 7;
UPDATE ri_pk_other SET code = 'y' WHERE id = 7;
UPDATE ri_pk_other SET id = 70 WHERE id = 7;
DELETE FROM ri_pk_other WHERE id = 70;
-- the identity index holds the whole primary key: the primary key is
-- the key, as Debezium's
UPDATE ri_pk_wider SET code = 'y' WHERE id = 7;
DELETE FROM ri_pk_wider WHERE id = 7;
-- no key at all: null key
INSERT INTO no_key VALUES (2, 'y2');

SELECT c->>'topic' AS topic, c->'key' AS key, c->'value'->>'op' AS op,
	   c->'value'->'before' AS before, c->'value'->'after' AS after
  FROM changes('ri_slot', 'schemas', 'false') AS c;

SELECT 'drop' FROM pg_drop_replication_slot('ri_slot');
