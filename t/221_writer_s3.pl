# The Delta writer on S3 (a real S3-compatible server, S3Proxy, through
# scripts/s3.sh; -r s3://bucket/prefix):
#  1. the seed lab's changes (PostgreSQL, the cdc_kafka plugin, Apache Kafka) go
#     into a table on S3 that DuckDB reads back from the downloaded files
#     and Spark 3.5 with Delta through s3a (hadoop-aws, the settings
#     scripts/spark-sql.sh takes from AWS_*): both read the same rows, and
#     the current state equals PostgreSQL's table;
#  2. two writers in one consumer group commit to one S3 table at once:
#     no commit lost, none duplicated (every event exactly once, the log's
#     versions without a gap, each with its version checksum), and Spark
#     reads it (from a checkpoint) as DuckDB does;
#  3. kill -9 of the writer in the middle of a multipart upload leaves no
#     visible partial object, and the restart commits every row once;
#  4. wrong credentials, a missing bucket and the server stopped mid-flush
#     each pause the table with an error naming the bucket and the
#     operation, and a restart after the cause is gone loses nothing.
use strict;
use warnings;

use File::Path qw(make_path remove_tree);
use IPC::Run;
use JSON::PP;
use Test::More;
use Time::HiRes qw(usleep);

use CdcKafka;
use CdcS3;
use CdcSpark;
use CdcWriter;

my $work = $ENV{TESTDIR} // die 'TESTDIR unset';
my $tool = CdcKafka::program('writer/storage/objstore/test/objstore_test');
my $s3 = CdcS3->start("$work/s3", 'cdc-lake');
%ENV = (%ENV, $s3->env);
my $stage = "$work/staging";
my @s3args = ('-X', "s3.staging.dir=$stage", '-X', "deadletter.path=$work/dead.jsonl");

# Copies every object under prefix of the bucket into $dir (fresh).
sub mirror
{
	my ($prefix, $dir) = @_;
	remove_tree($dir);
	my ($out, $err) = ('', '');
	IPC::Run::run([ $tool, 'mirror', 's3://cdc-lake', $prefix, $dir ], '>', \$out, '2>', \$err)
	  or die "mirror $prefix: $err";
	return $dir;
}

# Rows committed to the table at key $table (from its log on S3).
sub s3_rows
{
	my ($table) = @_;
	my $copy = mirror("$table/_delta_log/", "$work/poll");
	return CdcWriter::committed_rows("$copy/$table");
}

# Each .parquet object under prefix: [key, bytes, complete (PAR1 at both ends)]
sub parquet_objects
{
	my ($prefix) = @_;
	my $copy = mirror($prefix, "$work/objects");
	my @objs;
	for my $f (split /\n/, `find '$copy' -name '*.parquet' -type f`)
	{
		open my $fh, '<:raw', $f or die;
		my $data = do { local $/; <$fh> };
		close $fh;
		(my $key = $f) =~ s{^\Q$copy\E/}{};
		push @objs, [ $key, length $data,
			substr($data, 0, 4) eq 'PAR1' && substr($data, -4) eq 'PAR1' ];
	}
	return @objs;
}

my $kb = CdcKafka::start_kafka(topics => [ 'lab_cdc.inventory.customers:1',
		's3.public.events:4', 's3.public.big:4', 's3.public.errs:2' ]);

# Spark 3.5 reads the tables of 1 and 2 through s3a (started early, as it
# is slow to start, with AWS_* set)
my $spark = CdcSpark->start('spark35');

