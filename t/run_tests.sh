#!/bin/bash
# Runs the whole suite against real parts and ends with "N passed, N failed":
#   1. pg_regress (sql/, expected/) against a temporary cluster;
#   2. the TAP tests t/*.pl (PostgreSQL::Test::Cluster, the mock Kafka broker,
#      kcat, DuckDB), each assertion counted.
# PostgreSQL refuses to run as root, so as root this re-runs itself as the
# "postgres" user with a scratch directory that user owns.
#
# Usage: t/run_tests.sh [regress] [t/NNN_name.pl ...]   (default: everything)
#        t/run_tests.sh matrix        only the newer releases (see run_matrix)
#
# Environment: TMPDIR, where the scratch directory goes (default /tmp; as
# root it must be reachable by "postgres"); CDC_PORT_RANGE=LOW-HIGH, the
# ports PostgreSQL clusters may take (default 20000-40000 for pg_regress,
# PostgreSQL::Test::Cluster's 10200-32767 for the TAP tests); CDC_KEEP_WORK=1
# keeps the scratch directory.  CDC_PG=17 (or 18) runs the same against
# that release's server, in its Debian root (scripts/pg.sh root/install make
# it, as root); the daemons stay this machine's and reach it over TCP; the
# scratch directory must then be under /tmp, all the root sees.  Default:
# this machine's server (PG_CONFIG).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-pg_config}
CDC_PG=${CDC_PG:-}
. "$ROOT/scripts/port_range.sh"
port_range_check || exit 1

if [ "$(id -u)" = 0 ]; then
	work=$(mktemp -d "${TMPDIR:-/tmp}/cdc_kafka_test.XXXXXX") || exit 1
	chown postgres: "$work"
	runuser -u postgres -- env CDC_TEST_WORK="$work" PG_CONFIG="$PG_CONFIG" CDC_PG="$CDC_PG" \
		bash "$0" "$@"
	rc=$?
	[ "${CDC_KEEP_WORK:-}" ] || rm -rf "$work"
	exit $rc
fi

# Every cluster the tests start is UTF8 (initdb takes it from the locale):
# the expected output holds non-ASCII text.
export LC_ALL=C.UTF-8 LANG=C.UTF-8

