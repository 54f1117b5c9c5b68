# Outages mid-stream on Apache Kafka: the only broker stopped for several
# seconds (a new topic appears meanwhile), then the broker killed (kill -9)
# and restarted while transactions stream, then Postgres restarted
# (immediate) while a large transaction streams.  The sidecar recovers by
# itself; nothing is lost or repeated.
use strict;
use warnings;

use Test::More;
use Time::HiRes qw(usleep);
use CdcKafka;

# A short wal_sender_timeout: while the broker is down the sidecar stops
# reading but must keep sending status updates, or the server drops it.
my $node = CdcKafka::start_pg('outages', conf => "wal_sender_timeout = '2s'");
$node->safe_psql('postgres', 'CREATE TABLE numbers (id int PRIMARY KEY, n int NOT NULL)');
my $kb = CdcKafka::start_kafka(topics => [ 'ot.public.numbers:2' ]);
my $log = "$ENV{TESTDIR}/sidecar.log";
my $sc = CdcKafka::start_sidecar(node => $node, bootstrap => $kb->bootstrap,
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
$kb->down(1);
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
$kb->up(1);
ok(CdcKafka::wait_slot_caught_up($node, 'out', 120), 'caught up after the broker is back')
  or diag(CdcKafka::slurp($log));
unlike(CdcKafka::slurp($log), qr/reconnecting in/,
	'blocked on a full ring, it kept the replication connection alive (wal_sender_timeout 2s)');

# The broker killed while small transactions stream, and started again on
# the same data: the idempotent producer's retries after the restart must
# neither lose nor repeat what the killed broker had or had not written.
my $stream_to = $next + 1999;
my $stream = IPC::Run::start([ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-c',
		"DO \$\$ BEGIN FOR i IN $next .. $stream_to LOOP INSERT INTO numbers VALUES (i, i); COMMIT; END LOOP; END \$\$" ],
	'<', \undef, '>', \my $sout, '2>', \my $serr);
$next = $stream_to + 1;
ok(CdcKafka::wait_until(sub {
	$node->safe_psql('postgres', 'SELECT count(*) FROM numbers') > $stream_to - 1500 }, 60),
	'a stream of transactions is running');
$kb->kill9;
sleep 2;
$kb->restart;
$stream->finish;
is($serr, '', 'the stream of transactions committed');
ok(CdcKafka::wait_slot_caught_up($node, 'out', 120), 'caught up after the broker was killed and restarted')
  or diag(CdcKafka::slurp($log));
ok(CdcKafka::running($sc), 'the sidecar waited out the killed broker');

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
my @msgs = CdcKafka::kcat_consume($kb->bootstrap, 'ot.public.numbers', timeout => 120);
my %seen;
$seen{ CdcKafka::json_or_undef($_->{key})->{id} }++ for @msgs;
is(scalar @msgs, $expected, "$expected events: every row once");
is(scalar(grep { $seen{$_} != 1 } 1 .. $expected), 0, 'each id exactly once');
is(scalar(CdcKafka::kcat_consume($kb->bootstrap, 'ot.public.late')), 50,
	'the topic first seen during the outage has its 50 rows once');

my $text = CdcKafka::slurp($log);
like($text, qr/brokers? (are|is) down|Connect to .* failed|Disconnected/, 'the broker outage is logged');
like($text, qr/reconnecting in \d+ ms/, 'the Postgres outage is logged');
like($text, qr/stats: .* events\/s.* confirmed [0-9A-F]+\/[0-9A-F]+, lag \d+ bytes, in flight/,
	'--stats lines report rate, confirmed LSN, lag and in-flight');

$kb->stop;
$node->stop;
done_testing();
