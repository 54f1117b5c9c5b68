# Kafka errors injected into the mock broker: retriable ones are retried by
# the idempotent producer with nothing lost or repeated; a permanent one
# stops the sidecar (exit 2) without confirming past it, and a restart
# completes the stream exactly once.  On the mock broker: a real one cannot
# inject protocol errors on demand.
use strict;
use warnings;

use Test::More;
use CdcKafka;

my $node = CdcKafka::start_pg('kafka_errors');
$node->safe_psql('postgres', 'CREATE TABLE numbers (id int PRIMARY KEY, n int NOT NULL)');
my $mb = CdcKafka::start_mock_broker(topics => [ 'ke.public.numbers:2' ]);
my $log = "$ENV{TESTDIR}/sidecar.log";
my @args = ('-o', 'topic-prefix=ke', '-o', 'schemas=false');
my $sc = CdcKafka::start_sidecar(node => $node, bootstrap => $mb->bootstrap,
	slot => 'ke', create => 1, log => $log, args => \@args);

my $next = 1;
sub insert_batch
{
	my $last = $next + 49;
	$node->safe_psql('postgres', "INSERT INTO numbers SELECT g, g FROM generate_series($next, $last) g");
	$next = $last + 1;
}

insert_batch();
ok(CdcKafka::wait_slot_caught_up($node, 'ke', 60), 'streaming') or diag(CdcKafka::slurp($log));

$mb->error('Produce', 'NOT_LEADER_FOR_PARTITION', 5);
$mb->error('Produce', 'REQUEST_TIMED_OUT', 3);
insert_batch() for 1 .. 4;
ok(CdcKafka::wait_slot_caught_up($node, 'ke', 60), 'retriable errors: caught up')
  or diag(CdcKafka::slurp($log));
ok(CdcKafka::running($sc), 'retriable errors: still running');

# A permanent error: the delivery fails, the sidecar stops, exit 2.
my $confirmed = $node->safe_psql('postgres',
	"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'ke'");
$mb->error('Produce', 'MSG_SIZE_TOO_LARGE', 1);
insert_batch() for 1 .. 4;
ok(CdcKafka::wait_until(sub { !CdcKafka::running($sc) }, 60), 'permanent error: the sidecar stops')
  or diag(CdcKafka::slurp($log));
eval { $sc->finish; };
is($sc->full_result(0) >> 8, 2, 'permanent error: exit 2');
like(CdcKafka::slurp($log), qr/error: .*(delivery to ke\.public\.numbers \[\d\] failed|fatal Kafka error|Kafka refused an event of \d+ bytes for table public\.numbers \(topic ke\.public\.numbers\), key \{"id":\d+\} as too large)/,
	'permanent error: the log says which delivery failed');
my $after = $node->safe_psql('postgres',
	"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'ke'");
my $now = $node->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');
ok($node->safe_psql('postgres', "SELECT '$after'::pg_lsn < '$now'::pg_lsn") eq 't',
	"permanent error: the failed transactions are not confirmed ($confirmed -> $after < $now)");

# Restarted, it completes the stream: every row exactly once.
$sc = CdcKafka::start_sidecar(node => $node, bootstrap => $mb->bootstrap,
	slot => 'ke', log => $log, args => \@args);
insert_batch();
ok(CdcKafka::wait_slot_caught_up($node, 'ke', 60), 'restarted: caught up')
  or diag(CdcKafka::slurp($log));
is(CdcKafka::stop_sidecar($sc), 0, 'SIGTERM: exit 0');

my $expected = $next - 1;
my %seen;
$seen{ CdcKafka::json_or_undef($_->{key})->{id} }++
  for CdcKafka::kcat_consume($mb->bootstrap, 'ke.public.numbers');
is(scalar keys %seen, $expected, "all $expected rows in Kafka");
is(scalar(grep { $seen{$_} != 1 } keys %seen), 0, 'each exactly once');

$mb->stop;
$node->stop;
done_testing();
