// delta_read.mjs: an independent reader of a Delta table written by
// cdc_delta_writer, for the writer's tests and benchmark.
//
//   node t/js/delta_read.mjs TABLE_DIR [SQL ...]
//
// 1. Replays TABLE_DIR/_delta_log/*.json itself (from the checkpoint the
//    remaining commits continue, read with DuckDB, when the commits before
//    it were cleaned up) (Delta PROTOCOL.md action
//    reconciliation: live files = adds minus removes), checking the log:
//    contiguous versions from 0, protocol (reader 1, writer 2; or reader 2,
//    writer 5 with column mapping mode name, each field's id and physical
//    name, unique ids and physical names, maxColumnId) and metaData in
//    version 0, commitInfo in each commit, add actions with path, size,
//    modificationTime, dataChange and stats (numRecords, minValues,
//    maxValues, nullCount), every live file present with its size, txn
//    versions never going back.
// 2. Gives DuckDB the live Parquet files as view "t" (with column mapping,
//    each physical column under its logical name, as PROTOCOL.md's readers
//    resolve them) and checks that each file's row count equals its add's
//    numRecords and that the __kafka_offset statistics (keyed by physical
//    name under mapping) match the data.
// 3. Runs each SQL argument against "t"; "{files}" in it stands for the
//    list of live Parquet files (for parquet_metadata() and the like).
//
// Prints one JSON object: {version, files, txns, schema, columns (DuckDB's
// types), errors, results: [[row objects], ...]}.  Exit 0 even when the log
// has errors: the test asserts on "errors".
import { DuckDBInstance } from '@duckdb/node-api';
import fs from 'node:fs';
import path from 'node:path';

const [dir, ...queries] = process.argv.slice(2);
const errors = [];
const logDir = path.join(dir, '_delta_log');
const listing = fs.existsSync(logDir) ? fs.readdirSync(logDir) : [];
let commits = listing.filter((f) => /^\d{20}\.json$/.test(f)).sort();
const live = new Map();
const txns = {};
let schema = null;
let protocol = null;
let config = {};
let start = 0;
let checkpoint = null;

const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
const q = (s) => s.replaceAll("'", "''");

// A log whose old commits were cleaned up starts at a checkpoint: DuckDB
// reads the newest classic one (single or multi-part) that the remaining
// commits continue, as a Delta reader would.
if (commits.length === 0 || Number(commits[0].slice(0, 20)) !== 0) {
	const first = commits.length ? Number(commits[0].slice(0, 20)) : Infinity;
	const cps = listing.map((f) => /^(\d{20})\.checkpoint\.(?:\d{10}\.\d{10}\.)?parquet$/.exec(f))
		.filter((m) => m && Number(m[1]) >= first - 1)
		.map((m) => Number(m[1]));
	if (cps.length) {
		const v = Math.min(...cps);
		const files = listing.filter((f) => f.startsWith(String(v).padStart(20, '0') + '.checkpoint.'))
			.map((f) => `'${q(path.join(logDir, f))}'`).join(',');
		const rows = (await conn.runAndReadAll(`SELECT to_json(txn) AS txn, to_json("add") AS "add",
				to_json(metaData) AS metaData, to_json(protocol) AS protocol
			FROM read_parquet([${files}], union_by_name = true)`)).getRowObjectsJson();
		for (const r of rows) {
			if (r.protocol) protocol = JSON.parse(r.protocol);
			if (r.metaData) {
				const m = JSON.parse(r.metaData);
				schema = JSON.parse(m.schemaString);
				config = Array.isArray(m.configuration) ?
					Object.fromEntries(m.configuration.map((e) => [e.key, e.value])) : (m.configuration || {});
			}
			if (r.txn) { const t = JSON.parse(r.txn); txns[t.appId] = t.version; }
			if (r.add) {
				const a = JSON.parse(r.add);
				live.set(decodeURIComponent(a.path), { ...a, stats: JSON.parse(a.stats), version: v });
			}
		}
		checkpoint = v;
		start = v + 1;
		commits = commits.filter((f) => Number(f.slice(0, 20)) > v);
	}
}

