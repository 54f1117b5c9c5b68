# Failover slots (PostgreSQL 17 and later): --create-slot makes the slot a
# failover slot (slot.failover, on by default), a standby with
# sync_replication_slots keeps a copy of it, and when the primary goes away
# and the standby is promoted, the same sidecar (its connection string names
# both servers, target_session_attrs=read-write) continues on the new
# primary from the synchronised slot: nothing lost, nothing twice.  The
# primary holds logical changes back until the standby has them
# (synchronized_standby_slots), so the slot on the standby never misses
# what Kafka already holds.  Before 17 the slot is an ordinary one and the
# sidecar says so.
use strict;
use warnings;

use Test::More;
use CdcKafka;

my $topic = 'fo.public.t';
my $kb = CdcKafka::start_kafka(topics => ["$topic:1"]);
my $log = "$ENV{TESTDIR}/sidecar.log";
my $primary = CdcKafka::start_pg('primary');
$primary->safe_psql('postgres', 'CREATE TABLE t (id int PRIMARY KEY, v text)');
$primary->safe_psql('postgres', "INSERT INTO t SELECT g, 'old' FROM generate_series(1, 3) g");
my $major = CdcKafka::server_major($primary);

if ($major < 17)
{
	my $sc = CdcKafka::start_sidecar(node => $primary, bootstrap => $kb->bootstrap,
		slot => 'fo', create => 1, log => $log, args => [ '-o', 'topic-prefix=fo' ]);
	ok(CdcKafka::wait_until(sub { CdcKafka::slurp($log) =~ /streaming slot "fo"/ }, 60),
		'the sidecar streams') or diag(CdcKafka::slurp($log));
	like(CdcKafka::slurp($log), qr/"fo" is not a failover slot: failover slots need PostgreSQL 17/,
		'slot.failover (on by default) is left out, saying why');
	is(CdcKafka::stop_sidecar($sc), 0, 'SIGTERM: exit 0');
	$kb->stop;
	$primary->stop;
	done_testing();
	exit 0;
}

# (the standby, once primary, has no standby of its own to wait for)
my $standby = CdcKafka::start_standby($primary, 'standby1',
	conf => "sync_replication_slots = on\nsynchronized_standby_slots = ''");
$primary->append_conf('postgresql.conf', "synchronized_standby_slots = 'standby1'");
$primary->reload;

# Every change's id in Kafka, in the order of the topic (one partition).
sub ids
{
	return [ map { CdcKafka::json_or_undef($_->{key})->{payload}{id} }
		  grep { defined $_->{value} } CdcKafka::kcat_consume($kb->bootstrap, $topic) ];
}

my $conninfo = 'host=127.0.0.1,127.0.0.1 port=' . $primary->port . ',' . $standby->port
  . ' dbname=postgres target_session_attrs=read-write';
my $sc = CdcKafka::start_sidecar(node => $primary, bootstrap => $kb->bootstrap,
	slot => 'fo', create => 1, log => $log,
	args => [ '-d', $conninfo, '-o', 'topic-prefix=fo', '-X', 'reconnect.backoff.max.ms=1000' ]);
ok(CdcKafka::wait_until(sub { CdcKafka::slurp($log) =~ /streaming slot "fo"/ }, 60),
	'the sidecar streams from the primary') or diag(CdcKafka::slurp($log));
like(CdcKafka::slurp($log), qr/created replication slot "fo" \(failover\)/, 'it made a failover slot');
is($primary->safe_psql('postgres', "SELECT failover FROM pg_replication_slots WHERE slot_name = 'fo'"),
	't', 'the server says so');

$primary->safe_psql('postgres', "INSERT INTO t SELECT g, 'a' FROM generate_series(4, 6) g");
ok(CdcKafka::wait_slot_caught_up($primary, 'fo', 60), 'the snapshot and the changes are in Kafka')
  or diag(CdcKafka::slurp($log));

# The standby's slot sync worker copies the slot (synced, not temporary)
# once the standby has replayed past it.
my $confirmed = $primary->safe_psql('postgres',
	"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'fo'");
ok(CdcKafka::wait_until(sub {
		$standby->safe_psql('postgres',
			"SELECT coalesce(bool_and(synced AND NOT temporary AND failover AND confirmed_flush_lsn >= '$confirmed'), false) FROM pg_replication_slots WHERE slot_name = 'fo'") eq 't';
	}, 120), 'the standby holds a synchronised copy of the slot');

# The sync worker runs now and then, so a failover can find the copy
# behind what the sidecar confirmed; with the worker off, it certainly is:
# the sidecar reads those changes again and must not produce them twice.
$standby->append_conf('postgresql.conf', 'sync_replication_slots = off');
$standby->reload;
ok(CdcKafka::wait_until(sub {
		$standby->safe_psql('postgres',
			"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'slotsync worker'") eq '0';
	}, 60), "the standby's sync worker stops");
$primary->safe_psql('postgres', "INSERT INTO t SELECT g, 'b' FROM generate_series(7, 9) g");
$primary->safe_psql('postgres', "UPDATE t SET v = 'c' WHERE id = 2");
ok(CdcKafka::wait_slot_caught_up($primary, 'fo', 60), 'they are in Kafka too')
  or diag(CdcKafka::slurp($log));
my $before = ids();
my $primary_lsn = $primary->safe_psql('postgres',
	"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'fo'");
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres',
		"SELECT confirmed_flush_lsn < '$primary_lsn' FROM pg_replication_slots WHERE slot_name = 'fo'"),
	't', "the standby's copy of the slot is behind the sidecar");

$primary->stop('fast');
$standby->promote;
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 'f', 'the standby is the primary now');
$standby->safe_psql('postgres', "INSERT INTO t SELECT g, 'd' FROM generate_series(10, 12) g");
$standby->safe_psql('postgres', "DELETE FROM t WHERE id = 3");
ok(CdcKafka::wait_slot_caught_up($standby, 'fo', 120),
	'the sidecar continues on the new primary and confirms everything')
  or diag(CdcKafka::slurp($log));
is(CdcKafka::running($sc), 1, 'the same sidecar process');
like(CdcKafka::slurp($log), qr/skipping events Kafka already holds/,
	'it read changes again and skipped those Kafka holds');
is_deeply($before, [ 1 .. 9, 2 ], 'before the failover: the snapshot and every change once')
  or diag(explain($before));
is_deeply(ids(), [ 1 .. 9, 2, 10 .. 12, 3 ], 'after it: nothing lost, nothing twice, in commit order')
  or diag(explain(ids()));
is(CdcKafka::stop_sidecar($sc), 0, 'SIGTERM: exit 0');

$kb->stop;
$standby->stop;
done_testing();