# ---------- 1. the seed pipeline into S3, read back by DuckDB and Spark ----------
{
	my $node = CdcKafka::start_pg('s3seed');
	$node->safe_psql('postgres', "SELECT pg_create_logical_replication_slot('s', 'cdc_kafka')");
	CdcKafka::create_seed_table($node);
	CdcKafka::apply_seed_changes($node);
	my @ev = grep { $_->[0] eq 'lab_cdc.inventory.customers' }
	  CdcWriter::plugin_events($node, 's', 'topic-prefix', 'lab_cdc');
	CdcWriter::produce($kb->bootstrap, 'lab_cdc.inventory.customers', map { [ $_->[1], $_->[2] ] } @ev);
	my $expected = $node->safe_psql('postgres',
		"SELECT id || '|' || first_name || '|' || last_name || '|' || email FROM inventory.customers ORDER BY id");

	my $w = CdcWriter::start_writer($kb->bootstrap, 's3://cdc-lake/lake', "$work/seed.log",
		'-t', 'lab_cdc.inventory.customers', '-X', 'flush.interval.ms=300', @s3args);
	ok(CdcWriter::wait_for(sub { s3_rows('lake/inventory/customers') == scalar @ev }),
		'seed: every change event committed to the S3 table') or diag(CdcKafka::slurp("$work/seed.log"));
	is(CdcWriter::stop_writer($w), 0, 'seed: SIGTERM exits 0');
	ok(!-e "$work/lake" && !-e 'lake', 'seed: nothing written to a local directory named like the root');
	my @left = glob("$stage/*");
	is(scalar @left, 0, 'seed: the staging directory holds no file after the uploads');

	my $copy = mirror('lake/inventory/customers/', "$work/seedcopy");
	my $r = CdcWriter::delta_read("$copy/lake/inventory/customers",
		q{SELECT id || '|' || first_name || '|' || last_name || '|' || email AS r FROM (
			SELECT *, row_number() OVER (PARTITION BY id ORDER BY __kafka_offset DESC) AS rn FROM t)
			WHERE rn = 1 AND __op <> 'd' ORDER BY id});
	is_deeply($r->{errors}, [], 'seed: the downloaded log replays cleanly');
	is(join("\n", map { $_->{r} } @{ $r->{results}[0] }), $expected,
		'seed: DuckDB\'s current state of the S3 table equals the table in PostgreSQL');
	my $url = 's3a://cdc-lake/lake/inventory/customers';
	$spark->agrees_with_duckdb($url, 'seed: through s3a', "$copy/lake/inventory/customers");
	is($spark->seed_current_state($url), $expected,
		'seed: Spark\'s current state of the S3 table through s3a equals the table in PostgreSQL');
	my %live;
	for my $a (CdcWriter::log_actions("$copy/lake/inventory/customers"))
	{
		$live{"s3://cdc-lake/lake/inventory/customers/$a->{add}{path}"} = 1 if $a->{add};
		delete $live{"s3://cdc-lake/lake/inventory/customers/$a->{remove}{path}"} if $a->{remove};
	}
	my $ls = `'@{[ CdcWriter::writer_program() ]}' ls s3://cdc-lake/lake/inventory/customers`;
	is_deeply([ sort split /\n/, $ls ], [ sort keys %live ],
		'seed: cdc_delta_writer ls lists the S3 table\'s live files as s3:// URLs');
	$node->stop;
}

# ---------- 2. two writers race on one S3 table ----------
my @fields = ([ seq => 'int64', optional => JSON::PP::false ], [ payload => 'string' ]);
my @key_fields = ([ seq => 'int64', optional => JSON::PP::false ]);
sub events
{
	my ($topic, $from, $to, $size) = @_;
	return map {
		CdcWriter::event(topic => $topic, fields => \@fields, op => 'c', key => { seq => $_ },
			key_fields => \@key_fields, schemas => !$size,
			after => { seq => $_, payload => $size ? random_text($size) : "event $_" })
	} $from .. $to;
}
sub random_text
{
	my ($n) = @_;
	my @c = ('a' .. 'z', 'A' .. 'Z', '0' .. '9');
	return join('', map { $c[ rand @c ] } 1 .. $n);
}

