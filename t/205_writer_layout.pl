# Delta writer, the Parquet layout as DuckDB sees it: many row groups and
# pages in one file (small parquet.row_group.bytes and parquet.page.bytes),
# dictionary-encoded and plain columns (parquet.dictionary on and off),
# nullable columns with runs of nulls, and the add actions' statistics
# (numRecords, minValues, maxValues, nullCount) equal to the data.  Every
# version has its version checksum (.crc), equal to the state the log gives
# and valid for Delta's own check, which fails on a wrong one.
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
my $log = "$work/writer.log";
my $n = 12000;
my @cats = qw(alpha beta gamma delta epsilon);

my $kb = CdcKafka::start_kafka(topics => [ 'lay.public.dict:4', 'lay.public.plain:4' ]);
for my $name ('dict', 'plain')
{
	my $topic = "lay.public.$name";
	my @msgs;
	for my $i (1 .. $n)
	{
		my $uid = sprintf('%08x', $i) x 12;
		push @msgs, CdcWriter::event(topic => $topic, schemas => 0, op => 'c', key => { id => $i },
			after => { id => $i, category => $cats[ $i % 5 ], uid => $uid,
				maybe => ($i % 3 == 0 ? undef : $i * 2), ratio => $i / 7 });
	}
	CdcWriter::produce($kb->bootstrap, $topic, @msgs);
}

my %dirs;
for my $name ('dict', 'plain')
{
	my $root = "$work/delta_$name";
	my $dir = "$root/public/$name";
	$dirs{$name} = $dir;
	my $w = CdcWriter::start_writer($kb->bootstrap, $root, $log, '-t', "lay.public.$name",
		'-X', 'assignment=static', '-X', 'flush.interval.ms=60000',
		'-X', 'parquet.row_group.bytes=65536', '-X', 'parquet.page.bytes=4096',
		'-X', 'parquet.dictionary=' . ($name eq 'dict' ? 'true' : 'false'));
	# wait until the writer has read everything (its positions), then SIGTERM commits
	my $deadline = time + 60;
	sleep 1 while time < $deadline && slurp($log) !~ /assigned lay\.public\.$name \[3\]/;
	sleep 4;
	is(CdcWriter::stop_writer($w), 0, "$name: SIGTERM commits and exits 0");
	is(CdcWriter::committed_rows($dir), $n, "$name: all $n rows committed in the final commit");

	my $r = CdcWriter::delta_read($dir,
		q{SELECT count(*)::BIGINT AS n, sum(id)::BIGINT AS s, count(DISTINCT uid)::BIGINT AS u,
		         count(maybe)::BIGINT AS m, sum(maybe)::BIGINT AS ms, max(abs(ratio - id / 7.0)) < 1e-9 AS ratio_ok
		    FROM t},
		q{SELECT category, count(*)::BIGINT AS n FROM t GROUP BY 1 ORDER BY 1},
		q{SELECT count(DISTINCT (file_name, row_group_id))::BIGINT AS rg FROM parquet_metadata({files})},
		q{SELECT path_in_schema AS col, string_agg(DISTINCT encodings, ';') AS enc
		    FROM parquet_metadata({files}) WHERE path_in_schema IN ('category', 'uid', 'id')
		   GROUP BY 1 ORDER BY 1},
		q{SELECT min(id)::BIGINT AS lo, max(id)::BIGINT AS hi, min(category) AS clo, max(category) AS chi,
		         count(*) FILTER (WHERE maybe IS NULL)::BIGINT AS nulls FROM t});
	is_deeply($r->{errors}, [], "$name: log replays cleanly");
	my $sum_maybe = 0;
	my $cnt_maybe = 0;
	for my $i (1 .. $n) { next if $i % 3 == 0; $sum_maybe += 2 * $i; $cnt_maybe++; }
	is_deeply($r->{results}[0], [ { n => "$n", s => '' . ($n * ($n + 1) / 2), u => "$n",
				m => "$cnt_maybe", ms => "$sum_maybe", ratio_ok => JSON::PP::true } ],
		"$name: every value read back (ids, unique strings, nulls every third row, doubles)");
	is_deeply($r->{results}[1], [ map { my $c = $_; { category => $c, n => '' . $n / 5 } } sort @cats ],
		"$name: low-cardinality strings");
	cmp_ok($r->{results}[2][0]{rg}, '>', 3, "$name: several row groups ($r->{results}[2][0]{rg})");
	my %enc = map { $_->{col} => $_->{enc} } @{ $r->{results}[3] };
	if ($name eq 'dict')
	{
		like($enc{category}, qr/DICTIONARY/, "dict: category is dictionary-encoded ($enc{category})");
	}
	else
	{
		unlike(join(';', values %enc), qr/DICTIONARY/, "plain: no dictionary anywhere ($enc{category})");
		like($enc{uid}, qr/PLAIN/, 'plain: uid is PLAIN');
	}

	# the add actions' statistics against the data
	my %stats = (num => 0, nulls => 0);
	for my $f (glob("$dir/_delta_log/*.json"))
	{
		open(my $fh, '<', $f) or die;
		for my $line (<$fh>)
		{
			my $a = JSON::PP->new->decode($line);
			next unless $a->{add};
			my $st = JSON::PP->new->decode($a->{add}{stats});
			$stats{num} += $st->{numRecords};
			# a file from before the column existed has it all null
			$stats{nulls} += $st->{nullCount}{maybe} // $st->{numRecords};
			$stats{lo} = $st->{minValues}{id} if !defined $stats{lo} || $st->{minValues}{id} < $stats{lo};
			$stats{hi} = $st->{maxValues}{id} if !defined $stats{hi} || $st->{maxValues}{id} > $stats{hi};
			$stats{clo} = $st->{minValues}{category} if !defined $stats{clo} || $st->{minValues}{category} lt $stats{clo};
			$stats{chi} = $st->{maxValues}{category} if !defined $stats{chi} || $st->{maxValues}{category} gt $stats{chi};
		}
	}
	my $d = $r->{results}[4][0];
	is_deeply([ @stats{qw(num lo hi clo chi nulls)} ], [ $n, $d->{lo}, $d->{hi}, $d->{clo}, $d->{chi}, $d->{nulls} ],
		"$name: stats numRecords, min/max of id and category, nullCount of maybe match the data");
}

