# Heartbeats and idle slots: with heartbeat.interval.ms, messages go to
# __debezium-heartbeat.<prefix> and heartbeat.action.query runs in the
# database; a slot whose database is idle while another database writes
# still advances, so WAL is not retained.
use strict;
use warnings;

use Test::More;
use CdcKafka;

my $node = CdcKafka::start_pg('heartbeat');
$node->safe_psql('postgres', 'CREATE DATABASE busy');
$node->safe_psql('busy', 'CREATE TABLE t (id serial PRIMARY KEY, pad text)');
$node->safe_psql('postgres', 'CREATE TABLE hb_ping (id serial PRIMARY KEY, at timestamptz DEFAULT now())');
my $kb = CdcKafka::start_kafka();
my $log = "$ENV{TESTDIR}/sidecar.log";
my $sc = CdcKafka::start_sidecar(node => $node, bootstrap => $kb->bootstrap,
	slot => 'hb', create => 1, log => $log,
	args => [ '-o', 'topic-prefix=hbtest', '-X', 'heartbeat.interval.ms=300', '-L', "$log.L",
		'-X', 'heartbeat.action.query=INSERT INTO hb_ping DEFAULT VALUES' ]);

ok(CdcKafka::wait_until(sub {
	scalar(CdcKafka::kcat_consume($kb->bootstrap, '__debezium-heartbeat.hbtest')) >= 3 }, 60),
	'heartbeats arrive on __debezium-heartbeat.<prefix>') or diag(CdcKafka::slurp($log));
my ($hb) = CdcKafka::kcat_consume($kb->bootstrap, '__debezium-heartbeat.hbtest');
my $hkey = CdcKafka::json_or_undef($hb->{key});
is_deeply($hkey->{payload}, { serverName => 'hbtest' }, 'heartbeat key names the server');
is($hkey->{schema}{name}, 'io.debezium.connector.common.ServerNameKey', 'with Debezium\'s key schema');
my $hval = CdcKafka::json_or_undef($hb->{value});
like($hval->{payload}{ts_ms}, qr/^\d{13}$/, 'heartbeat value carries ts_ms');
is($hval->{schema}{name}, 'io.debezium.connector.common.Heartbeat', 'with Debezium\'s value schema');

ok(CdcKafka::wait_until(sub {
	scalar(CdcKafka::kcat_consume($kb->bootstrap, 'hbtest.public.hb_ping')) >= 2 }, 60),
	'heartbeat.action.query runs in the database and its changes stream');

my $before = $node->safe_psql('postgres',
	"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'hb'");
$node->safe_psql('busy', "INSERT INTO t (pad) SELECT repeat('x', 500) FROM generate_series(1, 20000)");
my $target = $node->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');
ok(CdcKafka::wait_until(sub {
	$node->safe_psql('postgres',
		"SELECT confirmed_flush_lsn >= '$target' FROM pg_replication_slots WHERE slot_name = 'hb'") eq 't' }, 60),
	"the idle database's slot advances past other databases' WAL (from $before)");
# -L FILE and SIGHUP, as logrotate does it: rename, then HUP.
ok(CdcKafka::wait_until(sub { CdcKafka::slurp("$log.L") =~ /streaming slot "hb"/ }, 30),
	'-L: the log goes to the file') or diag(CdcKafka::slurp($log));
rename("$log.L", "$log.L.1") or die $!;
$sc->signal('HUP');
ok(CdcKafka::wait_until(sub { CdcKafka::slurp("$log.L") =~ /log file reopened/ }, 30),
	'SIGHUP reopens the log file');
is(CdcKafka::stop_sidecar($sc), 0, 'SIGTERM: exit 0');
like(CdcKafka::slurp("$log.L"), qr/stopped; confirmed/, 'later lines go to the new file');

# Without topic-prefix the server name is the database's, made a valid topic
# name as the plugin makes its default prefix (and safe in the JSON key).
$node->safe_psql('postgres', 'CREATE DATABASE "hb db-""x"');
my $odd = CdcKafka::start_sidecar(node => $node, bootstrap => $kb->bootstrap,
	slot => 'hb_odd', create => 1, log => "$log.odd",
	args => [ '-d', $node->connstr('hb db-"x'), '-X', 'heartbeat.interval.ms=300' ]);
ok(CdcKafka::wait_until(sub {
	scalar(CdcKafka::kcat_consume($kb->bootstrap, '__debezium-heartbeat.hb_db-_x')) >= 1 }, 60),
	'a database name that is not a topic name: heartbeats on __debezium-heartbeat.hb_db-_x')
  or diag(CdcKafka::slurp("$log.odd"));
($hb) = CdcKafka::kcat_consume($kb->bootstrap, '__debezium-heartbeat.hb_db-_x');
is_deeply((CdcKafka::json_or_undef($hb->{key}) // {})->{payload}, { serverName => 'hb_db-_x' },
	'and the key names that server');
is(CdcKafka::stop_sidecar($odd), 0, 'SIGTERM: exit 0');

# The plugin reads its options as PostgreSQL reads a boolean: "schemas=f"
# turns schemas off, and the heartbeats must agree with the events.
my $nos = CdcKafka::start_sidecar(node => $node, bootstrap => $kb->bootstrap,
	slot => 'hb_nos', create => 1, log => "$log.nos",
	args => [ '-o', 'topic-prefix=hbnos', '-o', 'schemas=f', '-X', 'heartbeat.interval.ms=300' ]);
ok(CdcKafka::wait_until(sub {
	scalar(CdcKafka::kcat_consume($kb->bootstrap, '__debezium-heartbeat.hbnos')) >= 1 }, 60),
	'schemas=f: heartbeats arrive') or diag(CdcKafka::slurp("$log.nos"));
($hb) = CdcKafka::kcat_consume($kb->bootstrap, '__debezium-heartbeat.hbnos');
is_deeply(CdcKafka::json_or_undef($hb->{key}), { serverName => 'hbnos' },
	'schemas=f: the heartbeat key has no schema, as the events have none');
is(CdcKafka::stop_sidecar($nos), 0, 'SIGTERM: exit 0');

# An action query that waits (here a minute) must not hold up the stream:
# it is sent, and its result collected at a later heartbeat.
$node->safe_psql('postgres', 'CREATE TABLE slow_t (id int PRIMARY KEY)');
my $slow = CdcKafka::start_sidecar(node => $node, bootstrap => $kb->bootstrap,
	slot => 'hb_slow', create => 1, log => "$log.slow",
	args => [ '-o', 'topic-prefix=hbslow', '-X', 'heartbeat.interval.ms=300',
		'-X', 'heartbeat.action.query=SELECT pg_sleep(60)' ]);
ok(CdcKafka::wait_until(sub { CdcKafka::slurp("$log.slow") =~ /previous one still runs/ }, 60),
	'a slow action query: the next heartbeat finds it running and skips it')
  or diag(CdcKafka::slurp("$log.slow"));
$node->safe_psql('postgres', 'INSERT INTO slow_t SELECT generate_series(1, 100)');
ok(CdcKafka::wait_slot_caught_up($node, 'hb_slow', 30), 'a slow action query: the stream goes on')
  or diag(CdcKafka::slurp("$log.slow"));
is(scalar(CdcKafka::kcat_consume($kb->bootstrap, 'hbslow.public.slow_t')), 100,
	'a slow action query: every row in Kafka');
is(CdcKafka::stop_sidecar($slow), 0, 'SIGTERM: exit 0');

$kb->stop;
$node->stop;
done_testing();
