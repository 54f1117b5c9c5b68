# Bad input gives a clear message naming the culprit and the documented
# exit code (1 usage/configuration, 2 runtime); no password is ever printed.
use strict;
use warnings;

use Test::More;
use CdcKafka;

my $bin = CdcKafka::program('sidecar/cdc_kafka_sidecar');

sub run_sidecar
{
	my (@args) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ $bin, @args ], '<', \undef, '>', \$out, '2>', \$err,
		IPC::Run::timeout(60));
	return ($? >> 8, $out . $err);
}

my $node = CdcKafka::start_pg('bad');
my $conn = $node->connstr('postgres');
my $kb = CdcKafka::start_kafka();
my @kafka = ('-X', 'kafka.bootstrap.servers=' . $kb->bootstrap);
my ($rc, $out);

# Configuration errors: exit 1.
($rc, $out) = run_sidecar(@kafka);
is($rc, 1, 'no -d: exit 1');
like($out, qr/no database given: use -d/, 'no -d: says so');

($rc, $out) = run_sidecar('-d', $conn, '-X', 'kafka.acks=bogus');
is($rc, 1, 'bad Kafka value: exit 1');
like($out, qr/invalid Kafka property "acks"/, 'bad Kafka value: names the property');

($rc, $out) = run_sidecar('-d', $conn, @kafka, '-X', 'no.such.key=1');
is($rc, 1, 'unknown key: exit 1');
like($out, qr/unknown configuration key "no\.such\.key"/, 'unknown key: names it');

($rc, $out) = run_sidecar('-d', $conn, @kafka, '-X', 'status.interval.s=often');
is($rc, 1, 'bad integer: exit 1');
like($out, qr/invalid value "often" for "status\.interval\.s"/, 'bad integer: names key and value');

($rc, $out) = run_sidecar('-d', $conn, @kafka, '-X', 'snapshot.mode=sometimes');
is($rc, 1, 'bad enum: exit 1');
like($out, qr/expected one of initial\|never\|initial_only/, 'bad enum: lists the choices');

($rc, $out) = run_sidecar('-d', $conn, @kafka, '-X', 'kafka.enable.idempotence=false');
is($rc, 1, 'idempotence off: exit 1');
like($out, qr/kafka\.enable\.idempotence must be true/, 'idempotence off: explains');

# librdkafka answers "queue full" for ever to a message larger than its
# whole queue: an event that large would stall the stream for good.
($rc, $out) = run_sidecar('-d', $conn, @kafka, '-X', 'kafka.queue.buffering.max.kbytes=64');
is($rc, 1, 'queue smaller than one message: exit 1');
like($out, qr/kafka\.queue\.buffering\.max\.kbytes=64 cannot hold one message of kafka\.message\.max\.bytes=1000000/,
	'queue smaller than one message: names both keys');

($rc, $out) = run_sidecar('-d', $conn);
is($rc, 1, 'no Kafka: exit 1');
like($out, qr/kafka\.bootstrap\.servers is not set/, 'no Kafka: says which key');

($rc, $out) = run_sidecar('-d', $conn, @kafka, '-E', 'soon');
is($rc, 1, 'bad end position: exit 1');
like($out, qr/invalid end\.lsn "soon": expected X\/X/, 'bad end position: names key and value');

($rc, $out) = run_sidecar('-d', $conn, @kafka, '-E', '0/0');
is($rc, 1, 'end position 0/0: exit 1');
like($out, qr/invalid end\.lsn "0\/0"/, 'end position 0/0: refused');

($rc, $out) = run_sidecar('-d', $conn, @kafka, '-S', 'Bad-Slot');
is($rc, 1, 'bad slot name: exit 1');
like($out, qr/invalid slot name "Bad-Slot"/, 'bad slot name: names it');

my $cfile = "$ENV{TESTDIR}/bad.conf";
open(my $fh, '>', $cfile) or die $!;
print $fh "# a comment\nslot.name = fine\nthis line is wrong\n";
close $fh;
($rc, $out) = run_sidecar('-d', $conn, @kafka, '-c', $cfile);
is($rc, 1, 'bad config file line: exit 1');
like($out, qr/\Q$cfile\E:3: expected key=value/, 'bad config file: file and line');

