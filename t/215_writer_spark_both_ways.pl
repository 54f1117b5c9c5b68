# Spark and cdc_delta_writer on one table, both ways.  The writer writes a
# table; while it is stopped, Spark with Delta Lake (3.5 / delta-spark 3.3)
# changes it the way users maintain Delta tables: a table property
# (checkpoint at every commit, so Spark writes the checkpoints), OPTIMIZE
# (compaction: removes and an add with dataChange=false), DELETE (files
# rewritten), VACUUM (the removed files deleted).  Then the writer resumes
# from Spark's commits and Spark's checkpoint, appends, evolves the schema
# (its metaData must keep Spark's table property) and checkpoints again.
# Every version, ours and Spark's, has a version checksum (.crc) that
# matches the log and that Delta finds valid.
# After each step Spark and DuckDB read the same rows, and every event is
# there once except the deleted ones.
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
my $log = "$work/writer.log";
my $topic = 'sp.public.events';
my $dir = "$root/public/events";
my $kb = CdcKafka::start_kafka(topics => ["$topic:2"]);
my $seq = 0;

sub produce_n
{
	my ($n, @extra) = @_;
	my @fields = ([ seq => 'int64', optional => JSON::PP::false ], [ payload => 'string' ], @extra);
	my @ev;
	for (1 .. $n)
	{
		my $s = ++$seq;
		my %after = (seq => $s, payload => "event $s", map { $_->[0] => "$_->[0] $s" } @extra);
		push @ev, CdcWriter::event(topic => $topic, fields => \@fields, op => 'c',
			key => { seq => $s }, key_fields => [ [ seq => 'int64', optional => JSON::PP::false ] ],
			after => \%after);
	}
	CdcWriter::produce($kb->bootstrap, $topic, @ev);
	return;
}

sub run_writer_until
{
	my ($want, $what) = @_;
	my $w = CdcWriter::start_writer($kb->bootstrap, $root, $log, '-t', $topic,
		'-X', 'assignment=static', '-X', 'flush.rows=10', '-X', 'flush.interval.ms=100',
		'-X', 'checkpoint.interval=4');
	ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($dir) >= $want }, 120),
		"$what: the writer committed $want rows");
	is(CdcWriter::stop_writer($w), 0, "$what: the writer stops with exit code 0");
	return;
}

# The seqs in the table, as Spark reads them, and as DuckDB does.
sub seqs_are
{
	my ($want, $what) = @_;
	my $a = $spark->sql($dir, 'SELECT seq FROM t ORDER BY seq');
	is(join(',', map { $_->{seq} } @{ $a->{rows} // [] }), join(',', @$want),
		"$what: Spark reads every event once" . ($a->{error} ? " ($a->{error})" : ''));
	my $r = CdcWriter::delta_read($dir, 'SELECT seq::BIGINT AS seq FROM t ORDER BY seq');
	is_deeply($r->{errors}, [], "$what: DuckDB replays the log cleanly");
	is(join(',', map { $_->{seq} } @{ $r->{results}[0] }), join(',', @$want),
		"$what: DuckDB reads every event once");
	return;
}

sub spark_ok
{
	my ($sql, $what) = @_;
	my $a = $spark->sql(undef, $sql);
	is($a->{error}, undef, "Spark: $what");
	return $a;
}

sub newest_checkpoint
{
	my ($v) = sort { $b <=> $a } map { m{/(\d{20})\.checkpoint\.parquet$} ? $1 + 0 : () }
	  glob("$dir/_delta_log/*.checkpoint.parquet");
	return $v // -1;
}

# 1. our table: 60 events in several files, with our checkpoints
produce_n(60);
run_writer_until(60, 'first run');
my $files_before = () = glob("$dir/*.parquet");
cmp_ok($files_before, '>', 3, "first run: several data files ($files_before)");
my @want = (1 .. 60);
seqs_are(\@want, 'first run');

# 2. Spark maintains it
my $t = "delta.`$dir`";
spark_ok("ALTER TABLE $t SET TBLPROPERTIES ('delta.checkpointInterval' = '1')",
	'ALTER TABLE SET TBLPROPERTIES');
my $opt = spark_ok("OPTIMIZE $t", 'OPTIMIZE');
cmp_ok($opt->{rows}[0]{metrics}{numFilesRemoved} // 0, '>', 1, 'OPTIMIZE compacted several files');
spark_ok("DELETE FROM $t WHERE seq % 10 = 0", 'DELETE');
@want = grep { $_ % 10 } @want;
spark_ok('SET spark.databricks.delta.retentionDurationCheck.enabled = false', 'SET');
spark_ok("VACUUM $t RETAIN 0 HOURS", 'VACUUM');
my $files_after = () = glob("$dir/*.parquet");
cmp_ok($files_after, '<', $files_before, "VACUUM deleted the compacted files ($files_after left)");
my $spark_cp = newest_checkpoint();
my $version = (sort { $a <=> $b } map { m{/(\d{20})\.json$} ? $1 + 0 : () } glob("$dir/_delta_log/*.json"))[-1];
my @ops = map { $_->{commitInfo}{operation} } grep { $_->{commitInfo} } CdcWriter::log_actions($dir);
like(join(',', @ops), qr/SET TBLPROPERTIES,OPTIMIZE,DELETE/, "Spark's commits are in the log (@ops[-4..-1])");
is($spark_cp, $version, "Spark checkpointed its last commit ($spark_cp)");
seqs_are(\@want, 'after OPTIMIZE, DELETE and VACUUM');
$spark->agrees_with_duckdb($dir, "after Spark's maintenance");

# 3. the writer resumes from Spark's checkpoint and commits
produce_n(30);
run_writer_until(scalar(@want) + 30, 'after Spark');
like(CdcKafka::slurp($log), qr/table \Q$dir\E: started from checkpoint "[^"]*\Q${\ sprintf('%020d', $spark_cp)}\E\.checkpoint\.parquet"/,
	"the writer started from Spark's checkpoint");
push @want, 61 .. 90;
seqs_are(\@want, 'after the writer resumed');

# 4. a new column: the writer's metaData keeps Spark's table property
produce_n(30, [ extra => 'string' ]);
run_writer_until(scalar(@want) + 30, 'new column');
push @want, 91 .. 120;
my ($meta) = reverse grep { $_ } map { $_->{metaData} } CdcWriter::log_actions($dir);
like($meta->{schemaString}, qr/"extra"/, 'the writer evolved the schema');
is($meta->{configuration}{'delta.checkpointInterval'}, '1', "and kept Spark's table property");
cmp_ok(newest_checkpoint(), '>', $spark_cp, 'the writer checkpointed after Spark');
seqs_are(\@want, 'after the schema change');
my $x = $spark->sql($dir, 'SELECT count(extra) AS n FROM t');
is($x->{rows}[0]{n}, 30, 'Spark reads the new column');
$spark->agrees_with_duckdb($dir, 'after the writer resumed and evolved the schema');
# version checksums: ours (before Spark, and after resuming from Spark's
# checkpoint with Spark's metaData) and Spark's, each equal to the log's
# state, and valid for Delta
$spark->checksums_valid($dir, "our and Spark's versions");

# 5. and Spark can maintain it again, from our checkpoint
spark_ok("OPTIMIZE $t", 'OPTIMIZE after the writer');
seqs_are(\@want, 'after a second OPTIMIZE');

$spark->stop;
$kb->stop;
done_testing();
