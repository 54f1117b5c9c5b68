// duckdb_cli.mjs: the part of the DuckDB command-line shell the README's
// recipes use, on the DuckDB the tests already have (@duckdb/node-api),
// so that the README runs as written where the `duckdb` binary is absent:
//
//   node t/js/duckdb_cli.mjs [-csv] [-noheader] -c SQL
//
// Runs the statements of SQL in order and prints each result that has
// columns: as CSV with -csv (DuckDB's quoting: a value holding the
// separator, a quote or a newline is quoted, quotes doubled; NULL empty),
// else as an aligned table.  An error goes to stderr with exit 1.
import { DuckDBInstance } from '@duckdb/node-api';

let csv = false, header = true, sql = null;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
	if (args[i] === '-csv')
		csv = true;
	else if (args[i] === '-noheader')
		header = false;
	else if (args[i] === '-c' && i + 1 < args.length)
		sql = args[++i];
	else {
		console.error(`duckdb_cli: unsupported argument "${args[i]}"`);
		process.exit(2);
	}
}
if (sql === null) {
	console.error('usage: duckdb_cli.mjs [-csv] [-noheader] -c SQL');
	process.exit(2);
}

const cell = (v) => {
	if (v === null || v === undefined)
		return '';
	const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
	return csv && /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

try {
	const inst = await DuckDBInstance.create(':memory:');
	const con = await inst.connect();
	const stmts = await con.extractStatements(sql);
	for (let i = 0; i < stmts.count; i++) {
		const prepared = await stmts.prepare(i);
		const reader = await prepared.runAndReadAll();
		const cols = reader.columnNames();
		if (cols.length === 0)
			continue;
		const rows = reader.getRowsJson().map((r) => r.map(cell));
		if (csv) {
			if (header)
				console.log(cols.join(','));
			rows.forEach((r) => console.log(r.join(',')));
		} else {
			const width = cols.map((c, j) => Math.max(c.length, ...rows.map((r) => r[j].length)));
			const line = (vals) => vals.map((v, j) => v.padEnd(width[j])).join(' | ').trimEnd();
			if (header)
				console.log(line(cols));
			rows.forEach((r) => console.log(line(r)));
		}
	}
} catch (e) {
	console.error(`Error: ${e.message}`);
	process.exit(1);
}
// DuckDB's threads would keep the process alive
process.exit(0);
