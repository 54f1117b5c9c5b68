#!/bin/bash
# Compiles Java sources against a Spark peer's classpath, once per source
# version, outside the source tree; prints the classes directory.
#   scripts/spark-build.sh PEER FILE.java ...
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
peer=$1
shift
cp=$("$ROOT/scripts/peers.sh" classpath "$peer")
hash=$( (cat "$@"; echo "$cp") | sha256sum | cut -c1-16)
out=${CDC_SPARK_BUILD:-/tmp/cdc_kafka_spark.$(id -u)}/$peer/$hash
if [ ! -f "$out/.done" ]; then
	mkdir -p "$out"
	javac -nowarn -d "$out" -cp "$cp" "$@" >&2
	touch "$out/.done"
fi
echo "$out"
