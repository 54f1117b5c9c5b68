-- Every option is validated at startup; a bad one names itself and what
-- is allowed.
\i sql/setup.inc
\set VERBOSITY default
SET synchronous_commit = on;
SELECT 'init' FROM pg_create_logical_replication_slot('opt_slot', 'cdc_kafka');
SELECT count(*) FROM pg_logical_slot_peek_changes('opt_slot', NULL, NULL, 'no-such-option', 'x');
SELECT count(*) FROM pg_logical_slot_peek_changes('opt_slot', NULL, NULL, 'schemas', 'maybe');
SELECT count(*) FROM pg_logical_slot_peek_changes('opt_slot', NULL, NULL, 'decimal-handling', 'float');
SELECT count(*) FROM pg_logical_slot_peek_changes('opt_slot', NULL, NULL, 'format', 'avro');
SELECT count(*) FROM pg_logical_slot_peek_changes('opt_slot', NULL, NULL, 'topic-prefix', 'bad/prefix');
SELECT count(*) FROM pg_logical_slot_peek_changes('opt_slot', NULL, NULL, 'topic-prefix', '');
SELECT count(*) FROM pg_logical_slot_peek_changes('opt_slot', NULL, NULL, 'include-tables', 'a(b');
SELECT count(*) FROM pg_logical_slot_peek_changes('opt_slot', NULL, NULL, 'include-transaction', 'yes', 'include-transaction', 'no');
SELECT count(*) FROM pg_logical_slot_peek_changes('opt_slot', NULL, NULL, 'topic-prefix', NULL);
SELECT count(*) FROM pg_logical_slot_peek_changes('opt_slot', NULL, NULL, 'include-truncate', 'sometimes');
SELECT count(*) FROM pg_logical_slot_peek_binary_changes('opt_slot', NULL, NULL, 'format', 'kafka', 'batch-bytes', '-1');
SELECT count(*) FROM pg_logical_slot_peek_binary_changes('opt_slot', NULL, NULL, 'format', 'kafka', 'batch-bytes', '64k');
-- binary framing cannot go through the text function
SELECT count(*) FROM pg_logical_slot_peek_changes('opt_slot', NULL, NULL, 'format', 'kafka');
-- good values of every option are accepted
SELECT count(*) FROM pg_logical_slot_peek_changes('opt_slot', NULL, NULL,
	'topic-prefix', 'ok.prefix-1_x', 'schemas', 'off', 'decimal-handling', 'double',
	'include-transaction', 'true', 'include-schemas', 'public', 'exclude-schemas', 'pg_.*',
	'include-tables', 'public\..*', 'exclude-tables', 'public\.secret', 'message-prefixes', 'a,b',
	'include-messages', 'on', 'include-truncate', '1', 'publish-via-partition-root', 'false',
	'format', 'json');
SELECT count(*) FROM pg_logical_slot_peek_binary_changes('opt_slot', NULL, NULL, 'format', 'kafka', 'batch-bytes', '0');
SELECT 'drop' FROM pg_drop_replication_slot('opt_slot');
