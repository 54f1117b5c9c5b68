-- Schema changes mid-stream, dropped and generated columns.
\i sql/setup.inc
\set VERBOSITY terse
SET synchronous_commit = on;
CREATE TABLE evolving (id int PRIMARY KEY, a text, doomed text,
					   twice int GENERATED ALWAYS AS (id * 2) STORED);

SELECT 'init' FROM pg_create_logical_replication_slot('ddl_slot', 'cdc_kafka');
INSERT INTO evolving (id, a, doomed) VALUES (1, 'a1', 'd1');
ALTER TABLE evolving ADD COLUMN b int NOT NULL DEFAULT 7;
INSERT INTO evolving (id, a) VALUES (2, 'a2');
ALTER TABLE evolving DROP COLUMN doomed;
BEGIN;
INSERT INTO evolving (id, a) VALUES (3, 'a3');
ALTER TABLE evolving ALTER COLUMN a TYPE varchar(10);
INSERT INTO evolving (id, a) VALUES (4, 'a4');
COMMIT;

-- each event carries the schema in force when it was written
SELECT c->'value'->'payload'->'after' AS after,
	   (SELECT string_agg(f->>'field' || ':' || (f->>'type') || ':' || (f->>'optional'), ', ')
		  FROM jsonb_array_elements(c->'value'->'schema'->'fields'->1->'fields') f) AS after_fields
  FROM changes('ddl_slot') AS c;
-- literal defaults are in the schema, as Debezium's; sequences and
-- functions give none
CREATE TABLE defaults (id serial PRIMARY KEY, n int NOT NULL DEFAULT 7,
					   s varchar(10) DEFAULT 'x"y', d numeric(5,2) DEFAULT 3,
					   at timestamptz DEFAULT now(), f boolean DEFAULT false);
INSERT INTO defaults DEFAULT VALUES;
SELECT f->>'field' AS field, f->'default' AS "default"
  FROM changes('ddl_slot') AS c,
	   jsonb_array_elements(c->'value'->'schema'->'fields'->1->'fields') AS f;
-- a default PostgreSQL accepts but cannot compute (it fails only when
-- used) has none in the schema; it must not stop decoding for good
CREATE TABLE bad_defaults (id int PRIMARY KEY, q int DEFAULT 1/0, r smallint DEFAULT 99999,
						   s varchar(2) DEFAULT 'abc'::text, ok int DEFAULT 5);
INSERT INTO bad_defaults VALUES (1, 2, 3, 'x', 4);
SELECT f->>'field' AS field, f->'default' AS "default"
  FROM changes('ddl_slot') AS c,
	   jsonb_array_elements(c->'value'->'schema'->'fields'->1->'fields') AS f;
-- a user's function in a default is never run by decoding: it could fail
-- for any reason, and no later fix would get the slot past the change
CREATE FUNCTION boom() RETURNS int IMMUTABLE LANGUAGE plpgsql
	AS $$BEGIN RAISE EXCEPTION 'boom() ran'; END$$;
CREATE FUNCTION seven() RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT 7';
CREATE TABLE user_defaults (id int PRIMARY KEY, v int DEFAULT boom(), w int DEFAULT seven(),
							ok int DEFAULT 5);
INSERT INTO user_defaults VALUES (1, 1, 1, 1);
SELECT f->>'field' AS field, f->'default' AS "default"
  FROM changes('ddl_slot') AS c,
	   jsonb_array_elements(c->'value'->'schema'->'fields'->1->'fields') AS f;

-- a new enum label reaches the next event's schema
CREATE TYPE mood AS ENUM ('sad', 'ok');
CREATE TABLE moods (id int PRIMARY KEY, m mood);
INSERT INTO moods VALUES (1, 'ok');
ALTER TYPE mood ADD VALUE 'happy';
INSERT INTO moods VALUES (2, 'happy');
SELECT c->'value'->'payload'->'after'->>'m' AS m,
	   c->'value'->'schema'->'fields'->1->'fields'->1->'parameters'->>'allowed' AS allowed
  FROM changes('ddl_slot') AS c;
SELECT 'drop' FROM pg_drop_replication_slot('ddl_slot');
