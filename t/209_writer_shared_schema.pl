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
my $r;
$r = CdcWriter::delta_read($dir, 'SELECT id, name, x FROM t ORDER BY id');
is_deeply($r->{errors}, [], 'DuckDB reads the table');
is_deeply($r->{results}[0], [ { id => 1, name => 'one', x => undef }, { id => 2, name => 'two', x => undef },
		{ id => 3, name => 'three', x => 'bx' }, { id => 4, name => 'four', x => 'ax' } ],
	'every row, with the new column where it was given');

# Spark, through Delta's own log reader, reads what DuckDB reads
$spark->agrees_with_duckdb($dir, 'two topics on one table, one adding a column');

# Both add mapped columns at once (a table with column mapping on): A holds
# a row with "a b" and "c d", B commits one with "b b" and "c d" first.  A's
# retried commit must give its own new column an id the log has not given,
# and keep the physical name the log gave "c d" (B's rows hold it there).
my $mdir = "$root/public/mapped";
my ($ma, $mb) = ('a.public.mapped', 'b.public.mapped');
$kb->create_topic("$_:1") for ($ma, $mb);
my @base = ([ id => 'int32', optional => JSON::PP::false ], [ 'has space' => 'string' ]);
$bw = CdcWriter::start_writer($kb->bootstrap, $root, "$work/mb.log", '-t', $mb,
	'-X', 'kafka.group.id=mwb', '-X', 'flush.interval.ms=200');
put($mb, \@base, { id => 1, 'has space' => 's1' });
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($mdir) == 1 }), 'B creates a mapped table');
$aw = CdcWriter::start_writer($kb->bootstrap, $root, "$work/ma.log", '-t', $ma,
	'-X', 'kafka.group.id=mwa', '-X', 'flush.interval.ms=600000');
put($ma, [ @base, [ 'a b' => 'string' ], [ 'c d' => 'string' ] ],
	{ id => 2, 'has space' => 's2', 'a b' => 'ab2', 'c d' => 'cd2' });
ok(CdcWriter::wait_for(sub { CdcKafka::slurp("$work/ma.log") =~ /table \Q$mdir\E: 2 new column/ }),
	'A holds a row with two new columns');
put($mb, [ @base, [ 'b b' => 'string' ], [ 'c d' => 'string' ] ],
	{ id => 3, 'has space' => 's3', 'b b' => 'bb3', 'c d' => 'cd3' });
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($mdir) == 2 }), 'B commits a row with two new columns');
is(CdcWriter::stop_writer($aw), 0, 'A exits 0 after committing at its stop');
is(CdcWriter::stop_writer($bw), 0, 'B exits 0');
my @mfields = map { decode_json($_->{metaData}{schemaString})->{fields} }
  grep { $_->{metaData} } CdcWriter::log_actions($mdir);
my (%id, %phys);
for my $f (@{ $mfields[-1] })
{
	push @{ $id{ $f->{metadata}{'delta.columnMapping.id'} } }, $f->{name};
	push @{ $phys{ $f->{metadata}{'delta.columnMapping.physicalName'} } }, $f->{name};
}
is_deeply([ grep { @{ $id{$_} } > 1 } sort keys %id ], [], 'no two columns share a column mapping id')
  or diag(explain(\%id));
is_deeply([ grep { @{ $phys{$_} } > 1 } sort keys %phys ], [], 'no two columns share a physical name')
  or diag(explain(\%phys));
my %cd_phys = map { $_->{metadata}{'delta.columnMapping.physicalName'} => 1 }
  grep { $_->{name} eq 'c d' } map { @$_ } @mfields;
is(scalar keys %cd_phys, 1, '"c d" keeps the physical name its first commit gave it');
my ($maxid) = map { $_->{metaData}{configuration}{'delta.columnMapping.maxColumnId'} }
  grep { $_->{metaData} } reverse CdcWriter::log_actions($mdir);
