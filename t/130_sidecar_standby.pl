# Logical decoding on a physical standby (PostgreSQL 16 and later): the
# sidecar creates its slot on a standby of the primary (hot_standby_feedback,
# the standby's own physical slot), streams what the primary writes, keeps
# streaming across a restart of the standby, and every change reaches Kafka
# exactly once.  On 15, where a standby cannot decode, the sidecar stops
# with the server's reason.
use strict;
use warnings;

use Test::More;
use CdcKafka;

my $topic = 'sb.public.t';
my $primary = CdcKafka::start_pg('primary');
$primary->safe_psql('postgres', 'CREATE TABLE t (id int PRIMARY KEY, v text)');
$primary->safe_psql('postgres', "INSERT INTO t SELECT g, 'old' FROM generate_series(1, 3) g");
my $standby = CdcKafka::start_standby($primary, 'standby1');
$primary->wait_for_catchup($standby);
my $major = CdcKafka::server_major($primary);
my $kb = CdcKafka::start_kafka(topics => ["$topic:1"]);
my $log = "$ENV{TESTDIR}/sidecar.log";

sub start
{
	return CdcKafka::start_sidecar(node => $standby, bootstrap => $kb->bootstrap,
		slot => 'onstandby', create => 1, log => $log,
		args => [ '-o', 'topic-prefix=sb', '-X', 'reconnect.backoff.max.ms=1000' ]);
}

if ($major < 16)
{
	my $sc = start();
	ok(CdcKafka::wait_until(sub { !CdcKafka::running($sc) }, 60), 'the sidecar stops');
	$sc->finish;
	is($sc->full_result(0) >> 8, 2, 'exit 2: a runtime error, not a retry');
	like(CdcKafka::slurp($log), qr/logical decoding cannot be used while in recovery/,
		"it says why: the server's own reason");
	$kb->stop;
	$standby->stop;
	$primary->stop;
	done_testing();
	exit 0;
}

# Every change's id in Kafka, in the order of the topic (one partition).
sub ids
{
	return [ map { CdcKafka::json_or_undef($_->{key})->{payload}{id} }
		  grep { defined $_->{value} } CdcKafka::kcat_consume($kb->bootstrap, $topic) ];
}

# Creating a logical slot on a standby waits for the primary's next
# running-transactions record; ask for one until the slot is there.
my $sc = start();
ok(CdcKafka::wait_until(sub {
		$primary->safe_psql('postgres', 'SELECT pg_log_standby_snapshot()');
		CdcKafka::slurp($log) =~ /streaming slot "onstandby"/;
	}, 120), 'the sidecar creates its slot on the standby and streams')
  or diag(CdcKafka::slurp($log));
like(CdcKafka::slurp($log), qr/"onstandby" is not a failover slot: a slot made on a standby cannot be a failover slot/,
	'slot.failover (on by default) is left out on a standby, saying why') if $major >= 17;
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the slot is on the standby');
is($primary->safe_psql('postgres',
		"SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'onstandby'"),
	'0', 'and not on the primary');
ok(CdcKafka::wait_until(sub { @{ ids() } == 3 }, 60), 'the initial snapshot, read on the standby')
  or diag(CdcKafka::slurp($log));
my ($read) = grep { defined $_->{value} } CdcKafka::kcat_consume($kb->bootstrap, $topic);
my $source = CdcKafka::json_or_undef($read->{value})->{payload}{source};
is_deeply([ $source->{snapshot}, $source->{txId} ], [ 'first', undef ],
	'its reads carry no transaction id: a standby can assign none');

$primary->safe_psql('postgres', "INSERT INTO t SELECT g, 'a' FROM generate_series(4, 6) g");
$primary->safe_psql('postgres', "UPDATE t SET v = 'b' WHERE id = 5");
ok(CdcKafka::wait_until(sub { @{ ids() } == 7 }, 60), 'changes on the primary stream from the standby')
  or diag(CdcKafka::slurp($log));

# The standby goes away while the primary keeps writing, then comes back.
$standby->stop('fast');
$primary->safe_psql('postgres', "INSERT INTO t SELECT g, 'c' FROM generate_series(7, 9) g");
$standby->start;
$primary->safe_psql('postgres', "INSERT INTO t SELECT g, 'd' FROM generate_series(10, 12) g");
$primary->safe_psql('postgres', "DELETE FROM t WHERE id = 1");
$primary->wait_for_catchup($standby);
ok(CdcKafka::wait_slot_caught_up($standby, 'onstandby', 120),
	'after the restart the sidecar confirms everything on the standby')
  or diag(CdcKafka::slurp($log));
is(CdcKafka::running($sc), 1, 'the same sidecar process, reconnected');
is_deeply(ids(), [ 1 .. 6, 5, 7 .. 12, 1 ], 'every change exactly once, in commit order')
  or diag(explain(ids()));

# A kill -9 and a new sidecar on the same standby slot add nothing twice.
CdcKafka::kill9($sc);
$primary->safe_psql('postgres', "INSERT INTO t VALUES (13, 'e')");
$sc = start();
$primary->wait_for_catchup($standby);
ok(CdcKafka::wait_slot_caught_up($standby, 'onstandby', 120), 'a new sidecar catches up')
  or diag(CdcKafka::slurp($log));
is_deeply(ids(), [ 1 .. 6, 5, 7 .. 12, 1, 13 ], 'still exactly once')
  or diag(explain(ids()));
is(CdcKafka::stop_sidecar($sc), 0, 'SIGTERM: exit 0');

$kb->stop;
$standby->stop;
$primary->stop;
done_testing();
