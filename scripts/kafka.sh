#!/bin/bash
# Apache Kafka (KRaft, from Maven Central) for the tests, the demo and the
# benchmarks; never needed in production.
#
#   scripts/kafka.sh start DIR        start the broker(s) kept in DIR; the last
#                                     line of output is bootstrap.servers=...,
#                                     printed once every broker answers metadata
#   scripts/kafka.sh stop DIR [N]     stop every broker of DIR (or node N) cleanly
#   scripts/kafka.sh pid DIR [N]      the process ids of the running brokers
#   scripts/kafka.sh prepare          fetch the jars and make the broker's
#                                     class-data archive (scripts/deps.sh, as root)
#
# The first start of a DIR picks free 127.0.0.1 ports, writes each node's
# server.properties and formats its KRaft storage; later starts (after stop,
# kill -9 or a reboot) reuse all of it, ports included, so clients keep their
# bootstrap address.  A start only starts the nodes that are not running.
# Settings, read at the first start of a DIR only:
#   KAFKA_BROKERS=3           three combined broker+controller nodes (a KRaft
#                             quorum of 3) with replication factor 3 by default
#   KAFKA_CONFIG="k=v k=v"    broker settings added to (or overriding) the
#                             defaults below, e.g. auto.create.topics.enable=false
#   KAFKA_SASL_SSL=1          also a SASL_SSL listener per node, as a secured
#                             production Kafka has: TLS with a certificate of
#                             a CA made for DIR (DIR/tls/ca.pem), SCRAM-SHA-512
#                             logins of user "cdc_kafka" (password in DIR/tls/cdc_kafka.password);
#                             start then also prints sasl_ssl.bootstrap.servers=...
#                             (before the bootstrap.servers line)
# Read at every start:
#   KAFKA_HEAP_OPTS           default -Xmx512m -Xms64m
#   KAFKA_JVM_OPTS            default the serial collector (quickest start, least RSS)
#   KAFKA_QUICK=1             only the JIT's first tier (C1): a third less CPU
#                             to start and in short runs (the tests); not for
#                             benchmarks, where the broker's peak speed counts
#   KAFKA_START_TIMEOUT       seconds to wait for metadata (default 120)
# Each node's files are DIR/nodeN/: server.properties, data/, pid, and its
# logs in logs/server.log (log4j) and logs/stdout.log (the JVM's own output).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

usage() { echo "usage: $0 start|stop|pid DIR [NODE] | prepare" >&2; exit 1; }
cmd=${1:-}
only=${3:-}
if [ "$cmd" != prepare ]; then
	[ $# -ge 2 ] || usage
	[ "$cmd" = start ] && mkdir -p "$2"
	DIR=$(cd "$2" 2>/dev/null && pwd) || { echo "kafka: no directory $2" >&2; exit 1; }
fi

say() { echo "kafka: $*" >&2; }

# Is node $1's broker running?  The pid file must name a live java process
# that runs this node's server.properties (not a reused process id).
node_pid()
{
	local node=$DIR/node$1 pid
	[ -f "$node/pid" ] || return 1
	pid=$(cat "$node/pid")
	[ -r "/proc/$pid/cmdline" ] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$node/server.properties" || return 1
	echo "$pid"
}

nodes()
{
	if [ -n "$only" ]; then
		[ -d "$DIR/node$only" ] || { say "no node $only in $DIR"; exit 1; }
		echo "$only"
	else
		seq 1 "$(cat "$DIR/brokers")"
	fi
}

# $1 distinct free TCP ports on 127.0.0.1, asked of the kernel all at once.
free_ports()
{
	perl -MIO::Socket::INET -e '
		my @s = map { IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0,
			Listen => 1, ReuseAddr => 1) or die "no free port: $!\n" } 1 .. $ARGV[0];
		print $_->sockport, "\n" for @s;' "$1"
}

# KAFKA_SASL_SSL: a CA, the brokers' certificate (for 127.0.0.1 and
# localhost) in a PKCS12 keystore, and the passwords, in DIR/tls.
make_tls()
{
	local tls=$DIR/tls
	mkdir -p "$tls"
	(
		cd "$tls"
		umask 077
		head -c 18 /dev/urandom | base64 | tr '+/' '-_' >keystore.password
		head -c 18 /dev/urandom | base64 | tr '+/' '-_' >cdc_kafka.password
		openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=cdc_kafka test CA" \
			-keyout ca.key -out ca.pem
		openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout broker.key -out broker.csr
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >broker.ext
		openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
			-extfile broker.ext -out broker.pem
		openssl pkcs12 -export -in broker.pem -inkey broker.key -certfile ca.pem \
			-passout "file:keystore.password" -out broker.p12
		chmod a+r ca.pem
	) >"$tls/openssl.log" 2>&1 || { say "making the TLS files failed:"; cat "$tls/openssl.log" >&2; exit 1; }
}

