#!/bin/bash
# Runs java with what Spark 3.x needs on Java 17 (the module openings its
# own launcher adds), a small heap (SPARK_MEM, default 1g) and quiet
# logging (tools/spark/log4j2.properties).
#   scripts/spark-java.sh -cp CLASSPATH MAIN [ARGS ...]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
opens=
for p in java.lang java.lang.invoke java.lang.reflect java.io java.net java.nio \
	java.util java.util.concurrent java.util.concurrent.atomic sun.nio.ch sun.nio.cs \
	sun.security.action sun.util.calendar; do
	opens="$opens --add-opens=java.base/$p=ALL-UNNAMED"
done
export SPARK_LOCAL_IP=127.0.0.1
exec java -Xmx"${SPARK_MEM:-1g}" -XX:+UseSerialGC $opens \
	-Djdk.reflect.useDirectMethodHandle=false \
	-Dio.netty.tryReflectionSetAccessible=true \
	-Dlog4j2.configurationFile="$ROOT/tools/spark/log4j2.properties" \
	"$@"
