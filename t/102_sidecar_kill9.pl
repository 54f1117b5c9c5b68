# kill -9 of the sidecar at random points during a steady stream of
# numbered transactions, restarted each time: afterwards every committed row
# is in Kafka exactly once, and every key's changes are in commit order.
use strict;
use warnings;

use Test::More;
use Time::HiRes qw(usleep);
use CdcKafka;

my $kills = 22;
my $ntx = 1200;
my $node = CdcKafka::start_pg('kill9');
$node->safe_psql('postgres', q{
	CREATE TABLE numbers (id int PRIMARY KEY, n int NOT NULL);
	CREATE TABLE hot (k int PRIMARY KEY, n int NOT NULL);
	INSERT INTO hot SELECT k, 0 FROM generate_series(0, 4) k;
});
my $kb = CdcKafka::start_kafka(topics => [ 'kt.public.numbers:3', 'kt.public.hot:2' ]);
my $log = "$ENV{TESTDIR}/sidecar.log";
my @args = ('-o', 'topic-prefix=kt', '-o', 'schemas=false');

# The workload: one row per transaction plus a hot-key update; every 100th
# transaction also inserts 100 more rows (kills land inside big ones too).
my $sql = "$ENV{TESTDIR}/workload.sql";
my $expected_rows = 0;
open(my $fh, '>', $sql) or die $!;
for my $i (1 .. $ntx)
{
	print $fh "BEGIN;\nINSERT INTO numbers VALUES ($i, $i);\n";
	print $fh "UPDATE hot SET n = $i WHERE k = " . ($i % 5) . ";\n";
	$expected_rows++;
	if ($i % 100 == 0)
	{
		print $fh "INSERT INTO numbers SELECT g, $i FROM generate_series(" .
		  (100000 + $i * 100) . ", " . (100000 + $i * 100 + 99) . ") g;\n";
		$expected_rows += 100;
	}
	print $fh "COMMIT;\nSELECT pg_sleep(0.01);\n";
}
close $fh;

my $sc = CdcKafka::start_sidecar(node => $node, bootstrap => $kb->bootstrap,
	slot => 'k9', create => 1, log => $log, args => \@args);
ok(CdcKafka::wait_until(sub { scalar(CdcKafka::kcat_consume($kb->bootstrap, 'kt.public.hot')) >= 5 }, 60),
	'snapshot of the hot rows delivered') or diag(CdcKafka::slurp($log));

my ($wout, $werr) = ('', '');
my $writer = IPC::Run::start([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1',
		'-d', $node->connstr('postgres'), '-f', $sql ],
	'<', \undef, '>', \$wout, '2>', \$werr);

srand($ENV{CDC_SEED} // time);
for my $k (1 .. $kills)
{
	usleep(200_000 + int(rand(1_300_000)));
	CdcKafka::kill9($sc);
	$sc = CdcKafka::start_sidecar(node => $node, bootstrap => $kb->bootstrap,
		slot => 'k9', log => $log, args => \@args);
}
pass("$kills kill -9 and restarts");
$writer->finish;
is($writer->full_result(0), 0, 'the workload committed') or diag($werr);

ok(CdcKafka::wait_slot_caught_up($node, 'k9', 120), 'the last sidecar catches up')
  or diag(CdcKafka::slurp($log));
is(CdcKafka::stop_sidecar($sc), 0, 'SIGTERM: exit 0');

# numbers: every row exactly once.
my @numbers = CdcKafka::kcat_consume($kb->bootstrap, 'kt.public.numbers', timeout => 120);
my %seen;
$seen{ CdcKafka::json_or_undef($_->{key})->{id} }++ for @numbers;
my @dups = grep { $seen{$_} > 1 } keys %seen;
is(scalar @numbers, $expected_rows, "$expected_rows row events in Kafka");
is(scalar keys %seen, $expected_rows, 'every committed row is there');
is(scalar @dups, 0, 'none twice') or diag("duplicated ids: @dups[0 .. ($#dups < 9 ? $#dups : 9)]");
my $db_rows = $node->safe_psql('postgres', 'SELECT count(*) FROM numbers');
is($db_rows, $expected_rows, 'the database agrees');

# hot: per key, 0 (snapshot) then every update to it, in commit order.
my @hot = CdcKafka::kcat_consume($kb->bootstrap, 'kt.public.hot', timeout => 120);
my %seq;
for my $m (@hot)	# partition then offset order
{
	my $v = CdcKafka::json_or_undef($m->{value});
	push @{ $seq{ CdcKafka::json_or_undef($m->{key})->{k} } }, $v->{after}{n};
}
my $all_ok = 1;
for my $k (0 .. 4)
{
	my @want = (0, grep { $_ % 5 == $k } 1 .. $ntx);
	$all_ok = 0 unless is_deeply($seq{$k}, \@want, "key $k: every change once, in commit order");
}

my $text = CdcKafka::slurp($log);
my $learned = () = $text =~ m{highest position held (?!0/0:)}g;
my $skips = () = $text =~ /skipping events Kafka already holds/g;
note("topics found holding events: $learned; restarts that skipped replayed events: $skips");
ok($skips > 0, 'some restarts skipped events Kafka already held (the exactly-once path ran)');
unlike($text, qr/ error: /, 'no errors logged');

$kb->stop;
$node->stop;
done_testing();
