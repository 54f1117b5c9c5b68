-- bench/debezium-compare: the tables, and the rows that exist before either
-- slot (both initial snapshots read them).  corpus-changes.sql then runs
-- while both stream.  Every row of plugin/typemap.c's mapping has a column.
CREATE EXTENSION hstore;
CREATE EXTENSION ltree;
CREATE EXTENSION citext;

CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE DOMAIN shorttext AS varchar(10);
CREATE DOMAIN price AS numeric(8,2);
CREATE TYPE pair AS (a int, b text);

-- one column per mapping row of typemap.c
CREATE TABLE scalars (
	id int PRIMARY KEY,
	b bool, i2 int2, i4 int4, i8 int8, o oid, f4 float4, f8 float8,
	n numeric, n52 numeric(5,2), n100 numeric(10), m money, ba bytea,
	bit1 bit(1), bit8 bit(8), bit12 bit(12), vb varbit, vb10 varbit(10),
	d date, t time, ttz timetz, ts timestamp, tstz timestamptz,
	iv interval, u uuid, j json, jb jsonb, x xml, e mood,
	dom posint, dst shorttext, dnum price,
	tx text, vc varchar(20), vcu varchar, ch char(5), chu char, nm name,
	ine inet, ci cidr, mac macaddr, mac8 macaddr8,
	r4 int4range, r8 int8range, rn numrange, rts tsrange, rtstz tstzrange, rd daterange,
	hs hstore, lt ltree, cit citext, pt point
);

-- time, timetz, timestamp, timestamptz at each precision
CREATE TABLE precisions (
	id int PRIMARY KEY,
	t0 time(0), t1 time(1), t2 time(2), t3 time(3), t4 time(4), t5 time(5), t6 time(6),
	z0 timetz(0), z1 timetz(1), z2 timetz(2), z3 timetz(3), z4 timetz(4), z5 timetz(5), z6 timetz(6),
	s0 timestamp(0), s1 timestamp(1), s2 timestamp(2), s3 timestamp(3), s4 timestamp(4), s5 timestamp(5), s6 timestamp(6),
	p0 timestamptz(0), p1 timestamptz(1), p2 timestamptz(2), p3 timestamptz(3), p4 timestamptz(4), p5 timestamptz(5), p6 timestamptz(6)
);

-- arrays of each type
CREATE TABLE arrays (
	id int PRIMARY KEY,
	ab bool[], ai2 int2[], ai4 int4[], ai8 int8[], af4 float4[], af8 float8[],
	an numeric[], an52 numeric(5,2)[], am money[], aba bytea[], abit bit(4)[], avb varbit[],
	ad date[], at time[], attz timetz[], ats timestamp[], atstz timestamptz[],
	aiv interval[], au uuid[], aj json[], ajb jsonb[], ax xml[], ae mood[],
	atx text[], avc varchar(5)[], ach char(2)[], aine inet[], ar4 int4range[],
	ahs hstore[], apt point[], adom posint[], ai4md int4[][], atxmd text[][]
);

-- geometric, composite and other types without a Debezium mapping
CREATE TABLE others (
	id int PRIMARY KEY,
	li line, ls lseg, bx box, pa path, pg polygon, cr circle,
	cp pair, tv tsvector, tq tsquery, pl pg_lsn, bp bpchar
);

-- infinity, NaN, and values at each type's limits
CREATE TABLE limits (
	id int PRIMARY KEY,
	i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, n numeric, n52 numeric(5,2),
	m money, d date, t time, ttz timetz, ts timestamp, ts3 timestamp(3), tstz timestamptz,
	iv interval
);

-- every kind of column default, in keys too
CREATE SEQUENCE dflt_seq;
CREATE TABLE defaults (
	id serial PRIMARY KEY,
	k2 bigint DEFAULT nextval('dflt_seq') NOT NULL,
	lit_i int NOT NULL DEFAULT 7,
	lit_t text NOT NULL DEFAULT 'x',
	lit_b bool NOT NULL DEFAULT true,
	lit_n numeric(6,2) NOT NULL DEFAULT 1.5,
	lit_f float8 NOT NULL DEFAULT 2.5,
	lit_d date NOT NULL DEFAULT '2024-01-02',
	lit_ts timestamp NOT NULL DEFAULT '2024-01-02 03:04:05',
	lit_tstz timestamptz NOT NULL DEFAULT '2024-01-02 03:04:05+00',
	lit_e mood NOT NULL DEFAULT 'ok',
	lit_u uuid NOT NULL DEFAULT '00000000-0000-0000-0000-000000000001',
	fn_now timestamptz NOT NULL DEFAULT now(),
	fn_ts timestamp NOT NULL DEFAULT localtimestamp,
	fn_d date NOT NULL DEFAULT current_date,
	fn_u text NOT NULL DEFAULT md5('a'),
	expr_i int NOT NULL DEFAULT (1 + 2),
	expr_t text NOT NULL DEFAULT ('a' || 'b'),
	opt_i int DEFAULT 5,
	opt_now timestamptz DEFAULT now(),
	n_i int NOT NULL,
	n_t text NOT NULL
);

