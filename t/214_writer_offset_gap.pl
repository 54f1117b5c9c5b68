# Delta writer: when the offset the Delta log says comes next is gone from
# Kafka (retention; the mock broker keeps about 5 MB per partition), the
# writer pauses that partition with one error line naming the lost
# offsets, and commits nothing past them; the other tables go on.  Only
# offset.gap=skip goes on, recording the skipped range in the dead-letter
# file and in the commit's commitInfo.  (It used to follow
# auto.offset.reset=earliest with one info line: a silent loss.)  A
# partition added to a topic since the table began has its gap from 0.
use strict;
use warnings;

use File::Temp qw(tempdir);
use IPC::Run;
use JSON::PP;
use Test::More;

use CdcKafka;
use CdcSpark;
use CdcWriter;

my $spark = CdcSpark->start('spark35');

my $work = $ENV{TESTDIR} // tempdir(CLEANUP => 1);
mkdir $work;
my $root = "$work/delta";
my $log = "$work/writer.log";
my $dlfile = "$work/dead.jsonl";
my ($topic, $other) = ('gap.public.lost', 'gap.public.other');
my $grown = 'gap.public.grown';
my $mb = CdcKafka::start_mock_broker(topics => [ "$topic:1", "$other:1", "$grown:2" ]);

sub rows
{
	my ($t, $from, $to, $pad) = @_;
	return map { CdcWriter::event(topic => $t, schemas => 0, op => 'c', key => { id => $_ },
			after => { id => $_, pad => 'p' x ($pad // 10) }) } $from .. $to;
}
my @args = ('-t', "$topic,$other", '-X', 'assignment=static', '-X', 'flush.interval.ms=200',
	'-X', "deadletter.path=$dlfile");
my $dir = "$root/public/lost";
my $odir = "$root/public/other";

CdcWriter::produce($mb->bootstrap, $topic, rows($topic, 0, 9));
CdcWriter::produce($mb->bootstrap, $other, rows($other, 0, 9));
my $w = CdcWriter::start_writer($mb->bootstrap, $root, $log, @args);
ok(CdcWriter::wait_for(sub { (CdcWriter::txn_versions($dir)->{"$topic-0"} // -1) == 9
	  && (CdcWriter::txn_versions($odir)->{"$other-0"} // -1) == 9 }), 'offsets 0..9 of both topics committed');
is(CdcWriter::stop_writer($w), 0, 'writer stopped');

# 12 MB more: the broker drops the oldest messages, offsets 10.. among them
my $batch = 300;
my $next = 10;
for (1 .. 4)
{
	CdcWriter::produce($mb->bootstrap, $topic, rows($topic, $next, $next + $batch - 1, 10000));
	$next += $batch;
}
my ($lo) = CdcKafka::kcat_consume($mb->bootstrap, $topic);
my $earliest = $lo->{offset};
cmp_ok($earliest, '>', 10, "Kafka no longer holds offset 10 (earliest $earliest)");

truncate($log, 0);
$w = CdcWriter::start_writer($mb->bootstrap, $root, $log, @args);
ok(CdcWriter::wait_for(sub { slurp($log) =~ /partition paused/ }), 'the writer says it paused the partition');
my $last = $earliest - 1;
like(slurp($log), qr/\Q$topic\E \[0\]: offsets 10\.\.$last are gone from Kafka \(the Delta log's next offset is 10, the earliest Kafka holds is $earliest\): partition paused; offset\.gap=skip/,
	'one error line names the lost offsets and the option');
CdcWriter::produce($mb->bootstrap, $other, rows($other, 10, 19));
ok(CdcWriter::wait_for(sub { (CdcWriter::txn_versions($odir)->{"$other-0"} // -1) == 19 }),
	'the other table goes on');
is(CdcWriter::stop_writer($w), 0, 'SIGTERM: exit 0');
is(CdcWriter::txn_versions($dir)->{"$topic-0"}, 9, 'nothing past the gap was committed');
is(CdcWriter::committed_rows($dir), 10, 'the table holds the ten rows before the gap');
my @l = grep { /are gone from Kafka/ } split /\n/, slurp($log);
is(scalar @l, 1, 'one error line');
like(slurp($log), qr/1 partition\(s\) paused/, 'the stop line counts the paused partition');

# a restart without the option: paused again, nothing committed
truncate($log, 0);
$w = CdcWriter::start_writer($mb->bootstrap, $root, $log, @args);
ok(CdcWriter::wait_for(sub { slurp($log) =~ /partition paused/ }), 'a restart pauses it again');
is(CdcWriter::stop_writer($w), 0, 'exit 0');
is(CdcWriter::txn_versions($dir)->{"$topic-0"}, 9, 'still nothing past the gap');

# offset.gap=skip: the loss accepted and recorded
$w = CdcWriter::start_writer($mb->bootstrap, $root, $log, @args, '-X', 'offset.gap=skip');
ok(CdcWriter::wait_for(sub { (CdcWriter::txn_versions($dir)->{"$topic-0"} // -1) == $next - 1 }, 120),
	'offset.gap=skip: the writer goes on to the last offset');
is(CdcWriter::stop_writer($w), 0, 'exit 0');
is(CdcWriter::committed_rows($dir), 10 + $next - $earliest, 'the rows before the gap and every row Kafka still held');
my @skips = map { JSON::PP->new->decode($_->{commitInfo}{operationParameters}{skippedOffsets}) }
  grep { $_->{commitInfo} && $_->{commitInfo}{operationParameters}{skippedOffsets} } CdcWriter::log_actions($dir);
is_deeply(\@skips, [ ["$topic [0] \@10..$last"] ], 'one commit records the skipped range in commitInfo');
open(my $fh, '<', $dlfile) or die "$dlfile: $!";
my @dl = map { JSON::PP->new->decode($_) } <$fh>;
close $fh;
is(scalar @dl, 1, 'one dead-letter line');
is_deeply([ @{ $dl[0] }{qw(topic partition offset)} ], [ $topic, 0, 10 ], 'at the first lost offset');
like($dl[0]{reason}, qr/offsets 10\.\.$last are gone from Kafka.*skipped \(offset\.gap=skip\)/, 'naming the range');
my $r = CdcWriter::delta_read($dir, 'SELECT count(*)::BIGINT AS n, min(id) FILTER (WHERE id >= 10)::BIGINT AS first FROM t');
is_deeply($r->{errors}, [], 'DuckDB reads the table');
is_deeply($r->{results}[0], [ { n => '' . (10 + $next - $earliest), first => "$earliest" } ], 'rows resume at the earliest offset');
# the commit that records the skip, and the other table, read by Spark too
$spark->agrees_with_duckdb($dir, 'a table with skipped offsets');
$spark->agrees_with_duckdb($odir, 'the table that went on');

# A partition the log has no position for, of a topic whose lower
# partition it has: one added since (Kafka adds partitions at the end), so
# its offsets from 0 belong to the table, and losing them is a gap too (it
# used to start at the earliest offset Kafka held, in silence).
sub produce_to
{
	my ($t, $part, @pairs) = @_;
	my $in = join('', map { "$_->[0]\x1e$_->[1]\n" } @pairs);
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'kcat', '-P', '-b', $mb->bootstrap, '-t', $t, '-p', $part, '-K', "\x1e", '-Z' ],
		'<', \$in, '>', \$out, '2>', \$err, IPC::Run::timeout(120))
	  or die "kcat -P $t [$part]: $err";
	return;
}
my $gdir = "$root/public/grown";
my @gargs = ('-t', $grown, '-X', 'assignment=static', '-X', 'flush.interval.ms=200',
	'-X', "deadletter.path=$dlfile");
produce_to($grown, 0, rows($grown, 0, 9));
truncate($log, 0);
$w = CdcWriter::start_writer($mb->bootstrap, $root, $log, @gargs);
ok(CdcWriter::wait_for(sub { (CdcWriter::txn_versions($gdir)->{"$grown-0"} // -1) == 9 }),
	'grown: partition 0 committed, partition 1 empty');
is(CdcWriter::stop_writer($w), 0, 'grown: writer stopped');
produce_to($grown, 1, rows($grown, 100 + 300 * $_, 399 + 300 * $_, 10000)) for 0 .. 3;
my ($glo) = CdcKafka::kcat_consume($mb->bootstrap, $grown, partition => 1);
cmp_ok($glo->{offset}, '>', 0, "grown: Kafka no longer holds partition 1's first offsets (earliest $glo->{offset})");
truncate($log, 0);
$w = CdcWriter::start_writer($mb->bootstrap, $root, $log, @gargs);
my $glast = $glo->{offset} - 1;
ok(CdcWriter::wait_for(sub { slurp($log) =~ /\Q$grown\E \[1\]: offsets 0\.\.$glast are gone from Kafka/ }),
	'grown: partition 1 is paused, naming offsets 0.. as gone') or diag(slurp($log));
is(CdcWriter::stop_writer($w), 0, 'grown: exit 0');
ok(!defined CdcWriter::txn_versions($gdir)->{"$grown-1"}, 'grown: nothing of partition 1 committed');

$spark->stop;

sub slurp { open(my $f, '<', $_[0]) or return ''; local $/; return <$f>; }

$mb->stop;
done_testing();
