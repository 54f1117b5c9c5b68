# The Delta writer's storage library against independent readers: Parquet
# files from writer/storage/parquet/parquet.c read by DuckDB (every type, nulls, empty and
# non-ASCII and 1 MB strings, decimals at scale, row groups, pages,
# dictionary and PLAIN, footer statistics, Delta stats), a Delta log from
# writer/storage/delta/delta_log.c replayed by our own JS reader and its checkpoint read
# by DuckDB, commit conflicts, and path sanitising.
use strict;
use warnings;

use File::Path qw(make_path);
use File::Temp qw(tempdir);
use JSON::PP;
use Test::More;

my $root = $ENV{CDC_ROOT} // '.';
my $pq_gen = "$root/writer/storage/parquet/test/pq_gen";
my $delta_tool = "$root/writer/storage/delta/test/delta_tool";
my $table_dir = "$root/writer/test/table_dir";
my $js = "$root/t/js";
my $dir = tempdir(CLEANUP => 1, DIR => $ENV{TESTDIR} ? do { make_path($ENV{TESTDIR}); $ENV{TESTDIR} } : undef);

ok(-x $pq_gen && -x $delta_tool && -x $table_dir, 'test programs are built (make)')
  or BAIL_OUT('writer/test programs missing; run make');

sub run
{
	my ($cmd) = @_;
	my $out = `$cmd`;
	return ($? >> 8, $out);
}

sub json_of
{
	my ($cmd, $what) = @_;
	my ($rc, $out) = run($cmd);
	is($rc, 0, "$what exits 0") or diag($out);
	my $j = eval { decode_json((split /\n/, $out)[-1]) };
	ok($j, "$what prints JSON") or diag($out);
	return $j // {};
}