-- replica identities
CREATE TABLE ri_default (id int PRIMARY KEY, v text NOT NULL, w int);
CREATE TABLE ri_full (id int PRIMARY KEY, v text NOT NULL, w int);
ALTER TABLE ri_full REPLICA IDENTITY FULL;
CREATE TABLE ri_nothing (id int PRIMARY KEY, v text NOT NULL, w int);
ALTER TABLE ri_nothing REPLICA IDENTITY NOTHING;
CREATE TABLE ri_index (id int PRIMARY KEY, code text NOT NULL, v text NOT NULL, w int);
CREATE UNIQUE INDEX ri_index_code ON ri_index (code);
ALTER TABLE ri_index REPLICA IDENTITY USING INDEX ri_index_code;
CREATE TABLE ri_index_pk (a int NOT NULL, b int NOT NULL, v text NOT NULL, PRIMARY KEY (a, b));
CREATE UNIQUE INDEX ri_index_pk_ab ON ri_index_pk (b, a);
ALTER TABLE ri_index_pk REPLICA IDENTITY USING INDEX ri_index_pk_ab;

-- tables without a primary key
CREATE TABLE nokey_full (a int, v text);
ALTER TABLE nokey_full REPLICA IDENTITY FULL;
CREATE TABLE nokey_uidx (a int NOT NULL, v text);
CREATE UNIQUE INDEX nokey_uidx_a ON nokey_uidx (a);
ALTER TABLE nokey_uidx REPLICA IDENTITY USING INDEX nokey_uidx_a;
CREATE TABLE nokey_insert_only (a int, v text);

-- multi-column and non-int keys, PK changes
CREATE TABLE pk_multi (a int, b text, c date, v text, PRIMARY KEY (a, b, c));
CREATE TABLE pk_text (k text PRIMARY KEY, v int);
CREATE TABLE pk_uuid (k uuid PRIMARY KEY, v int);

-- TOASTed values: unchanged and changed, under DEFAULT and FULL
CREATE TABLE toast_default (id int PRIMARY KEY, other int, tx text, ba bytea, jb jsonb, js json,
	atx text[], ai4 int4[], ai8 int8[], hs hstore, x xml, vc varchar);
ALTER TABLE toast_default ALTER tx SET STORAGE EXTERNAL, ALTER ba SET STORAGE EXTERNAL,
	ALTER jb SET STORAGE EXTERNAL, ALTER js SET STORAGE EXTERNAL, ALTER atx SET STORAGE EXTERNAL,
	ALTER ai4 SET STORAGE EXTERNAL, ALTER ai8 SET STORAGE EXTERNAL, ALTER hs SET STORAGE EXTERNAL,
	ALTER x SET STORAGE EXTERNAL, ALTER vc SET STORAGE EXTERNAL;
CREATE TABLE toast_full (LIKE toast_default INCLUDING ALL);
ALTER TABLE toast_full REPLICA IDENTITY FULL;

