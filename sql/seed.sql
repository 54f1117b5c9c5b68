-- The seed lab's table and its exact DML, as a Debezium consumer (the
-- lab's Spark job) reads it: topic lab_cdc.inventory.customers, key
-- payload.id, value payload.op / payload.after.*.
\set VERBOSITY terse
SET synchronous_commit = on;
CREATE SCHEMA inventory;
CREATE TABLE inventory.customers (
	id SERIAL NOT NULL PRIMARY KEY,
	first_name VARCHAR(255) NOT NULL,
	last_name VARCHAR(255) NOT NULL,
	email VARCHAR(255) NOT NULL UNIQUE
);
INSERT INTO inventory.customers (first_name, last_name, email) VALUES
	('Sally', 'Thomas', 'sally.thomas@acme.com'),
	('George', 'Bailey', 'gbailey@foobar.com'),
	('Edward', 'Walker', 'ed@walker.com'),
	('Jonh', 'Kretchmar', 'annek@noanswer.org');

SELECT 'init' FROM pg_create_logical_replication_slot('seed_slot', 'cdc_kafka');

INSERT INTO inventory.customers (id, first_name, last_name, email) VALUES
	(5, 'Ana', 'Souza', 'ana.souza@example.com'),
	(6, 'Bruno', 'Lima', 'bruno.lima@example.com'),
	(7, 'Carla', 'Mendes', 'carla.mendes@example.com');
UPDATE inventory.customers SET email = 'george@foobar.com' WHERE id = 2;
INSERT INTO inventory.customers (id, first_name, last_name, email) VALUES
	(8, 'Daniel', 'Rocha', 'daniel.rocha@example.com'),
	(9, 'Elisa', 'Costa', 'elisa.costa@example.com'),
	(10, 'Fabio', 'Alves', 'fabio.alves@example.com');
UPDATE inventory.customers SET email = 'edward@walker.com' WHERE id = 3;
DELETE FROM inventory.customers WHERE id = 10;

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
