# The seed scenario end to end: Postgres -> cdc_kafka_sidecar -> Apache
# Kafka, read back with kcat.  Every event equals the plugin's own output
# (a second slot decoded through SQL), partitions are the Java client's,
# deletes are followed by tombstones, the snapshot ends with "last".
use strict;
use warnings;

use Test::More;
use CdcKafka;

my $topic = 'dbserver1.inventory.customers';
my $node = CdcKafka::start_pg('seed');
CdcKafka::create_seed_table($node);
my $kb = CdcKafka::start_kafka(topics => ["$topic:3"]);
my $log = "$ENV{TESTDIR}/sidecar.log";

my $sc = CdcKafka::start_sidecar(node => $node, bootstrap => $kb->bootstrap,
	slot => 'seed', create => 1, log => $log,
	args => [ '-o', 'topic-prefix=dbserver1' ]);
ok(CdcKafka::wait_until(sub { CdcKafka::kcat_consume($kb->bootstrap, $topic) >= 4 }, 60),
	'the snapshot reaches Kafka') or diag(CdcKafka::slurp($log));

# The plugin's output for the same changes, through SQL, for comparison.
$node->safe_psql('postgres',
	"SELECT pg_create_logical_replication_slot('peek', 'cdc_kafka')");
$node->safe_psql('postgres', $_) for (
	"INSERT INTO inventory.customers VALUES (5, 'Five', 'F', 'five\@x.org'), (6, 'Six', 'S', 'six\@x.org'), (7, 'Seven', 'S', 'seven\@x.org')",
	"UPDATE inventory.customers SET email = 'george\@foobar.com' WHERE id = 2",
	"INSERT INTO inventory.customers VALUES (8, 'Eight', 'E', 'eight\@x.org'), (9, 'Nine', 'N', 'nine\@x.org'), (10, 'Ten', 'T', 'ten\@x.org')",
	"UPDATE inventory.customers SET email = 'edward\@walker.com' WHERE id = 3",
	"DELETE FROM inventory.customers WHERE id = 10");
ok(CdcKafka::wait_slot_caught_up($node, 'seed', 60), 'the slot confirms everything')
  or diag(CdcKafka::slurp($log));

my @msgs = CdcKafka::kcat_consume($kb->bootstrap, $topic);
is(scalar @msgs, 14, '4 snapshot reads, 9 changes, 1 tombstone')
  or diag(explain([ map { "$_->{partition}/$_->{offset} $_->{headers}{'cdc_kafka.pos'}" } @msgs ]));

