// parquet_check.mjs: checks a Parquet file written by writer/storage/parquet/test/pq_gen
// with DuckDB (values, types, footer statistics, encodings, row groups) and
// with a small page-header walker of our own (pages per column chunk and
// the encoding of each page), and checks the Delta stats JSON pq_gen
// printed against DuckDB's aggregates over the same file.
//
//   node t/js/parquet_check.mjs FILE ROWS STATS_JSON_FILE [dict=0] [codec=UNCOMPRESSED]
//
// Prints one JSON array of checks: [{name, ok, detail}].
import { DuckDBInstance } from '@duckdb/node-api';
import fs from 'node:fs';

const [file, rowsArg, statsFile, ...opts] = process.argv.slice(2);
const rows = Number(rowsArg);
const dictOn = !opts.includes('dict=0');
const codecOpt = opts.find((o) => o.startsWith('codec='));
const codec = codecOpt ? codecOpt.slice(6) : 'ZSTD';
const checks = [];
const check = (name, ok, detail) => checks.push({ name, ok: !!ok, detail: ok ? '' : JSON.stringify(detail) });

const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
await con.run("SET TimeZone = 'UTC'");
const all = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJson();
const f = `'${file.replaceAll("'", "''")}'`;

// ---- expected values, recomputed from pq_gen's formulas ----
const big = 'x'.repeat(1024 * 1024) + 'end';
const colors = ['red', 'green', 'blue', 'ÿellow'];
function expected(i) {
	const I = BigInt(i);
	const e = {};
	e.b = i % 7 === 0 ? null : i % 3 === 0;
	e.i32 = i === 1 ? -2147483648 : i === 2 ? 2147483647 : i % 5 === 0 ? null : i * 7919 - 400000;
	e.i64 = i === 3 ? '9223372036854775807' : String(I * 1000000007n - 123456789012n);
	e.f = i % 11 === 0 ? null : i * 0.25;
	e.d = i % 13 === 0 ? null : i * 1.5 - 100.125;
	e.s = i % 17 === 0 ? null : i % 17 === 1 ? '' : i % 17 === 2 ? `héllo ✓ 日本 ${i}` : `str${i}`;
	e.big = i === 5 ? big : i % 19 === 0 ? null : `b${i}`;
	if (i % 29 === 0)
		e.bin = null;
	else {
		const bytes = [i % 256, 0, 255, Math.floor(i / 256) % 256].slice(0, i % 4);
		e.bin = bytes.map((x) => x.toString(16).toUpperCase().padStart(2, '0')).join('');
	}
	if (i % 23 === 0)
		e.dt = null;
	else {
		const d = new Date((i * 37 - 20000) * 86400000);
		e.dt = d.toISOString().slice(0, 10);
	}
	e.ts = i % 31 === 0 ? null : String(1700000000000000n + I * 1234567891n);
	e.dec1 = decimalText(I * 12345n - 5000000n, 2);
	if (i % 37 === 0)
		e.dec2 = null;
	else {
		let v = I * 100000000000000000000n + I;
		if (i % 2)
			v = -v;
		e.dec2 = decimalText(v, 6);
	}
	e.color = colors[i % 4];
	e.small = i % 10;
	e.grow = i % 1000 < 500 ? `g${i % 3}` : `g${i}`;
	return e;
}
function decimalText(v, scale) {
	const neg = v < 0n;
	let s = (neg ? -v : v).toString().padStart(scale + 1, '0');
	s = s.slice(0, s.length - scale) + '.' + s.slice(s.length - scale);
	return (neg ? '-' : '') + s;
}

// ---- types ----
const types = Object.fromEntries((await all(`DESCRIBE SELECT * FROM ${f}`)).map((r) => [r.column_name, r.column_type]));
check('DuckDB types', JSON.stringify(types) === JSON.stringify({
	b: 'BOOLEAN', i32: 'INTEGER', i64: 'BIGINT', f: 'FLOAT', d: 'DOUBLE', s: 'VARCHAR', big: 'VARCHAR',
	bin: 'BLOB', dt: 'DATE', ts: 'TIMESTAMP WITH TIME ZONE', dec1: 'DECIMAL(10,2)', dec2: 'DECIMAL(38,6)',
	color: 'VARCHAR', small: 'INTEGER', grow: 'VARCHAR',
}), types);

