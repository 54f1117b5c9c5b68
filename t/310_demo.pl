# The README's first command: the seed lab end to end on this machine.
# Runs scripts/demo.sh as a user would (it starts and stops everything), on
# the mock broker (make demo) and on Apache Kafka (make demo KAFKA=real),
# then again with PostgreSQL changed behind the pipeline's back, to prove
# that its final comparison fails when Delta and PostgreSQL differ.
use strict;
use warnings;
use Test::More;
use IPC::Run;

my $root = $ENV{CDC_ROOT} or die "CDC_ROOT is not set";
my $demo = "$root/scripts/demo.sh";

# Processes whose command line names the demo's directory (postgres -D,
# the sidecar's host=, the writer's -r, the broker's -f all do).
sub leftovers
{
	my ($out) = @_;
	my ($work) = $out =~ m{Starting PostgreSQL 15 in (/[^\s,]+)};
	return -1 unless $work;
	return scalar(grep { index($_, $work) >= 0 } split /\n/, `ps -eo args`);
}

sub demo_dirs { my @d = glob(($_[0] // $ENV{TMPDIR} // '/tmp') . '/cdc_kafka_demo.*'); return scalar @d; }

sub run_demo
{
	my (%env) = @_;
	my $out;
	local %ENV = (%ENV, %env);
	delete $ENV{CDC_DEMO_WORK};
	my $ok = IPC::Run::run([ 'bash', $demo ], '>&', \$out, IPC::Run::timeout(300));
	return ($ok, $out // '');
}

my $dirs = demo_dirs();
my ($ok, $out) = run_demo(KAFKA => 'real');
ok($ok, 'KAFKA=real: the demo succeeds on Apache Kafka') or diag($out);
like($out, qr/Starting Kafka \(Apache Kafka, KRaft/, 'KAFKA=real: it says which Kafka');
like($out, qr/OK: the Delta table's current state equals inventory.customers in PostgreSQL/,
	'KAFKA=real: Delta and PostgreSQL agree');
is(leftovers($out), 0, 'KAFKA=real: the demo leaves no process behind (the broker neither)');
is(demo_dirs(), $dirs, 'KAFKA=real: and no temporary directory');

($ok, $out) = run_demo();
ok($ok, 'the demo succeeds') or diag($out);
like($out, qr/the project's mock broker/, 'by default on the mock broker');
like($out, qr/\[9\/9\] Comparing/, 'the demo shows its progress through every step');
like($out, qr/OK: the Delta table's current state equals inventory.customers in PostgreSQL/,
	'Delta and PostgreSQL agree');
like($out, qr/^ d\s+\| 10 /m, 'the change log shows the delete of id 10');
like($out, qr/^ 2\s+\| George\s+\| Bailey\s+\| george\@foobar\.com/m,
	"the current state has id 2's new email");
unlike($out, qr/^ 10 \|/m, 'the deleted row is not in the current state');
is(leftovers($out), 0, 'the demo leaves no process behind');
is(demo_dirs(), $dirs, 'and no temporary directory');

# the second run also where the user says: scratch directory and ports
my $scratch = "$ENV{TESTDIR}/scratch";
mkdir $scratch or die "$scratch: $!";
($ok, $out) = run_demo(CDC_DEMO_TAMPER => 1, TMPDIR => $scratch, CDC_PORT_RANGE => '31000-31009');
ok(!$ok, 'the demo fails when PostgreSQL and Delta differ');
like($out, qr/MISMATCH between Delta and PostgreSQL/, 'and says so');
like($out, qr{Starting PostgreSQL 15 in \Q$scratch\E/cdc_kafka_demo\.\w+, port 3100\d\b},
	'TMPDIR and CDC_PORT_RANGE choose its directory and port');
is(leftovers($out), 0, 'no process left behind after a failure either');
is(demo_dirs($scratch), 0, 'nor a temporary directory');
($ok, $out) = run_demo(CDC_PORT_RANGE => '31000');
ok(!$ok && $out =~ /CDC_PORT_RANGE="31000": give LOW-HIGH/, 'a bad CDC_PORT_RANGE is refused, and named');
done_testing();
