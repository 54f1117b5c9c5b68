# Delta writer: TRUNCATE in the change log.  A truncate lands on one Kafka
# partition while the table's rows are on all of them; it means "every row
# with a smaller __source_lsn is gone".  The current-state query of
# README.md and doc/writer.md (one and the same, taken from the docs here)
# gives exactly PostgreSQL's rows after truncates, inserts, updates and
# deletes, several in one transaction, on a topic of four partitions, in
# DuckDB and in Spark (its select list named: Spark has no EXCLUDE).
use strict;
use warnings;

use File::Temp qw(tempdir);
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

# the recipe, from both documents
sub recipe
{
	my ($file) = @_;
	open(my $fh, '<', "$CdcKafka::ROOT/$file") or die "$file: $!";
	my $text = do { local $/; <$fh> };
	my ($sql) = $text =~ /```sql\n(?:INSTALL[^\n]*\n)?(-- current state[^`]*)```/s;
	return $sql;
}
my $readme = recipe('README.md');
my $doc = recipe('doc/writer.md');
ok(defined $readme && defined $doc, 'README.md and doc/writer.md have a current-state query');
is($readme, $doc, 'and it is the same query');

my $node = CdcKafka::start_pg('truncate');
$node->safe_psql('postgres', q{
	CREATE TABLE tr (id int PRIMARY KEY, v text);
	SELECT pg_create_logical_replication_slot('s', 'cdc_kafka');
});
$node->safe_psql('postgres', $_) for (
	q{INSERT INTO tr SELECT g, 'first ' || g FROM generate_series(1, 40) g},
	q{UPDATE tr SET v = 'changed' WHERE id % 5 = 0},
	q{TRUNCATE tr},
	q{INSERT INTO tr SELECT g, 'second ' || g FROM generate_series(30, 45) g},
	q{UPDATE tr SET v = 'again' WHERE id = 31},
	q{DELETE FROM tr WHERE id = 32},
	# one transaction: rows before the truncate go, rows after it stay
	q{BEGIN; INSERT INTO tr VALUES (100, 'gone'); UPDATE tr SET v = 'gone too' WHERE id = 33;
	  TRUNCATE tr; INSERT INTO tr VALUES (34, 'after'), (101, 'after'); UPDATE tr SET v = 'after, updated' WHERE id = 34;
	  COMMIT},
	q{INSERT INTO tr SELECT g, 'third ' || g FROM generate_series(1, 20) g},
	q{DELETE FROM tr WHERE id IN (1, 2, 101)},
	q{UPDATE tr SET v = 'last' WHERE id = 3});
# (explicitly: Debezium's own default skips truncates)
my @ev = CdcWriter::plugin_events($node, 's', 'include-truncate', 'true');
my $topic = $ev[0][0];
is(scalar(grep { !defined $_->[1] && $_->[2] =~ /"op":"t"/ } @ev), 2, 'the plugin emitted two truncates, without a key');
my $pg = $node->safe_psql('postgres', q{SELECT coalesce(json_agg(json_build_object('id', id, 'v', v) ORDER BY id), '[]') FROM tr});

my $mb = CdcKafka::start_mock_broker(topics => ["$topic:4"]);
CdcWriter::produce($mb->bootstrap, $topic, map { [ $_->[1], $_->[2] ] } @ev);
my $w = CdcWriter::start_writer($mb->bootstrap, $root, $log, '-t', $topic,
	'-X', 'assignment=static', '-X', 'flush.interval.ms=200');
my $dir = "$root/public/tr";
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($dir) == scalar @ev }), 'every event is a row');
is(CdcWriter::stop_writer($w), 0, 'writer exits 0');

(my $sql = $readme) =~ s/delta_scan\('[^']*'\)/t/;
$sql =~ s/;\s*$//;
my $r = eval { CdcWriter::delta_read($dir, "SELECT id, v FROM ($sql) ORDER BY id",
	"SELECT count(DISTINCT __kafka_partition)::BIGINT AS parts FROM t") } // do { diag($@); {} };
is_deeply($r->{errors}, [], 'DuckDB reads the table');
cmp_ok($r->{results}[1][0]{parts}, '>', 1, 'the rows are on several partitions');
is_deeply($r->{results}[0], JSON::PP->new->decode($pg), 'the documented query gives PostgreSQL\'s rows');

(my $spark_sql = $sql) =~ s/SELECT \* EXCLUDE \(rn\) FROM/SELECT id, v FROM/;
my $a = $spark->sql($dir, "$spark_sql ORDER BY id");
is($a->{error}, undef, 'Spark runs the documented query');
is_deeply($a->{rows}, JSON::PP->new->decode($pg), 'Spark: the documented query gives PostgreSQL\'s rows');
$spark->agrees_with_duckdb($dir, 'truncates on four partitions');
$spark->stop;

$mb->stop;
done_testing();
