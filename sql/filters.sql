-- include/exclude filters on schema and schema.table (anchored regexes).
\i sql/setup.inc
\set VERBOSITY terse
SET synchronous_commit = on;
CREATE SCHEMA f_sales;
CREATE SCHEMA f_hr;
CREATE TABLE f_sales.orders (id int PRIMARY KEY);
CREATE TABLE f_sales.order_lines (id int PRIMARY KEY);
CREATE TABLE f_hr.people (id int PRIMARY KEY);

SELECT 'init' FROM pg_create_logical_replication_slot('f_slot', 'cdc_kafka');
CREATE FUNCTION f_round() RETURNS void LANGUAGE sql AS $$
	INSERT INTO f_sales.orders VALUES ((SELECT coalesce(max(id), 0) + 1 FROM f_sales.orders));
	INSERT INTO f_sales.order_lines VALUES ((SELECT coalesce(max(id), 0) + 1 FROM f_sales.order_lines));
	INSERT INTO f_hr.people VALUES ((SELECT coalesce(max(id), 0) + 1 FROM f_hr.people));
$$;

SELECT f_round();
SELECT c->>'topic' FROM changes('f_slot', 'schemas', 'false', 'include-schemas', 'f_sales') AS c;
SELECT f_round();
SELECT c->>'topic' FROM changes('f_slot', 'schemas', 'false', 'exclude-schemas', 'f_s.*,public') AS c;
SELECT f_round();
SELECT c->>'topic' FROM changes('f_slot', 'schemas', 'false', 'include-tables', 'f_sales\.order.*') AS c;
SELECT f_round();
-- anchored: "orders" alone matches no schema.table
SELECT c->>'topic' FROM changes('f_slot', 'schemas', 'false', 'include-tables', 'orders') AS c;
SELECT f_round();
SELECT c->>'topic' FROM changes('f_slot', 'schemas', 'false', 'include-schemas', 'f_.*',
								'exclude-tables', 'f_sales\.orders') AS c;
SELECT f_round();
-- case does not matter, as in Debezium's lists
SELECT c->>'topic' FROM changes('f_slot', 'schemas', 'false', 'include-tables', 'F_SALES\.Orders',
								'exclude-schemas', 'F_HR') AS c;
SELECT 'drop' FROM pg_drop_replication_slot('f_slot');
