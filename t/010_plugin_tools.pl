# The plugin through the ordinary tools: pg_recvlogical over a walsender
# (the startup callback runs outside a transaction there), the binary
# framing over the replication protocol, memory through a big transaction,
# and the error a cluster gives when the plugin is not allowed.
use strict;
use warnings;
use utf8;
use POSIX ':sys_wait_h';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use CdcKafka;

my $node = CdcKafka::start_pg('plugin_tools');
my $connstr = $node->connstr('postgres');

$node->safe_psql('postgres', q{
	CREATE TABLE t (id int PRIMARY KEY, note text, price numeric(8,2));
	SELECT pg_create_logical_replication_slot('s', 'cdc_kafka');
	INSERT INTO t VALUES (1, 'héllo "quoted"' || chr(10) || 'tab' || chr(9), 12.5);
	UPDATE t SET note = NULL WHERE id = 1;
	DELETE FROM t WHERE id = 1;
});
my $endpos = $node->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');

# pg_recvlogical: one JSON event per line
my ($out, $err);
my $ok = IPC::Run::run(
	[ 'pg_recvlogical', '-d', $connstr, '-S', 's', '--start', '-f', '-',
	  '--endpos', $endpos, '--no-loop', '-o', 'topic-prefix=lab_cdc' ],
	'>', \$out, '2>', \$err);
ok($ok, 'pg_recvlogical exits cleanly') or diag($err);
my @lines = grep { length } split /\n/, $out;
is(scalar @lines, 3, 'one line per event');
my @events = map { eval { decode_json($_) } } @lines;
is(scalar(grep { defined } @events), 3, 'every line is valid JSON');
is_deeply([ map { $_->{value}{payload}{op} } @events ], [qw(c u d)], 'ops in order');
is($events[0]{topic}, 'lab_cdc.public.t', 'topic from the prefix option');
is($events[0]{value}{payload}{after}{note}, "héllo \"quoted\"\ntab\t",
	'non-ASCII and control characters survive');
is($events[0]{key}{payload}{id}, 1, 'key payload');
is($events[1]{value}{payload}{after}{note}, undef, 'null stays null');
is($events[0]{value}{payload}{source}{name}, 'lab_cdc', 'source.name is the prefix');

# the slot was confirmed through endpos: nothing is replayed
$ok = IPC::Run::run(
	[ 'pg_recvlogical', '-d', $connstr, '-S', 's', '--start', '-f', '-',
	  '--endpos', $endpos, '--no-loop' ], '>', \$out, '2>', \$err);
is($out, '', 'confirmed events are not sent again');

# a bad option fails START_REPLICATION with the plugin's own message
$ok = IPC::Run::run(
	[ 'pg_recvlogical', '-d', $connstr, '-S', 's', '--start', '-f', '-',
	  '--no-loop', '-o', 'decimal-handling=float' ], '>', \$out, '2>', \$err);
ok(!$ok, 'bad option makes pg_recvlogical fail');
like($err, qr/invalid value "float" for parameter "decimal-handling"/, 'error names the option');

# A transaction far larger than logical_decoding_work_mem: the walsender's
# memory must stay flat (the reorder buffer spills, and the plugin keeps
# nothing per transaction but counters).
$node->safe_psql('postgres', q{
	SELECT pg_create_logical_replication_slot('big', 'cdc_kafka');
	INSERT INTO t SELECT g, repeat('x', 200), g FROM generate_series(10, 300009) g;
});
$endpos = $node->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');
my $hwm = 0;
my $file = "$PostgreSQL::Test::Utils::tmp_check/big.json";
my $pid = fork();
die "fork: $!" unless defined $pid;
if ($pid == 0)
{
	exec('pg_recvlogical', '-d', $connstr, '-S', 'big', '--start', '-f', $file,
		 '--endpos', $endpos, '--no-loop', '-o', 'schemas=false');
	exit 127;
}
while (waitpid($pid, WNOHANG) == 0)
{
	my $wal = $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'walsender'");
	if ($wal && open(my $st, '<', "/proc/$wal/status"))
	{
		while (<$st>) { $hwm = $1 if /^VmHWM:\s+(\d+)/ && $1 > $hwm; }
		close $st;
	}
	select(undef, undef, undef, 0.2);
}
is($?, 0, 'pg_recvlogical decodes the big transaction');
open(my $bf, '<', $file) or die "$file: $!";
my $count = 0;
$count++ while <$bf>;
close $bf;
is($count, 300000, 'every row of a 300k-row transaction is decoded');
note("walsender peak RSS: $hwm kB");
cmp_ok($hwm, '<', 200 * 1024, 'walsender peak RSS stays bounded (well below the transaction size)');

# format=kafka over the replication protocol writes frames, not lines
$node->safe_psql('postgres', q{
	SELECT pg_create_logical_replication_slot('bin', 'cdc_kafka');
	INSERT INTO t VALUES (2, 'two', 2);
});
$endpos = $node->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');
$ok = IPC::Run::run(
	[ 'pg_recvlogical', '-d', $connstr, '-S', 'bin', '--start', '-f', '-',
	  '--endpos', $endpos, '--no-loop', '-o', 'format=kafka' ],
	'>', \$out, '2>', \$err);
ok($ok, 'format=kafka streams') or diag($err);
like($out, qr/^Ec/, 'first frame is an event of op c');
like($out, qr/C0[\x00-\xff]{24}\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\n?$/,
	'transaction ends with a C frame with empty topic, null key and value');

# A cluster that does not list cdc_kafka in output_plugin_libraries
my $strict = CdcKafka::start_pg('not_listed', plugins => 'pgoutput, test_decoding',
	extension => 0);
my ($rc, $stdout, $stderr) = $strict->psql('postgres',
	"SELECT pg_create_logical_replication_slot('x', 'cdc_kafka')");
isnt($rc, 0, 'slot creation fails when the plugin is not listed');
like($stderr, qr/output_plugin_libraries/, 'the error names output_plugin_libraries');
$strict->stop;

$node->stop;
done_testing();
