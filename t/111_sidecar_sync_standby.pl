# The sidecar as a synchronous standby (synchronous_standby_names = '*';
# in production it names cdc_kafka_sidecar): a transaction that reindexes a
# table and then writes to it commits.  The committing backend holds its
# index lock while it waits for the sidecar's confirmation, so the plugin
# must read the table's key columns without taking index locks, as pgoutput
# does; otherwise the walsender waits for the lock and the commit for ever.
use strict;
use warnings;

use Test::More;
use CdcKafka;

my $node = CdcKafka::start_pg('syncstandby');
$node->safe_psql('postgres', 'CREATE TABLE t (id int PRIMARY KEY, v text)');
my $kb = CdcKafka::start_kafka();
my $log = "$ENV{TESTDIR}/sidecar.log";
my $sc = CdcKafka::start_sidecar(node => $node, bootstrap => $kb->bootstrap,
	slot => 'sync', create => 1, log => $log, args => [ '-o', 'topic-prefix=sy' ]);
ok(CdcKafka::wait_until(sub { CdcKafka::slurp($log) =~ /streaming slot "sync"/ }, 60),
	'the sidecar streams') or diag(CdcKafka::slurp($log));
$node->safe_psql('postgres', "INSERT INTO t VALUES (0, 'before')");

$node->append_conf('postgresql.conf', "synchronous_standby_names = '*'");
$node->reload;
ok(CdcKafka::wait_until(sub {
	$node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'") eq '1' }, 60),
	'the sidecar is the synchronous standby');

my ($out, $err) = ('', '');
my $done = eval {
	IPC::Run::run([ 'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'),
			'-c', "BEGIN; REINDEX TABLE t; INSERT INTO t VALUES (1, 'a'); COMMIT;" ],
		'<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(60));
	1;
};
my $rc = $?;
ok($done && $rc == 0, 'a transaction that reindexes the table and writes to it commits')
  or diag("psql ($rc): $out $err\n" . CdcKafka::slurp($log));

# let the node stop even if the commit above is stuck
$node->append_conf('postgresql.conf', "synchronous_standby_names = ''");
$node->reload;
my @ids = sort map { CdcKafka::json_or_undef($_->{key})->{payload}{id} }
  grep { defined $_->{value} } CdcKafka::kcat_consume($kb->bootstrap, 'sy.public.t');
is_deeply(\@ids, [ 0, 1 ], 'both rows are in Kafka');
is(CdcKafka::stop_sidecar($sc), 0, 'SIGTERM: exit 0');

$kb->stop;
$node->stop;
done_testing();
