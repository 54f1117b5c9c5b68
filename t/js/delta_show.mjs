// delta_show.mjs: prints the result of a SQL query over a Delta table, read
// by DuckDB (an independent reader): the live files are those the log's
// add actions list (minus removes), replayed here from _delta_log.
//
//   node t/js/delta_show.mjs TABLE_DIR "SELECT ... FROM t ..." [--json]
//
// With --json, prints the rows as one JSON array instead of a table.
import { DuckDBInstance } from '@duckdb/node-api';
import fs from 'node:fs';
import path from 'node:path';

const [dir, sql, mode] = process.argv.slice(2);
const logDir = path.join(dir, '_delta_log');
const live = new Set();
for (const f of fs.readdirSync(logDir).filter((n) => /^\d{20}\.json$/.test(n)).sort()) {
	for (const line of fs.readFileSync(path.join(logDir, f), 'utf8').split('\n')) {
		if (!line)
			continue;
		const a = JSON.parse(line);
		if (a.add)
			live.add(a.add.path);
		else if (a.remove)
			live.delete(a.remove.path);
	}
}
if (live.size === 0) {
	console.log(mode === '--json' ? '[]' : '(the table has no data files yet)');
	process.exit(0);
}
const files = [...live].map((p) => `'${path.join(dir, p).replaceAll("'", "''")}'`);
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
await con.run(`CREATE VIEW t AS SELECT * FROM read_parquet([${files.join(', ')}], union_by_name = true)`);
const reader = await con.runAndReadAll(sql);
const rows = reader.getRowObjectsJson();
if (mode === '--json') {
	console.log(JSON.stringify(rows));
} else {
	const cols = reader.columnNames();
	const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
	const line = (vals) => ' ' + vals.map((v, i) => String(v ?? '').padEnd(width[i])).join(' | ');
	console.log(line(cols));
	console.log('-' + width.map((w) => '-'.repeat(w)).join('-+-') + '-');
	rows.forEach((r) => console.log(line(cols.map((c) => r[c]))));
	console.log(`(${rows.length} rows)`);
}