# -X dump: precedence defaults < file < flags, secrets masked.
my $good = "$ENV{TESTDIR}/good.conf";
open($fh, '>', $good) or die $!;
print $fh "slot.name = from_file\nheartbeat.interval.ms = 5000\nkafka.sasl.password = filesecret\n";
close $fh;
($rc, $out) = run_sidecar('-d', "$conn password=hunter2", @kafka, '-X', 'slot.name=from_flag',
	'-c', $good, '-X', 'acks=all', '-X', 'dump');
is($rc, 0, '-X dump: exit 0');
like($out, qr/^slot\.name=from_flag  # flag$/m, 'a flag beats the file, whatever the order');
like($out, qr/^heartbeat\.interval\.ms=5000  # file$/m, 'the file beats the default');
like($out, qr/^tombstones\.on\.delete=true  # default$/m, 'defaults are shown');
like($out, qr/^kafka\.acks=all  # flag$/m, 'a bare librdkafka key goes to kafka.*');
like($out, qr/password=\*{8}/, 'the connection string password is masked');
like($out, qr/^kafka\.sasl\.password=\*{8}/m, 'sasl.* is masked');
unlike($out, qr/hunter2|filesecret/, 'no secret in the dump');
# what is not a secret stays readable: the mechanism and the user name
($rc, $out) = run_sidecar('-d', $conn, @kafka, '-X', 'kafka.sasl.mechanism=SCRAM-SHA-512',
	'-X', 'kafka.sasl.username=cdc_user', '-X', 'kafka.sasl.oauthbearer.config=principal=p secret=s3cr',
	'-X', 'kafka.ssl.keystore.password=s3cr3', '-X', 'dump');
is($rc, 0, '-X dump with SASL settings: exit 0') or diag($out);
like($out, qr/^kafka\.sasl\.mechanism=SCRAM-SHA-512  # flag$/m, 'sasl.mechanism is shown: not a secret');
like($out, qr/^kafka\.sasl\.username=cdc_user  # flag$/m, 'sasl.username is shown: not a secret');
unlike($out, qr/s3cr/, 'sasl.oauthbearer.config and ssl.keystore.password are masked');
# sslpassword, in either form, and a private key given inline
($rc, $out) = run_sidecar('-d', "$conn sslpassword=keyphrase1 password=hunter2", @kafka,
	'-X', 'kafka.ssl.key.pem=PRIVATEKEYDATA', '-X', 'dump');
like($out, qr/sslpassword=\*{8}/, 'sslpassword is masked');
like($out, qr/^kafka\.ssl\.key\.pem=\*{8}/m, 'ssl.key.pem is masked');
($rc, $out) = run_sidecar('-d', 'postgresql://u@localhost/db?sslpassword=keyphrase2&password=pw&sslmode=disable',
	@kafka, '-X', 'dump');
like($out, qr/\?sslpassword=\*{8}&password=\*{8}&sslmode=disable/, 'URI: sslpassword and password masked, the rest kept');
unlike($out, qr/keyphrase|PRIVATEKEYDATA|hunter2/, 'no secret in those dumps');

($rc, $out) = run_sidecar('--help');
is($rc, 0, '--help: exit 0');
like($out, qr/snapshot\.mode\s+initial snapshot.*\n\s+default: initial/, '--help prints the defaults table');

# Runtime errors: exit 2.
($rc, $out) = run_sidecar('-d', 'host=/nonexistent port=1 dbname=postgres password=hunter2', @kafka);
is($rc, 2, 'unreachable Postgres: exit 2');
like($out, qr/could not connect to PostgreSQL: .*nonexistent/, 'unreachable Postgres: names the endpoint');
unlike($out, qr/hunter2/, 'unreachable Postgres: no password');

# libpq's parse errors quote the unparsable part, which can be a password
($rc, $out) = run_sidecar('-d', 'postgresql://cdc:50%off@localhost/postgres', @kafka);
is($rc, 2, 'connection URI libpq cannot parse: exit 2');
like($out, qr/connection string cannot be parsed/, 'connection URI libpq cannot parse: says so');
unlike($out, qr/50%off/, 'connection URI libpq cannot parse: no password');
($rc, $out) = run_sidecar('-d', 'dbname=postgres password=hunter2 secret2', @kafka);
is($rc, 2, 'unquoted password with a space: exit 2');
like($out, qr/connection string cannot be parsed/, 'unquoted password with a space: says so');
unlike($out, qr/hunter2|secret2/, 'unquoted password with a space: no password');

($rc, $out) = run_sidecar('-d', 'dbname=postgres password=foo bar=baz', @kafka);
is($rc, 2, 'password with a space, and what looks like an option: exit 2');
like($out, qr/connection string cannot be parsed \(an unknown keyword/, 'an unknown keyword: says so');
unlike($out, qr/foo|bar/, 'an unknown keyword: no part of the password');

($rc, $out) = run_sidecar('-d', $conn, @kafka, '-S', 'missing');
is($rc, 2, 'missing slot: exit 2');
like($out, qr/replication slot "missing" does not exist \(create it with --create-slot\)/,
	'missing slot: says so and how to fix it');

$node->safe_psql('postgres', "SELECT pg_create_logical_replication_slot('other', 'test_decoding')");
($rc, $out) = run_sidecar('-d', $conn, @kafka, '-S', 'other');
is($rc, 2, 'slot of another plugin: exit 2');
like($out, qr/uses plugin "test_decoding", not cdc_kafka/, 'slot of another plugin: says so');

($rc, $out) = run_sidecar('-d', $conn, @kafka, '-S', 'badopt', '--create-slot',
	'-X', 'snapshot.mode=never', '-o', 'no-such-option=1');
is($rc, 2, 'unknown plugin option: exit 2');
like($out, qr/no-such-option/, 'unknown plugin option: the server names it');

# --drop-slot: drops and exits 0; a missing slot is a runtime error.
$node->safe_psql('postgres', "SELECT pg_create_logical_replication_slot('dropme', 'cdc_kafka')");
($rc, $out) = run_sidecar('-d', $conn, @kafka, '-S', 'dropme', '--drop-slot');
is($rc, 0, '--drop-slot: exit 0');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'dropme'"),
	0, '--drop-slot: the slot is gone');
($rc, $out) = run_sidecar('-d', $conn, @kafka, '-S', 'dropme', '--drop-slot');
is($rc, 2, '--drop-slot of a missing slot: exit 2');
like($out, qr/could not drop replication slot: .*dropme.*does not exist/, '--drop-slot of a missing slot: says so');

# Kafka unreachable: it waits (Kafka may come back), naming the broker, and
# confirms nothing meanwhile; SIGTERM still exits 0.
$node->safe_psql('postgres', "SELECT pg_create_logical_replication_slot('nokafka', 'cdc_kafka')");
$node->safe_psql('postgres', 'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)');
my $slot_lsn = $node->safe_psql('postgres',
	"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'nokafka'");
my $nk_log = "$ENV{TESTDIR}/nokafka.log";
my $nk = CdcKafka::start_sidecar(node => $node, bootstrap => '127.0.0.1:1', slot => 'nokafka',
	log => $nk_log);
ok(CdcKafka::wait_until(sub { CdcKafka::slurp($nk_log) =~ /127\.0\.0\.1:1.*(refused|down)/ }, 30),
	'unreachable Kafka: the log names the broker') or diag(CdcKafka::slurp($nk_log));
ok(CdcKafka::running($nk), 'unreachable Kafka: it waits for Kafka');
is($node->safe_psql('postgres',
	"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'nokafka'"),
	$slot_lsn, 'unreachable Kafka: nothing confirmed');
is(CdcKafka::stop_sidecar($nk), 0, 'unreachable Kafka: SIGTERM exits 0');

# The extension missing from the database: the snapshot cannot run; the
# new slot is dropped again so that a retry starts over.
$node->safe_psql('postgres', 'CREATE DATABASE noext');
$node->safe_psql('noext', 'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)');
($rc, $out) = run_sidecar('-d', $node->connstr('noext'), @kafka, '-S', 'noext', '--create-slot');
is($rc, 2, 'extension missing: exit 2');
like($out, qr/snapshot failed: .*snapshot_events/, 'extension missing: names the function');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'noext'"),
	0, 'extension missing: the half-made slot is dropped');

# A server without cdc_kafka in output_plugin_libraries.
my $locked = CdcKafka::start_pg('locked', plugins => 'pgoutput', extension => 0);
($rc, $out) = run_sidecar('-d', $locked->connstr('postgres'), @kafka, '-S', 'x', '--create-slot');
is($rc, 2, 'plugin not allowed: exit 2');
like($out, qr/cdc_kafka/, 'plugin not allowed: the error names the plugin');
note($out);

$locked->stop;
$kb->stop;
$node->stop;
done_testing();
