#!/bin/bash
# Installs what cdc_kafka needs to build, test and demo, from Debian and npm.
# Quick when everything is already there; needs root (or sudo) otherwise.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

PACKAGES="build-essential postgresql-15 postgresql-server-dev-15 libpq-dev
  librdkafka-dev libjson-c-dev libzstd-dev libsnappy-dev zlib1g-dev kcat libipc-run-perl
  libjson-xs-perl
  libcurl4-openssl-dev libexpat1-dev libssl-dev debootstrap
  postgresql-15-wal2json postgresql-15-decoderbufs
  docker-compose openjdk-17-jdk-headless maven openssl systemd
  clang-14 libclang-rt-14-dev"

missing=
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done

# Node.js may come from elsewhere (NodeSource bundles npm and conflicts
# with Debian's npm package): ask for the commands, not the packages.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ -n "$missing" ]; then
	echo "deps: installing$missing"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The independent Parquet reader used by the tests and the demo (DuckDB).
if [ ! -d "$ROOT/t/node_modules/@duckdb/node-api" ]; then
	echo "deps: installing DuckDB's node package into t/node_modules"
	(cd "$ROOT/t" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi

# The JVM peers of the tests and benchmarks, from Maven Central into the
# shared cache (scripts/peers.sh); the tests, run as "postgres", only read it.
# spark35: Spark 3.5 with delta-spark 3.3, spark35-s3a its S3 connector
# (hadoop-aws and the AWS SDK); spark33: the seed lab's Spark 3.3.2 with
# delta-core 2.3.0 and its Kafka source.
for peer in kafka debezium s3 spark35 spark35-s3a spark33; do
	bash "$ROOT/scripts/peers.sh" dir "$peer" >/dev/null 2>&1 ||
		as_root env CDC_CACHE="${CDC_CACHE:-/var/cache/cdc_kafka}" bash "$ROOT/scripts/peers.sh" fetch "$peer"
done
# The broker's class-data archive: a third less CPU at each of its starts.
[ -f "$(bash "$ROOT/scripts/peers.sh" dir kafka)/broker.jsa" ] ||
	as_root env CDC_CACHE="${CDC_CACHE:-/var/cache/cdc_kafka}" bash "$ROOT/scripts/kafka.sh" prepare
