#!/bin/bash
# Runs the whole suite against real parts and ends with "N passed, N failed":
#   1. pg_regress (sql/, expected/) against a temporary cluster;
#   2. the TAP tests t/*.pl (PostgreSQL::Test::Cluster, the mock Kafka broker,
#      kcat, DuckDB), each assertion counted.
# PostgreSQL refuses to run as root, so as root this re-runs itself as the
# "postgres" user with a scratch directory that user owns.
#
# Usage: t/run_tests.sh [regress] [t/NNN_name.pl ...]   (default: everything)
#
# Environment: TMPDIR, where the scratch directory goes (default /tmp; as
# root it must be reachable by "postgres"); CDC_PORT_RANGE=LOW-HIGH, the
# ports PostgreSQL clusters may take (default 20000-40000 for pg_regress,
# PostgreSQL::Test::Cluster's 10200-32767 for the TAP tests); CDC_KEEP_WORK=1
# keeps the scratch directory.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-pg_config}
BINDIR=$($PG_CONFIG --bindir)
PGXS_DIR=$(dirname "$(dirname "$(dirname "$($PG_CONFIG --pgxs)")")")
. "$ROOT/scripts/port_range.sh"
port_range_check || exit 1

if [ "$(id -u)" = 0 ]; then
	work=$(mktemp -d "${TMPDIR:-/tmp}/cdc_kafka_test.XXXXXX") || exit 1
	chown postgres: "$work"
	runuser -u postgres -- env CDC_TEST_WORK="$work" PG_CONFIG="$PG_CONFIG" \
		bash "$0" "$@"
	rc=$?
	[ "${CDC_KEEP_WORK:-}" ] || rm -rf "$work"
	exit $rc
fi

# Every cluster the tests start is UTF8 (initdb takes it from the locale):
# the expected output holds non-ASCII text.
export LC_ALL=C.UTF-8 LANG=C.UTF-8

WORK=${CDC_TEST_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/cdc_kafka_test.XXXXXX")}
mkdir -p "$WORK/portlock"
export PATH="$BINDIR:$ROOT/sidecar:$ROOT/writer:$ROOT/tools:$PATH"
cd "$ROOT"
passed=0
failed=0

run_regress()
{
	local dir=$WORK/regress port
	port=$(port_range_pick) || { failed=$((failed + 1)); return; }
	mkdir -p "$dir"
	initdb -D "$dir/data" -A trust -U postgres >"$dir/initdb.log" 2>&1 || {
		echo "regress: initdb failed"; cat "$dir/initdb.log"; failed=$((failed + 1)); return; }
	cat sql/logical.conf >>"$dir/data/postgresql.conf"
	pg_ctl -D "$dir/data" -l "$dir/server.log" -w \
		-o "-p $port -k $dir -c listen_addresses=''" start >/dev/null || {
		echo "regress: server did not start"; cat "$dir/server.log"; failed=$((failed + 1)); return; }
	"$PGXS_DIR/src/test/regress/pg_regress" --inputdir="$ROOT" --outputdir="$dir" \
		--bindir="$BINDIR" --host="$dir" --port="$port" --user=postgres \
		--dbname=contrib_regression $(make -s --no-print-directory regress-list) \
		>"$dir/out.txt" 2>&1
	pg_ctl -D "$dir/data" -m fast stop >/dev/null
	cat "$dir/out.txt"
	local ok bad
	ok=$(grep -cE '^(ok|test |     ).* \.\.\. ok' "$dir/out.txt")
	bad=$(grep -cE '\.\.\. FAILED' "$dir/out.txt")
	passed=$((passed + ok))
	failed=$((failed + bad))
	if [ -s "$dir/regression.diffs" ]; then
		head -200 "$dir/regression.diffs"
	fi
}

run_tap()
{
	local t=$1 out=$WORK/tap/$(basename "$t").out rc
	local testdir=$WORK/tap/$(basename "$t" .pl)
	mkdir -p "$testdir"
	echo "=== $t"
	PG_TEST_PORT_DIR="$WORK/portlock" TESTDIR="$testdir" PG_REGRESS="$PGXS_DIR/src/test/regress/pg_regress" \
		CDC_ROOT="$ROOT" timeout 1200 perl -I"$PGXS_DIR/src/test/perl" -I"$ROOT/t" -MCdcPortRange "$t" >"$out" 2>&1
	rc=$?
	grep -aE '^(not )?ok |^# ' "$out" | grep -av '^# Looks like' | head -300
	local ok bad plan
	ok=$(grep -acE '^ok ' "$out")
	bad=$(grep -acE '^not ok ' "$out")
	plan=$(grep -acE '^1\.\.[0-9]+' "$out")
	passed=$((passed + ok))
	failed=$((failed + bad))
	if [ "$rc" != 0 ] && [ "$bad" = 0 ] || [ "$plan" = 0 ]; then
		echo "$t: exited $rc without a complete plan"; tail -30 "$out"
		failed=$((failed + 1))
	fi
}

if [ "${1:-}" = regress ]; then
	shift
	run_regress
elif [ $# -eq 0 ]; then
	run_regress
	set -- t/[0-9]*.pl
fi
for t in "$@"; do
	[ -f "$t" ] && run_tap "$t"
done

echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
