#!/bin/bash
# An S3-compatible server on this machine, for tests and benchmarks only:
# S3Proxy (Maven Central, org.gaul:s3proxy) over its file-system backend,
# on a free 127.0.0.1 port, with SigV4 authentication.
#
#   scripts/s3.sh start DIR [BUCKET...]   start it (objects under DIR/data),
#                                         create the buckets, print
#                                         access_key=, secret_key=, region=
#                                         and, last, endpoint=http://127.0.0.1:PORT
#   scripts/s3.sh stop DIR                stop the server started in DIR
#
# A later start of the same DIR (after stop or kill -9) reuses its port and
# its objects, so clients keep their endpoint across a restart.
#
# S3Proxy answers a second "PUT If-None-Match: *" on a key with 412, the
# conditional write that Delta log commits rely on (t/203_s3_server.pl
# checks it, so a version that lost it would fail there first).
# The jars come from scripts/peers.sh fetch s3 (scripts/deps.sh runs it).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

ACCESS_KEY=cdc-test-key
SECRET_KEY=cdc-test-secret
REGION=us-east-1

usage() { echo "usage: $0 start DIR [BUCKET...] | stop DIR" >&2; exit 1; }
[ $# -ge 2 ] || usage
cmd=$1 dir=$2
shift 2

free_port()
{
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The pid file must name a live process that runs this DIR's configuration
# (not a reused process id).
running()
{
	local pid
	[ -f "$dir/s3.pid" ] || return 1
	pid=$(cat "$dir/s3.pid")
	[ -r "/proc/$pid/cmdline" ] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$dir/s3proxy.conf"
}

# One signed request with an empty body (curl signs, the payload hash of an
# empty body is S3's constant); prints the HTTP status.
request()
{
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
		--aws-sigv4 "aws:amz:$REGION:s3" -u "$ACCESS_KEY:$SECRET_KEY" \
		-H 'x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' \
		-X "$1" "$2" || true
}

start()
{
	local cp port endpoint i code bucket
	cp=$("$ROOT/scripts/peers.sh" classpath s3)
	mkdir -p "$dir/data"
	dir=$(cd "$dir" && pwd)
	running && { echo "s3: already running in $dir (pid $(cat "$dir/s3.pid"))" >&2; exit 1; }
	if [ -f "$dir/s3proxy.conf" ]; then
		endpoint=$(sed -n 's/^s3proxy.endpoint=//p' "$dir/s3proxy.conf")
	else
		port=$(free_port)
		endpoint=http://127.0.0.1:$port
		cat >"$dir/s3proxy.conf.new" <<EOF
s3proxy.endpoint=$endpoint
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$ACCESS_KEY
s3proxy.credential=$SECRET_KEY
jclouds.provider=filesystem-nio2
jclouds.filesystem.basedir=$dir/data
EOF
		mv "$dir/s3proxy.conf.new" "$dir/s3proxy.conf"
	fi
	# Without a configuration logback logs every request at DEBUG
	# (hundreds of MB in a test run).
	cat >"$dir/logback.xml" <<'EOF'
<configuration>
  <appender name="STDERR" class="ch.qos.logback.core.ConsoleAppender">
    <target>System.err</target>
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{20} - %msg%n</pattern></encoder>
  </appender>
  <root level="WARN"><appender-ref ref="STDERR"/></root>
</configuration>
EOF
	setsid java -Xmx256m -Dlogback.configurationFile="$dir/logback.xml" \
		-cp "$cp" org.gaul.s3proxy.Main --properties "$dir/s3proxy.conf" \
		>"$dir/s3.log" 2>&1 </dev/null &
	echo $! >"$dir/s3.pid"
	for i in $(seq 1 600); do
		running || { echo "s3: S3Proxy exited; its log:" >&2; tail -20 "$dir/s3.log" >&2; exit 1; }
		code=$(request GET "$endpoint/")
		[ "$code" = 200 ] && break
		sleep 0.1
	done
	[ "$code" = 200 ] || { echo "s3: S3Proxy did not answer on $endpoint within 60 s" >&2; stop; exit 1; }
	for bucket in "$@"; do
		code=$(request PUT "$endpoint/$bucket")
		# 409: it exists already (a restart)
		[ "$code" = 200 ] || [ "$code" = 409 ] || { echo "s3: could not create bucket \"$bucket\" (HTTP $code)" >&2; exit 1; }
	done
	echo "access_key=$ACCESS_KEY"
	echo "secret_key=$SECRET_KEY"
	echo "region=$REGION"
	echo "endpoint=$endpoint"
}

stop()
{
	local pid i
	dir=$(cd "$dir" 2>/dev/null && pwd) || return 0
	running || { rm -f "$dir/s3.pid"; return 0; }
	pid=$(cat "$dir/s3.pid")
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		for i in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
	fi
	rm -f "$dir/s3.pid"
}

case $cmd in
start) start "$@" ;;
stop) stop ;;
*) usage ;;
esac
