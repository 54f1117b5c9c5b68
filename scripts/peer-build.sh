#!/bin/bash
# Compiles Java sources against a JVM peer's classpath, once per source
# version, outside the source tree; prints the classes directory.
#   scripts/peer-build.sh PEER FILE.java ...
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
peer=$1
shift
cp=$("$ROOT/scripts/peers.sh" classpath "$peer")
hash=$( (cat "$@"; echo "$cp") | sha256sum | cut -c1-16)
out=${CDC_JAVA_BUILD:-/tmp/cdc_kafka_java.$(id -u)}/$peer/$hash
if [ ! -d "$out" ]; then
	# compiled aside and renamed: a concurrent build never sees half a tree
	mkdir -p "$(dirname "$out")"
	tmp=$(mktemp -d "$out.XXXXXX")
	javac -nowarn -d "$tmp" -cp "$cp" "$@" >&2
	mv -T "$tmp" "$out" 2>/dev/null || rm -rf "$tmp"
fi
echo "$out"
