#!/bin/bash
# The seed lab on this machine, end to end, with nothing but the project:
# PostgreSQL 15 (a temporary cluster) -> cdc_kafka plugin -> sidecar ->
# Kafka (the project's mock broker) -> Delta writer -> a Delta table that
# DuckDB reads.  Stops everything it started and removes its directory.
#
# KAFKA=real (make demo KAFKA=real) runs the same demo on Apache Kafka
# (scripts/kafka.sh: a KRaft broker from Maven Central) instead of the mock.
#
# Exit status 0 only if the Delta table's current state equals the
# PostgreSQL table.  CDC_DEMO_TAMPER=1 changes PostgreSQL behind the
# pipeline's back before the comparison (the test suite uses it to prove
# the comparison can fail).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-pg_config}
BINDIR=$($PG_CONFIG --bindir)
# TMPDIR: where the scratch directory goes; CDC_PORT_RANGE=LOW-HIGH: the
# ports PostgreSQL may take (default 20000-40000)
. "$ROOT/scripts/port_range.sh"
port_range_check

# PostgreSQL refuses to run as root: re-run as "postgres" in a scratch dir.
if [ "$(id -u)" = 0 ]; then
	work=$(mktemp -d "${TMPDIR:-/tmp}/cdc_kafka_demo.XXXXXX")
	chown postgres: "$work"
	rc=0
	runuser -u postgres -- env CDC_DEMO_WORK="$work" PG_CONFIG="$PG_CONFIG" \
		CDC_DEMO_TAMPER="${CDC_DEMO_TAMPER:-}" KAFKA="${KAFKA:-}" bash "$0" "$@" || rc=$?
	rm -rf "$work"
	exit $rc
fi

WORK=${CDC_DEMO_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/cdc_kafka_demo.XXXXXX")}
export PATH="$BINDIR:$PATH"
PORT=$(port_range_pick)
KAFKA=${KAFKA:-mock}
case $KAFKA in mock | real) ;; *) echo "demo: KAFKA must be mock or real" >&2; exit 1 ;; esac
PIDS=()
step=0
say() { step=$((step + 1)); printf '\n[%d/9] %s\n' "$step" "$*"; }
info() { printf '      %s\n' "$*"; }

