# CdcKafka.pm: shared helpers for the cdc_kafka TAP tests.
#
#   my $kb = CdcKafka::start_kafka(topics => ['t:3']);              # Apache Kafka (scripts/kafka.sh)
#   my $kb = CdcKafka::start_kafka(brokers => 3, config => 'min.insync.replicas=2');
#   $kb->bootstrap; $kb->create_topic('t:3'); $kb->down(2); $kb->up(2); $kb->kill9(1);
#   $kb->restart; $kb->leader($topic, $p); $kb->pids; $kb->log_dir; $kb->stop;
#   my $mb = CdcKafka::start_mock_broker(brokers => 3, topics => ['t:3']);
#   $mb->bootstrap; $mb->down(2); $mb->up(2); $mb->error('Produce', 'NOT_LEADER_FOR_PARTITION', 3[, $rtt_ms]); $mb->stop;
#   my @msgs = CdcKafka::kcat_consume($mb->bootstrap, 'topic');   # {key, value, partition, offset, headers}
#   CdcKafka::kcat_produce($mb->bootstrap, 'topic', [key, value], ...);
#   CdcKafka::murmur2_partition($key, $partitions)                 # Java's default partitioner
#   my $node = CdcKafka::start_pg('name');                         # wal_level=logical + CREATE EXTENSION
#   CdcKafka::server_address($node)                                # socket path or HOST:PORT
#   my $sb = CdcKafka::start_standby($node, 'name', conf => '...');  # streaming, hot_standby_feedback
#   CdcKafka::server_major($node)                                  # 15, 17, 18
#   CdcKafka::create_seed_table($node);                            # inventory.customers, ids 1-4
#   my $sc = CdcKafka::start_sidecar(node => $node, bootstrap => $b, slot => 's', create => 1,
#                                    log => $file, args => [...]); # IPC::Run harness
#   CdcKafka::kill9($sc); CdcKafka::stop_sidecar($sc) (exit code); CdcKafka::running($sc)
#   CdcKafka::wait_until(sub { ... }, $secs); CdcKafka::wait_slot_caught_up($node, $slot, $secs)
#   CdcKafka::kcat_partitions($b, $topic); CdcKafka::json_or_undef($text); CdcKafka::slurp($file)
#
# Everything runs against real processes: Apache Kafka (scripts/kafka.sh),
# the project's mock broker tool (tools/cdc_kafka_mock_broker) where a test
# needs injected errors, kcat as the independent Kafka client, and
# PostgreSQL::Test::Cluster.
package CdcKafka;

use strict;
use warnings;

use Carp;
use File::Path qw(make_path);
use File::Spec;
use IPC::Run;

# run_tests.sh names a TESTDIR it does not create; Cluster.pm's INIT needs it.
BEGIN { make_path($ENV{TESTDIR}) if $ENV{TESTDIR} && !-d $ENV{TESTDIR}; }
use PostgreSQL::Test::Cluster;
use JSON::PP;
use JSON::XS ();

# A server from a Debian root (CDC_PG=17, see scripts/pg.sh and
# t/run_tests.sh) is reached over TCP, as the daemons reach a server in
# production.  After Cluster.pm's own INIT, which chose Unix sockets.
INIT
{
	if ($ENV{CDC_PG})
	{
		$PostgreSQL::Test::Cluster::use_tcp = 1;
		$PostgreSQL::Test::Cluster::test_pghost = $PostgreSQL::Test::Cluster::test_localhost;
		$ENV{PGHOST} = $PostgreSQL::Test::Cluster::test_pghost;
	}
}
use Time::HiRes qw(usleep time);

our $ROOT = $ENV{CDC_ROOT} // File::Spec->rel2abs(File::Spec->catdir(__FILE__, '..', '..'));

# Path of one of the project's programs, built in the source tree.
sub program
{
	my ($rel) = @_;
	my $p = "$ROOT/$rel";
	croak "$p is not built (run make)" unless -x $p;
	return $p;
}

# ---------------------------------------------------------------- Apache Kafka

