# Shutdown is bounded (issue 11): a SIGTERM while the sidecar waits for an
# unreachable broker to tell it about a topic stops it at once, not when the
# Kafka request it waits on times out (10 s); with messages in flight to a
# broker that is down, it waits at most shutdown.timeout.ms for them, and a
# second signal stops it at once.  Either way nothing unacknowledged is
# confirmed.
#
# The time limits below are shutdown.timeout.ms (or none) plus 2-3 s for a
# loaded machine: before the fix the first two cases took 9-10 s, the time
# left of the metadata request.  Mock broker: a broker down and back at
# once (a clean stop of Apache Kafka takes 10-20 s on the test machine, and
# the cases need the broker down only while events are in flight).
use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time usleep);
use IO::Socket::INET;
use CdcKafka;

my $node = CdcKafka::start_pg('shutdown');
$node->safe_psql('postgres', 'CREATE TABLE t (id int PRIMARY KEY)');

# Whether the slot has confirmed nothing at or after $lsn.  A transaction is
# confirmed by its commit's end, so a slot short of the insert position right
# after the commit has confirmed none of it; the slot may still move over WAL
# without events (running-xacts records) written meanwhile.
sub confirmed_before
{
	my ($slot, $lsn) = @_;
	return $node->safe_psql('postgres',
		"SELECT confirmed_flush_lsn < '$lsn' FROM pg_replication_slots WHERE slot_name = '$slot'") eq 't';
}

sub insert_lsn
{
	return $node->safe_psql('postgres', 'SELECT pg_current_wal_insert_lsn()');
}

sub slot_lsn
{
	my ($slot) = @_;
	return $node->safe_psql('postgres',
		"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '$slot'");
}

# Sends SIGTERM; returns the seconds until the process is gone and its exit code.
sub term_and_time
{
	my ($h, $then) = @_;
	my $t0 = time;
	$h->signal('TERM');
	$then->() if $then;
	$h->finish;
	return (time - $t0, $h->full_result(0) >> 8);
}

# 1. An unreachable broker at the first event: SIGTERM, in the middle of the
#    10 s metadata request, stops it at once.
my $sock = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1)
  or die "socket: $!";
my $closed = '127.0.0.1:' . $sock->sockport;
close $sock;
$node->safe_psql('postgres', "SELECT pg_create_logical_replication_slot('unreach', 'cdc_kafka')");
$node->safe_psql('postgres', 'INSERT INTO t VALUES (1)');
my $before = slot_lsn('unreach');
my $log1 = "$ENV{TESTDIR}/unreachable.log";
my $sc = CdcKafka::start_sidecar(node => $node, bootstrap => $closed, slot => 'unreach',
	log => $log1, args => [ '-X', 'shutdown.timeout.ms=2000' ]);
# after the first failed attempt and its backoff, it is waiting on the next
ok(CdcKafka::wait_until(sub { CdcKafka::slurp($log1) =~ /metadata for topic .*; retrying/ }, 60),
	'unreachable: it waits for the broker') or diag(CdcKafka::slurp($log1));
sleep 1;
my ($secs, $rc) = term_and_time($sc);
is($rc, 0, 'unreachable: SIGTERM exits 0');
cmp_ok($secs, '<', 5, sprintf('unreachable: SIGTERM stops it at once (%.1f s)', $secs));
is(slot_lsn('unreach'), $before, 'unreachable: nothing confirmed');

# 2. The same with two signals in a row.
$sc = CdcKafka::start_sidecar(node => $node, bootstrap => $closed, slot => 'unreach',
	log => $log1, args => [ '-X', 'shutdown.timeout.ms=600000' ]);
ok(CdcKafka::wait_until(sub { (() = CdcKafka::slurp($log1) =~ /streaming slot/g) >= 2 }, 60),
	'unreachable again: streaming') or diag(CdcKafka::slurp($log1));
sleep 1;
($secs, $rc) = term_and_time($sc, sub { usleep(200_000); $sc->signal('TERM'); });
is($rc, 0, 'unreachable, two signals: exit 0');
cmp_ok($secs, '<', 3, sprintf('unreachable, two signals: stopped at once (%.1f s)', $secs));
is(slot_lsn('unreach'), $before, 'unreachable, two signals: nothing confirmed');