cleanup()
{
	local rc=$?
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	[ -d "$WORK/kafka" ] && bash "$ROOT/scripts/kafka.sh" stop "$WORK/kafka" 2>/dev/null || true
	[ -d "$WORK/data" ] && pg_ctl -D "$WORK/data" -m fast stop >/dev/null 2>&1 || true
	if [ $rc != 0 ] && [ -d "$WORK" ]; then
		for log in "$WORK"/*.log; do
			[ -f "$log" ] && { echo "--- last lines of $(basename "$log")"; tail -15 "$log"; }
		done
	fi
	[ -z "${CDC_DEMO_WORK:-}" ] && rm -rf "$WORK"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

psql_lab() { psql -X -q -h "$WORK" -p "$PORT" -d lab -v ON_ERROR_STOP=1 "$@"; }

for prog in sidecar/cdc_kafka_sidecar writer/cdc_delta_writer tools/cdc_kafka_mock_broker tools/cdc_kafka_topics; do
	[ -x "$ROOT/$prog" ] || { echo "demo: $prog is not built; run make first" >&2; exit 1; }
done
[ -f "$($PG_CONFIG --pkglibdir)/cdc_kafka.so" ] ||
	{ echo "demo: the cdc_kafka plugin is not installed; run make install first" >&2; exit 1; }

say "Starting PostgreSQL 15 in $WORK, port $PORT (wal_level=logical, cdc_kafka allowed)"
initdb -D "$WORK/data" -A trust -U postgres >"$WORK/initdb.log" 2>&1
# (a setting this server does not know would stop it: scripts/pg.sh leaves
# such lines out)
"$ROOT/scripts/pg.sh" logical-conf "$($PG_CONFIG --bindir)" /dev/stdin >>"$WORK/data/postgresql.conf" <<CONF
wal_level = logical
max_replication_slots = 4
max_wal_senders = 4
# recent minor releases (15.19 and later) load only the output plugins listed here
output_plugin_libraries = 'pgoutput, test_decoding, cdc_kafka'
listen_addresses = ''
unix_socket_directories = '$WORK'
port = $PORT
CONF
pg_ctl -D "$WORK/data" -l "$WORK/postgres.log" -w start >/dev/null
createdb -h "$WORK" -p "$PORT" lab

say "Creating the seed table inventory.customers with its four rows"
# the lab's SQL is shared with the compose stack (docker/)
psql_lab -f "$ROOT/docker/initdb/01-inventory.sql"
psql_lab -c 'TABLE inventory.customers ORDER BY id'

TOPIC=lab_cdc.inventory.customers
if [ "$KAFKA" = real ]; then
	say "Starting Kafka (Apache Kafka, KRaft, one node: scripts/kafka.sh)"
	BOOTSTRAP=$(bash "$ROOT/scripts/kafka.sh" start "$WORK/kafka" 2>"$WORK/kafka.log" | tail -n 1)
	BOOTSTRAP=${BOOTSTRAP#bootstrap.servers=}
	"$ROOT/tools/cdc_kafka_topics" -b "$BOOTSTRAP" $TOPIC:3 >/dev/null
else
	say "Starting Kafka (the project's mock broker, librdkafka's mock cluster)"
	mkfifo "$WORK/broker.in"
	"$ROOT/tools/cdc_kafka_mock_broker" -f "$WORK/bootstrap" -t $TOPIC:3 \
		<"$WORK/broker.in" >"$WORK/broker.out" 2>"$WORK/broker.log" &
	PIDS+=($!)
	exec 7>"$WORK/broker.in"		# keeps the broker's stdin open
	for _ in $(seq 100); do [ -s "$WORK/bootstrap" ] && break; sleep 0.1; done
	BOOTSTRAP=$(cat "$WORK/bootstrap")
fi
info "bootstrap servers: $BOOTSTRAP (topic $TOPIC, 3 partitions)"

say "Starting the sidecar (slot lab_cdc, topic prefix lab_cdc, schema inventory, initial snapshot)"
"$ROOT/sidecar/cdc_kafka_sidecar" -d "host=$WORK port=$PORT dbname=lab user=postgres" \
	-S lab_cdc --create-slot -o topic-prefix=lab_cdc -o include-schemas=inventory \
	-X kafka.bootstrap.servers="$BOOTSTRAP" -s 1 2>"$WORK/sidecar.log" &
PIDS+=($!)
SIDECAR=$!

say "Starting the Delta writer (topics ^lab_cdc\\.inventory\\..*, tables under $WORK/delta)"
"$ROOT/writer/cdc_delta_writer" -b "$BOOTSTRAP" -p '^lab_cdc\.inventory\..*' -r "$WORK/delta" \
	-X flush.interval.ms=500 -X kafka.session.timeout.ms=6000 \
	-X kafka.heartbeat.interval.ms=1000 -X kafka.topic.metadata.refresh.interval.ms=1000 \
	2>"$WORK/writer.log" &
PIDS+=($!)

# The seed's changes must come after the snapshot, as changes: wait until
# the sidecar has taken it and streams the slot.
for _ in $(seq 300); do
	[ "$(psql_lab -At -c "SELECT active FROM pg_replication_slots WHERE slot_name = 'lab_cdc'")" = t ] && break
	kill -0 "$SIDECAR" 2>/dev/null || { echo "demo: the sidecar stopped" >&2; exit 1; }
	sleep 0.1
done
info "the sidecar has sent the snapshot and streams the slot"

say "Applying the seed's DML"
psql_lab -e -f "$ROOT/docker/lab-changes.sql"

# 4 snapshot reads + 6 inserts + 2 updates + 1 delete
EXPECTED=13
TABLE=$WORK/delta/inventory/customers
say "Waiting until the $EXPECTED change events are committed to the Delta table"
rows=0
for i in $(seq 120); do
	if [ -d "$TABLE/_delta_log" ]; then
		rows=$(node "$ROOT/t/js/delta_show.mjs" "$TABLE" 'SELECT count(*) AS n FROM t' --json |
			sed -nE 's/.*"n":"?([0-9]+).*/\1/p')
		[ "${rows:-0}" -ge $EXPECTED ] && break
	fi
	[ $((i % 10)) = 0 ] && info "... ${rows:-0} rows so far"
	sleep 0.5
done
[ "${rows:-0}" -ge $EXPECTED ] || { echo "demo: only ${rows:-0} of $EXPECTED events reached Delta" >&2; exit 1; }
info "$rows rows in $(ls "$TABLE"/_delta_log/*.json | wc -l) Delta commit(s)"

say "The change log, as DuckDB reads it from the Delta table"
node "$ROOT/t/js/delta_show.mjs" "$TABLE" \
	"SELECT __op AS op, id, first_name, last_name, email, __kafka_partition AS part,
	        __kafka_offset AS off, __source_lsn AS lsn
	   FROM t ORDER BY __source_lsn NULLS FIRST, __kafka_partition, __kafka_offset"

CURRENT="SELECT id, first_name, last_name, email FROM (
	SELECT *, row_number() OVER (PARTITION BY id
		ORDER BY coalesce(__source_lsn, 0) DESC, __kafka_offset DESC) AS rn FROM t)
	WHERE rn = 1 AND __op <> 'd' ORDER BY id"
echo
info "current state (latest row per id, deletes removed):"
node "$ROOT/t/js/delta_show.mjs" "$TABLE" "$CURRENT"

if [ -n "${CDC_DEMO_TAMPER:-}" ]; then
	kill -TERM "$SIDECAR"; wait "$SIDECAR" || true
	psql_lab -c "UPDATE inventory.customers SET email = 'tampered@example.com' WHERE id = 1"
fi

say "Comparing the Delta table's current state with PostgreSQL"
delta=$(node "$ROOT/t/js/delta_show.mjs" "$TABLE" "$CURRENT" --json)
pg=$(psql_lab -At -c "SELECT coalesce(json_agg(json_build_object('id', id, 'first_name', first_name,
	'last_name', last_name, 'email', email) ORDER BY id), '[]') FROM inventory.customers")
if [ "$(node -e 'const a = JSON.parse(process.argv[1]), b = JSON.parse(process.argv[2]);
	const norm = (r) => r.map((x) => [Number(x.id), x.first_name, x.last_name, x.email].join("\u0001")).join("\n");
	console.log(norm(a) === norm(b) ? "same" : "different")' "$delta" "$pg")" = same ]; then
	info "OK: the Delta table's current state equals inventory.customers in PostgreSQL"
else
	echo "demo: MISMATCH between Delta and PostgreSQL" >&2
	echo "  delta:    $delta" >&2
	echo "  postgres: $pg" >&2
	exit 1
fi
printf '\nDone. Stopping everything and removing %s\n' "$WORK"
