-- Debezium's default mapping of every PostgreSQL type (typemap.c): the
-- field schemas (exact text, so JsonConverter's key order shows), the exact
-- text of each value, and JSON validity of every event.  Special values:
-- NULL, NaN, +-Infinity, -0, BC and far-future dates, empty strings and
-- arrays, control and non-ASCII characters, 100k-character text.
\i sql/setup.inc
\set VERBOSITY terse
SET synchronous_commit = on;
SET extra_float_digits = 0;
-- input literals without an offset are read in this zone; output is UTC
SET TimeZone = 'Europe/Berlin';
SET IntervalStyle = 'postgres';

CREATE TYPE types_mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN types_posint AS int CHECK (VALUE > 0);
CREATE DOMAIN types_price AS numeric(7,2);
CREATE TABLE types_all (
	id int PRIMARY KEY,
	c_bool bool, c_int2 int2, c_int4 int4, c_int8 int8, c_oid oid,
	c_float4 real, c_float8 float8,
	c_numeric numeric(12,3), c_numeric_var numeric, c_money money,
	c_text text, c_varchar varchar(10), c_bpchar char(5), c_name name,
	c_bytea bytea, c_bit1 bit(1), c_bit bit(12), c_varbit varbit(20),
	c_date date, c_time time, c_time3 time(3), c_timetz timetz,
	c_ts timestamp, c_ts3 timestamp(3), c_tstz timestamptz, c_interval interval,
	c_uuid uuid, c_json json, c_jsonb jsonb, c_xml xml,
	c_enum types_mood, c_domain types_posint, c_price types_price,
	c_int_arr int[], c_text_arr text[], c_num_arr numeric(6,2)[],
	c_tstz_arr timestamptz[], c_enum_arr types_mood[], c_matrix int[][],
	c_inet inet, c_range int4range, c_point point
);

-- Extracts the "after" row of an event, one column per line, exactly as
-- the plugin wrote it (jsonb would renormalise numbers and key order).
CREATE FUNCTION types_after(data text) RETURNS text LANGUAGE sql AS $$
	SELECT regexp_replace(substring(data FROM '"after":(.*),"source":\{"version"'),
						  ',"(c_[a-z0-9_]+)":', E',\n"\\1":', 'g')
$$;
-- The field schemas of the "after" row, one per line, as written.
CREATE FUNCTION types_after_schema(data text) RETURNS text LANGUAGE sql AS $$
	SELECT replace(substring(data FROM
		'"field":"before"\},\{"type":"struct","fields":\[(.*)\],"optional":true,"name":"[^"]*","field":"after"\}'),
		',{"type"', E',\n{"type"')
$$;
-- The same for a named column's value.
CREATE FUNCTION types_col(data text, col text) RETURNS text LANGUAGE sql AS $$
	SELECT substring(types_after(data) FROM '"' || col || E'":([^\n]*?),?(\n|}$)')
$$;

SELECT 'init' FROM pg_create_logical_replication_slot('types_slot', 'cdc_kafka');

-- 1: ordinary values
INSERT INTO types_all VALUES (1,
	true, 32767, -2147483648, 9223372036854775807, 4294967295,
	1.5, 3.141592653589793,
	123456789.123, 0.00100, '-1234.56',
	E'tab\there "quote" back\\slash\nnew line \x01\x1f\x7f \u00e9\u00fc\u20ac \U0001F600',
	'varchar', 'ab', 'a name',
	'\x00ff7f80', B'1', B'101000000001', B'1011',
	'2024-02-29', '23:59:59.999999', '12:34:56.789', '10:00:00.5-03:30',
	'2024-02-29 12:34:56.789012', '1999-12-31 23:59:59.999',
	'2024-02-29 12:34:56.5+05:30', '1 year 2 mons 3 days 04:05:06.78',
	'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
	'{"k": [1, 2.50, "x"]}', '{"k": [1, 2.50, "x\"y"], "a": null}',
	'<doc a="1">x &amp; y</doc>',
	'happy', 42, 99999.99,
	'{1,NULL,3}', '{"a","b,c",NULL,"\"q\""}', '{1.5,NULL,-2.25}',
	'{"2024-01-01 00:00:00+00",NULL}', '{ok,sad}', '{{1,2},{3,4}}',
	'192.168.0.1/24', '[1,10)', '(1.5,2)');
-- 2: every column NULL
INSERT INTO types_all (id) VALUES (2);
-- 3: NaN, infinities, empty values, day boundaries
INSERT INTO types_all (id, c_float4, c_float8, c_numeric, c_numeric_var,
	c_money, c_text, c_bytea, c_bit, c_varbit, c_date, c_time, c_timetz,
	c_ts, c_ts3, c_tstz, c_interval, c_int_arr, c_text_arr, c_json)
VALUES (3, 'NaN', 'Infinity', 'NaN', '-Infinity',
	'0', '', '', B'000000000000', B'', 'infinity', '24:00:00', '00:00:00+00',
	'-infinity', 'infinity', 'infinity', '-1 mons -2 days -00:00:00.000001',
	'{}', '{}', '""');
-- 4: -0, tiny and huge numbers, BC and far-future dates
INSERT INTO types_all (id, c_float4, c_float8, c_numeric, c_numeric_var,
	c_money, c_date, c_time3, c_ts, c_ts3, c_tstz, c_interval, c_num_arr)
VALUES (4, '-Infinity', '-0', -0.001, -0.000000012300,
	'-0.01', '0044-03-15 BC', '00:00:00.001', '0001-01-01 00:00:00 BC',
	'1969-12-31 23:59:59.999', '10000-01-01 00:00:00+00',
	'100 years 11 mons 29 days 23:59:59.999999', '{-9999.99}');
INSERT INTO types_all (id, c_float4, c_float8, c_numeric_var, c_tstz)
VALUES (5, 1e10, 1e-7, 123456789012345678901234567890.123456789,
	'1970-01-01 00:00:00+00');
INSERT INTO types_all (id, c_float4, c_float8, c_numeric_var)
VALUES (6, 3.4028235e38, 1e7, -1200);

-- Every event is valid JSON, with and without schemas.
SELECT count(*) AS events, count(data::jsonb) AS valid_json
  FROM pg_logical_slot_peek_changes('types_slot', NULL, NULL, 'schemas', 'true');
SELECT count(*) AS events, count(data::jsonb) AS valid_json
  FROM pg_logical_slot_peek_changes('types_slot', NULL, NULL, 'schemas', 'false');

-- The field schemas of the row, in the plugin's exact text.
SELECT types_after_schema(data) AS after_schema
  FROM pg_logical_slot_peek_changes('types_slot', NULL, NULL, 'schemas', 'true')
 LIMIT 1;

-- The key schema: the primary key, never optional.
SELECT data::jsonb->'key'->'schema' AS key_schema
  FROM pg_logical_slot_peek_changes('types_slot', NULL, NULL, 'schemas', 'true')
 LIMIT 1;

-- The values of each row, exactly as written.
SELECT data::jsonb->'key'->>'id' AS id, types_after(data) AS after
  FROM pg_logical_slot_peek_changes('types_slot', NULL, NULL, 'schemas', 'false');

-- Text survives escaping byte for byte, whatever the characters.
SELECT (data::jsonb #>> '{value,after,c_text}') =
	   E'tab\there "quote" back\\slash\nnew line \x01\x1f\x7f \u00e9\u00fc\u20ac \U0001F600'
	   AS text_round_trips,
	   (data::jsonb #>> '{value,after,c_jsonb}')::jsonb =
	   '{"k": [1, 2.50, "x\"y"], "a": null}'::jsonb AS jsonb_round_trips,
	   decode(data::jsonb #>> '{value,after,c_bytea}', 'base64') = '\x00ff7f80'::bytea
	   AS bytea_round_trips
  FROM pg_logical_slot_peek_changes('types_slot', NULL, NULL, 'schemas', 'false')
 WHERE data::jsonb->'key'->>'id' = '1';

-- decimal-handling=double and =string change numeric and money only.
SELECT m.handling, data::jsonb->'key'->>'id' AS id,
	   types_col(data, 'c_numeric') AS c_numeric,
	   types_col(data, 'c_numeric_var') AS c_numeric_var,
	   types_col(data, 'c_money') AS c_money,
	   types_col(data, 'c_num_arr') AS c_num_arr,
	   types_col(data, 'c_price') AS c_price
  FROM (VALUES (1, 'double'), (2, 'string')) m(n, handling),
	   LATERAL pg_logical_slot_peek_changes('types_slot', NULL, NULL, 'schemas', 'false',
			'decimal-handling', m.handling) WITH ORDINALITY c(lsn, xid, data, ord)
 ORDER BY m.n, c.ord;
SELECT DISTINCT substring(data FROM '\{"type":"[a-z]+","optional":true[^{}]*"field":"c_numeric"\}') AS double_schema
  FROM pg_logical_slot_peek_changes('types_slot', NULL, NULL, 'decimal-handling', 'double');
SELECT DISTINCT substring(data FROM '\{"type":"[a-z]+","optional":true[^{}]*"field":"c_numeric_var"\}') AS string_schema
  FROM pg_logical_slot_peek_changes('types_slot', NULL, NULL, 'decimal-handling', 'string');
SELECT 'consumed' FROM (SELECT count(*) FROM pg_logical_slot_get_changes('types_slot', NULL, NULL)) s;

-- An enum label added while the relation is cached renders, and the next
-- event's schema lists it in "allowed" (pg_enum invalidates the cache).
INSERT INTO types_all (id, c_enum) VALUES (7, 'ok');
ALTER TYPE types_mood ADD VALUE 'ecstatic';
INSERT INTO types_all (id, c_enum, c_enum_arr) VALUES (8, 'ecstatic', '{ecstatic,sad}');
SELECT data::jsonb->'key'->'payload'->>'id' AS id,
	   types_col(data, 'c_enum') AS c_enum, types_col(data, 'c_enum_arr') AS c_enum_arr,
	   jsonb_path_query_first(data::jsonb,
		   '$.value.schema.fields[1].fields[*] ? (@.field == "c_enum").parameters') AS allowed
  FROM pg_logical_slot_get_changes('types_slot', NULL, NULL);
-- A new decoding session sees the new label in the schema.
INSERT INTO types_all (id, c_enum) VALUES (9, 'ecstatic');
SELECT types_col(data, 'c_enum') AS c_enum,
	   jsonb_path_query_first(data::jsonb,
		   '$.value.schema.fields[1].fields[*] ? (@.field == "c_enum").parameters') AS allowed
  FROM pg_logical_slot_get_changes('types_slot', NULL, NULL);

-- Unchanged TOASTed values (REPLICA IDENTITY DEFAULT): Debezium's
-- placeholder, shaped for the column's type.
CREATE TABLE types_toast (
	id int PRIMARY KEY, n int,
	t text, b bytea, j jsonb, ta text[], ia int[], ba bigint[], na numeric[],
	v varbit
);
ALTER TABLE types_toast ALTER t SET STORAGE EXTERNAL, ALTER b SET STORAGE EXTERNAL,
	ALTER j SET STORAGE EXTERNAL, ALTER ta SET STORAGE EXTERNAL,
	ALTER ia SET STORAGE EXTERNAL, ALTER ba SET STORAGE EXTERNAL,
	ALTER na SET STORAGE EXTERNAL, ALTER v SET STORAGE EXTERNAL;
INSERT INTO types_toast
SELECT 1, 0, string_agg(md5(i::text) || E'\u00e9', '' ORDER BY i),
	   decode(string_agg(md5(i::text), '' ORDER BY i), 'hex'),
	   jsonb_agg(md5(i::text) ORDER BY i),
	   array_agg(md5(i::text) ORDER BY i),
	   array_agg(i ORDER BY i), array_agg(i::bigint ORDER BY i),
	   array_agg(i::numeric ORDER BY i),
	   repeat('10', 20000)::varbit
  FROM generate_series(1, 3000) i;
UPDATE types_toast SET n = 1 WHERE id = 1;
UPDATE types_toast SET n = 2, t = 'small now' WHERE id = 1;

SELECT data::jsonb #>> '{value,op}' AS op,
	   length(data::jsonb #>> '{value,after,t}') AS t_length,
	   md5(data::jsonb #>> '{value,after,t}') =
	   (SELECT md5(string_agg(md5(i::text) || E'\u00e9', '' ORDER BY i))
		  FROM generate_series(1, 3000) i) AS t_md5_matches,
	   length(data::jsonb #>> '{value,after,b}') AS b_base64_length,
	   jsonb_array_length(data::jsonb #> '{value,after,ia}') AS ia_length
  FROM pg_logical_slot_peek_changes('types_slot', NULL, NULL, 'schemas', 'false')
 WHERE data::jsonb #>> '{value,op}' = 'c';
SELECT data::jsonb #>> '{value,after,n}' AS n,
	   data::jsonb #> '{value,before}' AS before,
	   data::jsonb #> '{value,after}' AS after
  FROM pg_logical_slot_get_changes('types_slot', NULL, NULL, 'schemas', 'false')
 WHERE data::jsonb #>> '{value,op}' = 'u';

-- A DELETE under REPLICA IDENTITY DEFAULT logs only the key: Debezium
-- fills the other NOT NULL columns with their type's zero value and the
-- optional ones with null.
CREATE TABLE types_notnull (
	id int PRIMARY KEY,
	c_bool bool NOT NULL, c_int int NOT NULL, c_float8 float8 NOT NULL,
	c_numeric numeric(5,2) NOT NULL, c_numeric_var numeric NOT NULL,
	c_money money NOT NULL, c_text text NOT NULL, c_bytea bytea NOT NULL,
	c_bit bit(4) NOT NULL, c_date date NOT NULL, c_timetz timetz NOT NULL,
	c_tstz timestamptz NOT NULL, c_interval interval NOT NULL,
	c_uuid uuid NOT NULL, c_arr int[] NOT NULL, c_enum types_mood NOT NULL,
	c_optional text
);
INSERT INTO types_notnull VALUES (1, true, 1, 1.5, 1.5, 1.5, 1.5, 'x', '\x01',
	B'1010', '2024-01-01', '01:00:00+00', '2024-01-01 00:00:00+00', '1 day',
	'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{1}', 'ok', 'y');
DELETE FROM types_notnull WHERE id = 1;
SELECT data::jsonb #>> '{value,op}' AS op,
	   regexp_replace(substring(data FROM '"before":(.*),"after":null'),
					  ',"(c_[a-z0-9_]+)":', E',\n"\\1":', 'g') AS before
  FROM pg_logical_slot_peek_changes('types_slot', NULL, NULL, 'schemas', 'false')
 WHERE data::jsonb #>> '{value,op}' = 'd';
SELECT data::jsonb #>> '{value,payload,op}' AS op,
	   data::jsonb #> '{value,payload,before}' =
	   '{"id": 1, "c_bit": "", "c_int": 0, "c_arr": [], "c_bool": false,
		 "c_date": 0, "c_enum": "", "c_text": "", "c_tstz": "1970-01-01T00:00:00.000000Z",
		 "c_uuid": "", "c_bytea": "", "c_money": "AA==", "c_float8": 0.0,
		 "c_timetz": "00:00:00Z", "c_numeric": "AA==", "c_interval": 0,
		 "c_optional": null, "c_numeric_var": {"scale": 0, "value": "AA=="}}'::jsonb
	   AS before_is_fallback
  FROM pg_logical_slot_get_changes('types_slot', NULL, NULL, 'schemas', 'true')
 WHERE data::jsonb #>> '{value,payload,op}' = 'd';

-- Extension types Debezium knows by name: hstore as a JSON string
-- (hstore.handling.mode=json), ltree with its semantic name, citext as
-- text; and a key-only before image takes point's default, as the schema has it.
CREATE EXTENSION hstore;
CREATE EXTENSION ltree;
CREATE EXTENSION citext;
CREATE TABLE types_ext (id int PRIMARY KEY, c_hstore hstore, c_ltree ltree,
	c_citext citext, c_hstore_arr hstore[], c_hstore_nn hstore NOT NULL DEFAULT '',
	c_point_nn point NOT NULL DEFAULT '(1,2)');
INSERT INTO types_ext VALUES (1, 'a=>1, "b c"=>"x\"y", n=>NULL', 'top.sub.leaf',
	'MiXeD', ARRAY['k=>v'::hstore, NULL]);
DELETE FROM types_ext;
SELECT data::jsonb #>> '{value,op}' AS op,
	   types_after(data) AS after,
	   (data::jsonb #>> '{value,after,c_hstore}')::jsonb AS hstore_as_json,
	   regexp_replace(substring(data FROM '"before":(.*),"after":null'),
					  ',"(c_[a-z0-9_]+)":', E',\n"\\1":', 'g') AS before
  FROM pg_logical_slot_peek_changes('types_slot', NULL, NULL, 'schemas', 'false');
SELECT types_after_schema(data) AS after_schema
  FROM pg_logical_slot_get_changes('types_slot', NULL, NULL, 'schemas', 'true')
 LIMIT 1;

SELECT pg_drop_replication_slot('types_slot');
DROP TABLE types_all, types_toast, types_notnull, types_ext;
DROP EXTENSION hstore, ltree, citext;
DROP FUNCTION types_after(text), types_after_schema(text), types_col(text, text);
DROP DOMAIN types_posint, types_price;
DROP TYPE types_mood;