cmp_ok($maxid, '>=', (sort { $b <=> $a } keys %id)[0], 'maxColumnId is at least every id');
$r = CdcWriter::delta_read($mdir, 'SELECT id, "has space" AS s, "a b" AS ab, "b b" AS bb, "c d" AS cd FROM t ORDER BY id');
is_deeply($r->{errors}, [], 'DuckDB reads the mapped table');
is_deeply($r->{results}[0], [ { id => 1, s => 's1', ab => undef, bb => undef, cd => undef },
		{ id => 2, s => 's2', ab => 'ab2', bb => undef, cd => 'cd2' },
		{ id => 3, s => 's3', ab => undef, bb => 'bb3', cd => 'cd3' } ],
	'every row of both writers, each value in its column');
$spark->agrees_with_duckdb($mdir, 'two writers adding mapped columns at once');

# Both add one name but for case at once ("foo", "FOO"; Delta's names are
# one but for case): A's file, written with "foo", cannot be committed
# beside B's "FOO", so A's table stops; after a restart A stores its row
# under the alias (t/217), and no schema ever holds both names.
my $cdir = "$root/public/cased";
my ($ca, $cb) = ('a.public.cased', 'b.public.cased');
$kb->create_topic("$_:1") for ($ca, $cb);
my @cbase = ([ id => 'int32', optional => JSON::PP::false ]);
$bw = CdcWriter::start_writer($kb->bootstrap, $root, "$work/cb.log", '-t', $cb,
	'-X', 'kafka.group.id=cwb', '-X', 'flush.interval.ms=200');
put($cb, \@cbase, { id => 1 });
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($cdir) == 1 }), 'B creates a table');
$aw = CdcWriter::start_writer($kb->bootstrap, $root, "$work/ca.log", '-t', $ca,
	'-X', 'kafka.group.id=cwa', '-X', 'flush.interval.ms=600000');
put($ca, [ @cbase, [ foo => 'string' ] ], { id => 2, foo => 'a2' });
ok(CdcWriter::wait_for(sub { CdcKafka::slurp("$work/ca.log") =~ /table \Q$cdir\E: 1 new column/ }),
	'A holds a row with "foo"');
put($cb, [ @cbase, [ FOO => 'string' ] ], { id => 3, FOO => 'b3' });
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($cdir) == 2 }), 'B commits a row with "FOO"');
is(CdcWriter::stop_writer($aw), 2, 'A cannot commit its file at its stop: exit 2');
like(CdcKafka::slurp("$work/ca.log"), qr/another writer added column "FOO", which equals our new column "foo" but for case/,
	'A says why');
$aw = CdcWriter::start_writer($kb->bootstrap, $root, "$work/ca2.log", '-t', $ca,
	'-X', 'kafka.group.id=cwa', '-X', 'flush.interval.ms=200');
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($cdir) == 3 }), 'restarted, A commits its row');
is(CdcWriter::stop_writer($aw), 0, 'A exits 0');
is(CdcWriter::stop_writer($bw), 0, 'B exits 0');
my @clash = grep { my %lc; grep { $lc{ lc $_ }++ } @$_ }
  map { [ map { $_->{name} } @{ decode_json($_->{metaData}{schemaString})->{fields} } ] }
  grep { $_->{metaData} } CdcWriter::log_actions($cdir);
is(scalar @clash, 0, 'no schema in the log holds two names equal but for case') or diag(explain(\@clash));
$r = CdcWriter::delta_read($cdir, 'SELECT * FROM t ORDER BY id');
is_deeply($r->{errors}, [], 'DuckDB reads the table');
is_deeply([ map { my $row = $_; [ $row->{id}, map { $row->{$_} } grep { /foo/i } sort keys %$row ] } @{ $r->{results}[0] } ],
	[ [ 1, undef, undef ], [ 2, undef, 'a2' ], [ 3, 'b3', undef ] ], 'each value in its own column');
$spark->agrees_with_duckdb($cdir, 'two writers adding one name but for case at once');
$spark->stop;

$kb->stop;
done_testing();
