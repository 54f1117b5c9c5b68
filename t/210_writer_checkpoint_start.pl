# The Delta writer opens a table from its newest checkpoint: after Delta's
# log cleanup has deleted the JSON commits before it, the writer starts
# from the checkpoint, replays only the commits after it, takes the Kafka
# positions from the checkpoint's txn rows and goes on exactly once.
#   1. Checkpoints the writer wrote itself (checkpoint.interval=3).
#   2. Checkpoints written by an independent Parquet writer (DuckDB,
#      t/js/delta_checkpoint_make.mjs): snappy, zstd, gzip; data pages v1
#      and v2 (dictionary and delta encodings); single and multi-part.
#   3. A corrupt checkpoint: with every JSON commit present the writer falls
#      back to JSON replay and says so; without them it pauses the table naming the
#      file.  Malformed Parquet (bad magic, truncated footer, garbage page)
#      gives the reader's error, never a crash; so do the crafted files of
#      t/PqCraft.pm (repeated footer fields, 2^60 rows, dictionary and
#      prefix bombs, overflowing sizes), run under a memory limit and a
#      timeout so that a regression fails instead of hanging.
#   4. Which checkpoint: an unreadable newest one gives way to an older one,
#      then to JSON replay from 0; a 1-of-1 multi-part name; a checkpoint
#      being written (.tmp-PID) is no V2 checkpoint; protocol versions
#      beyond int are rejected; more than 256 configuration entries
#      survive the writer's own checkpoint; another engine's name,
#      description and format options survive a schema change and
#      checkpoints, and the version checksums (.crc) carry them.
# In every case the table state read from the checkpoint equals the one
# JSON replay gives (delta_tool state), and DuckDB still reads the table.
use strict;
use warnings;

use File::Copy qw(copy);
use File::Temp qw(tempdir);
use IPC::Run;
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
my $tool = CdcKafka::program('writer/storage/delta/test/delta_tool');
my @fields = ([ seq => 'int64', optional => JSON::PP::false ], [ payload => 'string' ]);
my @topics = map { "cp.public.$_" } qw(own duck full);
my $kb = CdcKafka::start_kafka(topics => [ map { "$_:2" } @topics ]);
my %seq;

sub slurp_file
{
	my ($f) = @_;
	open(my $fh, '<', $f) or die "$f: $!";
	binmode $fh;
	local $/;
	my $s = <$fh>;
	close $fh;
	return $s;
}

sub table_dir { my ($topic) = @_; $topic =~ s/^cp\.public\.//; return "$root/public/$topic"; }

sub produce_n
{
	my ($topic, $n) = @_;
	my @ev;
	for (1 .. $n)
	{
		my $s = ++$seq{$topic};
		push @ev, CdcWriter::event(topic => $topic, fields => \@fields, op => 'c',
			key => { seq => $s }, key_fields => [ [ seq => 'int64', optional => JSON::PP::false ] ],
			after => { seq => $s, payload => "event $s" });
	}
	CdcWriter::produce($kb->bootstrap, $topic, @ev);
	return;
}

sub run_tool
{
	my @cmd = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ $tool, @cmd ], '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err, $? & 127);
}

# Rows in the table as an independent reader sees it (DuckDB, starting at
# the checkpoint when the older commits are gone).
sub table_rows
{
	my ($dir) = @_;
	my $r = CdcWriter::delta_read($dir, 'SELECT count(*)::BIGINT AS n FROM t');
	return @{ $r->{errors} } ? -1 : $r->{results}[0][0]{n} + 0;
}

sub run_writer_until
{
	my ($topic, $log, $want, @extra) = @_;
	my $w = CdcWriter::start_writer($kb->bootstrap, $root, $log, '-t', $topic,
		'-X', 'assignment=static', '-X', 'flush.rows=5', '-X', 'flush.interval.ms=100', @extra);
	my $ok = CdcWriter::wait_for(sub { table_rows(table_dir($topic)) >= $want }, 120);
	is(CdcWriter::stop_writer($w), 0, "$topic: writer stops with exit code 0 on SIGTERM");
	return $ok;
}