# First start of DIR: ports, cluster id, server.properties, formatted storage.
init_dir()
{
	local n=${KAFKA_BROKERS:-1} i rf isr voters= ports cid
	case $n in 1 | 3) ;; *) say "KAFKA_BROKERS must be 1 or 3"; exit 1 ;; esac
	rf=$n
	isr=$((n > 1 ? 2 : 1))
	ports=($(free_ports $((3 * n))))	# PLAINTEXT, CONTROLLER, SASL_SSL
	local sasl_ssl=${KAFKA_SASL_SSL:-}
	[ -z "$sasl_ssl" ] || make_tls
	for i in $(seq 1 "$n"); do
		voters="$voters${voters:+,}$i@127.0.0.1:${ports[$((2 * i - 1))]}"
	done
	# A cluster id is 16 random bytes in URL-safe base64 without padding;
	# one that starts with "-" would read as an option to the format tool.
	cid=-
	while [ "${cid#-}" != "$cid" ]; do
		cid=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
	done
	for i in $(seq 1 "$n"); do
		local node=$DIR/node$i
		mkdir -p "$node/data" "$node/logs"
		{
			echo "# written by scripts/kafka.sh at the first start of $DIR"
			echo "process.roles=broker,controller"
			echo "node.id=$i"
			echo "controller.quorum.voters=$voters"
			if [ -n "$sasl_ssl" ]; then
				local sport=${ports[$((2 * n + i - 1))]}
				echo "listeners=PLAINTEXT://127.0.0.1:${ports[$((2 * i - 2))]},CONTROLLER://127.0.0.1:${ports[$((2 * i - 1))]},SASL_SSL://127.0.0.1:$sport"
				echo "advertised.listeners=PLAINTEXT://127.0.0.1:${ports[$((2 * i - 2))]},SASL_SSL://127.0.0.1:$sport"
				echo "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL"
				echo "sasl.enabled.mechanisms=SCRAM-SHA-512"
				echo "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"
				echo "ssl.keystore.type=PKCS12"
				echo "ssl.keystore.location=$DIR/tls/broker.p12"
				echo "ssl.keystore.password=$(cat "$DIR/tls/keystore.password")"
				echo "127.0.0.1:$sport" >"$node/sasl_ssl_address"
			else
				echo "listeners=PLAINTEXT://127.0.0.1:${ports[$((2 * i - 2))]},CONTROLLER://127.0.0.1:${ports[$((2 * i - 1))]}"
				echo "advertised.listeners=PLAINTEXT://127.0.0.1:${ports[$((2 * i - 2))]}"
				echo "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
			fi
			echo "controller.listener.names=CONTROLLER"
			echo "inter.broker.listener.name=PLAINTEXT"
			echo "log.dirs=$node/data"
			# Small internal topics and no rebalance delay: quick first
			# consumer groups and transactions on a test machine.
			echo "offsets.topic.num.partitions=8"
			echo "offsets.topic.replication.factor=$rf"
			echo "transaction.state.log.num.partitions=8"
			echo "transaction.state.log.replication.factor=$rf"
			echo "transaction.state.log.min.isr=$isr"
			echo "default.replication.factor=$rf"
			echo "group.initial.rebalance.delay.ms=0"
			echo "num.network.threads=2"
			echo "num.io.threads=4"
			for kv in ${KAFKA_CONFIG:-}; do
				case $kv in *=*) echo "$kv" ;; *) say "KAFKA_CONFIG: \"$kv\" is not key=value"; exit 1 ;; esac
			done
		} >"$node/server.properties"
		echo "127.0.0.1:${ports[$((2 * i - 2))]}" >"$node/address"
	done
	# The nodes format in parallel (a JVM start each).
	local pids=() jsa
	jsa=$(jsa)
	for i in $(seq 1 "$n"); do
		# shellcheck disable=SC2046
		java -Xmx128m -XX:TieredStopAtLevel=1 $( [ -r "$jsa" ] && echo "-XX:SharedArchiveFile=$jsa" ) \
			-Dlog4j.configuration="file:$ROOT/scripts/peers/kafka/log4j.properties" \
			-Dkafka.logs.dir="$DIR/node$i/logs" -cp "$CP" kafka.tools.StorageTool \
			format -t "$cid" -c "$DIR/node$i/server.properties" \
			${sasl_ssl:+--add-scram "SCRAM-SHA-512=[name=cdc_kafka,password=$(cat "$DIR/tls/cdc_kafka.password")]"} \
			>"$DIR/node$i/logs/format.log" 2>&1 &
		pids+=($!)
	done
	for i in $(seq 1 "$n"); do
		wait "${pids[$((i - 1))]}" || { say "formatting node $i failed:"; cat "$DIR/node$i/logs/format.log" >&2; exit 1; }
	done
	echo "$n" >"$DIR/brokers"
}

# The broker's classes, parsed and verified once, mapped by every start
# (class-data sharing): about a third of the CPU a start takes.  Made by
# "prepare"; a JVM that cannot use it (another JDK) ignores it.
jsa() { echo "$(bash "$ROOT/scripts/peers.sh" dir kafka)/broker.jsa"; }