# flush.bytes alone (rows and time out of reach) cuts the stream into files
{
	my $root = "$work/delta_bytes";
	my $dir = "$root/public/dict";
	my $w = CdcWriter::start_writer($kb->bootstrap, $root, $log, '-t', 'lay.public.dict',
		'-X', 'assignment=static', '-X', 'flush.interval.ms=600000', '-X', 'flush.rows=1000000',
		'-X', 'flush.bytes=131072', '-X', 'parquet.row_group.bytes=65536');
	ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($dir) >= $n / 2 }, 60),
		'flush.bytes: commits happen without a row or time threshold');
	is(CdcWriter::stop_writer($w), 0, 'flush.bytes: SIGTERM exits 0');
	my $r = CdcWriter::delta_read($dir, 'SELECT count(*)::BIGINT AS n FROM t',
		'SELECT max(total_compressed_size)::BIGINT AS m FROM parquet_metadata({files})');
	is_deeply($r->{errors}, [], 'flush.bytes: log replays cleanly');
	# SIGTERM came mid-stream: the table holds exactly the consumed prefix
	my $prefix = 0;
	$prefix += $_ + 1 for values %{ CdcWriter::txn_versions($dir) };
	is($r->{results}[0][0]{n}, "$prefix", "flush.bytes: rows = offsets the log covers ($prefix)");
	cmp_ok($r->{files}, '>=', 3, "flush.bytes: the stream was cut into files ($r->{files})");
}

sub slurp { open(my $f, '<', $_[0]) or return ''; local $/; return <$f>; }

# assignment=static has no group member: no offset commits, so no
# "COMMITFAIL ... Unknown member" after each Delta commit (the broker
# answers so once the group exists, e.g. after a run with assignment=group)
{
	my $topic = 'lay.public.static';
	my $root = "$work/delta_static";
	my $dir = "$root/public/static";
	my $slog = "$work/static.log";
	my $w;
	$kb->create_topic("$topic:2");
	for my $batch (1 .. 3)
	{
		$w = CdcWriter::start_writer($kb->bootstrap, $root, $slog, '-t', $topic,
			'-X', 'assignment=' . ($batch == 1 ? 'group' : 'static'), '-X', 'flush.interval.ms=100')
		  if $batch < 3;
		CdcWriter::produce($kb->bootstrap, $topic, map {
				CdcWriter::event(topic => $topic, schemas => 0, op => 'c', key => { id => $_ }, after => { id => $_ })
		} (10 * $batch .. 10 * $batch + 9));
		ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($dir) == 10 * $batch }),
			"batch $batch committed");
		if ($batch == 1)
		{
			is(CdcWriter::stop_writer($w), 0, 'assignment=group: SIGTERM exits 0');
			truncate($slog, 0);
		}
	}
	is(CdcWriter::stop_writer($w), 0, 'assignment=static: SIGTERM exits 0');
	unlike(slurp($slog), qr/COMMITFAIL|Unknown member/, 'assignment=static: no failed group offset commits in the log');
}

# Spark, through Delta's own log reader, reads what DuckDB reads
$spark->agrees_with_duckdb($dirs{$_}, "$_: many row groups and pages") for sort keys %dirs;
$spark->agrees_with_duckdb("$work/delta_bytes/public/dict", 'files cut at flush.bytes');

# a version checksum (.crc) for every version: one commit, several, and
# several over writer restarts (group, then static)
$spark->checksums_valid($dirs{$_}, "$_: a table written in one run") for sort keys %dirs;
$spark->checksums_valid("$work/delta_bytes/public/dict", 'several commits');
$spark->checksums_valid("$work/delta_static/public/static", 'commits of three writer runs');
# and both checks fail on a wrong one: a copy with one file too many in its newest .crc
{
	my $copy = "$work/tampered";
	system('cp', '-r', "$work/delta_bytes/public/dict", $copy) == 0 or die "cp: $?";
	my ($crc) = reverse sort glob("$copy/_delta_log/*.crc");
	open(my $fh, '<', $crc) or die "$crc: $!";
	my $text = <$fh>;
	close $fh;
	my ($v) = $crc =~ m{/(\d{20})\.crc$};
	my $files = $text =~ /"numFiles":(\d+)/ ? $1 : die "$crc: no numFiles";
	$text =~ s/"numFiles":\d+/'"numFiles":' . ($files + 1)/e;
	open($fh, '>', $crc) or die "$crc: $!";
	print $fh $text;
	close $fh;
	my ($n, $problems) = CdcWriter::checksum_problems($copy);
	is_deeply($problems, [ sprintf('version %d: numFiles %d, the log says %d', $v, $files + 1, $files) ],
		'a wrong numFiles: the log check names it');
	like($spark->checksum_error($copy), qr/DELTA_TXN_LOG_FAILED_INTEGRITY/,
		'a wrong numFiles: Delta fails the transaction (integrity check)');
}
$spark->stop;

$kb->stop;
done_testing();
