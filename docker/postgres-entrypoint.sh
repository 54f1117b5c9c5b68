#!/bin/bash
# Entrypoint of the lab's PostgreSQL image (docker/Dockerfile, target
# "postgres"). Runs as the postgres user. On the first start of an empty
# data volume it creates the cluster, lets clients in with a password
# (POSTGRES_PASSWORD, never printed), and runs the *.sql in /docker-entrypoint-initdb.d
# on a server that listens on no TCP port, so the compose health check
# (pg_isready over TCP) turns green only once the seed data is in place.
# Then it runs the command (by default postgres with wal_level=logical and
# output_plugin_libraries naming cdc_kafka).
set -euo pipefail

: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=postgres}"
# Where the init scripts are, and the socket directory of the first-start
# server (psql and createdb read PGHOST too); t/300_compose.pl runs this
# script outside a container with both pointed at its scratch directory.
: "${INITDB_DIR:=/docker-entrypoint-initdb.d}"
: "${PGHOST:=/var/run/postgresql}"
export PGHOST

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	if [ -z "${POSTGRES_PASSWORD:-}" ]; then
		echo "postgres-entrypoint: set POSTGRES_PASSWORD" >&2
		exit 1
	fi
	# A failed first start must not leave a half-initialised cluster that
	# the next start would take for a ready one.
	trap 'pg_ctl -D "$PGDATA" -m immediate stop >/dev/null 2>&1; rm -rf "${PGDATA:?}"/*' ERR
	pwfile=$(mktemp)
	printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
	initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" \
		--auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 \
		--locale=C.UTF-8 >/dev/null
	rm -f "$pwfile"
	# Other containers connect over the compose network, also for
	# replication (the sidecar's walsender).
	cat >>"$PGDATA/pg_hba.conf" <<-HBA
	host all all all scram-sha-256
	host replication all all scram-sha-256
	HBA
	echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"

	# The init scripts may create the extension; its plugin must be
	# allowed already, as on the real start.
	pg_ctl -D "$PGDATA" -w -l "$PGDATA/first-start.log" \
		-o "-c listen_addresses='' -k $PGHOST -c wal_level=logical" \
		-o "-c output_plugin_libraries='pgoutput, test_decoding, cdc_kafka'" \
		start >/dev/null
	if [ "$POSTGRES_DB" != postgres ]; then
		createdb -U "$POSTGRES_USER" "$POSTGRES_DB"
	fi
	for f in "$INITDB_DIR"/*.sql; do
		[ -e "$f" ] || continue
		echo "postgres-entrypoint: running $f"
		psql -v ON_ERROR_STOP=1 -q -U "$POSTGRES_USER" -d "$POSTGRES_DB" -f "$f"
	done
	pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
	trap - ERR
fi

exec "$@"
