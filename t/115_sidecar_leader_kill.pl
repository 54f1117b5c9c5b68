# Three Apache Kafka brokers (a KRaft quorum of 3, replication factor 3,
# min.insync.replicas=2): while transactions stream, the leader of a
# partition is killed (kill -9).  Its followers take over; the sidecar
# carries on by itself, and every committed row is in Kafka exactly once,
# in commit order per key.  The killed broker then rejoins.
use strict;
use warnings;

use Test::More;
use CdcKafka;

my $topic = 'lk.public.numbers';
my $node = CdcKafka::start_pg('leader');
$node->safe_psql('postgres', 'CREATE TABLE numbers (id int PRIMARY KEY, n int NOT NULL)');
my $kb = CdcKafka::start_kafka(brokers => 3, topics => ["$topic:3"],
	config => 'min.insync.replicas=2 broker.heartbeat.interval.ms=500 broker.session.timeout.ms=4000');
my $log = "$ENV{TESTDIR}/sidecar.log";
my $sc = CdcKafka::start_sidecar(node => $node, bootstrap => $kb->bootstrap,
	slot => 'lk', create => 1, log => $log,
	args => [ '-o', 'topic-prefix=lk', '-o', 'schemas=false' ]);

# Rows 1..3000, one transaction each, then each updated once (n = 2).
my $psql = IPC::Run::start([ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-c',
		'DO $$ BEGIN FOR i IN 1 .. 3000 LOOP INSERT INTO numbers VALUES (i, 1); COMMIT; END LOOP; '
		  . 'FOR i IN 1 .. 3000 LOOP UPDATE numbers SET n = 2 WHERE id = i; COMMIT; END LOOP; END $$' ],
	'<', \undef, '>', \my $out, '2>', \my $err);
ok(CdcKafka::wait_until(sub {
	scalar(CdcKafka::kcat_consume($kb->bootstrap, $topic, partition => 0)) >= 100 }, 120),
	'streaming into partition 0') or diag(CdcKafka::slurp($log));
my $leader = $kb->leader($topic, 0);
$kb->kill9($leader);
ok(CdcKafka::wait_until(sub {
	my $l = eval { $kb->leader($topic, 0) } // -1;
	$l >= 0 && $l != $leader }, 120), "partition 0's leader moved off the killed broker $leader");
$psql->finish;
is($err, '', 'every transaction committed');
ok(CdcKafka::wait_slot_caught_up($node, 'lk', 180), 'caught up with one broker killed')
  or diag(CdcKafka::slurp($log));
ok(CdcKafka::running($sc), 'the sidecar carried on by itself');

$kb->restart;
$node->safe_psql('postgres', 'INSERT INTO numbers VALUES (3001, 1)');
ok(CdcKafka::wait_slot_caught_up($node, 'lk', 120), 'the killed broker rejoined: still streaming')
  or diag(CdcKafka::slurp($log));
is(CdcKafka::stop_sidecar($sc), 0, 'SIGTERM: exit 0');

my @msgs = CdcKafka::kcat_consume($kb->bootstrap, $topic, timeout => 120);
my (%seen, %ns, $bad_partition);
for my $m (@msgs)	# per partition, offset order
{
	my $id = CdcKafka::json_or_undef($m->{key})->{id};
	my $v = CdcKafka::json_or_undef($m->{value});
	$seen{$id}++;
	push @{ $ns{$id} }, $v->{after}{n};
	$bad_partition++ if $m->{partition} != CdcKafka::murmur2_partition($m->{key}, 3);
}
is(scalar @msgs, 6001, '6001 events: 3001 inserts and 3000 updates');
is(scalar(grep { ($seen{$_} // 0) != ($_ == 3001 ? 1 : 2) } 1 .. 3001), 0,
	'every change exactly once');
is(scalar(grep { $_ <= 3000 && join(',', @{ $ns{$_} }) ne '1,2' } keys %ns), 0,
	'every key: its insert, then its update');
ok(!$bad_partition, 'every key on its partition');

$kb->stop;
$node->stop;
done_testing();