commits.forEach((f, i) => {
	const version = Number(f.slice(0, 20));
	if (version !== start + i)
		errors.push(`version ${version} where ${start + i} was expected`);
	const lines = fs.readFileSync(path.join(logDir, f), 'utf8').split('\n').filter((l) => l.length);
	let commitInfo = 0;
	for (const line of lines) {
		let a;
		try {
			a = JSON.parse(line);
		} catch (e) {
			errors.push(`${f}: not JSON: ${line.slice(0, 80)}`);
			continue;
		}
		const kind = Object.keys(a);
		if (kind.length !== 1)
			errors.push(`${f}: action with ${kind.length} keys`);
		if (a.protocol) {
			protocol = a.protocol;
			const p = [a.protocol.minReaderVersion, a.protocol.minWriterVersion].join(',');
			if (p !== '1,2' && p !== '2,5')
				errors.push(`${f}: protocol ${JSON.stringify(a.protocol)}`);
		} else if (a.metaData) {
			const m = a.metaData;
			if (!m.id || !m.format || m.format.provider !== 'parquet' || !Array.isArray(m.partitionColumns))
				errors.push(`${f}: incomplete metaData`);
			try {
				schema = JSON.parse(m.schemaString);
			} catch (e) {
				errors.push(`${f}: schemaString is not JSON`);
			}
			config = m.configuration || {};
		} else if (a.add) {
			const ad = a.add;
			for (const k of ['path', 'size', 'modificationTime', 'dataChange', 'partitionValues'])
				if (ad[k] === undefined)
					errors.push(`${f}: add without ${k}`);
			let stats = null;
			try {
				stats = JSON.parse(ad.stats);
			} catch (e) {
				errors.push(`${f}: add ${ad.path} without JSON stats`);
			}
			if (stats && (typeof stats.numRecords !== 'number' || !stats.minValues ||
				!stats.maxValues || !stats.nullCount))
				errors.push(`${f}: add ${ad.path} stats incomplete`);
			live.set(decodeURIComponent(ad.path), { ...ad, stats, version });
		} else if (a.remove) {
			live.delete(decodeURIComponent(a.remove.path));
		} else if (a.txn) {
			const prev = txns[a.txn.appId];
			if (prev !== undefined && a.txn.version <= prev)
				errors.push(`${f}: txn ${a.txn.appId} went from ${prev} to ${a.txn.version}`);
			txns[a.txn.appId] = a.txn.version;
		} else if (a.commitInfo) {
			commitInfo++;
		}
	}
	if (version === start && (!protocol || !schema))
		errors.push('version 0 lacks protocol or metaData');
	if (commitInfo !== 1)
		errors.push(`${f}: ${commitInfo} commitInfo actions`);
});

// Column mapping (PROTOCOL.md "Column Mapping"): honoured on reader 2 /
// writer 5 only; then every field has an id and a physical name, both
// unique (physical names case-insensitively, as Spark reads Parquet).
const mapped = protocol && protocol.minReaderVersion >= 2 && protocol.minWriterVersion >= 5 &&
	config['delta.columnMapping.mode'] === 'name';
const physical = (fl) => (mapped ? (fl.metadata || {})['delta.columnMapping.physicalName'] : fl.name);
if (protocol && protocol.minReaderVersion >= 2 && !mapped)
	errors.push(`protocol ${JSON.stringify(protocol)} without column mapping mode name`);
// Without mapping, a name Delta forbids (Spark's Parquet rule, or two
// names equal but for case) makes a table other readers refuse.
if (!mapped && schema) {
	const seen = new Set();
	for (const fl of schema.fields) {
		if (/[ ,;{}()\n\t=]/.test(fl.name) || Buffer.byteLength(fl.name) > 255)
			errors.push(`field ${JSON.stringify(fl.name)} needs column mapping`);
		if (seen.has(fl.name.toLowerCase()))
			errors.push(`field ${JSON.stringify(fl.name)} differs from another only in case, without column mapping`);
		seen.add(fl.name.toLowerCase());
	}
}
if (mapped && schema) {
	const ids = new Set();
	const names = new Set();
	for (const fl of schema.fields) {
		const id = (fl.metadata || {})['delta.columnMapping.id'];
		const pn = (fl.metadata || {})['delta.columnMapping.physicalName'];
		if (!Number.isInteger(id) || id <= 0 || typeof pn !== 'string' || !pn)
			errors.push(`field ${JSON.stringify(fl.name)} lacks a mapping id or physical name`);
		if (ids.has(id) || names.has(String(pn).toLowerCase()))
			errors.push(`field ${JSON.stringify(fl.name)}: id ${id} or physical name ${pn} used twice`);
		ids.add(id);
		names.add(String(pn).toLowerCase());
		if (id > Number(config['delta.columnMapping.maxColumnId']))
			errors.push(`field ${JSON.stringify(fl.name)}: id ${id} above maxColumnId`);
	}
}
const offsetName = schema ? physical(schema.fields.find((fl) => fl.name === '__kafka_offset') ||
	{ name: '__kafka_offset', metadata: {} }) : '__kafka_offset';
