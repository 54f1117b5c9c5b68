# Two writers append to one table (topics a.public.items and b.public.items
# both map to <root>/public/items), and one of them adds a column while the
# other holds rows without it.  The other must take the column from the log:
# once (not a second time when its own rows bring it), and without dropping
# it from the schema it commits.
use strict;
use warnings;

use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;

use CdcKafka;
use CdcSpark;
use CdcWriter;

# Spark starts slowly: it does so while the test runs
my $spark = CdcSpark->start('spark35');
my $work = $ENV{TESTDIR} // tempdir(CLEANUP => 1);
mkdir $work;
my $root = "$work/delta";
my $dir = "$root/public/items";
my ($ta, $tb) = ('a.public.items', 'b.public.items');
my $kb = CdcKafka::start_kafka(topics => [ "$ta:1", "$tb:1" ]);
my @old = ([ id => 'int32', optional => JSON::PP::false ], [ name => 'string' ]);
my @new = (@old, [ x => 'string' ]);

sub put
{
	my ($topic, $fields, $after) = @_;
	CdcWriter::produce($kb->bootstrap, $topic, CdcWriter::event(topic => $topic,
		fields => $fields, op => 'c', after => $after, key => { id => $after->{id} }));
	return;
}

# B commits every 200 ms; A only when stopped.
my $bw = CdcWriter::start_writer($kb->bootstrap, $root, "$work/b.log", '-t', $tb,
	'-X', 'kafka.group.id=wb', '-X', 'flush.interval.ms=200');
put($tb, \@old, { id => 1, name => 'one' });
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($dir) == 1 }), 'B creates the table');

my $aw = CdcWriter::start_writer($kb->bootstrap, $root, "$work/a.log", '-t', $ta,
	'-X', 'kafka.group.id=wa', '-X', 'flush.interval.ms=600000');
put($ta, \@old, { id => 2, name => 'two' });
ok(CdcWriter::wait_for(sub { CdcKafka::slurp("$work/a.log") =~ /table \Q$dir\E: version/ }),
	'A opens the table and holds a row');

put($tb, \@new, { id => 3, name => 'three', x => 'bx' });
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($dir) == 2 }), 'B commits a row with a new column');

# new to A: it commits its held row first, losing the race to B's commits
put($ta, \@new, { id => 4, name => 'four', x => 'ax' });
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($dir) == 3 }),
	'A commits the row it held before taking the new column');
is(CdcWriter::stop_writer($aw), 0, 'A exits 0');
is(CdcWriter::stop_writer($bw), 0, 'B exits 0');

my @schemas = map { [ map { $_->{name} } @{ decode_json($_->{metaData}{schemaString})->{fields} } ] }
  grep { $_->{metaData} } CdcWriter::log_actions($dir);
my @twice = grep { my %n; grep { $n{$_}++ } @$_ } @schemas;
is(scalar @twice, 0, 'no schema in the log names a column twice')
  or diag(explain(\@twice));
ok((grep { $_ eq 'x' } @{ $schemas[-1] }), 'the latest schema has the new column');
my $r = CdcWriter::delta_read($dir, 'SELECT id, name, x FROM t ORDER BY id');
is_deeply($r->{errors}, [], 'DuckDB reads the table');
is_deeply($r->{results}[0], [ { id => 1, name => 'one', x => undef }, { id => 2, name => 'two', x => undef },
		{ id => 3, name => 'three', x => 'bx' }, { id => 4, name => 'four', x => 'ax' } ],
	'every row, with the new column where it was given');

# Spark, through Delta's own log reader, reads what DuckDB reads
$spark->agrees_with_duckdb($dir, 'two topics on one table, one adding a column');
$spark->stop;

$kb->stop;
done_testing();