# 3. Messages in flight to a broker that went down: SIGTERM waits
#    shutdown.timeout.ms for them, then stops without confirming them.
my $mb = CdcKafka::start_mock_broker(topics => [ 'sd.public.t:2' ]);
my $log3 = "$ENV{TESTDIR}/inflight.log";
my @args = ('-o', 'topic-prefix=sd', '-o', 'schemas=false', '--stats', '1');
$sc = CdcKafka::start_sidecar(node => $node, bootstrap => $mb->bootstrap, slot => 'inflight',
	create => 1, log => $log3, args => [ @args, '-X', 'shutdown.timeout.ms=2000' ]);
ok(CdcKafka::wait_until(sub { CdcKafka::slurp($log3) =~ /streaming slot/ }, 60), 'in flight: streaming')
  or diag(CdcKafka::slurp($log3));
$node->safe_psql('postgres', 'INSERT INTO t VALUES (2)');
ok(CdcKafka::wait_slot_caught_up($node, 'inflight', 60), 'in flight: caught up');
$mb->down(1);
$node->safe_psql('postgres', 'INSERT INTO t SELECT generate_series(3, 100)');
my $held = insert_lsn();
ok(CdcKafka::wait_until(sub { CdcKafka::slurp($log3) =~ /in flight [1-9]\d* messages/ }, 60),
	'in flight: events produced, not acknowledged') or diag(CdcKafka::slurp($log3));
($secs, $rc) = term_and_time($sc);
is($rc, 0, 'in flight: SIGTERM exits 0');
cmp_ok($secs, '<', 5, sprintf('in flight: at most shutdown.timeout.ms and a little (%.1f s)', $secs));
ok(confirmed_before('inflight', $held), 'in flight: nothing unacknowledged confirmed')
  or diag('confirmed ' . slot_lsn('inflight') . ", the transaction ends at $held");

# 4. The same with a long shutdown.timeout.ms, cut short by a second signal.
$mb->up(1);
my $log4 = "$ENV{TESTDIR}/second.log";
$sc = CdcKafka::start_sidecar(node => $node, bootstrap => $mb->bootstrap, slot => 'inflight',
	log => $log4, args => [ @args, '-X', 'shutdown.timeout.ms=600000' ]);
ok(CdcKafka::wait_slot_caught_up($node, 'inflight', 60), 'second signal: caught up')
  or diag(CdcKafka::slurp($log4));
$mb->down(1);
$node->safe_psql('postgres', 'INSERT INTO t SELECT generate_series(101, 200)');
$held = insert_lsn();
ok(CdcKafka::wait_until(sub { CdcKafka::slurp($log4) =~ /in flight [1-9]\d* messages/ }, 60),
	'second signal: events in flight') or diag(CdcKafka::slurp($log4));
($secs, $rc) = term_and_time($sc, sub {
	CdcKafka::wait_until(sub { CdcKafka::slurp($log4) =~ /flushing/ }, 30);
	$sc->signal('TERM');
});
is($rc, 0, 'second signal: exit 0');
cmp_ok($secs, '<', 3, sprintf('second signal: stopped at once (%.1f s)', $secs));
ok(confirmed_before('inflight', $held), 'second signal: nothing unacknowledged confirmed')
  or diag('confirmed ' . slot_lsn('inflight') . ", the transaction ends at $held");

# The broker back: a restart delivers everything once.
$mb->up(1);
$sc = CdcKafka::start_sidecar(node => $node, bootstrap => $mb->bootstrap, slot => 'inflight',
	log => $log4, args => \@args);
ok(CdcKafka::wait_slot_caught_up($node, 'inflight', 60), 'broker back: caught up')
  or diag(CdcKafka::slurp($log4));
is(CdcKafka::stop_sidecar($sc), 0, 'broker back: SIGTERM exits 0');
my %seen;
$seen{ CdcKafka::json_or_undef($_->{key})->{id} }++ for CdcKafka::kcat_consume($mb->bootstrap, 'sd.public.t');
is(join(',', grep { ($seen{$_} // 0) != 1 } 2 .. 200), '', 'broker back: rows 2-200 once each');

$mb->stop;
$node->stop;
done_testing();
