# Debezium's own PostgreSQL connector (2.7, embedded, Kafka Connect's
# JsonConverter) and cdc_kafka (plugin, sidecar, mock Kafka, kcat) on two
# slots of one cluster, over bench/debezium-compare's corpus: every event
# must be the same, byte for byte, but for bench/debezium-compare/allow.list.
# A tampered event must make the comparison fail.
use strict;
use warnings;

use Test::More;
use CdcKafka;
use IPC::Run;

my $dir = "$CdcKafka::ROOT/bench/debezium-compare";
my $work = "$ENV{TESTDIR}/compare";
my ($out, $err) = ('', '');
my $ok = IPC::Run::run([ 'bash', "$dir/run", '--keep' ], '<', \undef, '>', \$out, '2>', \$err,
	init => sub { $ENV{DEBEZIUM_COMPARE_WORK} = $work; },
	IPC::Run::timeout(900));
my @lines = split /\n/, $out;
diag(join("\n", grep { !/\[allowed: / } @lines)) unless $ok;
diag($err) unless $ok;
ok($ok, 'no difference from Debezium outside the allow-list');
like($lines[-1] // '', qr/^debezium-compare: \d+ events compared, \d+ differences \(\d+ on the allow-list\)$/,
	'the summary line');
my ($events) = ($lines[-1] // '') =~ /(\d+) events/;
cmp_ok($events // 0, '>=', 250, 'the whole corpus was compared');
is_deeply([ grep { /allow-list entry matched nothing/ } @lines ], [],
	'every allow-list entry is still needed');

# Debezium did run: it wrote snapshot reads, changes and transaction metadata.
my $dbz = CdcKafka::slurp("$work/debezium.jsonl");
like($dbz, qr/\\"op\\":\\"r\\"/, 'Debezium read the snapshot');
like($dbz, qr/\\"op\\":\\"u\\"/, 'Debezium streamed changes');
like($dbz, qr/"topic":"cmp\.transaction"/, 'Debezium wrote transaction metadata');

# The same two streams, one of our events changed: the comparison fails.
my ($tout, $terr) = ('', '');
my $tok = IPC::Run::run([ 'perl', "$dir/compare.pl", '--allow', "$dir/allow.list", '--tamper',
		"$work/debezium.jsonl", "$work/cdc_kafka.jsonl" ],
	'<', \undef, '>', \$tout, '2>', \$terr, IPC::Run::timeout(300));
ok(!$tok, 'a tampered event fails the comparison');
like($tout, qr/ value\.payload\.source\.db: debezium="postgres" ours="tampered"$/m,
	'and is named, with both values');

done_testing();
