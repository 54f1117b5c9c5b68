# Delta writer reliability: while a producer streams numbered events into a
# 4-partition topic, the writer is killed with SIGKILL at random moments
# (during start-up, while filling a file, while committing) and restarted,
# at least 20 times (most with assignment=static, some through the
# consumer group).  Afterwards every produced event is in the table
# exactly once: rows = distinct (partition, offset) = distinct sequence
# numbers = events produced, and each partition's offsets are 0..end
# without a gap.  The log still replays cleanly.
use strict;
use warnings;

use File::Temp qw(tempdir);
use IPC::Run;
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
my $log = "$work/writer.log";
my $topic = 'kill.public.events';
my $dir = "$root/public/events";
my @fields = ([ seq => 'int64', optional => JSON::PP::false ], [ payload => 'string' ],
	[ made_at => 'io.debezium.time.MicroTimestamp' ]);
my $kills = $ENV{CDC_WRITER_KILLS} // 24;
my $group_kills = 4;	# of those, how many run through the consumer group

srand($ENV{CDC_SEED} // time);
my $kb = CdcKafka::start_kafka(topics => ["$topic:4"]);

# a long-running kcat producer fed line by line
my $pin = '';
my ($pout, $perr) = ('', '');
my $producer = IPC::Run::start([ 'kcat', '-P', '-b', $kb->bootstrap, '-t', $topic, '-K', "\x1e",
		'-X', 'partitioner=murmur2_random', '-X', 'linger.ms=5' ],
	'<', \$pin, '>', \$pout, '2>', \$perr);
my $seq = 0;
sub produce_some
{
	my ($n) = @_;
	for (1 .. $n)
	{
		$seq++;
		my $ev = CdcWriter::event(topic => $topic, fields => \@fields, op => 'c',
			key => { seq => $seq }, key_fields => [ [ seq => 'int64', optional => JSON::PP::false ] ],
			after => { seq => $seq, payload => "event $seq " . ('x' x ($seq % 50)),
				made_at => 1700000000000000 + $seq });
		$pin .= "$ev->[0]\x1e$ev->[1]\n";
	}
	$producer->pump_nb;
	return;
}

my @args = ('-t', $topic, '-X', 'flush.rows=40', '-X', 'flush.interval.ms=150',
	'-X', 'checkpoint.interval=5');
for my $k (1 .. $kills)
{
	my $group = $k > $kills - $group_kills;
	my $w = CdcWriter::start_writer($kb->bootstrap, $root, $log, @args,
		'-X', 'assignment=' . ($group ? 'group' : 'static'));
	# stream while the writer runs; kill it somewhere in there
	my $life = 0.2 + rand($group ? 8 : 2.5);
	my $until = time + $life;
	while (time < $until)
	{
		produce_some(10 + int(rand(20)));
		usleep(50_000 + int(rand(100_000)));
	}
	$w->signal('KILL');
	eval { $w->finish; 1 };
	note(sprintf('kill %d after %.2fs: %d produced, %d committed', $k, $life, $seq,
			CdcWriter::committed_rows($dir)));
}
$pin .= '';
$producer->finish;
is($producer->result(0), 0, "producer finished: $seq events");
cmp_ok($seq, '>', 1000, 'enough events to matter');

my $w = CdcWriter::start_writer($kb->bootstrap, $root, $log, @args, '-X', 'assignment=static');
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($dir) >= $seq }, 120),
	'after the last restart the writer catches up');
sleep 1;
is(CdcWriter::stop_writer($w), 0, 'SIGTERM exits 0');

my $r = CdcWriter::delta_read($dir,
	q{SELECT count(*)::BIGINT AS n, count(DISTINCT (__kafka_partition, __kafka_offset))::BIGINT AS po,
	         count(DISTINCT seq)::BIGINT AS seqs, min(seq)::BIGINT AS lo, max(seq)::BIGINT AS hi FROM t},
	q{SELECT __kafka_partition AS p, count(*)::BIGINT AS n, min(__kafka_offset)::BIGINT AS lo,
	         max(__kafka_offset)::BIGINT AS hi FROM t GROUP BY 1 ORDER BY 1},
	q{SELECT count(*)::BIGINT AS bad FROM t WHERE payload <> 'event ' || seq || ' ' || repeat('x', (seq % 50)::INT)
	         OR epoch_us(made_at) <> 1700000000000000 + seq});
is_deeply($r->{errors}, [], 'the log replays cleanly after all the kills');
is_deeply($r->{results}[0], [ { n => "$seq", po => "$seq", seqs => "$seq", lo => '1', hi => "$seq" } ],
	"every event exactly once: $seq rows, distinct offsets, distinct sequence numbers");
for my $p (@{ $r->{results}[1] })
{
	is($p->{hi} - $p->{lo} + 1, $p->{n} + 0, "partition $p->{p}: offsets $p->{lo}..$p->{hi} without gap");
	is($p->{lo}, '0', "partition $p->{p}: starts at offset 0");
}
is($r->{results}[2][0]{bad}, '0', 'every row carries its own values');
my $txns = CdcWriter::txn_versions($dir);
is_deeply([ map { $txns->{"$topic-$_->{p}"} } @{ $r->{results}[1] } ],
	[ map { $_->{hi} + 0 } @{ $r->{results}[1] } ], 'txn versions are the last offsets');
my @on_disk = glob("$dir/*.parquet");
note(scalar(@on_disk) . " Parquet files on disk, $r->{files} live (the rest: crashes before a commit)");
ok(-e "$dir/_delta_log/_last_checkpoint", 'checkpoints were written along the way');

# What a writer killed between writing a commit's temp file and linking it
# leaves behind: removed by the next writer to open the table once it is an
# hour old; a young one may belong to a live writer and stays.
my ($stale, $young) = map { "$dir/_delta_log/.tmp-commit-$_-0badf00d" } (999998, 999999);
for my $f ($stale, $young)
{
	open(my $fh, '>', $f) or die "$f: $!";
	print $fh "{}\n";
	close $fh;
}
utime(time - 7200, time - 7200, $stale) or die "utime: $!";
$w = CdcWriter::start_writer($kb->bootstrap, $root, $log, @args, '-X', 'assignment=static');
ok(CdcWriter::wait_for(sub { !-e $stale }, 60), 'a restarted writer removes an hour-old temp file from _delta_log');
ok(-e $young, 'and leaves a young one alone');
is(CdcWriter::stop_writer($w), 0, 'SIGTERM exits 0');

# Spark, through Delta's own log reader, reads what DuckDB reads
$spark->agrees_with_duckdb($dir, 'a table written through 24 kills, with checkpoints');
$spark->stop;

$kb->stop;
done_testing();
