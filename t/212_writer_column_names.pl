# Delta writer: a source column named like a change-log column (__op,
# __source_*, __kafka_*) or beginning with "__" at all is stored with one
# more "_" in front; the change-log columns keep their meaning, the table
# is committed and read back, and a restart goes on (it used to stop the
# writer for good with "column set twice in one row").
use strict;
use warnings;

use File::Temp qw(tempdir);
use Test::More;

use CdcKafka;
use CdcSpark;
use CdcWriter;

# Spark starts slowly: it does so while the test runs
my $spark = CdcSpark->start('spark35');
my $work = $ENV{TESTDIR} // tempdir(CLEANUP => 1);
mkdir $work;
my $root = "$work/delta";
my $log = "$work/writer.log";

my @meta = qw(__op __source_lsn __source_txid __source_ts_ms __kafka_topic
  __kafka_partition __kafka_offset __kafka_timestamp);
my @source = (@meta, '___op', '__x', '_y', 'z');

my $node = CdcKafka::start_pg('names');
$node->safe_psql('postgres', 'CREATE TABLE clash (id int PRIMARY KEY, '
	  . join(', ', map { qq("$_" text) } @source) . ')');
$node->safe_psql('postgres', q{SELECT pg_create_logical_replication_slot('s', 'cdc_kafka')});
$node->safe_psql('postgres', 'INSERT INTO clash VALUES '
	  . join(', ', map { my $id = $_; "($id, " . join(', ', map { "'$_ of $id'" } @source) . ')' } 1 .. 3));
$node->safe_psql('postgres', 'UPDATE clash SET "__op" = \'changed\' WHERE id = 2');
my @ev = CdcWriter::plugin_events($node, 's');
is(scalar @ev, 4, 'four events from the plugin');
my $topic = $ev[0][0];

my $kb = CdcKafka::start_kafka(topics => ["$topic:1"]);
CdcWriter::produce($kb->bootstrap, $topic, map { [ $_->[1], $_->[2] ] } @ev[0 .. 2]);
my $w = CdcWriter::start_writer($kb->bootstrap, $root, $log, '-t', $topic, '-X', 'flush.interval.ms=300');
my $dir = "$root/public/clash";
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($dir) == 3 }), 'the rows are committed');
is(CdcWriter::stop_writer($w), 0, 'the writer exits 0 on SIGTERM');

# a restart reads the table's columns back from the log and goes on
CdcWriter::produce($kb->bootstrap, $topic, [ $ev[3][1], $ev[3][2] ]);
$w = CdcWriter::start_writer($kb->bootstrap, $root, $log, '-t', $topic, '-X', 'flush.interval.ms=300');
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($dir) == 4 }), 'after a restart the update is committed');
is(CdcWriter::stop_writer($w), 0, 'and the writer exits 0 again');

my @stored = map { /^__/ ? "_$_" : $_ } @source;
my $r = CdcWriter::delta_read($dir, 'SELECT * FROM t ORDER BY __kafka_offset');
is_deeply($r->{errors}, [], 'DuckDB reads the table');
my @rows = @{ $r->{results}[0] };
is(scalar @rows, 4, 'four rows');
for my $i (0 .. $#source)
{
	is($rows[0]{ $stored[$i] }, "$source[$i] of 1", "source column $source[$i] is stored as $stored[$i]");
}
is($rows[3]{___op}, 'changed', 'the update changed source column __op (stored as ___op)');
is_deeply([ map { $_->{__op} } @rows ], [qw(c c c u)], '__op is the change-log op');
is_deeply([ map { $_->{__kafka_offset} } @rows ], [ 0 .. 3 ], '__kafka_offset is the Kafka offset');
is_deeply([ map { $_->{__kafka_partition} } @rows ], [ 0, 0, 0, 0 ], '__kafka_partition is the partition');
is($rows[0]{__kafka_topic}, $topic, '__kafka_topic is the topic');
ok($rows[0]{__source_lsn} =~ /^\d+$/ && $rows[0]{__source_txid} =~ /^\d+$/ && $rows[0]{__source_ts_ms} =~ /^\d+$/,
	'__source_lsn, __source_txid, __source_ts_ms are the source numbers');
ok(defined $rows[0]{__kafka_timestamp}, '__kafka_timestamp is the Kafka timestamp');
my @cols = sort keys %{ $rows[0] };
is_deeply(\@cols, [ sort('id', @stored, @meta) ], 'every column once, nothing else');

# Spark, through Delta's own log reader, reads what DuckDB reads
$spark->agrees_with_duckdb($dir, 'source columns named like the change-log columns');
$spark->stop;

$kb->stop;
done_testing();
