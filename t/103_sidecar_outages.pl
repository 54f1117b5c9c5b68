# Outages mid-stream: the only broker down for several seconds (a new topic
# appears meanwhile), then Postgres restarted (immediate) while a large
# transaction streams (12k rows: the mock keeps ~5 MB per partition).  The
# sidecar recovers by itself; nothing is lost or repeated.
use strict;
use warnings;

use Test::More;
use Time::HiRes qw(usleep);
use CdcKafka;

# A short wal_sender_timeout: while the broker is down the sidecar stops
# reading but must keep sending status updates, or the server drops it.
my $node = CdcKafka::start_pg('outages', conf => "wal_sender_timeout = '2s'");
$node->safe_psql('postgres', 'CREATE TABLE numbers (id int PRIMARY KEY, n int NOT NULL)');
my $mb = CdcKafka::start_mock_broker(topics => [ 'ot.public.numbers:2' ]);
my $log = "$ENV{TESTDIR}/sidecar.log";
my $sc = CdcKafka::start_sidecar(node => $node, bootstrap => $mb->bootstrap,
	slot => 'out', create => 1, log => $log,
	args => [ '-o', 'topic-prefix=ot', '-o', 'schemas=false', '--stats', '1',
		'-X', 'max.inflight.transactions=4' ]);

my $next = 1;
sub insert_batch
{
	my ($n) = @_;
	my $last = $next + $n - 1;
	$node->safe_psql('postgres',
		"INSERT INTO numbers SELECT g, g FROM generate_series($next, $last) g");
	$next = $last + 1;
}

insert_batch(10) for 1 .. 5;
ok(CdcKafka::wait_slot_caught_up($node, 'out', 60), 'streaming before the outage')
  or diag(CdcKafka::slurp($log));

# Broker down: transactions keep committing, a new table appears.
$mb->down(1);
insert_batch(10) for 1 .. 10;
$node->safe_psql('postgres', 'CREATE TABLE late (id int PRIMARY KEY); INSERT INTO late SELECT generate_series(1, 50)');
insert_batch(10) for 1 .. 10;
sleep 5;
ok(CdcKafka::running($sc), 'the sidecar waits out the broker outage');
my $lsn_down = $node->safe_psql('postgres',
	"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'out'");
my $lsn_now = $node->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');
ok($node->safe_psql('postgres', "SELECT '$lsn_down'::pg_lsn < '$lsn_now'::pg_lsn") eq 't',
	'nothing unacknowledged is confirmed while the broker is down');
$mb->up(1);
ok(CdcKafka::wait_slot_caught_up($node, 'out', 120), 'caught up after the broker is back')
  or diag(CdcKafka::slurp($log));
unlike(CdcKafka::slurp($log), qr/reconnecting in/,
	'blocked on a full ring, it kept the replication connection alive (wal_sender_timeout 2s)');

# Postgres restarted while a large transaction streams.
my ($out, $err) = ('', '');
my $big_from = $next;
my $big = IPC::Run::start([ 'psql', '-X', '-q', '-d', $node->connstr('postgres'),
		'-c', "INSERT INTO numbers SELECT g, g FROM generate_series($next, " . ($next + 11999) . ") g" ],
	'<', \undef, '>', \$out, '2>', \$err);
$big->finish;
$next += 12000;
usleep(50_000);
$node->restart(mode => 'immediate');
insert_batch(10) for 1 .. 5;
ok(CdcKafka::wait_slot_caught_up($node, 'out', 180), 'caught up after the Postgres restart')
  or diag(CdcKafka::slurp($log));
ok(CdcKafka::running($sc), 'the same sidecar process recovered by itself');
is(CdcKafka::stop_sidecar($sc), 0, 'SIGTERM: exit 0');

my $expected = $next - 1;
my @msgs = CdcKafka::kcat_consume($mb->bootstrap, 'ot.public.numbers', timeout => 120);
my %seen;
$seen{ CdcKafka::json_or_undef($_->{key})->{id} }++ for @msgs;
is(scalar @msgs, $expected, "$expected events: every row once");
is(scalar(grep { $seen{$_} != 1 } 1 .. $expected), 0, 'each id exactly once');
is(scalar(CdcKafka::kcat_consume($mb->bootstrap, 'ot.public.late')), 50,
	'the topic first seen during the outage has its 50 rows once');

my $text = CdcKafka::slurp($log);
like($text, qr/brokers? (are|is) down|Connect to .* failed|Disconnected/, 'the broker outage is logged');
like($text, qr/reconnecting in \d+ ms/, 'the Postgres outage is logged');
like($text, qr/stats: .* events\/s.* confirmed [0-9A-F]+\/[0-9A-F]+, lag \d+ bytes, in flight/,
	'--stats lines report rate, confirmed LSN, lag and in-flight');

$mb->stop;
$node->stop;
done_testing();