// ---- values ----
const got = await all(`SELECT file_row_number AS r, b, i32, i64::VARCHAR AS i64, f, d, s,
	CASE WHEN length(big) > 100 THEN 'LONG:' || length(big) || ':' || md5(big) ELSE big END AS big,
	hex(bin) AS bin, dt::VARCHAR AS dt, epoch_us(ts)::VARCHAR AS ts, dec1::VARCHAR AS dec1,
	dec2::VARCHAR AS dec2, color, small, grow
	FROM read_parquet(${f}, file_row_number = true) ORDER BY r`);
check('row count', got.length === rows, { got: got.length, rows });
let bad = 0;
let firstBad = null;
const md5 = (await all(`SELECT md5(repeat('x', 1048576) || 'end') AS m`))[0].m;
got.forEach((row, i) => {
	const e = expected(i);
	if (e.big === big)
		e.big = `LONG:${big.length}:${md5}`;
	for (const k of Object.keys(e)) {
		let g = row[k];
		if (g !== null && (k === 'f' || k === 'd'))
			g = Number(g);
		if (g !== e[k]) {
			bad++;
			if (!firstBad)
				firstBad = { row: i, col: k, got: g, expected: e[k] };
		}
	}
	if (Number(row.r) !== i && !firstBad)
		firstBad = { row: i, r: row.r };
});
check('every value of every type round-trips', bad === 0 && got.length === rows, firstBad);

// ---- footer: row groups, encodings, statistics ----
const meta = await all(`SELECT row_group_id, row_group_num_rows, path_in_schema AS col, encodings, compression,
	stats_min_value, stats_max_value, stats_null_count, data_page_offset, dictionary_page_offset,
	total_compressed_size, num_values FROM parquet_metadata(${f}) ORDER BY row_group_id, column_id`);
const groups = [...new Set(meta.map((m) => m.row_group_id))];
const rgRows = groups.map((g) => Number(meta.find((m) => m.row_group_id === g).row_group_num_rows));
check('row groups add up to the rows', rgRows.reduce((a, b) => a + b, 0) === rows, rgRows);
check(`compression ${codec} everywhere`, meta.every((m) => m.compression === codec),
	[...new Set(meta.map((m) => m.compression))]);
check('num_values counts nulls', meta.every((m, k) => Number(m.num_values) === Number(m.row_group_num_rows)),
	meta.map((m) => [m.col, m.num_values]));

let lo = 0;
let statBad = [];
for (let g = 0; g < groups.length; g++) {
	const hi = lo + rgRows[g] - 1;
	const cols = meta.filter((m) => m.row_group_id === groups[g]);
	const agg = (await all(`SELECT ${cols.map((m) =>
		`min("${m.col}")::VARCHAR AS "min_${m.col}", max("${m.col}")::VARCHAR AS "max_${m.col}", count(*) - count("${m.col}") AS "n_${m.col}"`).join(', ')}
		FROM read_parquet(${f}, file_row_number = true) WHERE file_row_number BETWEEN ${lo} AND ${hi}`))[0];
	for (const m of cols) {
		if (Number(m.stats_null_count) !== Number(agg[`n_${m.col}`]))
			statBad.push({ g, col: m.col, nulls: m.stats_null_count, expected: agg[`n_${m.col}`] });
		if (m.stats_min_value === null && m.col === 'big' && agg[`max_${m.col}`].length > 4096)
			continue;		/* huge values: no min/max in the footer, by design */
		let emin = agg[`min_${m.col}`];
		let emax = agg[`max_${m.col}`];
		if (m.col === 'f' || m.col === 'd') {
			emin = Number(emin);
			emax = Number(emax);
		}
		const gmin = (m.col === 'f' || m.col === 'd') ? Number(m.stats_min_value) : m.stats_min_value;
		const gmax = (m.col === 'f' || m.col === 'd') ? Number(m.stats_max_value) : m.stats_max_value;
		if (gmin !== emin || gmax !== emax)
			statBad.push({ g, col: m.col, min: [gmin, emin], max: [gmax, emax] });
	}
	lo = hi + 1;
}
check('footer statistics (min, max, null_count) match the data in every row group', statBad.length === 0, statBad.slice(0, 5));