sub commits { my ($dir) = @_; return sort glob("$dir/_delta_log/*.json"); }
sub version_of { my ($f) = @_; return $f =~ m{/(\d{20})\.json$} ? $1 + 0 : -1; }

# Every event exactly once, checked with DuckDB over the live files.
sub check_exactly_once
{
	my ($topic, $what) = @_;
	my $n = $seq{$topic};
	my $r = CdcWriter::delta_read(table_dir($topic),
		q{SELECT count(*)::BIGINT AS n, count(DISTINCT (__kafka_partition, __kafka_offset))::BIGINT AS po,
		         count(DISTINCT seq)::BIGINT AS seqs, min(seq)::BIGINT AS lo, max(seq)::BIGINT AS hi FROM t});
	is_deeply($r->{errors}, [], "$what: DuckDB reads the table (checkpoint + commits) cleanly");
	is_deeply($r->{results}[0], [ { n => "$n", po => "$n", seqs => "$n", lo => '1', hi => "$n" } ],
		"$what: all $n events exactly once");
	return $r;
}

# ---------- 1. the writer's own checkpoints ----------
{
	my $topic = $topics[0];
	my $dir = table_dir($topic);
	my $log = "$work/own.log";
	produce_n($topic, 60);
	ok(run_writer_until($topic, $log, 60, '-X', 'checkpoint.interval=3'), 'own: 60 events committed');
	my @c = commits($dir);
	cmp_ok(scalar @c, '>', 6, 'own: more commits than checkpoint.interval (' . scalar(@c) . ')');
	my $last = decode_json(slurp_file("$dir/_delta_log/_last_checkpoint"));
	my $cp = $last->{version};
	ok(-e sprintf("$dir/_delta_log/%020d.checkpoint.parquet", $cp), "own: checkpoint $cp exists");
	# zstd, as the Delta protocol recommends for checkpoints (DuckDB says so)
	my ($codecs, $cerr) = ('', '');
	IPC::Run::run([ 'node', "$CdcKafka::ROOT/t/js/duckdb_cli.mjs", '-csv', '-noheader', '-c',
			sprintf("SELECT DISTINCT compression FROM parquet_metadata('$dir/_delta_log/%020d.checkpoint.parquet')", $cp) ],
		'<', \undef, '>', \$codecs, '2>', \$cerr, IPC::Run::timeout(120));
	is($codecs, "ZSTD\n", 'own: the checkpoint is zstd-compressed') or diag($cerr);
	my ($rc, $json_state) = run_tool('state', $dir);
	is($rc, 0, 'own: state before the cleanup');
	my $txns_before = CdcWriter::txn_versions($dir);

	# Delta's log cleanup: commits older than the checkpoint go
	unlink grep { version_of($_) < $cp } @c;
	ok(!-e "$dir/_delta_log/" . ('0' x 20) . '.json', 'own: commit 0 deleted');
	my ($rc2, $cp_state, $err) = run_tool('state', $dir);
	is($rc2, 0, 'own: the table opens without its early commits');
	like($err, qr/started from checkpoint "[^"]*\Q${\ sprintf('%020d', $cp)}\E\.checkpoint\.parquet"/,
		'own: it says it started from the checkpoint');
	is($cp_state, $json_state, 'own: the state from the checkpoint equals JSON replay');
	like($cp_state, qr/^txn \Q$topic\E-0 \d+ \d+$/m, 'own: the Kafka positions are in the state');

	produce_n($topic, 40);
	ok(run_writer_until($topic, $log, 100, '-X', 'checkpoint.interval=3'), 'own: the restarted writer catches up');
	like(slurp_file($log), qr/table \Q$dir\E: started from checkpoint/, 'own: the writer logs that it started from the checkpoint');
	my $r = check_exactly_once($topic, 'own');
	# Spark has no commit 0 to start from: it must start from our checkpoint
	$spark->agrees_with_duckdb($dir, 'own checkpoints, the commits before them deleted');
	my $txns = CdcWriter::txn_versions($dir);
	cmp_ok($txns->{"$topic-$_"} // -1, '>', $txns_before->{"$topic-$_"} // -1,
		"own: partition $_ moved on from its checkpointed position") for (0, 1);

	# 3a. a corrupt checkpoint while the older commits are gone: the table
	# cannot be opened, its partitions wait (the writer itself goes on)
	my $newest = decode_json(slurp_file("$dir/_delta_log/_last_checkpoint"))->{version};
	my $cpfile = sprintf("$dir/_delta_log/%020d.checkpoint.parquet", $newest);
	unlink grep { version_of($_) < $newest } commits($dir);
	open(my $fh, '+<', $cpfile) or die "$cpfile: $!";
	seek($fh, 40, 0);
	print $fh "\xff" x 64;	# into the first column chunk's page header
	close($fh);
	my $wlog = "$work/own_corrupt.log";
	my $w = CdcWriter::start_writer($kb->bootstrap, $root, $wlog, '-t', $topic, '-X', 'assignment=static');
	ok(CdcWriter::wait_for(sub { slurp_file($wlog) =~ /paused until a restart/ }, 60),
		'own: a corrupt checkpoint without the older commits: the table is paused');
	is(CdcWriter::stop_writer($w), 0, 'own: the writer stops cleanly on SIGTERM');
	my $werr = slurp_file($wlog);
	like($werr, qr/\Q$cpfile\E.*(page|column|Thrift)/, 'own: the message names the checkpoint file and the reason');
	like($werr, qr/JSON commits before it are missing/, 'own: and says why there is no fallback');
}

