# SIGHUP reopens the -L log file while librdkafka's threads log into it
# (debug level, kafka.debug=all): a storm of SIGHUPs during a stream must
# neither crash the sidecar nor lose a line's worth of events.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(usleep time);
use CdcKafka;

my $node = CdcKafka::start_pg('sighup');
$node->safe_psql('postgres', 'CREATE TABLE t (id int PRIMARY KEY)');
my $kb = CdcKafka::start_kafka();
my $log = "$ENV{TESTDIR}/sidecar.log";
my $lfile = "$ENV{TESTDIR}/L.log";
my $sc = CdcKafka::start_sidecar(node => $node, bootstrap => $kb->bootstrap,
	slot => 'hup', create => 1, log => $log,
	args => [ '-o', 'topic-prefix=hup', '-o', 'schemas=false', '-L', $lfile, '-v', '-v', '-X', 'kafka.debug=all' ]);
ok(CdcKafka::wait_until(sub { CdcKafka::slurp($lfile) =~ /streaming slot/ }, 60), 'the sidecar streams')
  or diag(CdcKafka::slurp($log));
my $pid = $sc->{KIDS}[0]{PID};

# 20000 one-row transactions while SIGHUPs rain
my ($o, $e);
my $writer = IPC::Run::start([ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-c',
	'DO $$ BEGIN FOR i IN 1..20000 LOOP INSERT INTO t VALUES (i); COMMIT; END LOOP; END $$' ],
	'<', \undef, '>', \$o, '2>', \$e);
my ($n, $deadline) = (0, time + 20);
while (time < $deadline && CdcKafka::running($sc))
{
	kill 'HUP', $pid;
	$n++;
	usleep(200);
}
$writer->finish;
ok(CdcKafka::running($sc), "still running after $n SIGHUPs") or diag(CdcKafka::slurp($log));
ok(CdcKafka::wait_slot_caught_up($node, 'hup', 60), 'and everything confirmed');
is(scalar(CdcKafka::kcat_consume($kb->bootstrap, 'hup.public.t')), 20000, 'every row in Kafka once');
is(CdcKafka::stop_sidecar($sc), 0, 'SIGTERM: exit 0');
done_testing();