# Starts Apache Kafka (KRaft) in a fresh directory under TESTDIR, one per
# call; stopped by ->stop or when the object goes away.
#   brokers => 1|3, config => 'key=value ...' (broker settings),
#   topics => ['name:partitions', ...] created before it returns
sub start_kafka
{
	my (%opts) = @_;
	my $n = 1;
	$n++ while -e "$ENV{TESTDIR}/kafka$n";
	my $self = bless { dir => "$ENV{TESTDIR}/kafka$n" }, 'CdcKafka::Kafka';
	local $ENV{KAFKA_BROKERS} = $opts{brokers} // 1;
	local $ENV{KAFKA_CONFIG} = $opts{config} // '';
	$self->{bootstrap} = $self->_script('start');
	$self->{bootstrap} =~ s/^bootstrap\.servers=//;
	$self->create_topic($_) for @{ $opts{topics} // [] };
	return $self;
}

package CdcKafka::Kafka;

use Carp;
use Time::HiRes qw(usleep);

sub bootstrap { return $_[0]->{bootstrap}; }

# The data directory of node $id (default 1), for sizes on disk.
sub log_dir { my ($self, $id) = @_; return "$self->{dir}/node" . ($id // 1) . '/data'; }

# Runs scripts/kafka.sh CMD DIR [ARGS]; returns its standard output's last line.
sub _script
{
	my ($self, $cmd, @args) = @_;
	my ($out, $err) = ('', '');
	# short runs: the JIT's first tier only costs the shared cores less
	local $ENV{KAFKA_QUICK} = $ENV{KAFKA_QUICK} // 1;
	IPC::Run::run([ 'bash', "$CdcKafka::ROOT/scripts/kafka.sh", $cmd, $self->{dir}, @args ],
		'<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(300))
	  or croak "scripts/kafka.sh $cmd $self->{dir} @args failed: $err";
	my @lines = split /\n/, $out;
	return $lines[-1] // '';
}

# "name" or "name:partitions", created through the admin API
# (tools/cdc_kafka_topics) with the broker's replication factor; @config
# are topic settings ("cleanup.policy=compact").
sub create_topic
{
	my ($self, $spec, @config) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ CdcKafka::program('tools/cdc_kafka_topics'), '-b', $self->{bootstrap},
			(map { ('-c', $_) } @config), $spec ],
		'<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(120))
	  or croak "cdc_kafka_topics $spec: $err";
	return "ok $out";
}

# The process ids of node $id, or of every running node.
sub pids
{
	my ($self, $id) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'bash', "$CdcKafka::ROOT/scripts/kafka.sh", 'pid', $self->{dir}, $id // () ],
		'<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(60))
	  or croak "scripts/kafka.sh pid $self->{dir} failed: $err";
	return split /\n/, $out;
}

# Clean stop (SIGTERM, controlled shutdown) of node $id and its start
# again, as the mock's down/up.
sub down { my ($self, $id) = @_; $self->_script('stop', $id); return "ok down $id"; }
sub up { my ($self, $id) = @_; $self->_script('start'); return "ok up $id"; }

# kill -9 of node $id (default: every node); returns once it is gone.
sub kill9
{
	my ($self, $id) = @_;
	my @pids = $self->pids($id);
	croak "no broker process to kill in $self->{dir}" unless @pids;
	kill 'KILL', @pids;
	for my $pid (@pids)
	{
		usleep(50_000) while kill 0, $pid;
	}
	return;
}

# Starts every node that is not running, on the same ports and data.
sub restart { my ($self) = @_; $self->_script('start'); return; }

# The node id leading a partition, from kcat's metadata.
sub leader
{
	my ($self, $topic, $partition) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'kcat', '-L', '-J', '-m', '30', '-b', $self->{bootstrap}, '-t', $topic ],
		'<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(60))
	  or croak "kcat -L failed: $err";
	for my $t (@{ JSON::PP->new->decode($out)->{topics} })
	{
		next unless $t->{topic} eq $topic;
		for my $p (@{ $t->{partitions} })
		{
			return $p->{leader} if $p->{partition} == $partition;
		}
	}
	croak "no partition $partition of $topic in the metadata";
}

sub error
{
	croak 'a real broker cannot inject protocol errors: use CdcKafka::start_mock_broker';
}

# The end of the test: kill -9, as nothing is kept (a clean stop of the
# controlled shutdown would cost seconds); ->down tests a clean stop.
sub stop
{
	my ($self) = @_;
	return unless $self->{bootstrap};
	$self->kill9 if $self->pids;
	delete $self->{bootstrap};
	return;
}

sub DESTROY { my ($self) = @_; local ($@, $?); eval { $self->stop; }; }

package CdcKafka;

# ---------------------------------------------------------------- mock broker

sub start_mock_broker
{
	my (%opts) = @_;
	my @cmd = (program('tools/cdc_kafka_mock_broker'), '-b', $opts{brokers} // 1);
	push @cmd, '-t', $_ for @{ $opts{topics} // [] };
	push @cmd, '-v' if $opts{verbose};
	my $self = bless { in => '', out => '', err => '' }, 'CdcKafka::MockBroker';
	$self->{h} = IPC::Run::start(\@cmd, '<', \$self->{in}, '>', \$self->{out},
		'2>', \$self->{err});
	my $deadline = time + 30;
	while ($self->{out} !~ /\n/)
	{
		croak "mock broker did not start: $self->{err}" if time > $deadline || !$self->{h}->pumpable;
		$self->{h}->pump_nb;
		usleep(20_000);
	}
	($self->{bootstrap}) = $self->{out} =~ /^(\S+)\n/;
	$self->{out} =~ s/^[^\n]*\n//;
	return $self;
}

package CdcKafka::MockBroker;

use Carp;
use Time::HiRes qw(usleep time);

sub bootstrap { return $_[0]->{bootstrap}; }

# Sends one command and returns its answer line ("ok ..." or dies).
sub command
{
	my ($self, $line) = @_;
	$self->{in} .= "$line\n";
	my $deadline = time + 30;
	while ($self->{out} !~ /\n/)
	{
		croak "mock broker: no answer to \"$line\"" if time > $deadline || !$self->{h}->pumpable;
		$self->{h}->pump_nb;
		usleep(10_000);
	}
	$self->{out} =~ s/^([^\n]*)\n//;
	my $answer = $1;
	croak "mock broker: $line: $answer" unless $answer =~ /^ok\b/;
	return $answer;
}

sub down { my ($self, $id) = @_; return $self->command("down $id"); }
sub up { my ($self, $id) = @_; return $self->command("up $id"); }
sub create_topic { my ($self, $spec) = @_; return $self->command("topic $spec"); }

# The next $count requests of $api on each broker fail, answered $rtt_ms late.
sub error
{
	my ($self, $api, $err, $count, $rtt_ms) = @_;
	return $self->command("error $api $err $count" . (defined $rtt_ms ? " $rtt_ms" : ''));
}

sub stop
{
	my ($self) = @_;
	return unless $self->{h};
	$self->{in} .= "quit\n";
	eval { $self->{h}->finish; 1 } or $self->{h}->kill_kill;
	delete $self->{h};
	return;
}

sub DESTROY { my ($self) = @_; local $@; eval { $self->{h}->kill_kill if $self->{h}; }; }

package CdcKafka;

# ---------------------------------------------------------------- kcat

# (kcat's metadata calls get -m 30: on a busy machine a broker may take
# longer than kcat's default 5 s to answer.)
#
# Every message of a topic from the beginning to the current end, as
# hashrefs {topic, partition, offset, key, value, headers => {k => v}},
# sorted by partition then offset.  Null keys and values are undef.
#   partition => N   only that partition
#   timeout => S     give up after S seconds (default 60)
sub kcat_consume
{
	my ($bootstrap, $topic, %opts) = @_;
	my @cmd = ('kcat', '-C', '-m', '30', '-b', $bootstrap, '-t', $topic, '-e', '-J', '-q',
		'-o', 'beginning', '-X', 'topic.metadata.refresh.interval.ms=1000');
	push @cmd, '-p', $opts{partition} if defined $opts{partition};
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run(\@cmd, '<', \undef, '>', \$out, '2>', \$err,
		IPC::Run::timeout($opts{timeout} // 60));
	# A topic nothing was produced to yet holds no message.
	return wantarray ? () : 0 if !$ok && $err =~ /Unknown topic or partition/;
	croak "kcat -C $topic failed: $err" unless $ok;
	my @msgs;
	# JSON::XS: a topic of 200k messages took JSON::PP minutes
	my $json = JSON::XS->new;
	for my $line (split /\n/, $out)
	{
		next unless $line =~ /^\{/;
		my $m = $json->decode($line);
		my %h = @{ $m->{headers} // [] };
		push @msgs, {
			topic => $m->{topic},
			partition => $m->{partition},
			offset => $m->{offset},
			key => $m->{key},
			value => $m->{payload},
			headers => \%h,
		};
	}
	my @sorted = sort { $a->{partition} <=> $b->{partition} || $a->{offset} <=> $b->{offset} } @msgs;
	return wantarray ? @sorted : scalar @sorted;
}

# Produces [key, value] pairs with murmur2_random (Java's default placement).
sub kcat_produce
{
	my ($bootstrap, $topic, @pairs) = @_;
	my $in = join('', map { "$_->[0]\x1f$_->[1]\n" } @pairs);
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run(['kcat', '-P', '-b', $bootstrap, '-t', $topic, '-K', "\x1f",
			'-X', 'partitioner=murmur2_random'],
		'<', \$in, '>', \$out, '2>', \$err, IPC::Run::timeout(60));
	croak "kcat -P $topic failed: $err" unless $ok;
	return;
}

# Partition count of a topic, from kcat's metadata listing.
sub kcat_partitions
{
	my ($bootstrap, $topic) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run(['kcat', '-L', '-J', '-m', '30', '-b', $bootstrap, '-t', $topic],
		'<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(60))
	  or croak "kcat -L failed: $err";
	my $md = JSON::PP->new->decode($out);
	for my $t (@{ $md->{topics} })
	{
		return scalar @{ $t->{partitions} } if $t->{topic} eq $topic;
	}
	return 0;
}

# ---------------------------------------------------------------- partitioner

# 32-bit multiply without going through floating point.
sub _mul32
{
	my ($a, $b) = @_;
	return (($a * ($b & 0xffff)) + ((($a * ($b >> 16)) & 0xffff) << 16)) & 0xffffffff;
}

# org.apache.kafka.common.utils.Utils.murmur2, written from its definition.
sub murmur2
{
	my ($data) = @_;
	my @b = unpack('C*', $data);
	my $len = scalar @b;
	my $m = 0x5bd1e995;
	my $h = (0x9747b28c ^ $len) & 0xffffffff;
	my $n4 = $len & ~3;
	for (my $i = 0; $i < $n4; $i += 4)
	{
		my $k = $b[$i] | ($b[$i + 1] << 8) | ($b[$i + 2] << 16) | ($b[$i + 3] << 24);
		$k = _mul32($k, $m);
		$k ^= $k >> 24;
		$k = _mul32($k, $m);
		$h = _mul32($h, $m);
		$h ^= $k;
	}
	my $rest = $len % 4;
	if ($rest)
	{
		$h ^= $b[$n4 + 2] << 16 if $rest >= 3;
		$h ^= $b[$n4 + 1] << 8 if $rest >= 2;
		$h ^= $b[$n4];
		$h = _mul32($h, $m);
	}
	$h ^= $h >> 13;
	$h = _mul32($h, $m);
	$h ^= $h >> 15;
	return $h;
}

# The Java client's DefaultPartitioner for a non-null key.
sub murmur2_partition
{
	my ($key, $partitions) = @_;
	return (murmur2($key) & 0x7fffffff) % $partitions;
}

# ---------------------------------------------------------------- Postgres

# A started PostgreSQL::Test::Cluster with logical decoding, the plugin
# allowed, and the extension created in "postgres" (unless extension => 0).
sub start_pg
{
	my ($name, %opts) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(allows_streaming => 'logical');
	my $conf = logical_conf();
	$conf =~ s/^output_plugin_libraries.*$/output_plugin_libraries = '$opts{plugins}'/m
	  if defined $opts{plugins};
	$node->append_conf('postgresql.conf', $conf);
	$node->append_conf('postgresql.conf', $opts{conf}) if $opts{conf};
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION cdc_kafka')
	  unless defined $opts{extension} && !$opts{extension};
	return $node;
}

# A streaming standby of $primary (a started start_pg node), made from a
# fresh base backup, with its own physical slot on the primary and
# hot_standby_feedback, as logical decoding on a standby needs: started.
#   conf => 'more settings'
sub start_standby
{
	my ($primary, $name, %opts) = @_;
	$primary->safe_psql('postgres',
		"SELECT pg_create_physical_replication_slot('$name', true)");
	$primary->backup("${name}_backup");
	(my $conninfo = $primary->connstr('postgres') . " application_name=$name") =~ s/'/''/g;
	my $standby = PostgreSQL::Test::Cluster->new($name);
	$standby->init_from_backup($primary, "${name}_backup", has_streaming => 1);
	$standby->append_conf('postgresql.conf', join("\n",
		"primary_slot_name = '$name'",
		"primary_conninfo = '$conninfo'",
		'hot_standby_feedback = on',
		$opts{conf} // ''));
	$standby->start;
	return $standby;
}

# The server's major version: 15, 17, 18.
sub server_major
{
	my ($node) = @_;
	return int($node->safe_psql('postgres', 'SHOW server_version_num') / 10000);
}

# Where $node listens: its Unix socket's path, or HOST:PORT when the tests
# reach servers over TCP (CDC_PG).
sub server_address
{
	my ($node) = @_;
	return $PostgreSQL::Test::Cluster::use_tcp
	  ? $node->host . ':' . $node->port
	  : $node->host . '/.s.PGSQL.' . $node->port;
}

# sql/logical.conf without the settings the server (the postgres on PATH)
# does not know, which would stop it from starting.
sub logical_conf
{
	my ($bindir) = grep { -x "$_/postgres" } split /:/, $ENV{PATH};
	croak 'no postgres on PATH' unless $bindir;
	my ($out, $err) = ('', '');
	IPC::Run::run([ "$ROOT/scripts/pg.sh", 'logical-conf', $bindir ],
		'<', \undef, '>', \$out, '2>', \$err)
	  or croak "scripts/pg.sh logical-conf: $err";
	return $out;
}

# The Debezium tutorial's inventory.customers with its four seed rows.
sub create_seed_table
{
	my ($node, $db) = @_;
	$node->safe_psql($db // 'postgres', _lab_sql('initdb/01-inventory.sql'));
	return;
}

# The seed lab's changes (inserts 5-7, id 2's email, inserts 8-10, id 3's
# email, delete of id 10), from the file the demo and compose stack use.
sub apply_seed_changes
{
	my ($node, $db) = @_;
	$node->safe_psql($db // 'postgres', _lab_sql('lab-changes.sql'));
	return;
}

# One of the lab's SQL files under docker/, shared with scripts/demo.sh.
sub _lab_sql
{
	my ($name) = @_;
	open(my $fh, '<', "$ROOT/docker/$name") or croak "docker/$name: $!";
	my $sql = do { local $/; <$fh> };
	close $fh;
	return $sql;
}

# ---------------------------------------------------------------- sidecar

# Starts cdc_kafka_sidecar against $node's "postgres" database; output goes
# (appended) to $opts{log}.  Returns the IPC::Run harness.
#   slot => name (default "cdc"), create => 1 (--create-slot),
#   args => [extra flags], bootstrap => address
sub start_sidecar
{
	my (%opts) = @_;
	my @cmd = (program('sidecar/cdc_kafka_sidecar'),
		'-d', $opts{node}->connstr('postgres'),
		'-S', $opts{slot} // 'cdc',
		'-X', "kafka.bootstrap.servers=$opts{bootstrap}",
		'-s', '1',
		@{ $opts{args} // [] });
	push @cmd, '--create-slot' if $opts{create};
	my $log = $opts{log} // "$ENV{TESTDIR}/sidecar.log";
	return IPC::Run::start(\@cmd, '<', \undef, '>>', $log, '2>>', $log);
}

# Is the harness's process still running (not exited, not a zombie)?
sub running
{
	my ($h) = @_;
	my $pid = $h->{KIDS}[0]{PID} or return 0;
	open(my $fh, '<', "/proc/$pid/stat") or return 0;
	my $stat = <$fh>;
	close $fh;
	return $stat =~ /^\d+ \(.*\) [^ZX]/ ? 1 : 0;
}

# kill -9, reaped.
sub kill9
{
	my ($h) = @_;
	$h->signal('KILL');
	eval { $h->finish; };
	return;
}

# SIGTERM and wait; returns the exit code.
sub stop_sidecar
{
	my ($h) = @_;
	$h->signal('TERM');
	$h->finish;
	return $h->full_result(0) >> 8;
}

# Polls $cb every 100 ms until true or $timeout seconds passed.
sub wait_until
{
	my ($cb, $timeout) = @_;
	my $deadline = time + ($timeout // 120);
	while (time < $deadline)
	{
		return 1 if $cb->();
		usleep(100_000);
	}
	return 0;
}

# Has the slot confirmed everything written so far (on a standby:
# everything replayed so far)?
sub wait_slot_caught_up
{
	my ($node, $slot, $timeout) = @_;
	my $target = $node->safe_psql('postgres',
		'SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END');
	return wait_until(sub {
		$node->safe_psql('postgres',
			"SELECT coalesce(confirmed_flush_lsn >= '$target', false) FROM pg_replication_slots WHERE slot_name = '$slot'") eq 't';
	}, $timeout);
}

# Decoded JSON, or undef for undef.
sub json_or_undef
{
	my ($text) = @_;
	return defined $text ? JSON::PP->new->decode($text) : undef;
}

# The log file's contents.
sub slurp
{
	my ($file) = @_;
	open(my $fh, '<', $file) or return '';
	local $/;
	my $c = <$fh>;
	close $fh;
	return $c;
}

1;
