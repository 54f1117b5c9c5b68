#!/bin/bash
# Spark with Delta Lake as a reader of the tables cdc_delta_writer writes
# (tests and benchmarks; nothing in production needs a JVM).
#
#   scripts/spark-sql.sh TABLE_DIR "SQL" ["SQL" ...]
#       runs each statement with the table as view "t" (read through Delta's
#       own log reader) and prints one JSON object per row
#   scripts/spark-sql.sh --batch < requests
#       one JSON request a line, {"table": DIR, "sql": "..."} ("table" is
#       optional); one JSON answer a line, {"rows": [...], "columns": [...]}
#       or {"error": "..."}: many statements for one JVM start
#   scripts/spark-sql.sh --serve PORTFILE
#       the same requests over TCP connections to 127.0.0.1:PORT (PORT
#       written to PORTFILE once it listens), a session each; exits after
#       SPARK_IDLE_S seconds (default 1800) without a connection.  The test
#       suite shares one such JVM per peer (t/CdcSpark.pm)
#
# SPARK_PEER picks the peer: spark35 (default: Spark 3.5 with delta-spark
# 3.3) or spark33 (the seed lab's Spark 3.3.2 with delta-core 2.3.0).
# SPARK_MEM is the JVM heap (default 1g).  The program
# (tools/spark/SparkSql.java) is compiled once per source version into
# $CDC_JAVA_BUILD (default /tmp/cdc_kafka_java.$UID).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
peer=${SPARK_PEER:-spark35}
cp=$("$ROOT/scripts/peers.sh" classpath "$peer")
classes=$("$ROOT/scripts/peer-build.sh" "$peer" "$ROOT/tools/spark/SparkSql.java")
# C1 only: a short run spends less CPU compiling than it would save
exec "$ROOT/scripts/spark-java.sh" -XX:TieredStopAtLevel=1 -cp "$classes:$cp" SparkSql "$@"
