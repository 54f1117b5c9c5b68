// delta_checkpoint_make.mjs: writes a classic Delta checkpoint for a table
// with DuckDB, i.e. with a Parquet writer independent of cdc_delta_writer,
// for t/210_writer_checkpoint_start.pl.
//
//   node t/js/delta_checkpoint_make.mjs TABLE_DIR VERSION CODEC PARQUET_VERSION PARTS
//
// Replays _delta_log/*.json up to VERSION itself (protocol, metaData, txn
// per appId, live adds), then writes the checkpoint schema of PROTOCOL.md
// (protocol, metaData, txn, add, remove, in that order, unlike the
// writer's) with COMPRESSION CODEC (snappy, zstd, gzip, uncompressed) and
// PARQUET_VERSION (v1: DATA_PAGE, v2: DATA_PAGE_V2), as PARTS files
// (1: NNN.checkpoint.parquet, else NNN.checkpoint.PPP.TTT.parquet), and
// _last_checkpoint.  6000 remove tombstones for files that never existed
// go first, so the live adds land in later row groups (ROW_GROUP_SIZE
// 2048).  Prints {rows, files, metadata: parquet_metadata() summary}.
import { DuckDBInstance } from '@duckdb/node-api';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [dir, versionArg, codec, parquetVersion, partsArg] = process.argv.slice(2);
const version = Number(versionArg);
const nparts = Number(partsArg || 1);
const logDir = path.join(dir, '_delta_log');
let protocol = null;
let metaData = null;
const txns = new Map();
const live = new Map();

const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();

// Commits cleaned up after an earlier checkpoint: start from that one.
let from = 0;
if (!fs.existsSync(path.join(logDir, '0'.repeat(20) + '.json'))) {
	const names = fs.readdirSync(logDir);
	const cps = names.map((f) => /^(\d{20})\.checkpoint\..*parquet$/.exec(f)).filter((m) => m && Number(m[1]) < version)
		.map((m) => Number(m[1]));
	const v = Math.max(...cps);
	const files = names.filter((f) => f.startsWith(String(v).padStart(20, '0') + '.checkpoint.'))
		.map((f) => `'${path.join(logDir, f)}'`).join(',');
	for (const r of (await conn.runAndReadAll(`SELECT to_json(txn) AS txn, to_json("add") AS "add",
			to_json(metaData) AS metaData, to_json(protocol) AS protocol
		FROM read_parquet([${files}], union_by_name = true)`)).getRowObjectsJson()) {
		if (r.protocol) protocol = JSON.parse(r.protocol);
		if (r.metaData) {
			metaData = JSON.parse(r.metaData);
			// DuckDB's to_json writes a MAP as an object already
		}
		if (r.txn) { const t = JSON.parse(r.txn); txns.set(t.appId, t); }
		if (r.add) { const a = JSON.parse(r.add); live.set(a.path, a); }
	}
	from = v + 1;
}

for (let v = from; v <= version; v++) {
	const f = path.join(logDir, String(v).padStart(20, '0') + '.json');
	for (const line of fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.length)) {
		const a = JSON.parse(line);
		if (a.protocol) protocol = a.protocol;
		else if (a.metaData) metaData = a.metaData;
		else if (a.txn) txns.set(a.txn.appId, a.txn);
		else if (a.add) live.set(a.add.path, a.add);
		else if (a.remove) live.delete(a.remove.path);
	}
}

const rows = [];
rows.push({ metaData: {
	id: metaData.id, name: metaData.name ?? null, description: metaData.description ?? null,
	format: { provider: metaData.format.provider, options: metaData.format.options ?? {} },
	schemaString: metaData.schemaString, partitionColumns: metaData.partitionColumns,
	configuration: metaData.configuration ?? {}, createdTime: metaData.createdTime ?? null } });
for (let i = 0; i < 6000; i++)
	rows.push({ remove: { path: `tombstone-${i}.parquet`, deletionTimestamp: 1700000000000 + i, dataChange: true } });
for (const t of txns.values())
	rows.push({ txn: { appId: t.appId, version: t.version, lastUpdated: t.lastUpdated ?? null } });
for (const a of live.values())
	rows.push({ add: { path: a.path, partitionValues: a.partitionValues ?? {}, size: a.size,
		modificationTime: a.modificationTime, dataChange: false, stats: a.stats ?? null, tags: null } });
rows.push({ protocol: { minReaderVersion: protocol.minReaderVersion,
	minWriterVersion: protocol.minWriterVersion, readerFeatures: null, writerFeatures: null } });

const columns = `{
	protocol: 'STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER, readerFeatures VARCHAR[], writerFeatures VARCHAR[])',
	metaData: 'STRUCT(id VARCHAR, name VARCHAR, description VARCHAR, format STRUCT(provider VARCHAR, options MAP(VARCHAR, VARCHAR)), schemaString VARCHAR, partitionColumns VARCHAR[], configuration MAP(VARCHAR, VARCHAR), createdTime BIGINT)',
	txn: 'STRUCT(appId VARCHAR, version BIGINT, lastUpdated BIGINT)',
	add: 'STRUCT(path VARCHAR, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT, modificationTime BIGINT, dataChange BOOLEAN, stats VARCHAR, tags MAP(VARCHAR, VARCHAR))',
	remove: 'STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN)'
}`;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cpmake-'));
const files = [];
const per = Math.ceil(rows.length / nparts);
for (let p = 0; p < nparts; p++) {
	const src = path.join(tmp, `rows-${p}.json`);
	fs.writeFileSync(src, rows.slice(p * per, (p + 1) * per).map((r) => JSON.stringify(r)).join('\n') + '\n');
	const name = String(version).padStart(20, '0') + '.checkpoint.' +
		(nparts === 1 ? '' : `${String(p + 1).padStart(10, '0')}.${String(nparts).padStart(10, '0')}.`) + 'parquet';
	const out = path.join(logDir, name);
	await conn.run(`COPY (SELECT protocol, metaData, txn, "add", remove
			FROM read_json('${src}', format = 'newline_delimited', columns = ${columns}))
		TO '${out}' (FORMAT parquet, COMPRESSION '${codec}', PARQUET_VERSION ${parquetVersion}, ROW_GROUP_SIZE 2048)`);
	files.push(out);
}
fs.rmSync(tmp, { recursive: true });
fs.writeFileSync(path.join(logDir, '_last_checkpoint'),
	JSON.stringify(nparts === 1 ? { version, size: rows.length } : { version, size: rows.length, parts: nparts }) + '\n');
const list = files.map((f) => `'${f}'`).join(',');
const metadata = (await conn.runAndReadAll(`SELECT count(DISTINCT (file_name, row_group_id))::INT AS row_groups,
		string_agg(DISTINCT compression, ',') AS codecs, string_agg(DISTINCT encodings, ',') AS encodings
	FROM parquet_metadata([${list}])`)).getRowObjectsJson()[0];
process.stdout.write(JSON.stringify({ rows: rows.length, adds: live.size, txns: txns.size, files, metadata }) + '\n');