# Writes a file with pq_gen and runs every DuckDB check on it.
sub check_file
{
	my ($label, $rows, $args, $check_args) = @_;
	my $file = "$dir/$label.parquet";
	my ($rc, $stats) = run("$pq_gen all $file rows=$rows $args 2>$dir/$label.err");
	is($rc, 0, "$label: pq_gen writes $rows rows") or diag(`cat $dir/$label.err`);
	open(my $fh, '>', "$dir/$label.stats.json") or die;
	print $fh $stats;
	close $fh;
	my $r = json_of("node $js/parquet_check.mjs $file $rows $dir/$label.stats.json $check_args 2>&1",
		"$label: parquet_check.mjs");
	for my $c (@{ $r->{checks} // [] })
	{
		ok($c->{ok}, "$label: $c->{name}") or diag($c->{detail});
	}
	return $r;
}

# 1. All types, default options: one row group, a 1 MB string, dictionary.
my $r = check_file('types', 1000, '', '');
is($r->{rowGroups}, 1, 'types: default options give one row group');

# 2. Small pages and row groups: many of each, dictionary fallback to PLAIN.
$r = check_file('multi', 20000, 'page=4096 rowgroup=65536 dictmax=1000', '');
cmp_ok($r->{rowGroups}, '>', 3, 'multi: several row groups');
# (all but the last row group, which holds what is left over)
my @single = grep {
	my @p = @{ $r->{pages}{$_} };
	pop @p;
	grep { $_ < 2 } @p
} qw(i64 ts s dec2);
is_deeply(\@single, [], 'multi: wide columns have several data pages in each full row group')
  or diag(encode_json($r->{pages}));
my $fallback = grep {
	my $p = join(',', @$_);
	$p =~ /^DICT,(RLE_DICTIONARY,)+PLAIN(,PLAIN)*$/
} @{ $r->{pageEncodings}{grow} // [] };
ok($fallback, 'multi: a growing dictionary falls back to PLAIN pages within a chunk')
  or diag(encode_json($r->{pageEncodings}{grow}));

# 3. No dictionary, no compression.
check_file('plain', 3000, 'dict=0 zstd=0', 'dict=0 codec=UNCOMPRESSED');

# 4. File size against DuckDB's own zstd Parquet of the same 4-column data.
my $rows = 1000000;
my ($rc, $out) = run("$pq_gen bench $dir/bench.parquet rows=$rows 2>&1 >/dev/null");
is($rc, 0, 'bench shape written') or diag($out);
my ($secs) = $out =~ /seconds=([\d.]+)/;
my $cmp = json_of("node $js/parquet_bench.mjs $dir/bench.parquet $dir/duck.parquet $rows 2>&1",
	'parquet_bench.mjs');
ok($cmp->{same}, 'DuckDB reads the same data from both files') or diag(encode_json($cmp));
my $ratio = $cmp->{ours} / ($cmp->{duckdb} || 1);
cmp_ok($ratio, '<=', 1.2, sprintf('file size %d vs DuckDB %d (ratio %.3f) <= 1.2',
	$cmp->{ours}, $cmp->{duckdb}, $ratio));
note(sprintf('pq_gen: %d rows in %.3f s = %.0f rows/s (DuckDB COPY %.3f s); not asserted',
	$rows, $secs, $rows / ($secs || 1), $cmp->{duckdb_seconds} // 0));

# The 15 mixed-type columns of the "all" shape, against DuckDB rewriting
# our file with its own writer.
($rc, $out) = run("$pq_gen all $dir/wide.parquet rows=100000 2>&1 >/dev/null");
is($rc, 0, 'wide shape written') or diag($out);
$cmp = json_of("node $js/parquet_bench.mjs $dir/wide.parquet $dir/wide_duck.parquet rewrite 2>&1",
	'parquet_bench.mjs rewrite');
ok($cmp->{same}, 'DuckDB\'s rewrite holds the same data') or diag(encode_json($cmp));
$ratio = $cmp->{ours} / ($cmp->{duckdb} || 1);
cmp_ok($ratio, '<=', 1.2, sprintf('mixed types: file size %d vs DuckDB %d (ratio %.3f) <= 1.2',
	$cmp->{ours}, $cmp->{duckdb}, $ratio));

# A file without rows is still a valid Parquet file.
($rc, $out) = run("$pq_gen all $dir/empty.parquet rows=0 2>/dev/null");
like($out, qr/^\{"numRecords":0,"minValues":\{\},"maxValues":\{\},/, 'empty file: stats say 0 records');
$cmp = json_of("node $js/parquet_bench.mjs $dir/empty.parquet $dir/empty_duck.parquet rewrite 2>&1",
	'parquet_bench.mjs on an empty file');
like($cmp->{ours_agg} // '', qr/"n":"0"/, 'DuckDB reads 0 rows from it');

# 5. Delta log: 12 commits from 3 "partitions", a schema change at 6,
#    a checkpoint at 10.
my $tbl = "$dir/tbl";
my @expect;
for my $i (0 .. 11)
{
	my $app = 'app-' . ($i % 3);
	my $off = $i * 100;
	($rc, $out) = run("$delta_tool append $tbl $app $off 100 " . ($i >= 6 ? 'evolve' : '') . ' 2>&1');
	is($out, "version $i\n", "commit $i ($app @ $off)");
	push @expect, "part-$app-$off.zstd.parquet";
}
($rc, $out) = run("$delta_tool append $tbl app-1 1000 100 evolve 2>&1");
is($out, "skip app-1 1099\n", 'an offset at or below the txn version is not committed again');

my $d = json_of("node $js/delta_check.mjs $tbl 2>&1", 'delta_check.mjs');
is_deeply($d->{errors}, [], 'log replay finds no protocol violations');
is($d->{version}, 11, 'versions 0..11');
is_deeply($d->{files}, [ sort @expect ], 'replay gives the 12 added files');
is_deeply($d->{txns}, { 'app-0' => 999, 'app-1' => 1099, 'app-2' => 1199 },
	'txn version per appId = last offset committed');
is_deeply($d->{protocol}, { minReaderVersion => 1, minWriterVersion => 2 }, 'protocol (1, 2)');
is($d->{metaIds}, 1, 'schema change keeps the table id');
is_deeply($d->{schemaFields}, [ 'id:long:false', 'name:string:true', 'amount:decimal(10,2):true',
	'ts:timestamp:true', 'note:string:true' ], 'evolved schema');
is($d->{rows}, 1200, 'DuckDB reads 1200 rows from the live files');
is_deeply($d->{statsBad}, [], 'every add: numRecords, id min/max and size match the file');
is($d->{noteNulls}, 600 + 300, 'new column is null in old files and where unset');
is_deeply($d->{lastCheckpoint}, { version => 10, size => 2 + 3 + 11 },
	'_last_checkpoint names version 10 and its action count');
my $cp = $d->{checkpoint} // {};
is($cp->{rows}, 16, 'checkpoint: one row per action');
ok($cp->{oneActionPerRow}, 'checkpoint: exactly one action struct set per row');
is_deeply($cp->{addPaths}, $cp->{expected}{files}, 'checkpoint adds = live files at version 10');
is_deeply($cp->{txns}, $cp->{expected}{txns}, 'checkpoint txns = txn versions at version 10');
is_deeply($cp->{protocol}, { minReaderVersion => 1, minWriterVersion => 2 }, 'checkpoint protocol');
is(scalar @{ $cp->{schemaFields} // [] }, 5, 'checkpoint metaData has the schema of version 10');

($rc, $out) = run("$delta_tool show $tbl");
my @shown = sort map { /^file (.*)/ ? $1 : () } split /\n/, $out;
is_deeply(\@shown, [ sort @expect ], 'delta_open replays to the same file set');

# 6. Two writers race for version 12: link() lets exactly one win.
($rc, $out) = run("$delta_tool race $tbl 2>&1");
like($out, qr/^first ok$/m, 'first writer commits version 12');
like($out, qr/^second conflict$/m, 'second writer gets DELTA_CONFLICT');
like($out, qr/^message version 12 .* already exists/m, 'conflict message names the version');
like($out, qr/^refreshed 11 -> 12 txn 1$/m, 'after refresh the loser sees the winner\'s txn');
($rc, $out) = run("$delta_tool txn $tbl race");
is($out, "1\n", 'version 12 holds the first writer\'s txn, not overwritten');
my @tmp = glob("$tbl/_delta_log/.tmp-*");
is(scalar @tmp, 0, 'no temporary files left in _delta_log');

# 7. Names that try to leave the root stay inside it.
my $proot = "$dir/root";
for my $case ([ '../x', 'a/b' ], [ '.', '..' ], [ '/etc', '../../..' ], [ "sch\x{e9}ma", 'T 1' ])
{
	($rc, $out) = run("$table_dir $proot '$case->[0]' '$case->[1]'");
	chomp $out;
	is($rc, 0, "table-dir '$case->[0]' '$case->[1]' accepted (escaped)");
	like($out, qr{^\Q$proot\E/[A-Za-z0-9_-]+/[A-Za-z0-9_-]+$}, "  -> $out is two plain components under the root");
}
ok(!-e "$dir/x" && !-e "$dir/a" && !-e "/etc/-2e-2e-2f-2e-2e-2f-2e-2e",
	'nothing created outside the root');
($rc, $out) = run("$table_dir $proot '' t");
isnt($rc, 0, 'an empty name is refused');
symlink('/tmp', "$proot/evil") or die;
($rc, $out) = run("$table_dir $proot evil t");
isnt($rc, 0, 'a symlink under the root pointing outside is refused');
like($out, qr/outside the root/, '  with a clear message');

done_testing();