const enc = (c) => meta.filter((m) => m.col === c).map((m) => m.encodings);
if (dictOn) {
	check('low-cardinality columns are dictionary encoded',
		['color', 'small'].every((c) => enc(c).every((e) => e.includes('RLE_DICTIONARY'))), { color: enc('color'), small: enc('small') });
	check('distinct-valued columns are PLAIN',
		['i64', 'ts', 'd'].every((c) => enc(c).every((e) => !e.includes('DICTIONARY'))), { i64: enc('i64'), ts: enc('ts') });
	check('dictionary columns have a dictionary page',
		meta.filter((m) => m.col === 'color').every((m) => m.dictionary_page_offset !== null &&
			Number(m.dictionary_page_offset) < Number(m.data_page_offset)), meta.filter((m) => m.col === 'color'));
} else {
	check('dict=0: no dictionary anywhere', meta.every((m) => !m.encodings.includes('DICTIONARY') &&
		m.dictionary_page_offset === null), [...new Set(meta.map((m) => m.encodings))]);
}

// ---- pages, read with our own Thrift compact walker ----
const buf = fs.readFileSync(file);
function readPageHeader(pos) {
	// returns {type, comp, numValues, encoding, end}
	let p = pos;
	const varint = () => {
		let r = 0n, s = 0n, b;
		do {
			b = buf[p++];
			r |= BigInt(b & 0x7f) << s;
			s += 7n;
		} while (b & 0x80);
		return r;
	};
	const zz = () => {
		const v = varint();
		return Number((v >> 1n) ^ -(v & 1n));
	};
	const out = {};
	const skip = (t) => {
		if (t === 1 || t === 2) return;
		if (t === 3) { p++; return; }
		if (t >= 4 && t <= 6) { varint(); return; }
		if (t === 7) { p += 8; return; }
		if (t === 8) { const n = Number(varint()); p += n; return; }
		if (t === 9 || t === 10) {
			const h = buf[p++];
			let n = h >> 4;
			if (n === 15) n = Number(varint());
			for (let i = 0; i < n; i++) skip(h & 15);
			return;
		}
		if (t === 12) { struct(() => {}); return; }
		throw new Error(`type ${t}`);
	};
	const struct = (onField) => {
		let last = 0;
		for (;;) {
			const h = buf[p++];
			if (h === 0) return;
			const t = h & 15;
			const id = (h >> 4) ? last + (h >> 4) : zz();
			last = id;
			if (!onField(id, t))
				skip(t);
		}
	};
	struct((id, t) => {
		if (id === 1) { out.type = zz(); return true; }
		if (id === 3) { out.comp = zz(); return true; }
		if (id === 5 || id === 7) {
			struct((id2) => {
				if (id2 === 1) { out.numValues = zz(); return true; }
				if (id2 === 2) { out.encoding = zz(); return true; }
				return false;
			});
			return true;
		}
		return false;
	});
	out.end = p + out.comp;
	return out;
}
const pages = {};
let walkErr = null;
for (const m of meta) {
	const start = Number(m.dictionary_page_offset ?? m.data_page_offset);
	const end = start + Number(m.total_compressed_size);
	let p = start;
	let values = 0;
	const list = [];
	try {
		while (p < end) {
			const h = readPageHeader(p);
			list.push(h.type === 2 ? 'DICT' : h.encoding === 8 ? 'RLE_DICTIONARY' : h.encoding === 0 ? 'PLAIN' : `enc${h.encoding}`);
			if (h.type === 0)
				values += h.numValues;
			p = h.end;
		}
	} catch (e) {
		walkErr = `${m.col}: ${e.message}`;
	}
	if (p !== end || values !== Number(m.num_values))
		walkErr = walkErr ?? `${m.col} rg ${m.row_group_id}: pages end at ${p}, chunk at ${end}; ${values} values of ${m.num_values}`;
	(pages[m.col] ??= []).push(list);
}
check('page headers tile every column chunk exactly and count all values', walkErr === null, walkErr);
const pageCounts = Object.fromEntries(Object.entries(pages).map(([c, l]) => [c, l.map((x) => x.filter((t) => t !== 'DICT').length)]));

