#!/bin/bash
# Regenerates fuzz/corpus/fuzz_event/plugin-*: real events of every kind
# from the installed plugin (every type of sql/types.sql's table; insert,
# update, delete, truncate, message; schemas on and off; REPLICA IDENTITY
# FULL), one file each as KEY \x1e VALUE.  Needs PostgreSQL 15 and the
# installed extension; run as root (the cluster runs as "postgres").
# The hand-written hostile seeds (hostile-*) are kept as they are.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/fuzz/corpus/fuzz_event
BIN=$(pg_config --bindir)
D=$(mktemp -d)
trap 'runuser -u postgres -- "$BIN/pg_ctl" -D "$D/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$D"' EXIT
chown postgres: "$D"
runuser -u postgres -- "$BIN/initdb" -D "$D/data" -A trust >/dev/null
cat "$ROOT/sql/logical.conf" >>"$D/data/postgresql.conf"
runuser -u postgres -- "$BIN/pg_ctl" -D "$D/data" -l "$D/log" -w \
	-o "-p 54998 -k $D -c listen_addresses=''" start >/dev/null
psql() { runuser -u postgres -- "$BIN/psql" -h "$D" -p 54998 -d postgres -X -q -v ON_ERROR_STOP=1 "$@"; }
psql -c "CREATE EXTENSION cdc_kafka"
# the types table and its rows, from the regression test (its SELECTs too)
sed -n '/^CREATE TYPE/,/^);/p' "$ROOT/sql/types.sql" | psql >/dev/null
psql -c "SELECT 'x' FROM pg_create_logical_replication_slot('s', 'cdc_kafka')" >/dev/null
sed -n '/^-- 1: ordinary values/,/^SELECT/p' "$ROOT/sql/types.sql" | sed '$d' | psql >/dev/null
psql <<'SQL' >/dev/null
INSERT INTO types_all (id) VALUES (1000);
UPDATE types_all SET c_text = 'changed', c_numeric_var = 0.00001 WHERE id = 1;
CREATE TABLE full_ri (id int PRIMARY KEY, v text, n numeric);
ALTER TABLE full_ri REPLICA IDENTITY FULL;
INSERT INTO full_ri VALUES (1, 'a', 1e-1000), (2, 'b', -123456789012345678901234567890.5);
UPDATE full_ri SET v = 'c' WHERE id = 1;
DELETE FROM full_ri WHERE id = 2;
DELETE FROM types_all WHERE id = 1000;
TRUNCATE full_ri;
SELECT pg_logical_emit_message(true, 'audit', 'hello');
SQL
rm -f "$OUT"/plugin-*
mkdir -p "$OUT"
n=0
for schemas in true false; do
	psql -At -c "SELECT data FROM pg_logical_slot_peek_changes('s', NULL, NULL, 'schemas', '$schemas', 'include-truncate', 'true')" |
	while IFS= read -r line; do
		n=$((n + 1))
		perl -MJSON::PP -e '
			my $l = $ARGV[0];
			$l =~ /^\{"topic":"(?:[^"\\]|\\.)*","key":/ or exit;
			my $rest = substr($l, $+[0]);
			my $i = index($rest, ",\"value\":");
			my ($k, $v) = (substr($rest, 0, $i), substr($rest, $i + 9, -1));
			print(($k eq "null" ? "" : $k) . "\x1e" . $v);' "$line" >"$OUT/plugin-$schemas-$(printf %02d $n)"
	done
done
ls "$OUT" | wc -l
