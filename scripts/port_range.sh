# Sourced by scripts/demo.sh and t/run_tests.sh: the TCP ports they may give
# PostgreSQL, from CDC_PORT_RANGE=LOW-HIGH (default 20000-40000).  Kafka,
# the mock broker's or the real one's, takes ports the kernel hands out.

port_range_check()
{
	local range=${CDC_PORT_RANGE:-20000-40000}
	if ! [[ $range =~ ^([0-9]+)-([0-9]+)$ ]] || ((BASH_REMATCH[1] < 1024 ||
		BASH_REMATCH[2] > 65535 || BASH_REMATCH[1] > BASH_REMATCH[2])); then
		echo "CDC_PORT_RANGE=\"$range\": give LOW-HIGH, within 1024-65535" >&2
		return 1
	fi
	PORT_LOW=${BASH_REMATCH[1]}
	PORT_HIGH=${BASH_REMATCH[2]}
}

# A random port of the range that nothing listens on at 127.0.0.1.
port_range_pick()
{
	local port
	for _ in $(seq 100); do
		port=$((PORT_LOW + (RANDOM * 32768 + RANDOM) % (PORT_HIGH - PORT_LOW + 1)))
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return 0; }
	done
	echo "no free port in CDC_PORT_RANGE=$PORT_LOW-$PORT_HIGH" >&2
	return 1
}