// ---- Delta stats JSON ----
const statsText = fs.readFileSync(statsFile, 'utf8').trim();
const stats = JSON.parse(statsText);
const raw = (section, col) => {
	const s = statsText.slice(statsText.indexOf(`"${section}"`));
	const m = s.match(new RegExp(`"${col}":(-?[0-9][0-9.eE+-]*)`));
	return m ? m[1] : undefined;
};
const agg = (await all(`SELECT count(*) AS n,
	${Object.keys(types).map((c) => `count(*) - count("${c}") AS "null_${c}"`).join(', ')},
	min(i32) AS min_i32, max(i32) AS max_i32, min(i64)::VARCHAR AS min_i64, max(i64)::VARCHAR AS max_i64,
	min(f) AS min_f, max(f) AS max_f, min(d) AS min_d, max(d) AS max_d,
	min(s) AS min_s, max(s) AS max_s, min(big) AS min_big, max(big) AS max_big,
	min(dt)::VARCHAR AS min_dt, max(dt)::VARCHAR AS max_dt,
	epoch_us(min(ts))::VARCHAR AS min_ts, epoch_us(max(ts))::VARCHAR AS max_ts,
	min(dec1)::VARCHAR AS min_dec1, max(dec1)::VARCHAR AS max_dec1,
	min(dec2)::VARCHAR AS min_dec2, max(dec2)::VARCHAR AS max_dec2,
	min(color) AS min_color, max(color) AS max_color, min(small) AS min_small, max(small) AS max_small
	FROM ${f}`))[0];
check('stats numRecords = DuckDB count(*)', stats.numRecords === Number(agg.n), [stats.numRecords, agg.n]);
const nullBad = Object.keys(types).filter((c) => stats.nullCount[c] !== Number(agg[`null_${c}`]));
check('stats nullCount = DuckDB null counts, every column', nullBad.length === 0, nullBad);
const prefix = (s) => [...s].slice(0, 32).join('');
const strMax = (s) => ([...s].length > 32 ? prefix(s) + '\u{10FFFF}' : s);
const msIso = (us, up) => {
	let ms = BigInt(us) / 1000n;
	if (up && BigInt(us) % 1000n !== 0n)
		ms += 1n;
	return new Date(Number(ms)).toISOString();
};
const expectStats = {
	min: {
		i32: String(agg.min_i32), i64: agg.min_i64, f: String(Number(agg.min_f)), d: String(Number(agg.min_d)),
		s: prefix(agg.min_s), big: prefix(agg.min_big), dt: agg.min_dt, ts: msIso(agg.min_ts, false),
		dec1: agg.min_dec1, dec2: agg.min_dec2, color: agg.min_color, small: String(agg.min_small),
	},
	max: {
		i32: String(agg.max_i32), i64: agg.max_i64, f: String(Number(agg.max_f)), d: String(Number(agg.max_d)),
		s: strMax(agg.max_s), big: strMax(agg.max_big), dt: agg.max_dt, ts: msIso(agg.max_ts, true),
		dec1: agg.max_dec1, dec2: agg.max_dec2, color: agg.max_color, small: String(agg.max_small),
	},
};
const numeric = new Set(['i32', 'i64', 'f', 'd', 'dec1', 'dec2', 'small']);
const deltaBad = [];
for (const [side, section] of [['min', 'minValues'], ['max', 'maxValues']]) {
	for (const [c, want] of Object.entries(expectStats[side])) {
		let g = numeric.has(c) ? raw(section, c) : stats[section][c];
		if (c === 'f' || c === 'd')
			g = String(Number(g));
		if (g !== want)
			deltaBad.push({ side, c, got: g, want });
	}
	for (const c of ['b', 'bin'])
		if (c in stats[section])
			deltaBad.push({ side, c, unexpected: stats[section][c] });
}
check('stats minValues/maxValues = DuckDB min/max (strings 32 chars, ms timestamps, exact decimals)',
	deltaBad.length === 0, deltaBad);

process.stdout.write(JSON.stringify({ checks, rowGroups: groups.length, pages: pageCounts, pageEncodings: pages }) + '\n');
conn_close();
function conn_close() {
	con.closeSync();
	inst.closeSync();
}
