// delta_check.mjs: an independent look at a Delta table written through
// writer/storage/delta/delta_log.c: replays the JSON commits itself (PROTOCOL.md action
// reconciliation), reads _last_checkpoint and the checkpoint Parquet file
// with DuckDB, and reads the live data files with DuckDB.
//
//   node t/js/delta_check.mjs TABLE_DIR
//
// Prints one JSON object with what it found; the TAP test asserts on it.
import { DuckDBInstance } from '@duckdb/node-api';
import fs from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
const logDir = path.join(dir, '_delta_log');
const names = fs.readdirSync(logDir);
const commits = names.filter((f) => /^\d{20}\.json$/.test(f)).sort();
const errors = [];
const live = new Map();
const txns = {};
const snapshots = {};		// version -> {files, txns} for checkpoint comparison
let schema = null;
let protocol = null;
let metaIds = new Set();

commits.forEach((f, i) => {
	const version = Number(f.slice(0, 20));
	if (version !== i)
		errors.push(`version ${version} where ${i} was expected`);
	const text = fs.readFileSync(path.join(logDir, f), 'utf8');
	if (!text.endsWith('\n'))
		errors.push(`${f}: last line not terminated`);
	let commitInfo = 0;
	for (const line of text.split('\n').filter((l) => l.length)) {
		const a = JSON.parse(line);
		if (Object.keys(a).length !== 1)
			errors.push(`${f}: action with several keys`);
		if (a.protocol)
			protocol = a.protocol;
		else if (a.metaData) {
			schema = JSON.parse(a.metaData.schemaString);
			metaIds.add(a.metaData.id);
		} else if (a.add) {
			if (a.add.dataChange !== true || typeof a.add.size !== 'number' ||
				typeof a.add.modificationTime !== 'number' || typeof a.add.stats !== 'string')
				errors.push(`${f}: add ${a.add.path} incomplete`);
			live.set(a.add.path, { ...a.add, stats: JSON.parse(a.add.stats) });
		} else if (a.remove)
			live.delete(a.remove.path);
		else if (a.txn)
			txns[a.txn.appId] = a.txn.version;
		else if (a.commitInfo) {
			commitInfo++;
			if (a.commitInfo.engineInfo !== 'cdc_kafka/1.0' || typeof a.commitInfo.timestamp !== 'number')
				errors.push(`${f}: commitInfo ${JSON.stringify(a.commitInfo)}`);
		}
	}
	if (commitInfo !== 1)
		errors.push(`${f}: ${commitInfo} commitInfo`);
	if (version === 0 && (!protocol || !schema))
		errors.push('version 0 lacks protocol or metaData');
	snapshots[version] = { files: [...live.keys()].sort(), txns: { ...txns } };
});

const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
const all = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJson();
const q = (s) => `'${s.replaceAll("'", "''")}'`;

let lastCheckpoint = null;
let checkpoint = null;
if (names.includes('_last_checkpoint')) {
	lastCheckpoint = JSON.parse(fs.readFileSync(path.join(logDir, '_last_checkpoint'), 'utf8'));
	const cp = path.join(logDir, `${String(lastCheckpoint.version).padStart(20, '0')}.checkpoint.parquet`);
	const rows = await all(`SELECT txn, add, remove, metaData, protocol FROM read_parquet(${q(cp)})`);
	const cpTxns = {};
	let cpSchema = null;
	let cpProtocol = null;
	const adds = [];
	let oneAction = true;
	for (const r of rows) {
		const set = ['txn', 'add', 'remove', 'metaData', 'protocol'].filter((k) => r[k] !== null);
		if (set.length !== 1)
			oneAction = false;
		if (r.txn)
			cpTxns[r.txn.appId] = Number(r.txn.version);
		if (r.add) {
			adds.push(r.add.path);
			const want = live.get(r.add.path);
			if (!want || !r.add.stats || JSON.stringify(JSON.parse(r.add.stats)) !== JSON.stringify(want.stats) ||
				Number(r.add.size) !== want.size || Number(r.add.modificationTime) !== want.modificationTime)
				errors.push(`checkpoint add ${r.add.path} differs from the log's add`);
		}
		if (r.metaData)
			cpSchema = JSON.parse(r.metaData.schemaString);
		if (r.protocol)
			cpProtocol = { minReaderVersion: r.protocol.minReaderVersion, minWriterVersion: r.protocol.minWriterVersion };
	}
	checkpoint = {
		rows: rows.length,
		oneActionPerRow: oneAction,
		addPaths: adds.sort(),
		txns: cpTxns,
		protocol: cpProtocol,
		schemaFields: cpSchema ? cpSchema.fields.map((fl) => fl.name) : null,
		expected: snapshots[lastCheckpoint.version],
	};
}

const files = [...live.values()];
const list = files.map((a) => q(path.join(dir, a.path))).join(',');
let total = 0;
let statsBad = [];
let noteNulls = null;
if (files.length) {
	const per = await all(`SELECT filename, count(*)::BIGINT AS n, min(id)::BIGINT AS lo, max(id)::BIGINT AS hi
		FROM read_parquet([${list}], filename = true, union_by_name = true) GROUP BY filename`);
	const byName = new Map(per.map((r) => [r.filename, r]));
	for (const a of files) {
		const r = byName.get(path.join(dir, a.path));
		total += r ? Number(r.n) : 0;
		if (!r || a.stats.numRecords !== Number(r.n) || a.stats.minValues.id !== Number(r.lo) ||
			a.stats.maxValues.id !== Number(r.hi))
			statsBad.push(a.path);
		if (fs.statSync(path.join(dir, a.path)).size !== a.size)
			statsBad.push(`${a.path} size`);
	}
	const cols = (await all(`DESCRIBE SELECT * FROM read_parquet([${list}], union_by_name = true)`)).map((r) => r.column_name);
	if (cols.includes('note'))
		noteNulls = Number((await all(`SELECT count(*) - count(note) AS n FROM read_parquet([${list}], union_by_name = true)`))[0].n);
}
con.closeSync();
inst.closeSync();
process.stdout.write(JSON.stringify({
	version: commits.length - 1,
	errors,
	files: [...live.keys()].sort(),
	txns,
	protocol,
	metaIds: metaIds.size,
	schemaFields: schema ? schema.fields.map((fl) => `${fl.name}:${fl.type}:${fl.nullable}`) : [],
	lastCheckpoint,
	checkpoint,
	rows: total,
	statsBad,
	noteNulls,
}) + '\n');
