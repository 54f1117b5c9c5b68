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
#
# A table may be s3a://bucket/prefix/schema/table when the peer's S3
# connector is fetched (scripts/peers.sh fetch spark35-s3a: hadoop-aws and
# the AWS SDK): the endpoint comes from AWS_ENDPOINT_URL_S3 or
# AWS_ENDPOINT_URL (path-style requests then, plain HTTP to an http://
# endpoint), the region from AWS_REGION or AWS_DEFAULT_REGION, the keys
# from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.
# SPARK_MEM is the JVM heap (default 1g).  The program
# (tools/spark/SparkSql.java) is compiled once per source version into
# $CDC_JAVA_BUILD (default /tmp/cdc_kafka_java.$UID).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
peer=${SPARK_PEER:-spark35}
cp=$("$ROOT/scripts/peers.sh" classpath "$peer")
# the S3 connector's jars cost no measurable start time: always there if fetched
if s3a=$("$ROOT/scripts/peers.sh" classpath "$peer-s3a" 2>/dev/null); then
	cp=$cp:$s3a
elif [[ ${1:-} == s3a://* ]]; then
	if [ -f "$ROOT/scripts/peers/$peer-s3a/pom.xml" ]; then
		echo "spark-sql: $1: the S3 connector is not fetched (scripts/peers.sh fetch $peer-s3a)" >&2
	else
		echo "spark-sql: $1: $peer has no S3 connector (only spark35 has one)" >&2
	fi
	exit 1
fi
classes=$("$ROOT/scripts/peer-build.sh" "$peer" "$ROOT/tools/spark/SparkSql.java")
# C1 only: a short run spends less CPU compiling than it would save
exec "$ROOT/scripts/spark-java.sh" -XX:TieredStopAtLevel=1 -cp "$classes:$cp" SparkSql "$@"
