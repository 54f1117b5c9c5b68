# Apache Kafka configured as production brokers often are: no topic
# auto-creation, and a message.max.bytes smaller than some events.
#   1. The sidecar creates each missing topic through the admin API with
#      topic.creation.default.partitions / .replication.factor / topic
#      settings (as Debezium's topic.creation.default.*), says so in one
#      log line per topic, and streams into it; the heartbeat topic too.
#   2. An event larger than the broker accepts stops the sidecar with exit
#      2 and an error naming the table, the key and the size; nothing past
#      it is confirmed.  Once the topic accepts larger messages, a restart
#      delivers everything exactly once.
use strict;
use warnings;

use Test::More;
use CdcKafka;

my $node = CdcKafka::start_pg('topics');
$node->safe_psql('postgres',
	'CREATE TABLE items (id int PRIMARY KEY, v text); CREATE TABLE big (id int PRIMARY KEY, v text)');
my $kb = CdcKafka::start_kafka(config => 'auto.create.topics.enable=false message.max.bytes=65536');
my $log = "$ENV{TESTDIR}/sidecar.log";
my @args = ('-o', 'topic-prefix=tc', '-X', 'topic.creation.default.partitions=3',
	'-X', 'topic.creation.default.replication.factor=1',
	'-X', 'topic.creation.default.retention.ms=123456789', '-X', 'heartbeat.interval.ms=300');

# The broker itself refuses to create topics (kcat's metadata request asks
# it to): what follows can only work if the sidecar creates them.
CdcKafka::kcat_partitions($kb->bootstrap, 'tc.public.items');
is(CdcKafka::kcat_partitions($kb->bootstrap, 'tc.public.items'), 0,
	'the broker does not auto-create topics');

my $sc = CdcKafka::start_sidecar(node => $node, bootstrap => $kb->bootstrap,
	slot => 'tc', create => 1, log => $log, args => \@args);
$node->safe_psql('postgres', "INSERT INTO items SELECT g, 'row ' || g FROM generate_series(1, 30) g");
ok(CdcKafka::wait_slot_caught_up($node, 'tc', 60), 'streamed into a topic the sidecar created')
  or diag(CdcKafka::slurp($log));
is(CdcKafka::kcat_partitions($kb->bootstrap, 'tc.public.items'), 3,
	'topic.creation.default.partitions: 3 partitions');
my @items = CdcKafka::kcat_consume($kb->bootstrap, 'tc.public.items');
is(scalar @items, 30, 'every row once');
my @lines = CdcKafka::slurp($log) =~ /^.*tc\.public\.items.*created it with.*$/mg;
is(scalar @lines, 1, 'one log line for the created topic') or diag(explain(\@lines));
like($lines[0] // '', qr/topic tc\.public\.items did not exist and the broker does not create topics: created it with 3 partition\(s\), replication factor 1/,
	'the line names the topic, its partitions and replication factor');

ok(CdcKafka::wait_until(sub {
	scalar(CdcKafka::kcat_consume($kb->bootstrap, '__debezium-heartbeat.tc')) >= 2 }, 60),
	'the heartbeat topic was created too, and heartbeats go there')
  or diag(CdcKafka::slurp($log));
like(CdcKafka::slurp($log), qr/topic __debezium-heartbeat\.tc did not exist and the broker does not create topics: created it with 3 partition/,
	'one log line for the heartbeat topic');

