// parquet_bench.mjs: writes the 4-column shape of `pq_gen bench` with
// DuckDB's own Parquet writer (zstd) and compares the two files: same data
// (DuckDB aggregates over both), and their sizes.
//
//   node t/js/parquet_bench.mjs OURS.parquet DUCK_OUT.parquet ROWS
//   node t/js/parquet_bench.mjs OURS.parquet DUCK_OUT.parquet rewrite
//       (any shape: DuckDB rewrites our file with zstd, then compares)
import { DuckDBInstance } from '@duckdb/node-api';
import fs from 'node:fs';

const [ours, duck, rows] = process.argv.slice(2);
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
await con.run('SET threads = 1');
const q = (s) => `'${s.replaceAll("'", "''")}'`;
const t0 = process.hrtime.bigint();
if (rows === 'rewrite')
	await con.run(`COPY (SELECT * FROM read_parquet(${q(ours)})) TO ${q(duck)} (FORMAT parquet, COMPRESSION zstd)`);
else await con.run(`COPY (SELECT i::BIGINT AS id, 'customer_' || (i % 1000) AS name,
	(((i * 7919) % 1000000) / 100)::DECIMAL(10,2) AS amount,
	make_timestamp(1700000000000000 + i * 1000003)::TIMESTAMPTZ AS ts
	FROM range(${Number(rows)}) t(i)) TO ${q(duck)} (FORMAT parquet, COMPRESSION zstd)`);
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
const agg = async (f) => JSON.stringify((await con.runAndReadAll(rows === 'rewrite'
	? `SELECT count(*) AS n, sum(hash(COLUMNS(*))) AS h FROM read_parquet(${q(f)})`
	: `SELECT count(*) AS n, sum(id) AS s,
	count(DISTINCT name) AS names, sum(amount) AS a, min(ts)::VARCHAR AS lo, max(ts)::VARCHAR AS hi,
	sum(hash(id, name, amount, ts)) AS h FROM read_parquet(${q(f)})`)).getRowObjectsJson());
const a = await agg(ours);
const b = await agg(duck);
con.closeSync();
inst.closeSync();
process.stdout.write(JSON.stringify({
	same: a === b, ours_agg: a, duckdb_agg: b,
	ours: fs.statSync(ours).size, duckdb: fs.statSync(duck).size, duckdb_seconds: secs,
}) + '\n');