start_node()
{
	local i=$1 node=$DIR/node$1 jsa
	node_pid "$i" >/dev/null && return 0
	jsa=$(jsa)
	# shellcheck disable=SC2086
	nohup java ${KAFKA_HEAP_OPTS:--Xmx512m -Xms64m} \
		${KAFKA_JVM_OPTS:--XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true} \
		${KAFKA_QUICK:+-XX:TieredStopAtLevel=1} \
		$( [ -r "$jsa" ] && echo "-XX:SharedArchiveFile=$jsa" ) \
		-Dlog4j.configuration="file:$ROOT/scripts/peers/kafka/log4j.properties" \
		-Dkafka.logs.dir="$node/logs" -cp "$CP" kafka.Kafka "$node/server.properties" \
		</dev/null >>"$node/logs/stdout.log" 2>&1 &
	echo $! >"$node/pid"
}

# Does node $1 answer metadata, listing $2 brokers?
answers()
{
	local seen
	seen=$(kcat -L -b "$(cat "$DIR/node$1/address")" -m 2 2>/dev/null | grep -c '^  broker [0-9]* at ') || true
	[ "$seen" = "$2" ]
}

# Starts the nodes not running and waits for metadata; 1 if a node exited.
start_nodes()
{
	local n i deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-120})) ready alive
	n=$(cat "$DIR/brokers")
	for i in $(nodes); do start_node "$i"; done
	# Stopped nodes (another "stop DIR N") are not counted in the metadata.
	while :; do
		ready=1
		alive=0
		for i in $(seq 1 "$n"); do node_pid "$i" >/dev/null && alive=$((alive + 1)); done
		for i in $(nodes); do
			if ! node_pid "$i" >/dev/null; then
				say "node $i exited while starting; the end of $DIR/node$i/logs:"
				tail -n 20 "$DIR/node$i/logs/stdout.log" "$DIR/node$i/logs/server.log" >&2 2>/dev/null || true
				return 1
			fi
			answers "$i" "$alive" || ready=0
		done
		[ $ready = 1 ] && break
		if [ $SECONDS -ge $deadline ]; then
			say "no metadata from $DIR after ${KAFKA_START_TIMEOUT:-120} s; see $DIR/node*/logs/server.log"
			exit 1
		fi
		sleep 0.2
	done
	local servers= secured=
	for i in $(seq 1 "$n"); do
		servers="$servers${servers:+,}$(cat "$DIR/node$i/address")"
		[ -f "$DIR/node$i/sasl_ssl_address" ] &&
			secured="$secured${secured:+,}$(cat "$DIR/node$i/sasl_ssl_address")"
	done
	[ -z "$secured" ] || echo "sasl_ssl.bootstrap.servers=$secured"
	echo "bootstrap.servers=$servers"
}

start()
{
	bash "$ROOT/scripts/peers.sh" fetch kafka
	CP=$(bash "$ROOT/scripts/peers.sh" classpath kafka)
	local attempt fresh=0
	for attempt in 1 2 3; do
		[ -f "$DIR/brokers" ] || { init_dir; fresh=1; }
		start_nodes && return 0
		# Another process took a port between its choice and the bind:
		# a DIR this start made can choose again.
		[ $fresh = 1 ] && grep -qs "Address already in use" "$DIR"/node*/logs/*.log || exit 1
		say "a port was taken meanwhile; choosing others (attempt $attempt)"
		only='' stop
		rm -rf "$DIR"/node* "$DIR/brokers"
	done
	exit 1
}

# SIGTERM (a clean, controlled shutdown), then SIGKILL after 60 s.
stop()
{
	[ -f "$DIR/brokers" ] || { say "$DIR holds no broker"; exit 1; }
	local i pid pids=()
	for i in $(nodes); do
		pid=$(node_pid "$i") || continue
		kill -TERM "$pid" 2>/dev/null || true
		pids+=("$pid")
	done
	local deadline=$((SECONDS + 60))
	for pid in "${pids[@]}"; do
		while kill -0 "$pid" 2>/dev/null; do
			if [ $SECONDS -ge $deadline ]; then
				say "process $pid did not stop in 60 s: killed"
				kill -KILL "$pid" 2>/dev/null || true
			fi
			sleep 0.1
		done
	done
}

# Fetches the jars; archives the classes a broker loads from start to stop.
prepare()
{
	bash "$ROOT/scripts/peers.sh" fetch kafka
	local jsa tmp
	jsa=$(jsa)
	[ -f "$jsa" ] && return 0
	tmp=$(mktemp -d)
	mkdir "$tmp/k"
	KAFKA_JVM_OPTS="-XX:+UseSerialGC -XX:ArchiveClassesAtExit=$jsa.new" DIR=$tmp/k start >/dev/null
	DIR=$tmp/k stop
	rm -rf "$tmp"
	[ -s "$jsa.new" ] || { say "no class-data archive was written"; exit 1; }
	chmod a+r "$jsa.new"
	mv "$jsa.new" "$jsa"
	say "class-data archive $jsa"
}

case $cmd in
prepare) prepare ;;
start) start ;;
stop) stop ;;
pid)
	[ -f "$DIR/brokers" ] || { say "$DIR holds no broker"; exit 1; }
	for i in $(nodes); do node_pid "$i" || true; done ;;
*) usage ;;
esac
