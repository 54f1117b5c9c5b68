-- Partitions publish under their root's topic, unless told otherwise.
\i sql/setup.inc
\set VERBOSITY terse
SET synchronous_commit = on;
CREATE TABLE measures (id int, region text, v numeric(6,2), PRIMARY KEY (id, region))
	PARTITION BY LIST (region);
CREATE TABLE measures_eu PARTITION OF measures FOR VALUES IN ('eu');
-- a partition whose columns are in another physical order
CREATE TABLE measures_us (v numeric(6,2), region text NOT NULL, id int NOT NULL);
ALTER TABLE measures ATTACH PARTITION measures_us FOR VALUES IN ('us');

SELECT 'init' FROM pg_create_logical_replication_slot('part_slot', 'cdc_kafka');
INSERT INTO measures VALUES (1, 'eu', 1.5), (2, 'us', 2.25);
UPDATE measures SET v = 3 WHERE id = 2;

SELECT c->>'topic' AS topic, c->'key' AS key, c->'value'->>'op' AS op,
	   c->'value'->'after' AS after, c->'value'->'source'->>'table' AS source_table
  FROM changes('part_slot', 'schemas', 'false', 'decimal-handling', 'string') AS c;

INSERT INTO measures VALUES (3, 'us', 4);
SELECT c->>'topic' AS topic, c->'value'->'after' AS after
  FROM changes('part_slot', 'schemas', 'false', 'decimal-handling', 'string',
			   'publish-via-partition-root', 'false') AS c;
-- TRUNCATE of a partitioned table names it and its partitions: as pgoutput,
-- one event on the root's topic via the root, else one per partition; a
-- partition truncated alone has no event via the root
TRUNCATE measures;
TRUNCATE measures_eu;
SELECT data::jsonb->>'topic' AS topic, data::jsonb->'value'->>'op' AS op
  FROM pg_logical_slot_peek_changes('part_slot', NULL, NULL, 'schemas', 'false', 'include-truncate', 'true');
SELECT c->>'topic' AS topic, c->'value'->>'op' AS op
  FROM changes('part_slot', 'schemas', 'false', 'publish-via-partition-root', 'false',
			   'include-truncate', 'true') AS c;
SELECT 'drop' FROM pg_drop_replication_slot('part_slot');
