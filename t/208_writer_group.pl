# Two Delta writers in one consumer group share the partitions of a topic
# and append to the same table: their commits race for versions, and the
# loser re-reads the log and retries (appends to other partitions do not
# conflict).  One of them is killed with SIGKILL mid-stream; its partitions
# move to the other at the offsets in the Delta log.  Every event ends up
# in the table exactly once.
use strict;
use warnings;

use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;
use Time::HiRes qw(usleep time);

use CdcKafka;
use CdcSpark;
use CdcWriter;

# Spark starts slowly: it does so while the test runs
my $spark = CdcSpark->start('spark35');
my $work = $ENV{TESTDIR} // tempdir(CLEANUP => 1);
mkdir $work;
my $root = "$work/delta";
my $topic = 'grp.public.events';
my $dir = "$root/public/events";
my @fields = ([ seq => 'int64', optional => JSON::PP::false ], [ note => 'string' ]);

my $kb = CdcKafka::start_kafka(topics => ["$topic:4"]);
my $seq = 0;
sub produce_some
{
	my ($n) = @_;
	CdcWriter::produce($kb->bootstrap, $topic, map {
		$seq++;
		CdcWriter::event(topic => $topic, fields => \@fields, op => 'c', key => { seq => $seq },
			key_fields => [ [ seq => 'int64' ] ], after => { seq => $seq, note => "n$seq" })
	} 1 .. $n);
	return;
}

my @args = ('-t', $topic, '-X', 'flush.rows=25', '-X', 'flush.interval.ms=100', '-X', 'kafka.group.id=shared',
	'-X', 'log.level=debug');
my $a = CdcWriter::start_writer($kb->bootstrap, $root, "$work/a.log", @args);
my $b = CdcWriter::start_writer($kb->bootstrap, $root, "$work/b.log", @args);
my $deadline = time + 60;
# both members hold partitions once the group has settled
while (time < $deadline && !(CdcKafka::slurp("$work/a.log") =~ /assigned/ && CdcKafka::slurp("$work/b.log") =~ /assigned/))
{
	produce_some(20);
	usleep(200_000);
}
like(CdcKafka::slurp("$work/a.log"), qr/assigned/, 'writer A holds partitions');
like(CdcKafka::slurp("$work/b.log"), qr/assigned/, 'writer B holds partitions');
for (1 .. 20) { produce_some(20); usleep(100_000); }

CdcKafka::kill9($b);
for (1 .. 20) { produce_some(20); usleep(100_000); }
$b = CdcWriter::start_writer($kb->bootstrap, $root, "$work/b.log", @args);
for (1 .. 20) { produce_some(20); usleep(100_000); }

ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($dir) >= $seq }, 120),
	"all $seq events committed") or diag(CdcKafka::slurp("$work/a.log"));
sleep 1;
is(CdcWriter::stop_writer($a), 0, 'writer A exits 0');
is(CdcWriter::stop_writer($b), 0, 'writer B exits 0');

my $r = CdcWriter::delta_read($dir,
	q{SELECT count(*)::BIGINT AS n, count(DISTINCT (__kafka_partition, __kafka_offset))::BIGINT AS po,
	         count(DISTINCT seq)::BIGINT AS s FROM t});
is_deeply($r->{errors}, [], 'the shared log replays cleanly');
is_deeply($r->{results}[0], [ { n => "$seq", po => "$seq", s => "$seq" } ], 'every event exactly once');
my $logs = CdcKafka::slurp("$work/a.log") . CdcKafka::slurp("$work/b.log");
unlike($logs, qr/another writer committed|; stopping/, 'no writer stopped on a conflict');
my $races = () = $logs =~ /was another writer's; retrying/g;
note("$races commit races lost and retried");

# Spark, through Delta's own log reader, reads what DuckDB reads
$spark->agrees_with_duckdb($dir, 'two writers of one consumer group on one table');
$spark->stop;

$kb->stop;
done_testing();
