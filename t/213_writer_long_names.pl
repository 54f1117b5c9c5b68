# Delta writer: topic names too long for a directory (a legal 100-byte
# topic "hv.public.---...") go to a shortened directory: a prefix, "--" and
# a hash of the whole name, distinct for names that share the prefix,
# recorded in the table's metaData; every other table goes on as before
# (the writer used to exit at every start, for all topics).  On the mock
# broker: one name (plain_240, 250 characters) is above Apache Kafka's limit
# of 249, which only the mock accepts.
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

my %topics = (
	dashes => 'hv.public.' . ('-' x 90),
	dashes_a => 'hv.public.' . ('-' x 89) . 'a',
	long_schema => 'hv.' . ('s' x 241) . '.t',
	plain_240 => 'hv.public.' . ('x' x 240),
	short => 'hv.public.short',
);
my @names = sort keys %topics;
my $mb = CdcKafka::start_mock_broker(topics => [ map { "$topics{$_}:1" } @names ]);
for my $i (0 .. $#names)
{
	my $t = $topics{ $names[$i] };
	CdcWriter::produce($mb->bootstrap, $t,
		map { CdcWriter::event(topic => $t, schemas => 0, op => 'c', key => { id => $_ },
				after => { id => $_, which => $names[$i] }) } 1 .. 3);
}
my $w = CdcWriter::start_writer($mb->bootstrap, $root, $log, (map { ('-t', $topics{$_}) } @names),
	'-X', 'flush.interval.ms=200');

# the directory of each table: found by its rows, not by our rule
my %dir;
ok(CdcWriter::wait_for(sub {
	%dir = ();
	for my $d (glob("$root/*/*"))
	{
		next unless CdcWriter::committed_rows($d) == 3;
		my ($a) = grep { $_->{add} } CdcWriter::log_actions($d);
		$dir{$d} = 1 if $a;
	}
	return keys(%dir) == @names;
}), 'every topic has its table with its three rows');
is(CdcWriter::stop_writer($w), 0, 'the writer exits 0 on SIGTERM');

my %seen;
for my $d (sort keys %dir)
{
	my $r = CdcWriter::delta_read($d, 'SELECT DISTINCT which FROM t');
	is_deeply($r->{errors}, [], "DuckDB reads $d");
	my $which = $r->{results}[0][0]{which};
	$seen{$which} = $d;
	my ($schema, $table) = (split /\./, $topics{$which}, 3)[1, 2];
	my ($md) = map { $_->{metaData} } grep { $_->{metaData} } CdcWriter::log_actions($d);
	my @comp = (split m{/}, $d)[-2, -1];
	cmp_ok(length($_), '<=', 240, "$which: directory part of " . length($_) . ' bytes') for @comp;
	if ($which =~ /^(dashes|long_schema)/)
	{
		ok((grep { /--[0-9a-f]{32}$/ } @comp), "$which: shortened to a prefix, -- and a hash");
		is_deeply([ @{ $md->{configuration} }{qw(cdc_kafka.source.schema cdc_kafka.source.table)} ],
			[ $schema, $table ], "$which: metaData records the source schema and table");
	}
	else
	{
		is_deeply(\@comp, [ $schema, $table ], "$which: not shortened");
		ok(!exists $md->{configuration}{'cdc_kafka.source.table'}, "$which: nothing recorded");
	}
}
is_deeply([ sort keys %seen ], \@names, 'one table per topic: names that share a prefix stay apart');

# the same names give the same directories on the next start
CdcWriter::produce($mb->bootstrap, $topics{dashes}, CdcWriter::event(topic => $topics{dashes}, schemas => 0,
	op => 'c', key => { id => 4 }, after => { id => 4, which => 'dashes' }));
$w = CdcWriter::start_writer($mb->bootstrap, $root, $log, (map { ('-t', $topics{$_}) } @names),
	'-X', 'flush.interval.ms=200');
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($seen{dashes}) == 4 }),
	'a restart writes into the same shortened directory');
is(CdcWriter::stop_writer($w), 0, 'and exits 0');
is(scalar(() = glob("$root/*/*")), scalar @names, 'no other directory was made');

# Spark, through Delta's own log reader, reads what DuckDB reads
$spark->agrees_with_duckdb($seen{$_}, "table dir of $_") for sort keys %seen;
$spark->stop;

$mb->stop;
done_testing();
