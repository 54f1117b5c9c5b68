#!/bin/bash
# The JVM peers the tests and benchmarks compare against (Apache Kafka,
# Debezium, Spark with Delta, an S3-compatible server), fetched from Maven
# Central.  Nothing a user runs in production needs any of them.
#
#   scripts/peers.sh fetch NAME       resolve scripts/peers/NAME/pom.xml into
#                                     $CDC_CACHE/NAME/lib (once; later runs reuse it)
#   scripts/peers.sh classpath NAME   print the classpath of a fetched peer
#   scripts/peers.sh dir NAME         print the folder a peer's jars are in
#
# Everything Maven fetches lives in one place, $CDC_CACHE (default
# /var/cache/cdc_kafka): its Maven repository in m2/, each peer's jars in
# NAME/lib.  scripts/deps.sh fetches every peer as root and leaves the cache
# readable by all, so the tests (run as "postgres") only read it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CDC_CACHE=${CDC_CACHE:-/var/cache/cdc_kafka}

usage() { echo "usage: $0 fetch|classpath|dir NAME" >&2; exit 1; }
[ $# = 2 ] || usage
cmd=$1 name=$2
pom=$ROOT/scripts/peers/$name/pom.xml
[ -f "$pom" ] || { echo "peers: no peer named \"$name\" (no $pom)" >&2; exit 1; }
lib=$CDC_CACHE/$name/lib
# A pom change invalidates the fetched jars: the stamp holds the pom's hash.
stamp=$CDC_CACHE/$name/pom.sha256
want=$(sha256sum "$pom" | cut -d' ' -f1)

fetched() { [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; }

fetch()
{
	fetched && return 0
	command -v mvn >/dev/null || { echo "peers: mvn is not installed (scripts/deps.sh installs it)" >&2; exit 1; }
	mkdir -p "$CDC_CACHE/m2"
	rm -rf "$lib.new"
	echo "peers: fetching $name from Maven Central into $lib" >&2
	mvn -q -B -f "$pom" -Dmaven.repo.local="$CDC_CACHE/m2" \
		dependency:copy-dependencies -DoutputDirectory="$lib.new" -DincludeScope=runtime >&2
	rm -rf "$lib"
	mv "$lib.new" "$lib"
	echo "$want" >"$stamp"
	chmod -R a+rX "$CDC_CACHE"
}

case $cmd in
fetch) fetch ;;
dir)
	fetched || { echo "peers: $name is not fetched (scripts/peers.sh fetch $name)" >&2; exit 1; }
	echo "$lib" ;;
classpath)
	fetched || { echo "peers: $name is not fetched (scripts/peers.sh fetch $name)" >&2; exit 1; }
	ls "$lib"/*.jar | paste -sd: ;;
*) usage ;;
esac