# this machine's pg_config, whatever PATH holds below
PG_CONFIG=$(command -v "$PG_CONFIG") || { echo "no $PG_CONFIG" >&2; exit 1; }
export PG_CONFIG
WORK=${CDC_TEST_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/cdc_kafka_test.XXXXXX")}
mkdir -p "$WORK/portlock"
if [ -n "$CDC_PG" ]; then
	# The server's programs run inside its root, which shares /tmp (and
	# only /tmp) with this machine: WORK must be there.
	case $(realpath "$WORK") in
	/tmp/*) ;;
	*) echo "CDC_PG=$CDC_PG: the scratch directory $WORK is not under /tmp (TMPDIR)" >&2; exit 1 ;;
	esac
	BINDIR=$("$ROOT/scripts/pg.sh" bindir "$CDC_PG" "$WORK/pg$CDC_PG/bin") || exit 1
	PGXS_DIR=$("$ROOT/scripts/pg.sh" pgxsdir "$CDC_PG") || exit 1
	PG_REGRESS=$BINDIR/pg_regress
	REGRESS_BINDIR=$("$BINDIR/pg_config" --bindir)	# pg_regress runs inside
	# this checkout's plugin, built with that server's PGXS, which every
	# server of this run loads (nothing is installed into the root)
	"$ROOT/scripts/pg.sh" build "$CDC_PG" "$WORK/plugin$CDC_PG" || exit 1
	export CDC_PG CDC_PG_PLUGIN=$WORK/plugin$CDC_PG
else
	BINDIR=$($PG_CONFIG --bindir)
	PGXS_DIR=$(dirname "$(dirname "$(dirname "$($PG_CONFIG --pgxs)")")")
	PG_REGRESS=$PGXS_DIR/src/test/regress/pg_regress
	REGRESS_BINDIR=$BINDIR
fi
# The suite's files, from the Makefile (with this machine's PGXS: the PATH
# below may hold another server's pg_config); REGRESS="toast ddl" runs only
# those, as "make installcheck REGRESS=..." does.
REGRESS_LIST=${REGRESS:-$(cd "$ROOT" && make -s --no-print-directory PG_CONFIG="$PG_CONFIG" regress-list)}
export PATH="$BINDIR:$ROOT/sidecar:$ROOT/writer:$ROOT/tools:$PATH"
cd "$ROOT"
# One Spark JVM per peer serves the whole run (t/CdcSpark.pm starts it for
# the first test file that asks): a start costs a minute of CPU, and a dozen
# files read with Spark.  A nested run (the matrix) shares its caller's.
if [ -z "${CDC_SPARK_SHARED:-}" ]; then
	export CDC_SPARK_SHARED=$WORK/spark
	mkdir -p "$CDC_SPARK_SHARED"
	trap 'for f in "$CDC_SPARK_SHARED"/*.pid; do [ -f "$f" ] && kill -TERM -- "-$(cat "$f")" 2>/dev/null; done' EXIT
fi
passed=0
failed=0

run_regress()
{
	local dir=$WORK/regress port
	port=$(port_range_pick) || { failed=$((failed + 1)); return; }
	mkdir -p "$dir"
	initdb -D "$dir/data" -A trust -U postgres >"$dir/initdb.log" 2>&1 || {
		echo "regress: initdb failed"; cat "$dir/initdb.log"; failed=$((failed + 1)); return; }
	"$ROOT/scripts/pg.sh" logical-conf "$BINDIR" >>"$dir/data/postgresql.conf" || {
		echo "regress: no configuration"; failed=$((failed + 1)); return; }
	pg_ctl -D "$dir/data" -l "$dir/server.log" -w \
		-o "-p $port -k $dir -c listen_addresses=''" start >/dev/null || {
		echo "regress: server did not start"; cat "$dir/server.log"; failed=$((failed + 1)); return; }
	# The suite's files (and the lab's, which seed.sql reads from the
	# current directory) are copied under WORK, where any server's
	# pg_regress sees them.
	mkdir -p "$dir/in"
	cp -r "$ROOT/sql" "$ROOT/expected" "$ROOT/docker" "$dir/in/"
	regress_run "$dir" "$port" $REGRESS_LIST
	# Each file runs alone as well (in a fresh database, as "make
	# installcheck REGRESS=name" would): none depends on another's leftovers.
	# (Once, on this machine's server: that holds for every release.)
	local t
	set -- $REGRESS_LIST
	if [ $# -gt 1 ] && [ -z "$CDC_PG" ]; then
		for t in "$@"; do
			regress_run "$dir/alone/$t" "$port" "$t" >/dev/null
			echo "regress alone: $t ... $([ "$regress_bad" = 0 ] && echo ok || echo FAILED)"
		done
	fi
	pg_ctl -D "$dir/data" -m fast stop >/dev/null
}

# pg_regress against the running server, output in OUTDIR; counts its
# results (regress_bad: how many failed).
regress_run()
{
	local outdir=$1 port=$2 ok
	shift 2
	mkdir -p "$outdir"
	(cd "$WORK/regress/in" && "$PG_REGRESS" --inputdir="$WORK/regress/in" --outputdir="$outdir" \
		--bindir="$REGRESS_BINDIR" --host="$WORK/regress" --port="$port" --user=postgres \
		--dbname=contrib_regression "$@") \
		>"$outdir/out.txt" 2>&1
	cat "$outdir/out.txt"
	# pg_regress writes "name ... ok" up to 15, TAP ("ok N - name") since 16
	ok=$(grep -cE '^(ok|test |     ).* \.\.\. ok|^ok [0-9]' "$outdir/out.txt")
	regress_bad=$(grep -cE '\.\.\. FAILED|^not ok [0-9]' "$outdir/out.txt")
	if [ "$ok" = 0 ] && [ "$regress_bad" = 0 ]; then
		regress_bad=1	# pg_regress itself failed
	fi
	passed=$((passed + ok))
	failed=$((failed + regress_bad))
	if [ -s "$outdir/regression.diffs" ]; then
		head -200 "$outdir/regression.diffs"
	fi
}

run_tap()
{
	local t=$1 out=$WORK/tap/$(basename "$t").out rc start=$SECONDS
	local testdir=$WORK/tap/$(basename "$t" .pl)
	mkdir -p "$testdir"
	echo "=== $t"
	# TESTDIR places tmp_check/ and log/ up to 15, TESTDATADIR and
	# TESTLOGDIR since 16: the same places either way.
	PG_TEST_PORT_DIR="$WORK/portlock" TESTDIR="$testdir" PG_REGRESS="$PG_REGRESS" \
		TESTDATADIR="$testdir/tmp_check" TESTLOGDIR="$testdir/log" CDC_ROOT="$ROOT" \
		timeout 1200 prove --verbose --nocolor \
		--exec "perl -I$PGXS_DIR/src/test/perl -I$ROOT/t -MCdcPortRange" "$t" >"$out" 2>&1
	rc=$?
	grep -aE '^(not )?ok |^# ' "$out" | grep -av '^# Looks like' | head -300
	# prove's summary: how many assertions ran, how many of them failed
	local total bad
	total=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' "$out")
	bad=$(sed -n 's/^.*(Wstat: .* Tests: [0-9]* Failed: \([0-9]*\))$/\1/p' "$out")
	total=${total:-0} bad=${bad:-0}
	passed=$((passed + total - bad))
	failed=$((failed + bad))
	if [ "$rc" != 0 ] && [ "$bad" = 0 ]; then
		echo "$t: exited without a complete, passing plan (prove: $rc)"; tail -30 "$out"
		# a die goes to the test's own log (PostgreSQL::Test::Utils), not to $out
		tail -n 5 "$testdir"/{tmp_check/log,log}/"regress_log_$(basename "$t" .pl)" 2>/dev/null
		failed=$((failed + 1))
	fi
	echo "--- $t: $((SECONDS - start)) s"
}

# The newer releases, each in its Debian root once made (scripts/pg.sh):
# the plugin's pg_regress suite and TAP tests, logical decoding on a
# standby and failover slots on each; the daemons' end to end tests on the
# newest too (this machine's 15 runs them all).
MATRIX_RELEASES="17 18"
matrix_tests()
{
	echo regress t/0[1-9][0-9]_*.pl t/130_sidecar_standby.pl t/131_sidecar_failover.pl
	[ "$1" = 18 ] && echo t/101_sidecar_seed.pl t/102_sidecar_kill9.pl \
		t/104_sidecar_snapshot.pl t/110_sidecar_endpos.pl t/207_writer_pipeline.pl
}

run_matrix()
{
	local v out line
	for v in $MATRIX_RELEASES; do
		echo "=== PostgreSQL $v, in its Debian root"
		if ! "$ROOT/scripts/pg.sh" dir "$v" >/dev/null 2>&1; then
			echo "PostgreSQL $v: no Debian root, not tested (as root: scripts/pg.sh root $v)"
			continue
		fi
		out=$WORK/matrix_$v.out
		# shellcheck disable=SC2046
		CDC_PG=$v CDC_TEST_WORK=$WORK/pg$v bash "$0" $(matrix_tests "$v") 2>&1 | tee "$out"
		line=$(tail -n 1 "$out")
		if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
			passed=$((passed + BASH_REMATCH[1]))
			failed=$((failed + BASH_REMATCH[2]))
		else
			failed=$((failed + 1))
		fi
	done
}

if [ "${1:-}" = matrix ]; then
	shift
	run_matrix
elif [ $# -eq 0 ]; then
	run_regress
	for t in t/[0-9]*.pl; do run_tap "$t"; done
	[ -z "$CDC_PG" ] && run_matrix
fi
if [ "${1:-}" = regress ]; then
	shift
	run_regress
fi
for t in "$@"; do
	[ -f "$t" ] && run_tap "$t"
done

echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