# ---------- 2. checkpoints written by DuckDB ----------
{
	my $topic = $topics[1];
	my $dir = table_dir($topic);
	my $log = "$work/duck.log";
	my $want = 0;
	for my $round ([ 'snappy', 'v1', 1 ], [ 'zstd', 'v2', 1 ], [ 'gzip', 'v2', 2 ], [ 'snappy', 'v2', 3 ])
	{
		my ($codec, $pv, $parts) = @$round;
		my $what = "DuckDB $codec, pages $pv, $parts part(s)";
		produce_n($topic, 30);
		$want += 30;
		# checkpoint.interval=0: every checkpoint in this table is DuckDB's
		ok(run_writer_until($topic, $log, $want, '-X', 'checkpoint.interval=0'), "$what: $want events committed");
		my @c = commits($dir);
		my $v = version_of($c[-1]);
		my ($rc, $json_state) = run_tool('state', $dir);
		my ($out, $err) = ('', '');
		IPC::Run::run([ 'node', "$CdcKafka::ROOT/t/js/delta_checkpoint_make.mjs", $dir, $v, $codec, $pv, $parts ],
			'<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(120));
		is($?, 0, "$what: checkpoint $v written") or diag($err);
		my $made = decode_json($out);
		like($made->{metadata}{codecs}, qr/^\U$codec\E$/, "$what: the file is $codec-compressed");
		like($made->{metadata}{encodings}, qr/DICTIONARY/, "$what: with dictionary pages");
		like($made->{metadata}{encodings}, qr/DELTA_/, "$what: and delta encodings (format v2)") if $pv eq 'v2';
		cmp_ok($made->{metadata}{row_groups}, '>', 1, "$what: several row groups") if $parts == 1;
		unlink grep { version_of($_) <= $v } @c;
		my ($rc2, $cp_state, $err2) = run_tool('state', $dir);
		is($rc2, 0, "$what: the table opens from it") or diag($err2);
		like($err2, qr/started from checkpoint .*\(version $v, $parts parts?\), then 0 JSON/, "$what: from the checkpoint alone");
		is($cp_state, $json_state, "$what: the state equals JSON replay (protocol, metaData, txns, adds)");
	}
	produce_n($topic, 30);
	$want += 30;
	ok(run_writer_until($topic, $log, $want, '-X', 'checkpoint.interval=0'), 'duck: the writer resumes after the last checkpoint');
	like(slurp_file($log), qr/started from checkpoint/, 'duck: the writer logs the checkpoint start');
	check_exactly_once($topic, 'duck');
	$spark->agrees_with_duckdb($dir, "DuckDB's checkpoints, the commits before them deleted");
	$spark->stop;
}

# ---------- 3b. a corrupt checkpoint with every JSON commit present ----------
{
	my $topic = $topics[2];
	my $dir = table_dir($topic);
	my $log = "$work/full.log";
	produce_n($topic, 40);
	ok(run_writer_until($topic, $log, 40, '-X', 'checkpoint.interval=3'), 'full: 40 events committed');
	my $cp = decode_json(slurp_file("$dir/_delta_log/_last_checkpoint"))->{version};
	my $cpfile = sprintf("$dir/_delta_log/%020d.checkpoint.parquet", $cp);
	my $size = -s $cpfile;
	truncate($cpfile, $size - 20) or die "truncate: $!";
	my ($rc, $state, $err) = run_tool('state', $dir);
	is($rc, 0, 'full: a truncated checkpoint does not stop the table from opening');
	like($err, qr/^warning: cannot start from checkpoint version $cp: .*\Q$cpfile\E.*PAR1.*started from the older checkpoint/m,
		'full: it says the checkpoint is unreadable and the one before it stood in');
	produce_n($topic, 20);
	ok(run_writer_until($topic, $log, 60, '-X', 'checkpoint.interval=1000'), 'full: the writer goes on');
	like(slurp_file($log), qr/warn.*cannot start from checkpoint version $cp/i, 'full: the writer logs the fallback as a warning');
	check_exactly_once($topic, 'full');
}

# ---------- 3c. malformed Parquet files through the reader ----------
{
	my $good = (glob(table_dir($topics[0]) . '/_delta_log/*.checkpoint.parquet'))[0];
	my ($rc0, $out0) = run_tool('cp-read', (glob(table_dir($topics[2]) . '/_delta_log/*.checkpoint.parquet'))[0]);
	my $bytes = slurp_file((glob(table_dir($topics[2]) . '/_delta_log/*.checkpoint.parquet'))[0]);
	my %bad = (
		'bad magic' => [ 'XXXX' . substr($bytes, 4), qr/no PAR1 magic at the start/ ],
		'truncated footer' => [ substr($bytes, 0, length($bytes) - 30), qr/no PAR1 magic at the end/ ],
		'footer length past the start' => [ substr($bytes, 0, length($bytes) - 8) . pack('V', 1 << 30) . 'PAR1',
			qr/footer length \d+ does not fit/ ],
		'garbage footer' => [ do { my $b = $bytes; my $fl = unpack('V', substr($b, -8, 4));
				substr($b, length($b) - 8 - $fl, $fl) = "\x19\xfc" x ($fl / 2) . ("\x00" x ($fl % 2)); $b },
			qr/corrupt|schema|footer/ ],
		'garbage page' => [ do { my $b = $bytes; substr($b, 4, 200) = "\xa5" x 200; $b },
			qr/page|levels|values|Thrift|codec|column/ ],
		'empty file' => [ '', qr/too short/ ],
	);
	for my $name (sort keys %bad)
	{
		my $f = "$work/bad.checkpoint.parquet";
		open(my $fh, '>', $f) or die "$f: $!";
		binmode $fh;
		print $fh $bad{$name}[0];
		close $fh;
		my ($rc, $out, $err, $sig) = run_tool('cp-read', $f);
		is($sig, 0, "$name: no crash");
		is($rc, 2, "$name: an error");
		like($err, qr/\Q$f\E.*$bad{$name}[1]/, "$name: the message names the file and the reason");
	}
	is($rc0, 0, 'the unmodified checkpoint reads');
}

# ---------- 3d. crafted Parquet: clean errors, no crash, hang or huge memory ----------
# t/PqCraft.pm builds each file by hand.  The reader runs under a 2 GB
# address space limit and a 60 s timeout, so a regression fails here
# instead of hanging the suite or taking the machine's memory.
sub run_tool_limited
{
	my @cmd = @_;
	my ($out, $err) = ('', '');
	my $ok = eval {
		IPC::Run::run([ 'sh', '-c', 'ulimit -v 2097152; exec "$@"', 'sh', $tool, @cmd ],
			'<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(60));
		1;
	};
	return (-1, $out, "timed out or failed: $@", 0) unless $ok;
	return ($? >> 8, $out, $err, $? & 127);
}

{
	require PqCraft;
	for my $name (sort keys %PqCraft::CASES)
	{
		my ($gen, $want) = @{ $PqCraft::CASES{$name} };
		my $f = "$work/crafted.parquet";
		open(my $fh, '>', $f) or die "$f: $!";
		binmode $fh;
		print $fh $gen->();
		close $fh;
		my ($rc, $out, $err, $sig) = run_tool_limited('cp-read', $f);
		is($sig, 0, "crafted, $name: no crash");
		is($rc, 2, "crafted, $name: a clean error exit") or diag(substr($err, 0, 500));
		like($err, qr/^cp-read: .*\Q$f\E.*$want/, "crafted, $name: the message says why") or diag(substr($err, 0, 500));
	}
}

# ---------- 4. checkpoint choice and fallback (delta_tool tables) ----------
sub append_n
{
	my ($dir, $n, $interval) = @_;
	for my $i (1 .. $n)
	{
		my ($rc, $out, $err) = run_tool('append', $dir, 'app', $i * 10, 10, "interval=$interval");
		die "append: $err" if $rc != 0;
	}
	return;
}
sub cp_path { my ($dir, $v) = @_; return sprintf("%s/_delta_log/%020d.checkpoint.parquet", $dir, $v); }
sub commit_path { my ($dir, $v) = @_; return sprintf("%s/_delta_log/%020d.json", $dir, $v); }

# 4a. checkpoints 3 and 6: an unreadable 6 falls back to 3, then to JSON
# from 0; without commits 0..2, 3 + commits 4..6 still open the table.
{
	my $dir = "$work/fallback";
	append_n($dir, 7, 3);
	ok(-e cp_path($dir, 3) && -e cp_path($dir, 6), 'fallback: checkpoints 3 and 6 written');
	my ($rc0, $json_state) = run_tool('state', $dir);
	is($rc0, 0, 'fallback: state from JSON');
	my $cp6 = cp_path($dir, 6);
	my $cp3 = cp_path($dir, 3);
	truncate($cp6, (-s $cp6) - 20) or die "truncate: $!";
	my ($rc, $state, $err) = run_tool('state', $dir);
	is($rc, 0, 'fallback: opens with checkpoint 6 truncated');
	like($err, qr/^warning: cannot start from checkpoint version 6: .*\Q$cp6\E.*; started from the older checkpoint "\Q$cp3\E" \(version 3, 1 part\) instead, then 3 JSON/m,
		'fallback: warns naming the bad file, starts from checkpoint 3');
	is($state, $json_state, 'fallback: the state from checkpoint 3 equals JSON replay');

	my $cp3_bytes = slurp_file($cp3);
	truncate($cp3, 100) or die "truncate: $!";
	($rc, $state, $err) = run_tool('state', $dir);
	is($rc, 0, 'fallback: opens with both checkpoints unreadable');
	like($err, qr/^warning: cannot start from checkpoint version 6: .*\Q$cp6\E.*replayed all 7 JSON commits from version 0/m,
		'fallback: then JSON replay from 0');
	is($state, $json_state, 'fallback: the same state');

	open(my $fh, '>', $cp3) or die "$cp3: $!";
	binmode $fh;
	print $fh $cp3_bytes;
	close $fh;
	unlink map { commit_path($dir, $_) } 0 .. 2;
	($rc, $state, $err) = run_tool('state', $dir);
	is($rc, 0, 'fallback: commits 0..2 deleted, checkpoint 6 bad: checkpoint 3 + commits 4..6 open the table')
		or diag($err);
	is($state, $json_state, 'fallback: the same state again');

	truncate($cp3, 100) or die "truncate: $!";
	($rc, $state, $err) = run_tool('state', $dir);
	is($rc, 2, 'fallback: nothing usable left: exit 2');
	like($err, qr/cannot start from checkpoint version 6: .*\Q$cp6\E.*no older checkpoint is readable either, and the JSON commits before it are missing/,
		'fallback: the message names the newest bad checkpoint and why there is no fallback');
}

# 4b. a 1-of-1 multi-part name (N.checkpoint.0000000001.0000000001.parquet)
{
	my $dir = "$work/oneofone";
	append_n($dir, 4, 3);
	my ($rc0, $json_state) = run_tool('state', $dir);
	my $multi = sprintf("%s/_delta_log/%020d.checkpoint.0000000001.0000000001.parquet", $dir, 3);
	rename(cp_path($dir, 3), $multi) or die "rename: $!";
	unlink map { commit_path($dir, $_) } 0 .. 3;
	my ($rc, $state, $err) = run_tool('state', $dir);
	is($rc, 0, '1-of-1: opens from a checkpoint named as part 1 of 1') or diag($err);
	like($err, qr/started from checkpoint "\Q$multi\E" \(version 3, 1 part\), then 0 JSON/, '1-of-1: from that file');
	is($state, $json_state, '1-of-1: the state equals JSON replay');
}

# 4c. a checkpoint being written (N.checkpoint.parquet.tmp-PID) is no V2
# checkpoint; a UUID-named one is.
{
	my $dir = "$work/tmpname";
	append_n($dir, 3, 0);
	unlink commit_path($dir, 0);
	my $tmp = cp_path($dir, 1) . '.tmp-12345';
	open(my $fh, '>', $tmp) or die "$tmp: $!";
	close $fh;
	my ($rc, $state, $err) = run_tool('state', $dir);
	is($rc, 2, 'tmp name: a gap without a checkpoint: exit 2');
	like($err, qr/commit 0 missing \(a gap, and no checkpoint to start from\)/, 'tmp name: the temp file is not taken for a V2 checkpoint');
	my $v2 = sprintf("%s/_delta_log/%020d.checkpoint.80a083e8-7026-4e79-81be-64bd76c43a11.json", $dir, 1);
	open($fh, '>', $v2) or die "$v2: $!";
	close $fh;
	($rc, $state, $err) = run_tool('state', $dir);
	like($err, qr/only checkpoint \(version 1\) is a V2/, 'tmp name: a UUID-named one is');
}

# 4d. protocol versions beyond int: rejected, not truncated (2^32 + 1 -> 1)
{
	my $dir = "$work/bigproto";
	append_n($dir, 1, 0);
	open(my $fh, '>', commit_path($dir, 1)) or die;
	print $fh qq({"protocol":{"minReaderVersion":4294967297,"minWriterVersion":2}}\n);
	close $fh;
	my ($rc, $state, $err) = run_tool('state', $dir);
	is($rc, 2, 'protocol 2^32+1 in a commit: exit 2');
	like($err, qr/protocol version out of range \(minReaderVersion 4294967297/, 'protocol 2^32+1: says so');
}

# 4e. more than 256 configuration entries survive the writer's checkpoint
{
	my $dir = "$work/bigconf";
	append_n($dir, 1, 0);
	my ($md) = grep { /"metaData"/ } split(/\n/, slurp_file(commit_path($dir, 0)));
	my $m = decode_json($md);
	$m->{metaData}{configuration}{"key.$_"} = "value $_" for 1 .. 300;
	open(my $fh, '>', commit_path($dir, 1)) or die;
	print $fh JSON::PP->new->canonical->encode($m), "\n";
	close $fh;
	my ($rc0, $json_state) = run_tool('state', $dir);
	my @conf = $json_state =~ /^(configuration .*)$/mg;
	is(scalar(grep { /^configuration key\.\d+=value \d+$/ } @conf), 300, 'bigconf: 300 entries from JSON');
	my ($rc, $out, $err) = run_tool('append', $dir, 'app', 100, 10, 'interval=2');
	is($rc, 0, 'bigconf: commit 2 and its checkpoint') or diag($err);
	ok(-e cp_path($dir, 2), 'bigconf: checkpoint 2 written');
	unlink map { commit_path($dir, $_) } 0 .. 2;
	my ($rc2, $cp_state, $err2) = run_tool('state', $dir);
	like($err2, qr/started from checkpoint/, 'bigconf: opened from the checkpoint');
	is_deeply([ $cp_state =~ /^(configuration .*)$/mg ], \@conf, 'bigconf: all 300 entries in the checkpoint');
}

# 4f. another engine's metaData fields that the writer does not use (a
# name, a description, format options, a column's comment) survive its schema change, its
# checkpoint and a DuckDB checkpoint, and its version checksums carry them
{
	my $dir = "$work/described";
	my $enc = JSON::PP->new->utf8->canonical;
	append_n($dir, 1, 0);
	my ($md) = grep { /"metaData"/ } split(/\n/, slurp_file(commit_path($dir, 0)));
	my $m = decode_json($md)->{metaData};
	$m->{name} = 'events';
	$m->{description} = "set by \"another\" engine\n(\x{e9})";
	$m->{format}{options} = { 'opt.a' => 'x', 'opt.b' => '' };
	# and a column comment, in the field's metadata as Spark writes it
	my $schema = decode_json($m->{schemaString});
	$schema->{fields}[1]{metadata} = { comment => "the \x{e9} column", 'x.other' => [ 1, { a => JSON::PP::true } ] };
	$m->{schemaString} = JSON::PP->new->canonical->encode($schema);
	open(my $fh, '>:raw', commit_path($dir, 1)) or die;
	print $fh $enc->encode({ metaData => $m }), "\n";
	close $fh;
	my ($rc, $out, $err) = run_tool('append', $dir, 'app', 100, 10, 'evolve', 'interval=0');
	is($rc, 0, 'described: commit 2 adds a column') or diag($err);
	my ($md2) = grep { /"metaData"/ } split(/\n/, slurp_file(commit_path($dir, 2)));
	my $m2 = decode_json($md2)->{metaData};
	like($m2->{schemaString}, qr/"note"/, 'described: commit 2 has a new metaData with the column');
	my $schema2 = JSON::PP->new->decode($m2->{schemaString});
	is_deeply($schema2->{fields}[1], $schema->{fields}[1], 'described: a column keeps its field metadata (comment)');
	my %want = %$m;
	$want{schemaString} = $m2->{schemaString};
	is($enc->encode($m2), $enc->encode(\%want),
		'described: and keeps every other field (id, name, description, format options, createdTime, configuration)');
	my ($n, $problems) = CdcWriter::checksum_problems($dir);
	is_deeply($problems, [ 'version 1: no .crc' ],
		"described: each of the $n versions but the hand-written 1 has a .crc equal to the log's state");
	my ($rc0, $json_state) = run_tool('state', $dir);
	like($json_state, qr/^description set by "another" engine$/m, 'described: the state has the description');
	# from a DuckDB checkpoint
	my ($out2, $err2) = ('', '');
	IPC::Run::run([ 'node', "$CdcKafka::ROOT/t/js/delta_checkpoint_make.mjs", $dir, 2, 'zstd', 'v1', 1 ],
		'<', \undef, '>', \$out2, '2>', \$err2, IPC::Run::timeout(120));
	is($?, 0, 'described: DuckDB wrote checkpoint 2') or diag($err2);
	my ($rc1, $duck_state, $err1) = run_tool('state', $dir);
	like($err1, qr/started from checkpoint/, "described: opened from DuckDB's checkpoint");
	is($duck_state, $json_state, "described: DuckDB's checkpoint gives the same metaData as the log");
	# our checkpoint 3, written from the state DuckDB's checkpoint gave
	($rc, $out, $err) = run_tool('append', $dir, 'app', 200, 10, 'evolve', 'interval=3');
	is($rc, 0, 'described: commit 3 and our checkpoint') or diag($err);
	($n, $problems) = CdcWriter::checksum_problems($dir);
	is_deeply($problems, [ 'version 1: no .crc' ],
		"described: after the checkpoints too, each of the $n versions but 1 has an exact .crc");
	my ($rc3, $json_state3) = run_tool('state', $dir);
	unlink map { commit_path($dir, $_) } 0 .. 3;
	my ($rc4, $cp_state, $err4) = run_tool('state', $dir);
	like($err4, qr/started from checkpoint "[^"]*00003\.checkpoint\.parquet"/, 'described: opened from our checkpoint 3');
	is($cp_state, $json_state3, 'described: our checkpoint keeps name, description and format options');
	my ($rc5, $cp_actions) = run_tool('cp-read', cp_path($dir, 3));
	like($cp_actions, qr/^metaData $m->{id} name events description set by "another" engine\n\(\x{c3}\x{a9}\) format parquet options opt\.a=x,opt\.b= /m,
		'described: in our checkpoint file itself');
}

$kb->stop;
done_testing();
