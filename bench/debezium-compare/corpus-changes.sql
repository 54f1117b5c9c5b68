-- bench/debezium-compare: the changes both slots stream, one transaction
-- per statement unless BEGIN/COMMIT say otherwise.
INSERT INTO scalars SELECT id + 10, b, i2, i4, i8, o, f4, f8, n, n52, n100, m, ba, bit1, bit8, bit12, vb, vb10,
	d, t, ttz, ts, tstz, iv, u, j, jb, x, e, dom, dst, dnum, tx, vc, vcu, ch, chu, nm, ine, ci, mac, mac8,
	r4, r8, rn, rts, rtstz, rd, hs, lt, cit, pt FROM scalars;
UPDATE scalars SET b = false, i4 = -1, f8 = 0.1, n = -0.001, tstz = '2000-01-01 00:00:00+00', hs = 'z=>1, a=>2, m=>3' WHERE id = 11;
DELETE FROM scalars WHERE id = 12;
INSERT INTO precisions SELECT id + 10, t0, t1, t2, t3, t4, t5, t6, z0, z1, z2, z3, z4, z5, z6,
	s0, s1, s2, s3, s4, s5, s6, p0, p1, p2, p3, p4, p5, p6 FROM precisions;
INSERT INTO arrays SELECT id + 10, ab, ai2, ai4, ai8, af4, af8, an, an52, am, aba, abit, avb, ad, at, attz, ats, atstz,
	aiv, au, aj, ajb, ax, ae, atx, avc, ach, aine, ar4, ahs, apt, adom, ai4md, atxmd FROM arrays;
INSERT INTO others SELECT id + 10, li, ls, bx, pa, pg, cr, cp, tv, tq, pl, bp FROM others;
INSERT INTO limits SELECT id + 10, i2, i4, i8, f4, f8, n, n52, m, d, t, ttz, ts, ts3, tstz, iv FROM limits;
INSERT INTO limits (id, n) VALUES (20, 'NaN'), (21, 'Infinity'), (22, '-Infinity');
INSERT INTO defaults (n_i, n_t) VALUES (2, 'stream');
INSERT INTO defaults (k2, n_i, n_t, opt_i, opt_now) VALUES (100, 3, 'explicit', NULL, NULL);
DELETE FROM defaults WHERE n_i = 2;

-- replica identities: update, delete, key change
UPDATE ri_default SET v = 'one!' WHERE id = 1;
UPDATE ri_default SET id = 3 WHERE id = 2;
DELETE FROM ri_default WHERE id = 1;
UPDATE ri_full SET v = 'one!', w = NULL WHERE id = 1;
UPDATE ri_full SET id = 3 WHERE id = 2;
DELETE FROM ri_full WHERE id = 1;
INSERT INTO ri_nothing VALUES (2, 'two', 2);
-- (an update or delete of ri_nothing fails: Debezium's publication is FOR ALL TABLES)
UPDATE ri_index SET v = 'one!' WHERE id = 1;
UPDATE ri_index SET code = 'c3' WHERE id = 2;
UPDATE ri_index SET id = 5 WHERE id = 1;
DELETE FROM ri_index WHERE id = 5;
UPDATE ri_index_pk SET v = 'one!' WHERE a = 1;
UPDATE ri_index_pk SET b = 2 WHERE a = 1;
DELETE FROM ri_index_pk WHERE a = 1;

-- tables without a primary key
INSERT INTO nokey_full VALUES (2, 'two');
UPDATE nokey_full SET v = 'two!' WHERE a = 2;
DELETE FROM nokey_full WHERE a = 2;
INSERT INTO nokey_uidx VALUES (2, 'two');
UPDATE nokey_uidx SET v = 'two!' WHERE a = 2;
UPDATE nokey_uidx SET a = 3 WHERE a = 2;
DELETE FROM nokey_uidx WHERE a = 3;
INSERT INTO nokey_insert_only VALUES (2, 'two'), (NULL, NULL);

-- key changes of other key types, several in one transaction
BEGIN;
UPDATE pk_multi SET b = 'b' WHERE a = 1;
UPDATE pk_text SET k = 'k2' WHERE k = 'k1';
UPDATE pk_uuid SET k = 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
INSERT INTO pk_text VALUES ('k3', 3);
COMMIT;
DELETE FROM pk_multi;

-- TOAST: inserted, unchanged by an update, changed, deleted
INSERT INTO toast_default SELECT 1, 0, repeat('t', 9000), convert_to(repeat('b', 9000), 'UTF8'),
	jsonb_build_object('k', repeat('j', 9000)), json_build_object('k', repeat('s', 9000)),
	ARRAY[repeat('a', 9000)], array_agg(g), array_agg(g::int8), hstore('k', repeat('h', 9000)),
	xmlelement(name x, repeat('x', 9000)), repeat('v', 9000) FROM generate_series(1, 3000) g;
INSERT INTO toast_full SELECT * FROM toast_default;
UPDATE toast_default SET other = 1;
UPDATE toast_full SET other = 1;
UPDATE toast_default SET tx = repeat('u', 9000), other = 2;
UPDATE toast_full SET tx = repeat('u', 9000), other = 2;
UPDATE toast_default SET id = 2;
UPDATE toast_full SET id = 2;
DELETE FROM toast_default;
DELETE FROM toast_full;

-- partitioned tables: rows move between partitions
INSERT INTO part_range VALUES (3, '2024-06-06', 'new2');
UPDATE part_range SET v = 'old!' WHERE id = 1;
UPDATE part_range SET at = '2024-01-01' WHERE id = 1;
DELETE FROM part_range WHERE id = 2;
INSERT INTO part_list VALUES (3, 'eu', 'e3');
UPDATE part_list SET region = 'us' WHERE id = 3;

INSERT INTO "Other Schema"."Mixed Case" VALUES (2, 'b', 'ï');
UPDATE "Other Schema"."Mixed Case" SET "a col" = NULL WHERE "Id" = 1;

-- truncates: one table, two at once
TRUNCATE trunc_a;
INSERT INTO trunc_a VALUES (2, 'a2');
TRUNCATE trunc_a, trunc_b;

-- logical messages: transactional, mixed with changes, and not
SELECT pg_logical_emit_message(true, 'prefix.a', 'content a');
BEGIN;
INSERT INTO trunc_b VALUES (5, 'b5');
SELECT pg_logical_emit_message(true, 'prefix.b', '\x00ff'::bytea);
INSERT INTO trunc_a VALUES (5, 'a5');
COMMIT;
SELECT pg_logical_emit_message(false, 'prefix.nt', 'not transactional');

-- a rolled back transaction publishes nothing
BEGIN;
INSERT INTO trunc_a VALUES (6, 'never');
ROLLBACK;

-- a transaction over several tables (transaction metadata)
BEGIN;
INSERT INTO ri_default VALUES (10, 'ten', 10);
INSERT INTO ri_full VALUES (10, 'ten', 10);
INSERT INTO ri_default VALUES (11, 'eleven', 11);
UPDATE ri_full SET w = 11 WHERE id = 10;
COMMIT;

INSERT INTO zz_done VALUES (1);
