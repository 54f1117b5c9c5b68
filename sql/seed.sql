-- The seed lab's table and its exact DML, as a Debezium consumer (the
-- lab's Spark job) reads it: topic lab_cdc.inventory.customers, key
-- payload.id, value payload.op / payload.after.*.
\i sql/setup.inc
\set VERBOSITY terse
SET synchronous_commit = on;
-- the lab's own files (run from the project root, as pg_regress is)
\i docker/initdb/01-inventory.sql

SELECT 'init' FROM pg_create_logical_replication_slot('seed_slot', 'cdc_kafka');

\i docker/lab-changes.sql

-- What the lab's Spark job reads, from the default (schemas=true) events.
SELECT data::jsonb->>'topic' AS topic,
	   data::jsonb->'key'->'payload'->>'id' AS key_id,
	   data::jsonb->'value'->'payload'->>'op' AS op,
	   data::jsonb->'value'->'payload'->'after'->>'email' AS after_email,
	   data::jsonb->'value'->'payload'->'before' AS before
  FROM pg_logical_slot_peek_changes('seed_slot', NULL, NULL,
	   'topic-prefix', 'lab_cdc');

-- The schema blocks, with Debezium's struct names.
SELECT DISTINCT data::jsonb->'key'->'schema' AS key_schema
  FROM pg_logical_slot_peek_changes('seed_slot', NULL, NULL, 'topic-prefix', 'lab_cdc');
SELECT DISTINCT jsonb_pretty(data::jsonb->'value'->'schema') AS value_schema
  FROM pg_logical_slot_peek_changes('seed_slot', NULL, NULL, 'topic-prefix', 'lab_cdc');

-- The exact text of each event without schemas, in Debezium's field order.
SELECT norm_text(data)
  FROM pg_logical_slot_get_changes('seed_slot', NULL, NULL,
	   'topic-prefix', 'lab_cdc', 'schemas', 'false');

SELECT 'drop' FROM pg_drop_replication_slot('seed_slot');