-- partitioned tables
CREATE TABLE part_range (id int, at date NOT NULL, v text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE part_range_2023 PARTITION OF part_range FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE part_range_2024 PARTITION OF part_range FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE part_list (id int, region text, v text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE part_list_eu PARTITION OF part_list FOR VALUES IN ('eu');
CREATE TABLE part_list_us PARTITION OF part_list FOR VALUES IN ('us');

-- a second schema, quoting and odd names
CREATE SCHEMA "Other Schema";
CREATE TABLE "Other Schema"."Mixed Case" ("Id" int PRIMARY KEY, "a col" text, "ünï" text);

-- for truncates
CREATE TABLE trunc_a (id int PRIMARY KEY, v text);
CREATE TABLE trunc_b (id int PRIMARY KEY, v text);

-- rows that exist before the slots: the initial snapshot
INSERT INTO scalars VALUES (1, true, 12, 1234, 123456789012, 42, 1.5, 2.25,
	123.4500, 12.34, 1234567890, 12.34, '\x00ff10', B'1', B'10100101', B'101010101010', B'1011', B'110',
	'2024-02-29', '13:14:15.123456', '13:14:15.5+02', '2024-02-29 13:14:15.123456', '2024-02-29 13:14:15.123456+01',
	'1 year 2 mons 3 days 04:05:06.789', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2.50, "x"], "b": null}',
	'{"b": 1, "a": [true, "é"]}', '<a x="1">t</a>', 'happy', 5, 'short', 99.5,
	'text with "quotes" and \ and é', 'varchar', 'unbounded', 'ab', 'c', 'a name',
	'192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05',
	'[1,10)', '[5,)', '(1.5,2.5]', '[2024-01-01 00:00,2024-01-02 00:00)', '[2024-01-01 00:00+00,)', '[2024-01-01,2024-02-01)',
	'b=>2, a=>1, "key with space"=>"v\"q", n=>NULL', 'top.middle.leaf', 'CiText', '(1.5,-2)');
INSERT INTO scalars (id) VALUES (2);
INSERT INTO precisions VALUES (1,
	'01:02:03.456789', '01:02:03.456789', '01:02:03.456789', '01:02:03.456789', '01:02:03.456789', '01:02:03.456789', '01:02:03.456789',
	'01:02:03.456789+05:30', '01:02:03.456789+05:30', '01:02:03.456789+05:30', '01:02:03.456789+05:30', '01:02:03.456789+05:30', '01:02:03.456789+05:30', '01:02:03.456789+05:30',
	'2024-03-04 01:02:03.456789', '2024-03-04 01:02:03.456789', '2024-03-04 01:02:03.456789', '2024-03-04 01:02:03.456789', '2024-03-04 01:02:03.456789', '2024-03-04 01:02:03.456789', '2024-03-04 01:02:03.456789',
	'2024-03-04 01:02:03.456789+00', '2024-03-04 01:02:03.456789+00', '2024-03-04 01:02:03.456789+00', '2024-03-04 01:02:03.456789+00', '2024-03-04 01:02:03.456789+00', '2024-03-04 01:02:03.456789+00', '2024-03-04 01:02:03.456789+00');
INSERT INTO precisions VALUES (2,
	'01:02:03', '01:02:03', '01:02:03', '01:02:03', '01:02:03', '01:02:03', '01:02:03',
	'01:02:03Z', '01:02:03Z', '01:02:03Z', '01:02:03Z', '01:02:03Z', '01:02:03Z', '01:02:03Z',
	'2024-03-04 01:02:03', '2024-03-04 01:02:03', '2024-03-04 01:02:03', '2024-03-04 01:02:03', '2024-03-04 01:02:03', '2024-03-04 01:02:03', '2024-03-04 01:02:03',
	'2024-03-04 01:02:03Z', '2024-03-04 01:02:03Z', '2024-03-04 01:02:03Z', '2024-03-04 01:02:03Z', '2024-03-04 01:02:03Z', '2024-03-04 01:02:03Z', '2024-03-04 01:02:03Z');
INSERT INTO precisions VALUES (3,
	'01:02:03.1', '01:02:03.1', '01:02:03.1', '01:02:03.1', '01:02:03.1', '01:02:03.1', '01:02:03.1',
	'01:02:03.1-03', '01:02:03.1-03', '01:02:03.1-03', '01:02:03.1-03', '01:02:03.1-03', '01:02:03.1-03', '01:02:03.1-03',
	'2024-03-04 01:02:03.1', '2024-03-04 01:02:03.1', '2024-03-04 01:02:03.1', '2024-03-04 01:02:03.1', '2024-03-04 01:02:03.1', '2024-03-04 01:02:03.1', '2024-03-04 01:02:03.1',
	'2024-03-04 01:02:03.1-03', '2024-03-04 01:02:03.1-03', '2024-03-04 01:02:03.1-03', '2024-03-04 01:02:03.1-03', '2024-03-04 01:02:03.1-03', '2024-03-04 01:02:03.1-03', '2024-03-04 01:02:03.1-03');
