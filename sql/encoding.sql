-- A server encoding other than UTF-8: text is converted to UTF-8 and
-- written with \u escapes, so the JSON is the same bytes in either
-- encoding; an empty string stays empty.
\i sql/setup.inc
\set VERBOSITY terse
CREATE DATABASE cdc_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
\c cdc_latin1
SET synchronous_commit = on;
CREATE TABLE enc (id int PRIMARY KEY, a text, b text);
SELECT 'init' FROM pg_create_logical_replication_slot('enc_slot', 'cdc_kafka');
INSERT INTO enc VALUES (1, '', 'tail'), (2, 'caf' || chr(233), '');
SELECT substring(data from '"after":({[^}]*})') AS after, data ~ '^[\x01-\x7e]*$' AS ascii_only
  FROM pg_logical_slot_get_changes('enc_slot', NULL, NULL, 'schemas', 'false');
-- an outbox payload is converted the same way: its strings hold the only
-- non-ASCII characters, which become \u escapes
CREATE EXTENSION cdc_kafka;
SELECT cdc_kafka.emit('enc.outbox', 'k' || chr(233),
	('{"a": "caf' || chr(233) || '", "n": [1, "' || chr(252) || '"]}')::jsonb) IS NOT NULL AS emitted;
SELECT data, data ~ '^[\x01-\x7e]*$' AS ascii_only
  FROM pg_logical_slot_get_changes('enc_slot', NULL, NULL, 'schemas', 'false');
SELECT 'drop' FROM pg_drop_replication_slot('enc_slot');
\c contrib_regression
DROP DATABASE cdc_latin1;
