# Exactly once across a restart with other plugin options: a transaction
# cut by -E half way is finished by a run with include-transaction turned
# off and back on, and with a table filter added; every row is in Kafka
# once, because an event's position does not depend on the options.
use strict;
use warnings;
use Test::More;
use CdcKafka;

my $topic = 'oc.public.t';
my $node = CdcKafka::start_pg('option_change');
$node->safe_psql('postgres', 'CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE other (id int PRIMARY KEY)');
$node->safe_psql('postgres', "SELECT pg_create_logical_replication_slot('oc', 'cdc_kafka')");
my $kb = CdcKafka::start_kafka(topics => [ "$topic:1" ]);
my $log = "$ENV{TESTDIR}/sidecar.log";

sub run_to
{
	my ($endpos, @options) = @_;
	IPC::Run::run([ CdcKafka::program('sidecar/cdc_kafka_sidecar'), '-d', $node->connstr('postgres'),
			'-S', 'oc', '-o', 'topic-prefix=oc', '-o', 'schemas=false',
			'-X', 'kafka.bootstrap.servers=' . $kb->bootstrap, '-E', $endpos, map { ('-o', $_) } @options ],
		'<', \undef, '>>', $log, '2>>', $log, IPC::Run::timeout(120));
	return $? >> 8;
}

# one transaction of 30 rows, other's rows between them; LSNs a third and
# two thirds of the way through
my ($third, $two_thirds) = split /\n/, $node->safe_psql('postgres', q{
	BEGIN;
	INSERT INTO t SELECT generate_series(1, 10);
	INSERT INTO other VALUES (1);
	SELECT pg_current_wal_insert_lsn() - 1;
	INSERT INTO t SELECT generate_series(11, 20);
	INSERT INTO other VALUES (2);
	SELECT pg_current_wal_insert_lsn() - 1;
	INSERT INTO t SELECT generate_series(21, 30);
	COMMIT;
});
my $end = $node->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');

is(run_to($third, 'include-transaction=true'), 0, 'run 1 (transaction metadata on) stops a third of the way');
is(run_to($two_thirds, 'include-transaction=false', 'exclude-tables=public\.other'), 0,
	'run 2 (metadata off, other excluded) stops two thirds of the way');
is(run_to($end, 'include-transaction=true'), 0, 'run 3 (metadata on again) runs to the end');

my @ids = map { CdcKafka::json_or_undef($_->{key})->{id} } CdcKafka::kcat_consume($kb->bootstrap, $topic);
is_deeply([ sort { $a <=> $b } @ids ], [ 1 .. 30 ], 'every row once, in one partition')
  or diag(join ' ', @ids);
is_deeply(\@ids, [ 1 .. 30 ], 'in commit order');

$kb->stop;
$node->stop;
done_testing();
