-- format=kafka: the binary framing the sidecar reads (doc/contracts.md).
\set VERBOSITY terse
SET synchronous_commit = on;
CREATE TABLE fk (id int PRIMARY KEY, v text);
CREATE TABLE fk_nokey (v text);

CREATE FUNCTION frame_u64(b bytea, off int) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
	SELECT ('x' || encode(substring(b FROM off + 1 FOR 4), 'hex'))::bit(32)::bigint::numeric * 4294967296
		 + ('x' || encode(substring(b FROM off + 5 FOR 4), 'hex'))::bit(32)::bigint
$$;
CREATE FUNCTION frame_i32(b bytea, off int) RETURNS int LANGUAGE sql IMMUTABLE AS $$
	SELECT ('x' || encode(substring(b FROM off + 1 FOR 4), 'hex'))::bit(32)::int
$$;
-- One frame, taken apart: fixed header, then topic, key, value.
CREATE FUNCTION frame(b bytea, OUT kind text, OUT op text, OUT commit_lsn numeric,
					  OUT change_lsn numeric, OUT seq int, OUT topic text,
					  OUT key text, OUT value text, OUT rest int)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	pos int := 26;
	len int;
BEGIN
	kind := chr(get_byte(b, 0));
	op := chr(get_byte(b, 1));
	commit_lsn := frame_u64(b, 2);
	change_lsn := frame_u64(b, 10);
	seq := frame_i32(b, 18);
	len := frame_i32(b, 22);
	topic := convert_from(substring(b FROM pos + 1 FOR len), 'UTF8');
	pos := pos + len;
	len := frame_i32(b, pos);
	pos := pos + 4;
	IF len >= 0 THEN
		key := convert_from(substring(b FROM pos + 1 FOR len), 'UTF8');
		pos := pos + len;
	END IF;
	len := frame_i32(b, pos);
	pos := pos + 4;
	IF len >= 0 THEN
		value := convert_from(substring(b FROM pos + 1 FOR len), 'UTF8');
		pos := pos + len;
	END IF;
	rest := length(b) - pos;
END
$$;

SELECT 'init' FROM pg_create_logical_replication_slot('fk_slot', 'cdc_kafka');
INSERT INTO fk VALUES (1, 'a'), (2, 'b');
DELETE FROM fk WHERE id = 1;
INSERT INTO fk_nokey VALUES ('x');
SELECT 'msg' FROM pg_logical_emit_message(false, 'p', 'non-transactional');
CREATE TABLE fk_empty_txn (id int);

-- the same events as format=json, keyed by topic and LSN
CREATE TEMP TABLE as_json AS
SELECT lsn, data::jsonb AS j
  FROM pg_logical_slot_peek_changes('fk_slot', NULL, NULL, 'schemas', 'false');
CREATE TEMP TABLE as_frames AS
SELECT row_number() OVER () AS n, lsn, (frame(data)).*
  FROM pg_logical_slot_get_binary_changes('fk_slot', NULL, NULL, 'schemas', 'false', 'format', 'kafka');

-- shape of the stream: an E frame per event, a C frame per transaction
SELECT n, kind, op, seq, topic, key, rest,
	   value IS NULL AS null_value,
	   commit_lsn = (SELECT c.commit_lsn FROM as_frames c WHERE c.kind = 'C' AND c.n >= f.n
					 ORDER BY c.n LIMIT 1) AS commit_of_its_c,
	   CASE WHEN kind = 'C' THEN seq = (SELECT count(*) FROM as_frames e
										 WHERE e.kind = 'E' AND e.commit_lsn = f.commit_lsn)
	   END AS c_counts_events
  FROM as_frames f ORDER BY n;

-- every event's commit LSN is the end of its commit record: what the
-- sidecar confirms once all are acknowledged; change LSNs precede it
SELECT bool_and(change_lsn <= commit_lsn) AS change_before_commit,
	   bool_and(commit_lsn > 0) AS commit_set,
	   count(DISTINCT commit_lsn) AS units
  FROM as_frames;

-- key and value bytes are the JSON events, processing times aside
SELECT f.n, (f.value::jsonb #- '{ts_ms}' #- '{source,ts_ms}')
			= (j.j->'value' #- '{ts_ms}' #- '{source,ts_ms}') AS value_equal,
	   f.key::jsonb IS NOT DISTINCT FROM nullif(j.j->'key', 'null') AS key_equal
  FROM as_frames f JOIN as_json j
	ON j.j->>'topic' = f.topic
   AND j.j->'value'->'source'->>'lsn' = f.change_lsn::text
 WHERE f.kind = 'E' ORDER BY f.n;
-- a message outside any transaction right after a commit: positions
-- (commit LSN, seq) stay unique, so the sidecar's exactly-once check can
-- never take one for the other (decoding hands a message the LSN of its
-- record's end, so it is past the commit's end even when it follows it)
BEGIN;
SELECT 'msg' FROM pg_logical_emit_message(true, 'p', 'in a transaction');
COMMIT;
SELECT 'msg' FROM pg_logical_emit_message(false, 'p', 'right after its commit');
CREATE TABLE fk_flush (id int);	-- a commit flushes the WAL decoding reads
SELECT count(*) AS events, count(DISTINCT (commit_lsn, seq)) AS positions
  FROM (SELECT (frame(data)).*
		  FROM pg_logical_slot_get_binary_changes('fk_slot', NULL, NULL, 'format', 'kafka')) f
 WHERE kind = 'E';
SELECT 'drop' FROM pg_drop_replication_slot('fk_slot');