# The topic's settings, as the broker reports them (Kafka's own tool).
my $cp = `bash $CdcKafka::ROOT/scripts/peers.sh classpath kafka`;
chomp $cp;
my ($out, $err) = ('', '');
IPC::Run::run([ 'java', '-Xmx128m', '-cp', $cp, 'kafka.admin.ConfigCommand',
		'--bootstrap-server', $kb->bootstrap, '--entity-type', 'topics',
		'--entity-name', 'tc.public.items', '--describe' ],
	'<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(120));
like($out, qr/retention\.ms=123456789/, 'topic.creation.default.retention.ms is the topic\'s setting')
  or diag("$out\n$err");

# An event larger than message.max.bytes (64 kB): random text, so that
# compression cannot shrink it under the limit.
my $confirmed = $node->safe_psql('postgres',
	"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'tc'");
$node->safe_psql('postgres', "INSERT INTO big VALUES (1, 'small'), (2, 'small')");
$node->safe_psql('postgres', 'INSERT INTO big SELECT 3, string_agg(md5(g::text || random()::text), \'\') FROM generate_series(1, 8000) g');
my $big_lsn = $node->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');
$node->safe_psql('postgres', "INSERT INTO big VALUES (4, 'small'), (5, 'small')");
ok(CdcKafka::wait_until(sub { !CdcKafka::running($sc) }, 120), 'too large: the sidecar stops')
  or diag(CdcKafka::slurp($log));
eval { $sc->finish; };
is($sc->full_result(0) >> 8, 2, 'too large: exit 2');
like(CdcKafka::slurp($log),
	qr/error: .*event of 2\d{5} bytes for table public\.big \(topic tc\.public\.big\), key \{"id":3\}/,
	'too large: the error names the table, the key and the size')
  or diag(CdcKafka::slurp($log));
my $after = $node->safe_psql('postgres',
	"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'tc'");
is($node->safe_psql('postgres', "SELECT '$after'::pg_lsn < '$big_lsn'::pg_lsn"), 't',
	"too large: nothing confirmed past it ($confirmed -> $after < $big_lsn)");
my %ids = map { CdcKafka::json_or_undef($_->{key})->{payload}{id} => 1 } CdcKafka::kcat_consume($kb->bootstrap, 'tc.public.big');
ok(!$ids{3}, 'too large: the event is not in Kafka');

# The same event above the sidecar's own kafka.message.max.bytes: librdkafka
# refuses it before it is sent; the same error, exit 2, nothing confirmed
# (and, under scripts/sanitize.sh, nothing leaked on the way out)
truncate($log, 0);
$sc = CdcKafka::start_sidecar(node => $node, bootstrap => $kb->bootstrap,
	slot => 'tc', log => $log, args => [ @args, '-X', 'kafka.message.max.bytes=100000' ]);
ok(CdcKafka::wait_until(sub { !CdcKafka::running($sc) }, 120), 'too large for the client: the sidecar stops')
  or diag(CdcKafka::slurp($log));
eval { $sc->finish; };
is($sc->full_result(0) >> 8, 2, 'too large for the client: exit 2');
like(CdcKafka::slurp($log),
	qr/error: .*event of 2\d{5} bytes for table public\.big \(topic tc\.public\.big\), key \{"id":3\}.*larger than kafka\.message\.max\.bytes/,
	'too large for the client: the error names the table, the key and the size')
  or diag(CdcKafka::slurp($log));
is($node->safe_psql('postgres', "SELECT confirmed_flush_lsn < '$big_lsn'::pg_lsn FROM pg_replication_slots WHERE slot_name = 'tc'"),
	't', 'too large for the client: nothing confirmed past it');

# The topic made to accept it: a restart delivers everything once.
IPC::Run::run([ 'java', '-Xmx128m', '-cp', $cp, 'kafka.admin.ConfigCommand',
		'--bootstrap-server', $kb->bootstrap, '--entity-type', 'topics',
		'--entity-name', 'tc.public.big', '--alter', '--add-config', 'max.message.bytes=1000000' ],
	'<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(120))
  or diag("$out\n$err");
$sc = CdcKafka::start_sidecar(node => $node, bootstrap => $kb->bootstrap,
	slot => 'tc', log => $log, args => \@args);
ok(CdcKafka::wait_slot_caught_up($node, 'tc', 60), 'larger max.message.bytes: caught up')
  or diag(CdcKafka::slurp($log));
my @big = CdcKafka::kcat_consume($kb->bootstrap, 'tc.public.big');
my %count;
$count{ CdcKafka::json_or_undef($_->{key})->{payload}{id} }++ for @big;
is_deeply(\%count, { 1 => 1, 2 => 1, 3 => 1, 4 => 1, 5 => 1 }, 'every row of big exactly once');
is(CdcKafka::stop_sidecar($sc), 0, 'SIGTERM: exit 0');

$kb->stop;
$node->stop;
done_testing();
