# cdc_delta_writer ls TABLE_PATH [VERSION]: the live Parquet files of a
# Delta table at its latest or a given version, as DuckDB's read_parquet()
# reads them.  The table is built with writer/storage/delta/test/delta_tool (4 appends, a
# checkpoint at version 3) plus one commit written here as another engine
# would (a remove, and an add whose URI-encoded path holds a space); DuckDB
# counts the rows of exactly the files ls prints, and Spark reads the same
# through Delta's own log reader.  Then the commits before the checkpoint
# are cleaned up, as Spark's log cleanup does.
use strict;
use warnings;

use File::Copy qw(copy);
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use IPC::Run;
use Test::More;

use CdcKafka;
use CdcSpark;

my $root = $CdcKafka::ROOT;
my $writer = CdcKafka::program('writer/cdc_delta_writer');
my $delta_tool = "$root/writer/storage/delta/test/delta_tool";
my $dir = tempdir(CLEANUP => 1, DIR => $ENV{TESTDIR} ? do { make_path($ENV{TESTDIR}); $ENV{TESTDIR} } : undef);
my $table = "$dir/table";
my $spark = CdcSpark->start('spark35');

# Rows and sum(id) of the table's latest version as Spark reads it.
sub spark_over
{
	my $a = $spark->sql($table, 'SELECT count(*) AS n, sum(id) AS s FROM t');
	return $a->{error} ? "error: $a->{error}" : "$a->{rows}[0]{n},$a->{rows}[0]{s}";
}

sub run_cmd
{
	my @cmd = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run(\@cmd, '<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(120));
	return ($? >> 8, $out, $err);
}

# Rows and sum(id) that DuckDB reads from read_parquet([files]).
sub duckdb_over
{
	my @files = @_;
	my $list = join(', ', map { my $f = $_ =~ s/'/''/gr; "'$f'" } @files);
	my ($rc, $out, $err) = run_cmd('node', "$root/t/js/duckdb_cli.mjs", '-csv', '-noheader', '-c',
		"SELECT count(*), sum(id) FROM read_parquet([$list])");
	return $rc == 0 ? $out =~ s/\s+$//r : "error: $err";
}

sub ls
{
	my ($rc, $out, $err) = run_cmd($writer, 'ls', @_);
	return ($rc, [ sort split /\n/, $out ], $err);
}

# rows [offset, count] of each append: version v adds part-app-<offset>
my @appends = ([ 0, 10 ], [ 10, 5 ], [ 15, 7 ], [ 22, 3 ]);
for my $a (@appends)
{
	my ($rc, $out, $err) = run_cmd($delta_tool, 'append', $table, 'app', @$a, 'interval=3');
	is($rc, 0, "delta_tool appends rows $a->[0].." . ($a->[0] + $a->[1] - 1)) or diag($err);
}
ok(-f "$table/_delta_log/00000000000000000003.checkpoint.parquet", 'version 3 has a checkpoint');

# Version 4, as another engine writes it: the first file moves into a
# directory with a space in its name (the add's path URI-encoded).
make_path("$table/sub dir");
copy("$table/part-app-0.zstd.parquet", "$table/sub dir/moved.parquet") or die;
my $size = -s "$table/sub dir/moved.parquet";
open(my $fh, '>', "$table/_delta_log/00000000000000000004.json") or die;
print $fh qq({"remove":{"path":"part-app-0.zstd.parquet","deletionTimestamp":1700000000000,"dataChange":false}}\n);
print $fh qq({"add":{"path":"sub%20dir/moved.parquet","size":$size,"modificationTime":1700000000000,"dataChange":false,"stats":"{\\"numRecords\\":10}"}}\n);
print $fh qq({"commitInfo":{"operation":"OPTIMIZE"}}\n);
close $fh;

my ($rc, $files, $err) = ls($table);
is($rc, 0, 'ls TABLE exits 0') or diag($err);
is_deeply($files, [ map { "$table/$_" } 'part-app-10.zstd.parquet', 'part-app-15.zstd.parquet',
	'part-app-22.zstd.parquet', 'sub dir/moved.parquet' ],
	'ls prints the live files of the latest version: the removed one gone, the URI path decoded');
is(duckdb_over(@$files), '25,300', 'DuckDB reads all 25 rows from exactly those files');
is(spark_over(), '25,300', 'and Spark reads the same from the log');

($rc, $files, $err) = ls($table, 1);
is_deeply($files, [ map { "$table/part-app-$_.zstd.parquet" } 0, 10 ], 'ls TABLE 1: the files of version 1')
  or diag($err);
is(duckdb_over(@$files), '15,105', 'DuckDB reads version 1: its 15 rows');

($rc, $files, $err) = ls("$table/", 0);
is_deeply($files, [ "$table/part-app-0.zstd.parquet" ], 'ls TABLE/ 0: version 0, no doubled slash')
  or diag($err);

# The log cleaned up before the checkpoint: versions 3 and 4 still list.
unlink map { sprintf("$table/_delta_log/%020d.json", $_) } 0 .. 2;
($rc, $files, $err) = ls($table, 3);
is($rc, 0, 'ls TABLE 3 after the cleanup: from the checkpoint') or diag($err);
is(duckdb_over(@$files), '25,300', '... the 25 rows of version 3');
($rc, $files, $err) = ls($table);
is(scalar @$files, 4, 'ls TABLE after the cleanup: still the 4 live files') or diag($err);
is(spark_over(), '25,300', 'Spark reads the same 25 rows from the checkpoint and version 4');
$spark->stop;

# What cannot be listed says why, and creates nothing.
($rc, $files, $err) = ls($table, 1);
ok($rc == 2 && $err =~ /version 1 was cleaned up/, "ls TABLE 1 after the cleanup fails: its commit is gone")
  or diag("exit $rc: $err");
($rc, $files, $err) = ls($table, 9);
ok($rc == 2 && $err =~ /has no version 9/, 'ls TABLE 9: the log never reached version 9')
  or diag("exit $rc: $err");
($rc, $files, $err) = ls($table, 'x');
ok($rc == 1 && $err =~ /invalid version "x"/, 'ls TABLE x: a usage error') or diag("exit $rc: $err");
($rc, $files, $err) = ls("$dir/nothing");
ok($rc == 1 && $err =~ /"\Q$dir\E\/nothing" is not a Delta table/, 'ls of a directory without a table names it')
  or diag("exit $rc: $err");
ok(!-e "$dir/nothing", '... and creates nothing there');
($rc, $files, $err) = ls();
ok($rc == 1 && $err =~ /Usage: cdc_delta_writer ls TABLE_PATH \[VERSION\]/, 'ls without a table prints its usage');

done_testing();
