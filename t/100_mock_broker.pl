# The mock broker tool works with an independent client (kcat): topics with
# partitions, keyed produce and consume, broker down/up, error injection.
use strict;
use warnings;

use IPC::Run;
use Test::More;
use CdcKafka;

# --help, as every program of the project takes it
my ($help, $herr) = ('', '');
IPC::Run::run([ CdcKafka::program('tools/cdc_kafka_mock_broker'), '--help' ], '<', \undef,
	'>', \$help, '2>', \$herr);
ok($? == 0 && $help =~ /^Usage: cdc_kafka_mock_broker/ && $help =~ /-h, --help/,
	'--help prints the usage and exits 0') or diag("exit $?: $herr");
IPC::Run::run([ CdcKafka::program('tools/cdc_kafka_mock_broker'), '--bogus' ], '<', \undef,
	'>', \$help, '2>', \$herr);
ok($? >> 8 == 1 && $herr =~ /unrecognized option/, 'an unknown option is a usage error (exit 1)');

my $mb = CdcKafka::start_mock_broker(brokers => 3, topics => ['orders:3', 'single']);
like($mb->bootstrap, qr/^127\.0\.0\.1:\d+(,127\.0\.0\.1:\d+){2}$/,
	'prints three loopback brokers as its first line');

is(CdcKafka::kcat_partitions($mb->bootstrap, 'orders'), 3, '-t orders:3 has 3 partitions');
is(CdcKafka::kcat_partitions($mb->bootstrap, 'single'), 1, '-t single has 1 partition');

my @pairs = map { ["key-$_", "value-$_"] } 1 .. 60;
CdcKafka::kcat_produce($mb->bootstrap, 'orders', @pairs);
my @msgs = CdcKafka::kcat_consume($mb->bootstrap, 'orders');
is(scalar @msgs, 60, 'every produced message is consumed');
is_deeply([ sort map { "$_->{key}=$_->{value}" } @msgs ],
	[ sort map { "$_->[0]=$_->[1]" } @pairs ], 'keys and values round-trip');

# kcat's murmur2_random partitioner (librdkafka) against our own murmur2
# written from the Java client's definition.
my @misplaced = grep { $_->{partition} != CdcKafka::murmur2_partition($_->{key}, 3) } @msgs;
is(scalar @misplaced, 0, 'partitions are the Java default partitioner\'s');
my %used = map { $_->{partition} => 1 } @msgs;
is(scalar keys %used, 3, 'keys spread over all partitions');

# Java's murmur2 of known inputs (the Kafka client's UtilsTest cases).
my %java = ('21' => -973932308, 'foobar' => -790332482, 'abc' => 479470107,
	'a-little-bit-long-string' => -985981536,
	'a-little-bit-longer-string' => -1486304829,
	'lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8' => -58897971);
for my $in (sort keys %java)
{
	my $h = CdcKafka::murmur2($in);
	$h -= 2**32 if $h >= 2**31;
	is($h, $java{$in}, "murmur2(\"$in\") equals Java's");
}

# Offsets per partition are dense from 0, in produce order per key.
my %next;
my $dense = 1;
for my $m (@msgs)
{
	$dense = 0 if $m->{offset} != ($next{ $m->{partition} } // 0);
	$next{ $m->{partition} } = $m->{offset} + 1;
}
ok($dense, 'offsets are dense per partition');

like($mb->down(2), qr/^ok down 2/, 'down 2 acknowledged');
like($mb->up(2), qr/^ok up 2/, 'up 2 acknowledged');
eval { $mb->down(7) };
like($@, qr/broker id must be 1\.\.3/, 'unknown broker id is refused');
like($mb->error('Produce', 'NOT_LEADER_FOR_PARTITION', 2), qr/^ok error/,
	'error injection acknowledged');
# librdkafka retries the injected errors; the messages still arrive once.
CdcKafka::kcat_produce($mb->bootstrap, 'single', map { ["k$_", "after-$_"] } 1 .. 5);
my @single = CdcKafka::kcat_consume($mb->bootstrap, 'single');
is_deeply([ map { $_->{value} } @single ], [ map { "after-$_" } 1 .. 5 ],
	'produce succeeds after injected retriable errors, once, in order');

$mb->stop;
is($mb->{h} ? 'running' : 'stopped', 'stopped', 'quit stops the tool');

# -d: runs without stdin, stops on SIGTERM with exit 0.
my $tool = CdcKafka::program('tools/cdc_kafka_mock_broker');
my $file = "$ENV{TESTDIR}/bootstrap.txt";
mkdir $ENV{TESTDIR};
my ($out, $err) = ('', '');
my $h = IPC::Run::start([ $tool, '-d', '-f', $file ], '<', '/dev/null', '>', \$out, '2>', \$err);
my $waited = 0;
while (!-s $file && $waited++ < 300) { $h->pump_nb; select(undef, undef, undef, 0.05); }
ok(-s $file, '-f writes the bootstrap address');
select(undef, undef, undef, 0.5);
ok($h->pumpable, '-d keeps running with stdin at end of file');
$h->signal('TERM');
$h->finish;
is($h->full_result(0), 0, 'SIGTERM exits 0');

my ($o2, $e2) = ('', '');
IPC::Run::run([ $tool, '-t', 'bad:0' ], '<', \'', '>', \$o2, '2>', \$e2);
like($e2, qr/invalid partition count/, 'a bad -t is reported');

done_testing();
