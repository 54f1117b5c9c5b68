# kill -9 in the middle of the initial snapshot: the snapshot reads through
# a temporary slot, so nothing is left behind; the next start with
# --create-slot takes the snapshot again, and the stream follows it with no
# gap.  (Rows the first attempt delivered are read again: snapshot rows are
# at-least-once after such a crash, as Debezium restarts a snapshot.)
use strict;
use warnings;

use Test::More;
use Time::HiRes qw(usleep);
use CdcKafka;

my $rows = 100000;
my $node = CdcKafka::start_pg('snapcrash');
$node->safe_psql('postgres', qq{
	CREATE TABLE big (id int PRIMARY KEY, v int NOT NULL);
	INSERT INTO big SELECT g, 0 FROM generate_series(1, $rows) g;
});
my $kb = CdcKafka::start_kafka(topics => [ 'cr.public.big:16' ]);
my $log = "$ENV{TESTDIR}/sidecar.log";
my @args = ('-o', 'topic-prefix=cr', '-o', 'schemas=false');

my $sc = CdcKafka::start_sidecar(node => $node, bootstrap => $kb->bootstrap,
	slot => 'cr', create => 1, log => $log, args => \@args);
ok(CdcKafka::wait_until(sub { CdcKafka::slurp($log) =~ /snapshot \S+: starting/ }, 60),
	'the snapshot starts') or diag(CdcKafka::slurp($log));
usleep(50_000);
CdcKafka::kill9($sc);
my $text = CdcKafka::slurp($log);
unlike($text, qr/row\(s\) delivered/, 'killed before the snapshot completed');
ok(CdcKafka::wait_until(sub {
	$node->safe_psql('postgres', "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'cr%'") == 0 }, 60),
	'no slot is left behind by the killed snapshot');

# The next start takes the snapshot again; writes follow.
$sc = CdcKafka::start_sidecar(node => $node, bootstrap => $kb->bootstrap,
	slot => 'cr', create => 1, log => $log, args => \@args);
ok(CdcKafka::wait_until(sub { CdcKafka::slurp($log) =~ /row\(s\) delivered/ }, 120),
	'the second snapshot completes') or diag(CdcKafka::slurp($log));
$node->safe_psql('postgres', "UPDATE big SET v = v + 1 WHERE id % 1000 = 0");
$node->safe_psql('postgres', "INSERT INTO big VALUES (" . ($rows + 1) . ", 0)");
$node->safe_psql('postgres', "DELETE FROM big WHERE id = 7");
ok(CdcKafka::wait_slot_caught_up($node, 'cr', 120), 'the stream follows') or diag(CdcKafka::slurp($log));
is(CdcKafka::stop_sidecar($sc), 0, 'SIGTERM: exit 0');

my @msgs = CdcKafka::kcat_consume($kb->bootstrap, 'cr.public.big', timeout => 120);
my (%state, %reads, $last_marks);
for my $m (@msgs)	# per partition, offset order
{
	my $id = CdcKafka::json_or_undef($m->{key})->{id};
	next unless defined $m->{value};
	my $v = CdcKafka::json_or_undef($m->{value});
	$last_marks++ if ($v->{source}{snapshot} // '') eq 'last';
	$reads{$id}++ if $v->{op} eq 'r';
	$state{$id} = $v->{op} eq 'd' ? undef : $v->{after}{v};
}
is(scalar(grep { !$reads{$_} } 1 .. $rows), 0, 'every existing row was read');
is($last_marks, 1, 'one complete snapshot marked "last"');
my %db = map { split /\|/ } split /\n/, $node->safe_psql('postgres', 'SELECT id, v FROM big');
my %live = map { $_ => $state{$_} } grep { defined $state{$_} } keys %state;
is_deeply(\%live, \%db, 'replaying the topic gives the table as it is');

$kb->stop;
$node->stop;
done_testing();
