-- Shared set-up for the suite: the extension and the helpers that make
-- events deterministic.  Volatile fields (times, xids, LSNs) keep their
-- place and JSON type, so a missing or mistyped field still shows.
\set VERBOSITY terse
SET synchronous_commit = on;
CREATE EXTENSION cdc_kafka;
SELECT extname, extnamespace::regnamespace FROM pg_extension WHERE extname = 'cdc_kafka';

-- Replace the value at each volatile path by its JSON type's name.
CREATE FUNCTION norm(data text) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	j jsonb := data::jsonb;
	paths text[] := ARRAY['{value,ts_ms}', '{value,source,ts_ms}',
		'{value,ts_us}', '{value,source,ts_us}', '{value,ts_ns}', '{value,source,ts_ns}',
		'{value,source,txId}', '{value,source,lsn}', '{value,source,sequence}',
		'{value,transaction,id}'];
	p text;
	q text;
BEGIN
	IF j->>'topic' LIKE '%.transaction' THEN
		paths := paths || ARRAY['{key,id}', '{value,id}'];
	END IF;
	FOREACH p IN ARRAY paths
	LOOP
		-- the same fields inside the schemas=true wrapper
		FOREACH q IN ARRAY ARRAY[p, regexp_replace(p, '^\{(key|value),', '{\1,payload,')]
		LOOP
			IF jsonb_typeof(j #> q::text[]) <> 'null' THEN
				j := jsonb_set(j, q::text[], to_jsonb('<' || jsonb_typeof(j #> q::text[]) || '>'));
			END IF;
		END LOOP;
	END LOOP;
	RETURN j;
END
$$;

-- The same for the raw text, keeping the plugin's own field order.
CREATE FUNCTION norm_text(data text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT regexp_replace(regexp_replace(regexp_replace(data,
		'"(ts_ms|ts_us|ts_ns|txId|lsn)":[0-9]+', '"\1":<number>', 'g'),
		'"sequence":"\[(null|\\"[0-9]+\\"),\\"[0-9]+\\"\]"', '"sequence":<string>', 'g'),
		'"id":"[0-9]+:[0-9]+"', '"id":<string>', 'g')
$$;

-- Every event a slot holds, normalised, one row each.
CREATE FUNCTION changes(slot name, VARIADIC options text[] DEFAULT '{}')
RETURNS SETOF jsonb LANGUAGE sql AS $$
	SELECT norm(data) FROM pg_logical_slot_get_changes(slot, NULL, NULL, VARIADIC options)
$$;
