# The plugin's relation cache over a walsender's life: the entry of a table
# that is dropped must go, or a slot that streams for months (a table per
# day, each dropped after its retention) grows the walsender for ever.  The
# walsender's memory contexts are read with pg_log_backend_memory_contexts.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use CdcKafka;

my $node = CdcKafka::start_pg('dropped_tables');
$node->safe_psql('postgres', q{
	CREATE TABLE kept (id int PRIMARY KEY);
	SELECT pg_create_logical_replication_slot('s', 'cdc_kafka');
});

my ($out, $err) = ('', '');
my $recv = IPC::Run::start(
	[ 'pg_recvlogical', '-d', $node->connstr('postgres'), '-S', 's', '--start',
	  '-f', '/dev/null', '-F', '1', '-s', '1', '--no-loop' ],
	'>', \$out, '2>', \$err);

# 150 tables, each created, written and dropped in transactions of its own
for my $i (1 .. 150)
{
	$node->safe_psql('postgres', qq{
		CREATE TABLE day_$i (id int PRIMARY KEY, v text);
		INSERT INTO day_$i VALUES (1, 'x');
		DROP TABLE day_$i;
	});
}
$node->safe_psql('postgres', 'INSERT INTO kept VALUES (1)');
ok(CdcKafka::wait_slot_caught_up($node, 's', 60), 'the walsender decoded every table')
  or diag($err);

my $pid = $node->safe_psql('postgres',
	"SELECT active_pid FROM pg_replication_slots WHERE slot_name = 's'");
ok($pid =~ /^\d+$/, 'the walsender streams the slot');
my $offset = -s $node->logfile;
$node->safe_psql('postgres', "SELECT pg_log_backend_memory_contexts($pid)");
my $contexts = '';
CdcKafka::wait_until(sub {
	$contexts = substr(slurp_file($node->logfile), $offset);
	return $contexts =~ /level: \d+; Grand total|Grand total:/;
}, 30);
my $entries = () = $contexts =~ /cdc_kafka relation: /g;
ok($contexts =~ /cdc_kafka relations: /, 'the relation cache is in the walsender\'s contexts')
  or diag($contexts);
cmp_ok($entries, '<=', 5, "the dropped tables' entries are gone ($entries left)")
  or diag($contexts);

$recv->signal('TERM');
$recv->finish;
$node->stop;
done_testing();
