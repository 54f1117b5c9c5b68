# -E/--endpos, as pg_recvlogical's: the sidecar stops at an LSN, exits 0
# once Kafka holds everything up to it, and a later run (even from inside a
# transaction) carries on without a gap or a repeat.
use strict;
use warnings;

use Test::More;
use CdcKafka;

my $topic = 'ep.public.t';
my $node = CdcKafka::start_pg('endpos');
$node->safe_psql('postgres', 'CREATE TABLE t (id int PRIMARY KEY, v text)');
$node->safe_psql('postgres', "SELECT pg_create_logical_replication_slot('ep', 'cdc_kafka')");
my $kb = CdcKafka::start_kafka(topics => ["$topic:2"]);
my $log = "$ENV{TESTDIR}/sidecar.log";
my $bin = CdcKafka::program('sidecar/cdc_kafka_sidecar');

# Runs the sidecar to an end position; returns its exit code, or -1 if it
# was still running after a minute.
sub run_to
{
	my ($endpos, $conninfo) = @_;
	my $ok = eval {
		IPC::Run::run([ $bin, '-d', $conninfo // $node->connstr('postgres'), '-S', 'ep',
			'-o', 'topic-prefix=ep', '-X', 'kafka.bootstrap.servers=' . $kb->bootstrap,
			'-E', $endpos ], '<', \undef, '>>', $log, '2>>', $log, IPC::Run::timeout(60));
		1;
	};
	return $ok ? $? >> 8 : -1;
}

sub ids
{
	return [ sort { $a <=> $b } map { CdcKafka::json_or_undef($_->{key})->{payload}{id} }
		  CdcKafka::kcat_consume($kb->bootstrap, $topic) ];
}

sub confirmed
{
	return $node->safe_psql('postgres',
		"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'ep'");
}

my $before = $node->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');
$node->safe_psql('postgres', "INSERT INTO t VALUES (1, 'a'), (2, 'b')");
my $after_first = $node->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');
# WAL that publishes nothing, so that row 3's record does not start exactly
# at the end of the first commit (a record at -E is sent, as by pg_recvlogical)
$node->safe_psql('postgres', 'CREATE TABLE gap (i int)');
$node->safe_psql('postgres', "INSERT INTO t VALUES (3, 'c')");
# an end position inside a transaction: after row 4's record starts, before
# row 5's (which starts at the insert position; a record at exactly -E would
# be sent, as pg_recvlogical does)
my $inside = $node->safe_psql('postgres', q{
	BEGIN;
	INSERT INTO t VALUES (4, 'd');
	SELECT pg_current_wal_insert_lsn() - 1;
	INSERT INTO t VALUES (5, 'e');
	COMMIT;
});
my $end = $node->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');

is(run_to($after_first), 0, '-E after the first transaction: exit 0');
like(CdcKafka::slurp($log), qr/end position \Q$after_first\E reached/, 'logs that it reached the end position');
is_deeply(ids(), [ 1, 2 ], 'Kafka holds the first transaction, nothing after it');
ok($node->safe_psql('postgres', "SELECT '" . confirmed() . "'::pg_lsn > '$before'::pg_lsn"),
	'the slot is confirmed up to the first transaction');

is(run_to($inside), 0, '-E inside a transaction: exit 0');
# Row 4 was decoded before the end position, but its transaction commits
# after it: it may or may not be in Kafka yet (a keepalive can end the run
# first); row 5 must not be.
my @got = @{ ids() };
is_deeply([ grep { $_ <= 3 } @got ], [ 1, 2, 3 ], 'Kafka holds every transaction committed before the end position');
ok(!grep({ $_ == 5 } @got), 'and nothing decoded after it');
ok($node->safe_psql('postgres', "SELECT '" . confirmed() . "'::pg_lsn < '$inside'::pg_lsn"),
	'the unfinished transaction is not confirmed');

is(run_to($end), 0, 'a run to the end: exit 0');
is_deeply(ids(), [ 1 .. 5 ], 'row 4 is not produced twice; row 5 arrives');
ok($node->safe_psql('postgres', "SELECT '" . confirmed() . "'::pg_lsn >= '$end'::pg_lsn"),
	'the slot is confirmed to the end');

is(run_to($after_first), 0, '-E behind the slot: exit 0 at once');
like(CdcKafka::slurp($log), qr/already at .*past the end position/, 'says the slot is past it');
is_deeply(ids(), [ 1 .. 5 ], 'and produces nothing');

# The walsender skips the keepalive it sends on catching up when the
# client's confirmation of everything sent reached it first, and then says
# nothing until new WAL arrives: the sidecar must stop on its own
# confirmation.  A proxy that drops every keepalive makes that case certain.
my $proxy_out = '';
my $proxy = IPC::Run::start([ $^X, "$CdcKafka::ROOT/t/keepalive_filter.pl",
	CdcKafka::server_address($node) ], '<', \undef, '>', \$proxy_out, '2>>', $log);
CdcKafka::wait_until(sub { $proxy->pump_nb; $proxy_out =~ /^\d+\n/ }, 30)
  or BAIL_OUT('keepalive filter did not start');
my ($proxy_port) = $proxy_out =~ /^(\d+)/;
$node->safe_psql('postgres', "INSERT INTO t VALUES (6, 'f')");
my $end6 = $node->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');
is(run_to($end6, $node->connstr('postgres')
	  . " host=127.0.0.1 port=$proxy_port sslmode=disable gssencmode=disable"),
	0, '-E without keepalives from the server: exit 0 once Kafka holds the last transaction');
is_deeply(ids(), [ 1 .. 6 ], 'row 6 arrives');
ok($node->safe_psql('postgres', "SELECT '" . confirmed() . "'::pg_lsn >= '$end6'::pg_lsn"),
	'the slot is confirmed to the end');
$proxy->pump_nb;
note("keepalives dropped: " . (($proxy_out =~ /dropped (\d+)\n(?!.*dropped)/s)[0] // 0));
$proxy->kill_kill;

$kb->stop;
$node->stop;
done_testing();
