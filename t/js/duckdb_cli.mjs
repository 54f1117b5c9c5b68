// duckdb_cli.mjs: the part of the DuckDB command-line shell the README's
// recipes use, on the DuckDB the tests already have (@duckdb/node-api),
// so that the README runs as written where the `duckdb` binary is absent:
//
//   node t/js/duckdb_cli.mjs [-csv] [-noheader] -c SQL
//
// Runs the statements of SQL in order and prints the last one's result:
// as CSV with -csv (DuckDB's quoting: a value holding the
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

let inst, con;
try {
	inst = await DuckDBInstance.create(':memory:');
	con = await inst.connect();
	// the result of the last statement, as `duckdb -c` prints each
	const reader = await con.runAndReadAll(sql);
	const cols = reader.columnNames();
	const rows = reader.getRowsJson().map((r) => r.map(cell));
	if (csv) {
		if (header && cols.length)
			console.log(cols.join(','));
		rows.forEach((r) => console.log(r.join(',')));
	} else if (cols.length) {
		const width = cols.map((c, j) => Math.max(c.length, ...rows.map((r) => r[j].length)));
		const line = (vals) => vals.map((v, j) => v.padEnd(width[j])).join(' | ').trimEnd();
		if (header)
			console.log(line(cols));
		rows.forEach((r) => console.log(line(r)));
	}
} catch (e) {
	console.error(`Error: ${e.message}`);
	process.exitCode = 1;
} finally {
	con?.closeSync();
	inst?.closeSync();
}
