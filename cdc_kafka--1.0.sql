/* cdc_kafka--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION cdc_kafka" to load this file. \quit

-- Every row of a table as a Debezium "r" (read) event, formatted by the
-- same code as the stream.  options: plugin options as {name, value, ...}.
CREATE FUNCTION snapshot_events(tbl regclass,
								topic_prefix text DEFAULT NULL,
								options text[] DEFAULT '{}',
								last boolean DEFAULT false)
RETURNS TABLE (topic text, key text, value text)
AS 'MODULE_PATHNAME', 'snapshot_events'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION snapshot_events(regclass, text, text[], boolean) IS
'rows of a table as Debezium snapshot (op "r") change events';

-- Outbox helper: an event for any topic, written atomically with the
-- calling transaction through a transactional logical decoding message.
-- The plugin publishes it on "topic" with the key as a JSON string and the
-- payload as the value (as Debezium's outbox event router does).
CREATE FUNCTION emit(topic text, key text, payload jsonb)
RETURNS pg_lsn
LANGUAGE plpgsql VOLATILE STRICT
AS $$
BEGIN
	IF topic !~ '^[A-Za-z0-9._-]{1,249}$' THEN
		RAISE EXCEPTION 'invalid Kafka topic name "%"', topic
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Topic names are 1 to 249 characters among ASCII letters, digits, ".", "_" and "-".';
	END IF;
	-- jsonb's text form never holds a raw newline, so it can separate
	RETURN pg_logical_emit_message(true, 'cdc_kafka.outbox',
		topic || E'\n' || payload::text || E'\n' || key);
END
$$;

COMMENT ON FUNCTION emit(text, text, jsonb) IS
'emit an outbox event through logical decoding, atomically with the transaction';

-- Slots of this plugin, with how far their consumer has confirmed and how
-- much WAL they hold back.
CREATE VIEW slots AS
SELECT s.slot_name,
	   s.database,
	   s.active,
	   s.active_pid,
	   s.restart_lsn,
	   s.confirmed_flush_lsn,
	   pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::bigint
		   AS retained_wal_bytes,
	   pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::bigint
		   AS lag_bytes,
	   s.wal_status
  FROM pg_catalog.pg_replication_slots s
 WHERE s.plugin = 'cdc_kafka';

COMMENT ON VIEW slots IS 'replication slots that use the cdc_kafka plugin';