const qi = (s) => '"' + s.replaceAll('"', '""') + '"';

const files = [...live.values()];
for (const a of files) {
	const p = path.join(dir, a.path);
	if (!fs.existsSync(p))
		errors.push(`live file ${a.path} is missing`);
	else if (fs.statSync(p).size !== a.size)
		errors.push(`live file ${a.path}: size ${fs.statSync(p).size}, add says ${a.size}`);
}

const out = {
	version: start + commits.length - 1,
	checkpoint,
	files: files.length,
	txns,
	schema: schema ? schema.fields.map((fl) => ({ name: fl.name, type: fl.type, nullable: fl.nullable,
		...(mapped ? { physicalName: physical(fl), id: (fl.metadata || {})['delta.columnMapping.id'] } : {}) })) : [],
	protocol,
	configuration: config,
	columns: [],
	errors,
	results: [],
};

if (files.length) {
	const list = files.map((a) => `'${q(path.join(dir, a.path))}'`).join(',');
	if (mapped) {
		// each logical column from its physical one; null where no file has it
		const present = new Set((await conn.runAndReadAll(
			`DESCRIBE SELECT * FROM read_parquet([${list}], union_by_name = true)`)).getRowObjectsJson()
			.map((r) => r.column_name));
		for (const c of present)
			if (!schema.fields.some((fl) => physical(fl) === c))
				errors.push(`data files have column ${JSON.stringify(c)}, which is no field's physical name`);
		const sel = schema.fields.map((fl) => (present.has(physical(fl)) ? qi(physical(fl)) : 'NULL') +
			' AS ' + qi(fl.name)).join(', ');
		await conn.run(`CREATE VIEW t AS SELECT ${sel} FROM read_parquet([${list}], union_by_name = true)`);
	} else
		await conn.run(`CREATE VIEW t AS SELECT * FROM read_parquet([${list}], union_by_name = true)`);
	const counts = (await conn.runAndReadAll(
		`SELECT filename, count(*)::BIGINT AS n, min(${qi(offsetName)})::BIGINT AS lo, max(${qi(offsetName)})::BIGINT AS hi
		   FROM read_parquet([${list}], filename = true, union_by_name = true) GROUP BY filename`)).getRowObjectsJson();
	const byName = new Map(counts.map((r) => [r.filename, r]));
	for (const a of files) {
		const r = byName.get(path.join(dir, a.path));
		const n = r ? Number(r.n) : 0;
		if (a.stats && a.stats.numRecords !== n)
			errors.push(`${a.path}: numRecords ${a.stats.numRecords}, DuckDB reads ${n}`);
		if (r && a.stats && (a.stats.minValues[offsetName] !== Number(r.lo) ||
			a.stats.maxValues[offsetName] !== Number(r.hi)))
			errors.push(`${a.path}: __kafka_offset stats ${a.stats.minValues[offsetName]}..${a.stats.maxValues[offsetName]}, data ${r.lo}..${r.hi}`);
	}
	out.columns = (await conn.runAndReadAll('DESCRIBE t')).getRowObjectsJson()
		.map((r) => ({ name: r.column_name, type: r.column_type }));
}
for (const sql of queries) {
	if (!files.length) {
		out.results.push([]);
		continue;
	}
	const list = files.map((a) => `'${q(path.join(dir, a.path))}'`).join(',');
	out.results.push((await conn.runAndReadAll(sql.replaceAll('{files}', `[${list}]`))).getRowObjectsJson());
}
conn.closeSync();
instance.closeSync();
process.stdout.write(JSON.stringify(out) + '\n');