# Stream order is position order (commit LSN, seq, tombstone after event).
sub pos_key
{
	my ($h) = @_;
	my ($hi, $lo, $seq, $sub) = $h =~ m{^([0-9A-F]+)/([0-9A-F]+):(\d+):(\d+)$} or return 'bad';
	return sprintf('%08X%08X%010d%d', hex($hi), hex($lo), $seq, $sub);
}
my @bad = grep { pos_key($_->{headers}{'cdc_kafka.pos'} // '') eq 'bad' } @msgs;
is(scalar @bad, 0, 'every message carries a position header');
my @ordered = sort { pos_key($a->{headers}{'cdc_kafka.pos'}) cmp pos_key($b->{headers}{'cdc_kafka.pos'}) } @msgs;

sub strip_ts
{
	my ($v) = @_;
	return undef unless defined $v;
	for my $f (qw(ts_ms ts_us ts_ns))
	{
		delete $v->{payload}{$f} if ref $v->{payload} eq 'HASH';
		delete $v->{$f};
	}
	return $v;
}

my @snap = grep { defined $_->{value} && CdcKafka::json_or_undef($_->{value})->{payload}{op} eq 'r' } @ordered;
is_deeply([ map { CdcKafka::json_or_undef($_->{key})->{payload}{id} } @snap ], [ 1 .. 4 ],
	'snapshot reads ids 1-4 in order');
is_deeply([ map { CdcKafka::json_or_undef($_->{value})->{payload}{source}{snapshot} } @snap ],
	[ 'first', 'true', 'true', 'last' ], 'the snapshot\'s first event is "first", its final one "last"');
is(CdcKafka::json_or_undef($snap[1]{value})->{payload}{after}{email}, 'gbailey@foobar.com',
	'snapshot rows hold the values before the changes');

my @stream = grep { !defined $_->{value} || CdcKafka::json_or_undef($_->{value})->{payload}{op} ne 'r' } @ordered;
my @plugin = map { JSON::PP->new->decode($_) } split /\n/,
  $node->safe_psql('postgres',
	"SELECT data FROM pg_logical_slot_get_changes('peek', NULL, NULL, 'topic-prefix', 'dbserver1')");
my @stream_events = grep { defined $_->{value} } @stream;
is(scalar @stream_events, scalar @plugin, 'as many change events as the plugin decodes');
is_deeply([ map { [ $_->{topic}, CdcKafka::json_or_undef($_->{key}), strip_ts(CdcKafka::json_or_undef($_->{value})) ] } @stream_events ],
	[ map { [ $_->{topic}, $_->{key}, strip_ts($_->{value}) ] } @plugin ],
	'every change event equals the plugin\'s output (the times aside)');
is_deeply([ map { CdcKafka::json_or_undef($_->{value})->{payload}{op} } @stream_events ],
	[ qw(c c c u c c c u d) ], 'ops in commit order');

# The tombstone: right after the delete, same key and partition, null value.
my ($del_i) = grep { defined $stream[$_]{value} && CdcKafka::json_or_undef($stream[$_]{value})->{payload}{op} eq 'd' } 0 .. $#stream;
my $tomb = $stream[ $del_i + 1 ];
ok(defined $tomb && !defined $tomb->{value}, 'a tombstone follows the delete');
is($tomb->{key}, $stream[$del_i]{key}, 'tombstone has the delete\'s key');
is($tomb->{partition}, $stream[$del_i]{partition}, 'on the same partition');
is($tomb->{offset}, $stream[$del_i]{offset} + 1, 'right after it');

my @misplaced = grep { $_->{partition} != CdcKafka::murmur2_partition($_->{key}, 3) } @msgs;
is(scalar @misplaced, 0, 'every key is on the partition the Java client would choose');

# Within each partition, offsets follow positions: per-key order holds.
my $in_order = 1;
my %last;
for my $m (sort { $a->{partition} <=> $b->{partition} || $a->{offset} <=> $b->{offset} } @msgs)
{
	my $k = pos_key($m->{headers}{'cdc_kafka.pos'});
	$in_order = 0 if defined $last{ $m->{partition} } && $k le $last{ $m->{partition} };
	$last{ $m->{partition} } = $k;
}
ok($in_order, 'offsets increase with positions in every partition');

is(CdcKafka::stop_sidecar($sc), 0, 'SIGTERM: exit 0');
like(CdcKafka::slurp($log), qr/stopped; confirmed [0-9A-F]+\/[0-9A-F]+/, 'logs the final confirmed LSN');

# Restarted, it produces nothing twice (nothing new: everything confirmed).
$sc = CdcKafka::start_sidecar(node => $node, bootstrap => $kb->bootstrap,
	slot => 'seed', log => $log, args => [ '-o', 'topic-prefix=dbserver1' ]);
$node->safe_psql('postgres', "UPDATE inventory.customers SET first_name = 'Anne' WHERE id = 4");
ok(CdcKafka::wait_slot_caught_up($node, 'seed', 60), 'restarted sidecar catches up');
is(scalar(CdcKafka::kcat_consume($kb->bootstrap, $topic)), 15, 'one more event, no repeats');
is(CdcKafka::stop_sidecar($sc), 0, 'exit 0 again');

$kb->stop;
$node->stop;
done_testing();
