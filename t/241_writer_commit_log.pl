# The writer logs one info line per Delta commit, at the default log level:
# the table, the version, the rows and the Kafka offsets the commit covers
# (written `topic [p] @off`), which is what an operator looks for.
use strict;
use warnings;

use File::Path qw(make_path);
use Test::More;

use CdcKafka;
use CdcSpark;
use CdcWriter;

my $work = $ENV{TESTDIR} // die 'TESTDIR';
make_path($work);
my $kb = CdcKafka::start_kafka(topics => [ 'lg.s.items:1' ]);
my @fields = ([ id => 'int32' ]);
CdcWriter::produce($kb->bootstrap, 'lg.s.items',
	map { CdcWriter::event(topic => 'lg.s.items', fields => \@fields, after => { id => $_ }, key => { id => $_ }) } 1 .. 3);

my $log = "$work/writer.log";
my $h = CdcWriter::start_writer($kb->bootstrap, "$work/delta", $log, '-t', 'lg.s.items',
	'-X', 'assignment=static', '-X', 'flush.interval.ms=200');
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows("$work/delta/s/items") >= 3 }), 'the 3 rows are committed');
is(CdcWriter::stop_writer($h), 0, 'the writer stops with exit 0');
my $text = CdcKafka::slurp($log);
my @lines = $text =~ /^.* info: table (.*): committed version (\d+): (\d+) row\(s\), up to (.*)$/mg;
is(scalar @lines, 4, 'one info line for the one commit') or diag($text);
is_deeply([ @lines[ 1 .. 3 ] ], [ 0, 3, 'lg.s.items [0] @2' ],
	'it names version 0, 3 rows and the last offset of lg.s.items [0]');
like($lines[0] // '', qr{/delta/s/items$}, 'and the table');
my $spark = CdcSpark->start('spark35');
$spark->agrees_with_duckdb("$work/delta/s/items", 'the logged commit');
$spark->stop;

done_testing();
