# Delta writer: a failure that concerns one table pauses that table's
# partitions with one error line, and every other table goes on; the
# writer exits only when told to (it used to exit 2 for every table, at
# every start).  Two such failures: a table whose directory cannot be made
# (a file is in its place), and a table whose log becomes read-only
# between two commits.  A restart after the cause is gone goes on where
# the Delta log says.
use strict;
use warnings;

use File::Temp qw(tempdir);
use Test::More;

use CdcKafka;
use CdcSpark;
use CdcWriter;

my $spark = CdcSpark->start('spark35');

my $work = $ENV{TESTDIR} // tempdir(CLEANUP => 1);
mkdir $work;
my $root = "$work/delta";
my $log = "$work/writer.log";
my ($good, $blocked, $ro) = map { "tf.public.$_" } qw(good blocked ro);
my $mb = CdcKafka::start_mock_broker(topics => [ "$good:2", "$blocked:1", "$ro:1" ]);

sub rows
{
	my ($t, $from, $to) = @_;
	return map { CdcWriter::event(topic => $t, schemas => 0, op => 'c', key => { id => $_ },
			after => { id => $_ }) } $from .. $to;
}
sub slurp { open(my $f, '<', $_[0]) or return ''; local $/; return <$f>; }

# a file where the table's directory would go
mkdir "$root";
mkdir "$root/public";
open(my $fh, '>', "$root/public/blocked") or die;
close $fh;

CdcWriter::produce($mb->bootstrap, $_, rows($_, 1, 5)) for ($good, $blocked, $ro);
my @args = ('-t', "$good,$blocked,$ro", '-X', 'assignment=static', '-X', 'flush.interval.ms=200');
my $w = CdcWriter::start_writer($mb->bootstrap, $root, $log, @args);
my ($gdir, $rdir) = ("$root/public/good", "$root/public/ro");
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($gdir) == 5 && CdcWriter::committed_rows($rdir) == 5 }),
	'the other tables are committed');
like(slurp($log), qr/table of \Q$blocked\E: .*public\/blocked.*: its partitions are paused until a restart/,
	'one error line names the failed table and says its partitions wait');

# the log of one table turns read-only: its next commit fails
chmod(0555, "$rdir/_delta_log") or die;
CdcWriter::produce($mb->bootstrap, $_, rows($_, 6, 10)) for ($good, $ro);
ok(CdcWriter::wait_for(sub { slurp($log) =~ /table of \Q$ro\E: .*commit failed.*paused until a restart/ }),
	'a failed commit pauses that table');
CdcWriter::produce($mb->bootstrap, $good, rows($good, 11, 15));
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($gdir) == 15 }), 'the good table still goes on');
is(CdcWriter::stop_writer($w), 0, 'SIGTERM: exit 0');
like(slurp($log), qr/2 table\(s\) failed/, 'the stop line counts the failed tables');
is(CdcWriter::committed_rows($rdir), 5, 'the read-only table kept its first commit only');
is(scalar(() = slurp($log) =~ /table of \Q$ro\E: .*paused until a restart/g), 1, 'one error line for it');

# the causes gone: a restart writes everything, nothing twice
chmod(0755, "$rdir/_delta_log") or die;
unlink("$root/public/blocked") or die;
$w = CdcWriter::start_writer($mb->bootstrap, $root, $log, @args);
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($rdir) == 10
	  && CdcWriter::committed_rows("$root/public/blocked") == 5 }), 'after a restart both tables catch up');
is(CdcWriter::stop_writer($w), 0, 'exit 0');
for my $d ($gdir, $rdir, "$root/public/blocked")
{
	my $r = CdcWriter::delta_read($d, 'SELECT count(*)::BIGINT AS n, count(DISTINCT id)::BIGINT AS ids FROM t');
	is_deeply([ $r->{errors}, $r->{results}[0][0]{n}, $r->{results}[0][0]{ids} ],
		[ [], $r->{results}[0][0]{ids}, $d eq $gdir ? 15 : $d eq $rdir ? 10 : 5 ],
		"$d: DuckDB reads every row once");
	$spark->agrees_with_duckdb($d, 'after a pause and a restart');
}
$spark->stop;

$mb->stop;
done_testing();