# every event once: rows = distinct offsets = distinct seqs = n
sub exactly_once
{
	my ($table, $n, $label) = @_;
	my $copy = mirror("$table/", "$work/check");
	my $r = CdcWriter::delta_read("$copy/$table",
		'SELECT count(*)::INT AS n, count(DISTINCT (__kafka_partition, __kafka_offset))::INT AS o, count(DISTINCT seq)::INT AS s FROM t');
	is_deeply($r->{errors}, [], "$label: the log replays cleanly");
	is_deeply($r->{results}[0], [ { n => $n, o => $n, s => $n } ], "$label: every event exactly once");
	my @v = sort { $a <=> $b } map { /(\d+)\.json$/ ? $1 + 0 : () } glob("$copy/$table/_delta_log/*.json");
	is_deeply(\@v, [ 0 .. $#v ], "$label: the log's versions 0.." . $#v . " without a gap");
	return $copy;
}

{
	CdcWriter::produce($kb->bootstrap, 's3.public.events', events('s3.public.events', 1, 600));
	my @args = ('-t', 's3.public.events', '-X', 'flush.rows=20', '-X', 'flush.interval.ms=100',
		'-X', 'kafka.group.id=s3race', '-X', 'checkpoint.interval=5', @s3args);
	my $a = CdcWriter::start_writer($kb->bootstrap, 's3://cdc-lake/race', "$work/a.log", @args, '-v', '-v');
	my $b = CdcWriter::start_writer($kb->bootstrap, 's3://cdc-lake/race', "$work/b.log", @args, '-v', '-v');
	ok(CdcWriter::wait_for(sub { s3_rows('race/public/events') >= 600 }),
		'race: the two writers committed every event') or diag(CdcKafka::slurp("$work/a.log"));
	CdcWriter::produce($kb->bootstrap, 's3.public.events', events('s3.public.events', 601, 1200));
	ok(CdcWriter::wait_for(sub { s3_rows('race/public/events') >= 1200 }),
		'race: and the second batch');
	is(CdcWriter::stop_writer($a), 0, 'race: writer A exits 0');
	is(CdcWriter::stop_writer($b), 0, 'race: writer B exits 0');
	my $conflicts = () = (CdcKafka::slurp("$work/a.log") . CdcKafka::slurp("$work/b.log")) =~ /was another writer's; retrying/g;
	diag("race: $conflicts commit(s) lost a version to the other writer and were retried");
	my $copy = exactly_once('race/public/events', 1200, 'race');
	# each commit's version checksum, written after a refresh when the
	# commit lost a race, describes exactly that version
	my ($nv, $problems) = CdcWriter::checksum_problems("$copy/race/public/events");
	is_deeply($problems, [], "race: each of the $nv versions has a .crc on S3 equal to the log's state");
	# commits by two writers, with checkpoints: Spark starts from one
	ok(scalar(glob("$copy/race/public/events/_delta_log/*.checkpoint.parquet")),
		'race: the log has a checkpoint');
	$spark->agrees_with_duckdb('s3a://cdc-lake/race/public/events', 'race: through s3a',
		"$copy/race/public/events");
}
# after PostgreSQL's stop: the server holds the pipes of the processes
# started before it, and Spark's stop waits for their end
$spark->stop;

# ---------- 3. kill -9 in the middle of a multipart upload ----------
{
	# about 11 MB of incompressible text in one file: parts of 5 MiB
	my $n = 9000;
	CdcWriter::produce($kb->bootstrap, 's3.public.big', events('s3.public.big', 1, $n, 1400));
	my @args = ('-t', 's3.public.big', '-X', 'assignment=static', '-X', "flush.rows=$n",
		'-X', 'flush.interval.ms=60000',
		'-X', 's3.multipart.threshold=5242880', '-X', 's3.part.size=5242880', @s3args);
	my $log = "$work/big.log";
	my $w = CdcWriter::start_writer($kb->bootstrap, 's3://cdc-lake/big', $log, @args, '-v', '-v');
	ok(CdcKafka::wait_until(sub { CdcKafka::slurp($log) =~ /part 1 of [2-9]/ }, 120),
		'kill: the writer started a multipart upload');
	CdcKafka::kill9($w);
	my ($uploads) = `curl -s --aws-sigv4 aws:amz:us-east-1:s3 -u '$ENV{AWS_ACCESS_KEY_ID}:$ENV{AWS_SECRET_ACCESS_KEY}' -H 'x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' '$ENV{AWS_ENDPOINT_URL}/cdc-lake?prefix=big%2F&uploads='`;
	like($uploads // '', qr{<Upload>.*<Key>big/public/big/}s,
		'kill: the SIGKILL left an incomplete multipart upload behind');
	my @objs = parquet_objects('big/');
	is_deeply([ grep { !$_->[2] } @objs ], [], 'kill: no partial Parquet object is visible');
	is(s3_rows('big/public/big'), 0, 'kill: nothing committed yet');

	$w = CdcWriter::start_writer($kb->bootstrap, 's3://cdc-lake/big', $log, @args);
	ok(CdcWriter::wait_for(sub { s3_rows('big/public/big') >= $n }),
		'kill: the restarted writer committed every row') or diag(CdcKafka::slurp($log));
	is(CdcWriter::stop_writer($w), 0, 'kill: SIGTERM exits 0');
	my $copy = exactly_once('big/public/big', $n, 'kill');
	my %size = map { $_->[0] => $_->[1] } parquet_objects('big/');
	my @bad = grep { ($size{"big/public/big/$_->{add}{path}"} // -1) != $_->{add}{size} }
	  grep { $_->{add} } CdcWriter::log_actions("$copy/big/public/big");
	is_deeply(\@bad, [], 'kill: every committed file is on S3 whole, at its logged size');
}

# ---------- 4. failures name the bucket and the operation, lose nothing ----------
{
	CdcWriter::produce($kb->bootstrap, 's3.public.errs', events('s3.public.errs', 1, 100));
	my @args = ('-t', 's3.public.errs', '-X', 'assignment=static', '-X', 'flush.interval.ms=200',
		'-X', 's3.max_attempts=3', @s3args);
	my $log = "$work/errs.log";

	# a table that S3 refuses pauses its partitions with one error line;
	# the writer stays up for the other tables
	my $paused = qr/its partitions are paused until a restart/;
	{
		local $ENV{AWS_SECRET_ACCESS_KEY} = 'not-the-right-secret';
		my $w = CdcWriter::start_writer($kb->bootstrap, 's3://cdc-lake/errs', $log, @args);
		ok(CdcKafka::wait_until(sub { CdcKafka::slurp($log) =~ $paused }, 60),
			'wrong secret: the table is paused') or diag(CdcKafka::slurp($log));
		CdcWriter::stop_writer($w);
	}
	my $text = CdcKafka::slurp($log);
	like($text, qr/table of s3\.public\.errs: S3 list of "errs\/public\/errs\/_delta_log\/" in bucket "cdc-lake": HTTP 403 SignatureDoesNotMatch.*$paused/,
		'wrong secret: the error names the table, the operation, the bucket and S3\'s answer');
	unlike($text, qr/not-the-right-secret|\Q$ENV{AWS_SECRET_ACCESS_KEY}\E/, 'wrong secret: no secret in the log');

	truncate($log, 0);
	my $w = CdcWriter::start_writer($kb->bootstrap, 's3://no-such-bucket/errs', $log, @args);
	ok(CdcKafka::wait_until(sub { CdcKafka::slurp($log) =~ $paused }, 60),
		'missing bucket: the table is paused');
	CdcWriter::stop_writer($w);
	like(CdcKafka::slurp($log), qr/in bucket "no-such-bucket": HTTP 404 NoSuchBucket/,
		'missing bucket: the error names the bucket');

	# the server goes away between two flushes
	truncate($log, 0);
	$w = CdcWriter::start_writer($kb->bootstrap, 's3://cdc-lake/errs', $log, @args);
	ok(CdcWriter::wait_for(sub { s3_rows('errs/public/errs') >= 100 }), 'outage: the first 100 rows are committed');
	$s3->stop;
	CdcWriter::produce($kb->bootstrap, 's3.public.errs', events('s3.public.errs', 101, 200));
	ok(CdcKafka::wait_until(sub { CdcKafka::slurp($log) =~ $paused }, 120),
		'outage: the flush fails for good and the table is paused');
	like(CdcKafka::slurp($log), qr/S3 (put|list|get)\S* of "errs\/public\/errs\/[^"]+" in bucket "cdc-lake" failed after 3 attempts/,
		'outage: the error names the operation, the key, the bucket and the attempts');
	CdcWriter::stop_writer($w);
	$s3->start_again;
	$w = CdcWriter::start_writer($kb->bootstrap, 's3://cdc-lake/errs', $log, @args);
	ok(CdcWriter::wait_for(sub { s3_rows('errs/public/errs') >= 200 }), 'outage: after a restart every row is committed');
	is(CdcWriter::stop_writer($w), 0, 'outage: SIGTERM exits 0');
	exactly_once('errs/public/errs', 200, 'outage');
}

$kb->stop;
$s3->stop;
done_testing();
