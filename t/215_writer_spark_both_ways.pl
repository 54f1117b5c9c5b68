# Spark and cdc_delta_writer on one table, both ways.  The writer writes a
# table; while it is stopped, Spark with Delta Lake (3.5 / delta-spark 3.3)
# changes it the way users maintain Delta tables: table properties
# (checkpoint at every commit, so Spark writes the checkpoints; a comment,
# which Delta keeps as the metaData's description; one of the user's own),
# a column comment,
# OPTIMIZE
# (compaction: removes and an add with dataChange=false), DELETE (files
# rewritten), VACUUM (the removed files deleted).  Then the writer resumes
# from Spark's commits and Spark's checkpoint, appends, evolves the schema
# (its metaData must keep Spark's description, properties, table id,
# creation time and column comment) and checkpoints again (the checkpoint keeps them too).
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
spark_ok("ALTER TABLE $t ALTER COLUMN payload COMMENT 'the payload'", 'ALTER COLUMN COMMENT');
my $comment = "kept by \"cdc\" \x{e9}t\x{e9}";
spark_ok("ALTER TABLE $t SET TBLPROPERTIES ('delta.checkpointInterval' = '1', "
	  . "'comment' = '$comment', 'cdc.test.owner' = 'team a')",
	'ALTER TABLE SET TBLPROPERTIES (with a comment)');
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
my ($spark_meta) = reverse grep { $_ } map { $_->{metaData} } CdcWriter::log_actions($dir);
is($spark_meta->{description}, $comment, "Spark's metaData has the comment as its description");
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
# everything of Spark's metaData but the schema, exactly
my %kept = map { $_ => $meta->{$_} } grep { $_ ne 'schemaString' } keys %$meta;
my %spark_kept = map { $_ => $spark_meta->{$_} } grep { $_ ne 'schemaString' } keys %$spark_meta;
is_deeply(\%kept, \%spark_kept,
	"and kept the rest of Spark's metaData: id, description, format, properties, createdTime");
my ($payload) = grep { $_->{name} eq 'payload' } @{ JSON::PP->new->decode($meta->{schemaString})->{fields} };
is($payload->{metadata}{comment}, 'the payload', "and kept Spark's column comment");
my $our_cp = newest_checkpoint();
cmp_ok($our_cp, '>', $spark_cp, 'the writer checkpointed after Spark');
# our checkpoint, as DuckDB reads it
my $cp_file = sprintf('%s/_delta_log/%020d.checkpoint.parquet', $dir, $our_cp);
my $cpm = CdcWriter::delta_read($dir, "SELECT metaData.id AS id, metaData.description AS description, "
	  . "metaData.createdTime AS created, metaData.format.provider AS provider, "
	  . "cardinality(metaData.format.options) AS noptions, "
	  . "list_transform(map_entries(metaData.configuration), e -> e.key || '=' || e.value) AS conf "
	  . "FROM read_parquet('$cp_file') WHERE metaData IS NOT NULL");
is_deeply($cpm->{errors}, [], 'DuckDB reads the table with our checkpoint');
$_->{conf} = [ sort @{ $_->{conf} } ] for @{ $cpm->{results}[0] // [] };
is_deeply($cpm->{results}[0],
	[ { id => $spark_meta->{id}, description => $comment, created => $spark_meta->{createdTime},
		provider => 'parquet', noptions => 0,
		conf => [ sort map { "$_=$spark_meta->{configuration}{$_}" } keys %{ $spark_meta->{configuration} } ] } ],
	"our checkpoint $our_cp keeps Spark's id, description, createdTime and properties");
my $det = spark_ok("DESCRIBE DETAIL $t", 'DESCRIBE DETAIL');
is($det->{rows}[0]{description}, $comment, "DESCRIBE DETAIL: Spark still sees the table's comment");
is($det->{rows}[0]{id}, $spark_meta->{id}, 'DESCRIBE DETAIL: the same table id');
my $desc = spark_ok("DESCRIBE TABLE $t", 'DESCRIBE TABLE');
my ($dp) = grep { $_->{col_name} eq 'payload' } @{ $desc->{rows} // [] };
is($dp->{comment}, 'the payload', 'DESCRIBE TABLE: Spark still sees the column comment');
my $props = spark_ok("SHOW TBLPROPERTIES $t", 'SHOW TBLPROPERTIES');
my %prop = map { $_->{key} => $_->{value} } @{ $props->{rows} // [] };
is($prop{'cdc.test.owner'}, 'team a', "SHOW TBLPROPERTIES: Spark still sees the user's property");
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
