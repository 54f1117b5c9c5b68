-- format=kafka: the binary framing the sidecar reads (doc/contracts.md).
\i sql/setup.inc
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
					  OUT change_lsn numeric, OUT seq numeric, OUT topic text,
					  OUT key text, OUT value text, OUT rest int)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	pos int := 30;
	len int;
BEGIN
	kind := chr(get_byte(b, 0));
	op := chr(get_byte(b, 1));
	commit_lsn := frame_u64(b, 2);
	change_lsn := frame_u64(b, 10);
	seq := frame_u64(b, 18);
	len := frame_i32(b, 26);
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
  FROM pg_logical_slot_peek_changes('fk_slot', NULL, NULL, 'schemas', 'false', 'include-truncate', 'true');
-- batched as the sidecar reads them (default batch-bytes): kept for below
CREATE TEMP TABLE as_batches AS
SELECT row_number() OVER () AS n, lsn, data
  FROM pg_logical_slot_peek_binary_changes('fk_slot', NULL, NULL, 'schemas', 'false', 'format', 'kafka',
										   'include-truncate', 'true');
-- one frame per write
CREATE TEMP TABLE as_frames AS
SELECT row_number() OVER () AS n, lsn, (frame(data)).*
  FROM pg_logical_slot_get_binary_changes('fk_slot', NULL, NULL, 'schemas', 'false', 'format', 'kafka',
										  'batch-bytes', '0', 'include-truncate', 'true');

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
SELECT f.n, (f.value::jsonb #- '{ts_ms}' #- '{ts_us}' #- '{ts_ns}' #- '{source,ts_ms}' #- '{source,ts_us}' #- '{source,ts_ns}')
			= (j.j->'value' #- '{ts_ms}' #- '{ts_us}' #- '{ts_ns}' #- '{source,ts_ms}' #- '{source,ts_us}' #- '{source,ts_ns}') AS value_equal,
	   f.key::jsonb IS NOT DISTINCT FROM nullif(j.j->'key', 'null') AS key_equal
  FROM as_frames f JOIN as_json j
	ON j.j->>'topic' = f.topic
   AND j.j->'value'->'source'->>'lsn' = f.change_lsn::text
 WHERE f.kind = 'E' ORDER BY f.n;
-- Batched writes hold the same frames, back to back, and each ends where
-- a unit (a transaction, a message outside any) ends: the sidecar reads
-- them one after the other.
CREATE FUNCTION frames(b bytea)
RETURNS TABLE (kind text, op text, commit_lsn numeric, change_lsn numeric, seq numeric,
			   topic text, key text, value text, rest int)
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	LOOP
		SELECT f.* INTO kind, op, commit_lsn, change_lsn, seq, topic, key, value, rest
		  FROM frame(b) f;
		RETURN NEXT;
		EXIT WHEN rest = 0;
		b := substring(b FROM length(b) - rest + 1);
	END LOOP;
END
$$;
CREATE TEMP TABLE batched_frames AS
SELECT row_number() OVER (ORDER BY b.n, x.ordinality) AS n, b.n AS write_no, b.lsn, x.*
  FROM as_batches b, LATERAL frames(b.data) WITH ORDINALITY x;
SELECT (SELECT count(*) FROM as_batches) AS writes,
	   (SELECT count(*) FROM as_frames) AS frames,
	   (SELECT count(*) FROM batched_frames) AS batched_frames;
SELECT bool_and(b.kind = f.kind AND b.op = f.op AND b.commit_lsn = f.commit_lsn
				AND b.change_lsn = f.change_lsn AND b.seq = f.seq AND b.topic = f.topic
				AND b.key IS NOT DISTINCT FROM f.key
				AND (b.value::jsonb #- '{ts_ms}' #- '{ts_us}' #- '{ts_ns}' #- '{source,ts_ms}' #- '{source,ts_us}' #- '{source,ts_ns}')
					IS NOT DISTINCT FROM (f.value::jsonb #- '{ts_ms}' #- '{ts_us}' #- '{ts_ns}' #- '{source,ts_ms}' #- '{source,ts_us}' #- '{source,ts_ns}'))
		AS same_frames_in_order
  FROM batched_frames b JOIN as_frames f USING (n);
-- each write ends with its unit's C frame and starts at its first frame's LSN
SELECT write_no, count(*) AS frames, bool_and((kind = 'C') = (rest = 0)) AS c_frame_last,
	   min(change_lsn) = (SELECT b.lsn - '0/0'::pg_lsn FROM as_batches b WHERE b.n = write_no)
		 AS write_lsn_is_first_frame
  FROM batched_frames GROUP BY write_no ORDER BY write_no;

-- a big transaction is cut into writes of about batch-bytes
SELECT 'init' FROM pg_create_logical_replication_slot('fk_batch', 'cdc_kafka');
INSERT INTO fk SELECT g, repeat('x', 100) FROM generate_series(10, 109) g;
-- (the same bytes as one write; their number depends on how many digits
-- the LSNs have, so on what ran before)
CREATE TEMP TABLE batched AS
SELECT length(data) AS len
  FROM pg_logical_slot_peek_binary_changes('fk_batch', NULL, NULL, 'format', 'kafka',
										   'schemas', 'false', 'batch-bytes', '1000');
SELECT count(*) AS writes,
	   count(*) FILTER (WHERE len < 1000) AS shorter_than_batch_bytes,
	   max(len) < 1000 + 400 AS at_most_batch_bytes_plus_a_frame
  FROM batched;
SELECT count(*) AS writes, sum(length(data)) = (SELECT sum(len) FROM batched) AS same_bytes
  FROM pg_logical_slot_get_binary_changes('fk_batch', NULL, NULL, 'format', 'kafka',
										  'schemas', 'false');
SELECT 'drop' FROM pg_drop_replication_slot('fk_batch');

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
		  FROM pg_logical_slot_get_binary_changes('fk_slot', NULL, NULL, 'format', 'kafka',
												  'batch-bytes', '0')) f
 WHERE kind = 'E';
SELECT 'drop' FROM pg_drop_replication_slot('fk_slot');

-- An event's (commit LSN, seq) does not depend on the options: a sidecar
-- restarted with other filters, include-transaction or include-messages
-- in the middle of a transaction must find the events Kafka holds at the
-- positions they had.  Every change takes two seqs (a change of key is a
-- delete and a create), a truncate one per table, a message one.
SELECT 'init' FROM pg_create_logical_replication_slot('fk_seq', 'cdc_kafka');
BEGIN;
INSERT INTO fk_nokey VALUES ('first');
INSERT INTO fk VALUES (200, 'a');
SELECT 'msg' FROM pg_logical_emit_message(true, 'p', 'between');
UPDATE fk SET id = 201 WHERE id = 200;
INSERT INTO fk_nokey VALUES ('second');
TRUNCATE fk_nokey;
INSERT INTO fk VALUES (202, 'b');
COMMIT;
CREATE TEMP TABLE seq_all AS
SELECT (frame(data)).*
  FROM pg_logical_slot_peek_binary_changes('fk_seq', NULL, NULL, 'format', 'kafka', 'batch-bytes', '0',
										   'schemas', 'false', 'include-transaction', 'true',
										   'include-truncate', 'true');
CREATE TEMP TABLE seq_some AS
SELECT (frame(data)).*
  FROM pg_logical_slot_peek_binary_changes('fk_seq', NULL, NULL, 'format', 'kafka', 'batch-bytes', '0',
										   'schemas', 'false', 'include-messages', 'false',
										   'exclude-tables', 'public\.fk_nokey');
SELECT op, seq, topic, CASE WHEN op NOT IN ('B', 'E') THEN key END AS key
  FROM seq_all WHERE kind = 'E' ORDER BY seq;
-- the filtered stream's events, at the same positions as in the full one
SELECT s.op, s.seq, s.key,
	   EXISTS (SELECT 1 FROM seq_all a WHERE a.commit_lsn = s.commit_lsn AND a.seq = s.seq
			   AND a.op = s.op AND a.key IS NOT DISTINCT FROM s.key) AS same_position
  FROM seq_some s WHERE s.kind = 'E' ORDER BY s.seq;
SELECT 'drop' FROM pg_drop_replication_slot('fk_seq');

-- headers=true: every frame ends with its Kafka headers; the delete and the
-- create of a change of key carry Debezium's __debezium.newkey / oldkey
SELECT 'init' FROM pg_create_logical_replication_slot('fk_hdr', 'cdc_kafka');
INSERT INTO fk VALUES (300, 'h');
UPDATE fk SET id = 301 WHERE id = 300;
SELECT f.kind, f.op, f.key, encode(substring(c.data FROM length(c.data) - f.rest + 1), 'escape') AS headers
  FROM pg_logical_slot_get_binary_changes('fk_hdr', NULL, NULL, 'format', 'kafka', 'batch-bytes', '0',
										  'schemas', 'false', 'headers', 'true') AS c,
	   frame(c.data) AS f;
SELECT 'drop' FROM pg_drop_replication_slot('fk_hdr');