INSERT INTO arrays VALUES (1, '{t,f,NULL}', '{1,-2}', '{3,NULL,4}', '{5000000000}', '{1.5,NaN}', '{2.25,-Infinity}',
	'{1.50,2}', '{1.5,2.25}', '{1.25}', '{"\\x01ff"}', '{1010,0101}', '{1,101}',
	'{2024-01-01,1970-01-01}', '{01:02:03.5}', '{01:02:03+01}', '{"2024-01-01 01:02:03.5"}', '{"2024-01-01 01:02:03.5+00"}',
	'{1 day,"2 hours"}', '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', ARRAY['{"a":1}'::json], ARRAY['{"a": 1}'::jsonb], ARRAY['<x/>'::xml], '{sad,happy}',
	'{a,"b c",NULL,"d\"e"}', '{ab,cd}', '{x,yz}', '{10.0.0.1}', '{"[1,2)"}',
	ARRAY['a=>1'::hstore], '{"(1,2)"}', '{1,2}', '{{1,2},{3,4}}', '{{a,b},{c,d}}');
INSERT INTO arrays (id) VALUES (2);
INSERT INTO arrays (id, ai4, atx) VALUES (3, '{}', '{}');
INSERT INTO others VALUES (1, '{1,2,3}', '[(0,0),(1,1)]', '(1,1),(0,0)', '((0,0),(1,1),(2,0))', '((0,0),(1,1),(1,0))', '<(0,0),2>',
	ROW(1, 'x'), 'a fat cat', 'fat & cat', '0/16B3750', 'bp');
INSERT INTO limits VALUES (1, -32768, -2147483648, -9223372036854775808, -3.4028235e38, -1.7976931348623157e308,
	-99999999999999999999999999999999.99999, -999.99, -92233720368547758.08, '4713-01-01 BC', '00:00:00', '00:00:00+15:59',
	'4713-01-01 00:00:00 BC', '4713-01-01 00:00:00 BC', '4713-01-01 00:00:00+00 BC', '-178000000 years');
INSERT INTO limits VALUES (2, 32767, 2147483647, 9223372036854775807, 3.4028235e38, 1.7976931348623157e308,
	99999999999999999999999999999999.99999, 999.99, 92233720368547758.07, '5874897-12-31', '24:00:00', '24:00:00-15:59',
	'294276-12-31 23:59:59.999999', '294276-12-31 23:59:59.999', '294276-12-31 23:59:59.999999+00', '178000000 years');
INSERT INTO limits VALUES (3, 0, 0, 0, 1.4e-45, 4.9e-324, 0.000000000000000000001, 0.01, 0.01, '1970-01-01', '00:00:00.000001',
	'00:00:00.000001+00', '1970-01-01 00:00:00.000001', '1969-12-31 23:59:59.999', '1969-12-31 23:59:59.999999+00', '-1 microsecond');
INSERT INTO limits (id, f4, f8, d, ts, ts3, tstz) VALUES (4, 'NaN', 'NaN', 'infinity', 'infinity', 'infinity', 'infinity');
INSERT INTO limits (id, f4, f8, d, ts, ts3, tstz) VALUES (5, '-Infinity', 'Infinity', '-infinity', '-infinity', '-infinity', '-infinity');
INSERT INTO limits (id, f4, f8) VALUES (6, '-0', '-0');
INSERT INTO defaults (n_i, n_t) VALUES (1, 'snap');
INSERT INTO ri_default VALUES (1, 'one', 1), (2, 'two', 2);
INSERT INTO ri_full VALUES (1, 'one', 1), (2, 'two', 2);
INSERT INTO ri_nothing VALUES (1, 'one', 1);
INSERT INTO ri_index VALUES (1, 'c1', 'one', 1), (2, 'c2', 'two', 2);
INSERT INTO ri_index_pk VALUES (1, 1, 'one');
INSERT INTO nokey_full VALUES (1, 'one'), (1, 'one');
INSERT INTO nokey_uidx VALUES (1, 'one');
INSERT INTO nokey_insert_only VALUES (1, 'one');
INSERT INTO pk_multi VALUES (1, 'a', '2024-01-01', 'one');
INSERT INTO pk_text VALUES ('k1', 1);
INSERT INTO pk_uuid VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 1);
INSERT INTO part_range VALUES (1, '2023-05-05', 'old'), (2, '2024-05-05', 'new');
INSERT INTO part_list VALUES (1, 'eu', 'e'), (2, 'us', 'u');
INSERT INTO "Other Schema"."Mixed Case" VALUES (1, 'a', 'ü');
INSERT INTO trunc_a VALUES (1, 'a');
INSERT INTO trunc_b VALUES (1, 'b');
-- the end marker's table (corpus-changes.sql writes it last)
CREATE TABLE zz_done (id int PRIMARY KEY);
