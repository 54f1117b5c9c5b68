# Validates the docker compose lab without a Docker engine:
#   1. docker-compose.yaml passes the compose validator from Debian's
#      docker-compose package (`docker-compose config`, no engine needed),
#      and the validator does reject broken variants of it;
#   2. the services, health checks, dependencies, Kafka KRaft settings and
#      the PostgreSQL command say what the lab needs;
#   3. docker/Dockerfile builds from Debian packages only and has every
#      target the compose file builds;
#   4. the daemons (when built) list the flags the compose file uses in
#      their --help and accept its whole command line (-X dump);
#   5. the PostgreSQL image's entrypoint, run here with the compose file's
#      own command, creates a password-protected cluster with the seed table
#      and the extension; docker/lab-changes.sql applies to it, and the
#      sidecar's slot and plugin options turn it into the lab's nine events.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Path qw(make_path);
use IPC::Run qw(run);
use POSIX qw(WNOHANG);
use JSON::PP;
use MIME::Base64 qw(decode_base64);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = $ENV{CDC_ROOT} // dirname(__FILE__) . '/..';
my $compose_file = "$root/docker-compose.yaml";
my $dockerfile = "$root/docker/Dockerfile";
my $tmp = PostgreSQL::Test::Utils::tempdir();

# Runs a command; returns (exit code, stdout, stderr).
sub run_cmd
{
	my @cmd = @_;
	my ($out, $err) = ('', '');
	run(\@cmd, '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

# The compose front end: Debian's docker-compose, else the docker CLI's
# compose plugin.
sub compose_cmd
{
	my ($rc) = run_cmd('sh', '-c', 'command -v docker-compose');
	return ('docker-compose') if $rc == 0;
	($rc) = run_cmd('docker', 'compose', 'version');
	return ('docker', 'compose') if $rc == 0;
	return ();
}

# A copy of the compose file with one change, in the scratch directory
# (relative build contexts then point there, which config does not check).
sub mutated_compose
{
	my ($name, $from, $to) = @_;
	my $text = slurp_file($compose_file);
	my $n = ($text =~ s/$from/$to/);
	return undef unless $n;
	my $path = "$tmp/$name.yaml";
	open(my $fh, '>', $path) or die "$path: $!";
	print $fh $text;
	close($fh);
	return $path;
}

my @compose = compose_cmd();
ok(scalar @compose, 'a compose validator is installed (scripts/deps.sh: docker-compose)')
  or do { done_testing(); exit 0; };

# 1. Validation, and proof that the validator rejects what it should.
my ($rc, $out, $err) = run_cmd(@compose, '-f', $compose_file, 'config', '-q');
is($rc, 0, 'docker-compose.yaml is a valid compose file') or diag($err);

for my $bad (
	[ 'unknown-key', qr/^    healthcheck:/m, "    healthchek:" ],
	[ 'bad-condition', qr/condition: service_healthy/, 'condition: service_ready' ],
	[ 'bad-retries', qr/retries: \d+/, 'retries: many' ])
{
	my $path = mutated_compose(@$bad);
	ok(0, "the compose file has what mutation $bad->[0] changes") unless $path;
	next unless $path;
	($rc, undef, $err) = run_cmd(@compose, '-f', $path, 'config', '-q');
	isnt($rc, 0, "the validator rejects a compose file with $bad->[0]");
}

# 2. The resolved configuration, as JSON (python3-yaml comes with
# docker-compose).
($rc, $out, $err) = run_cmd(@compose, '-f', $compose_file, 'config');
is($rc, 0, 'docker-compose config resolves the file') or diag($err);
my $json;
($rc, $json, $err) = run_cmd('python3', '-c',
	'import sys, json, yaml; json.dump(yaml.safe_load(sys.argv[1]), sys.stdout)', $out);
is($rc, 0, 'resolved configuration parses as YAML') or diag($err);
my $cfg = eval { decode_json($json) } // {};
my $svc = $cfg->{services} // {};

for my $name (qw(postgres kafka sidecar writer))
{
	ok(exists $svc->{$name}, "service $name exists");
}

for my $name (qw(postgres kafka))
{
	my $hc = $svc->{$name}{healthcheck} // {};
	ok(ref $hc->{test} eq 'ARRAY' && @{ $hc->{test} } > 1, "$name has a health check");
}

sub depends_healthy
{
	my ($name, $on) = @_;
	my $dep = $svc->{$name}{depends_on};
	return ref $dep eq 'HASH' && ($dep->{$on}{condition} // '') eq 'service_healthy';
}
ok(depends_healthy('sidecar', 'postgres'), 'sidecar waits for a healthy postgres');
ok(depends_healthy('sidecar', 'kafka'), 'sidecar waits for a healthy kafka');
ok(depends_healthy('writer', 'kafka'), 'writer waits for a healthy kafka');

# Kafka: the official image, one KRaft node, no ZooKeeper.
my $kafka = $svc->{kafka} // {};
my $kenv = $kafka->{environment} // {};
like($kafka->{image} // '', qr{^apache/kafka:\d}, 'kafka uses the official apache/kafka image');
is(join(',', sort split /,/, $kenv->{KAFKA_PROCESS_ROLES} // ''),
	'broker,controller', 'kafka runs as combined KRaft broker and controller');
ok(!grep(/ZOOKEEPER/, keys %$kenv), 'kafka has no ZooKeeper setting');
my $node = $kenv->{KAFKA_NODE_ID} // '';
like($kenv->{KAFKA_CONTROLLER_QUORUM_VOTERS} // '', qr/^\Q$node\E\@kafka:(\d+)$/,
	'the controller quorum is this node');
my ($cport) = ($kenv->{KAFKA_CONTROLLER_QUORUM_VOTERS} // '') =~ /:(\d+)$/;
my %protocol = map { split /:/ } split /,/, $kenv->{KAFKA_LISTENER_SECURITY_PROTOCOL_MAP} // '';
my %listener = map { /^(\w+):\/\/[^:]*:(\d+)$/ ? ($1 => $2) : () }
  split /,/, $kenv->{KAFKA_LISTENERS} // '';
my $ctl = $kenv->{KAFKA_CONTROLLER_LISTENER_NAMES} // '';
ok($ctl ne '' && defined $listener{$ctl} && ($listener{$ctl} // '') eq ($cport // 'x'),
	'the controller listener is declared on the quorum port');
ok(!grep({ !exists $protocol{$_} } keys %listener) && %listener,
	'every listener has a security protocol');
like($kenv->{KAFKA_ADVERTISED_LISTENERS} // '', qr{(^|,)PLAINTEXT://kafka:9092(,|$)},
	'kafka advertises kafka:9092 to the other containers');
my $cluster_id = $kenv->{CLUSTER_ID} // '';
(my $b64 = $cluster_id) =~ tr{-_}{+/};
ok(length($cluster_id) == 22 && length(decode_base64("$b64==")) == 16,
	'CLUSTER_ID is a base64 UUID');
is($kenv->{KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR} // '', 1,
	'internal topics fit a single broker');

# PostgreSQL: logical decoding, and cdc_kafka allowed as an output plugin.
my $pg = $svc->{postgres} // {};
my @pgcmd = ref $pg->{command} eq 'ARRAY' ? @{ $pg->{command} } : ();
my %pgset = map { /^([a-z_]+)=(.*)$/ ? ($1 => $2) : () } @pgcmd;
is($pgcmd[0] // '', 'postgres', 'postgres service runs the server');
is($pgset{wal_level} // '', 'logical', 'postgres command sets wal_level=logical');
ok(grep({ $_ eq 'cdc_kafka' } split /\s*,\s*/, $pgset{output_plugin_libraries} // ''),
	'postgres command lists cdc_kafka in output_plugin_libraries');

# The daemons: the sidecar streams to kafka:9092 with topic prefix lab_cdc,
# the writer keeps its tables in the delta volume; no password on a
# command line.
my @side = @{ $svc->{sidecar}{command} // [] };
my @writ = @{ $svc->{writer}{command} // [] };
ok(grep({ $_ eq 'topic-prefix=lab_cdc' } @side), 'sidecar uses topic prefix lab_cdc');
ok(grep({ /^(kafka\.)?bootstrap\.servers=kafka:9092$/ } @side), 'sidecar produces to kafka:9092');
ok(grep({ /^(kafka\.)?bootstrap\.servers=kafka:9092$/ } @writ), 'writer consumes from kafka:9092');
ok(!grep({ /password/i } @side, @writ), 'no password on a daemon command line');
my ($wroot) = map { $writ[ $_ + 1 ] } grep { $writ[$_] eq '-r' } 0 .. $#writ;
ok(defined $wroot && grep({ /^delta:\Q$wroot\E(:rw)?$/ || (ref $_ && ($_->{source} // '') eq 'delta'
		  && ($_->{target} // '') eq $wroot) } @{ $svc->{writer}{volumes} // [] }),
	'writer root is the delta volume');
ok(exists $cfg->{volumes}{delta}, 'the delta volume is declared');

# 3. The Dockerfile: every target the compose file builds exists, and
# everything comes from Debian (no downloads besides apt).
my $df = slurp_file($dockerfile);
(my $joined = $df) =~ s/\\\n/ /g;
my %stage = map { $_ => 1 } $joined =~ /^FROM\s+\S+\s+AS\s+(\S+)/mig;
for my $name (qw(postgres sidecar writer))
{
	my $b = $svc->{$name}{build} // {};
	ok(($b->{dockerfile} // '') =~ m{docker/Dockerfile$} && $stage{ $b->{target} // '' },
		"$name is built from stage '" . ($b->{target} // '') . "' of docker/Dockerfile");
}
my @bases = grep { !$stage{$_} } $joined =~ /^FROM\s+(\S+)/mig;
ok(@bases && !grep({ !m{^debian:\$\{DEBIAN_RELEASE\}(-slim)?$} } @bases),
	'every base image is Debian') or diag("bases: @bases");
ok($joined =~ /^ARG DEBIAN_RELEASE=bookworm$/m, 'the Debian release is bookworm');
ok($joined !~ /\b(curl|wget|git clone|pip3? install|npm install)\b|^ADD\s+https?:/mi,
	'no download outside apt-get');
my @pkgs;
push @pkgs, split ' ', $1
  while $joined =~ /apt-get install -y --no-install-recommends\s+(.*?)\s*(&&|$)/mg;
ok(scalar @pkgs >= 8, 'the Dockerfile installs its packages with apt-get');
for my $p (@pkgs)
{
	($rc) = run_cmd('apt-cache', 'show', $p);
	is($rc, 0, "Debian package $p exists");
}

# The build stage's install, as the Dockerfile runs it, provides every file
# the runtime stages copy from it (needs the tree built: make all).
my @copies = $joined =~ /^COPY\s+--from=build\s+(.*)$/mg;
ok(scalar @copies >= 4, 'the runtime stages copy from the build stage');
SKIP:
{
	($rc) = run_cmd('make', '-s', '-q', '-C', $root, 'all');
	skip('the tree is not built (make all)', 1) if $rc != 0;
	my ($mkdir) = $joined =~ m{mkdir -p (/staging/\S+)};
	my $staging = "$tmp/staging";
	make_path($staging . ($mkdir // '/') =~ s{^/staging}{}r);
	($rc, $out, $err) = run_cmd('make', '-s', '-C', $root, 'install', "DESTDIR=$staging");
	my @missing;
	for my $c (@copies)
	{
		my @src = split ' ', $c;
		pop @src;
		push @missing, grep { my $f = $_ =~ s{^/staging}{$staging}r; !-e $f } @src;
	}
	ok($rc == 0 && !@missing, 'make install DESTDIR provides what the images copy')
	  or diag("make install: exit $rc $err; missing: @missing");
}

# 4. Flags the compose file passes that the daemons do not know.
for my $d ([ 'cdc_kafka_sidecar', \@side ], [ 'cdc_delta_writer', \@writ ])
{
	my ($prog, $args) = @$d;
  SKIP:
	{
		($rc) = run_cmd('sh', '-c', "command -v $prog");
		skip("$prog is not built yet", 2) if $rc != 0;
		my ($hrc, $hout, $herr) = run_cmd($prog, '--help');
		my $help = $hout . $herr;
		my @unknown = grep { my $f = $_; $help !~ /(^|[\s,\[])\Q$f\E([\s,=\]]|$)/m }
		  grep { /^-/ } @$args;
		is("@unknown", '', "$prog --help lists every flag the compose file uses");
		# -X dump parses the whole command line, prints the configuration
		# and exits before connecting anywhere.
		my ($drc, $dout, $derr) = run_cmd('timeout', '20', $prog, @$args, '-X', 'dump');
		ok($drc == 0 && $dout =~ /bootstrap\.servers\W+kafka:9092/,
			"$prog accepts the compose file's arguments (-X dump)")
		  or diag("exit $drc: $derr$dout");
	}
}

# 5. The PostgreSQL image's entrypoint with the compose file's command.
my $port = PostgreSQL::Test::Cluster::get_free_port();
my $pgdata = "$tmp/pgdata";
my $password = 'compose-test-pw';
my @server = ('bash', "$root/docker/postgres-entrypoint.sh", @pgcmd,
	'-p', $port, '-k', $tmp, '-c', 'listen_addresses=127.0.0.1');
local $ENV{PGDATA} = $pgdata;
local $ENV{PGPORT} = $port;
local $ENV{PGHOST} = $tmp;
local $ENV{INITDB_DIR} = "$root/docker/initdb";
local $ENV{POSTGRES_USER} = $pg->{environment}{POSTGRES_USER} // 'postgres';
local $ENV{POSTGRES_DB} = $pg->{environment}{POSTGRES_DB} // 'postgres';
local $ENV{POSTGRES_PASSWORD} = $password;
my $server_log = "$tmp/server.log";
my $pid = fork();
die "fork: $!" unless defined $pid;
if ($pid == 0)
{
	open(STDIN, '<', '/dev/null');
	open(STDOUT, '>', $server_log);
	open(STDERR, '>&', \*STDOUT);
	exec(@server) or die "exec: $!";
}
my $exited = 0;

# The compose health check, pointed at this server's port.
my @ready = @{ $pg->{healthcheck}{test} // [] };
shift @ready if @ready && $ready[0] =~ /^CMD/;
my $healthy = 0;
for (1 .. 120)
{
	($rc) = run_cmd(@ready, '-p', $port);
	if ($rc == 0)
	{
		$healthy = 1;
		last;
	}
	if (waitpid($pid, WNOHANG) == $pid)
	{
		$exited = 1;
		last;
	}
	select(undef, undef, undef, 0.5);
}
ok($healthy, 'the entrypoint brings up a server the health check accepts')
  or diag(slurp_file($server_log));

my $db = $ENV{POSTGRES_DB};
my $tcp = "host=127.0.0.1 port=$port dbname=$db user=$ENV{POSTGRES_USER}";
sub psql_tcp
{
	my ($pw, $sql) = @_;
	local $ENV{PGPASSWORD} = $pw;
	return run_cmd('psql', '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', $tcp, '-c', $sql);
}

($rc, $out, $err) = psql_tcp($password,
	"SELECT string_agg(id || ' ' || first_name || ' ' || last_name, ', ' ORDER BY id)"
	  . " FROM inventory.customers");
is($out =~ s/\s+$//r, '1 Sally Thomas, 2 George Bailey, 3 Edward Walker, 4 Jonh Kretchmar',
	'the seed rows are in inventory.customers') or diag($err);
($rc, undef, $err) = psql_tcp('wrong-password', 'SELECT 1');
isnt($rc, 0, 'a wrong password is refused over TCP');
like($err, qr/password authentication failed/, '... by password authentication');
($rc, $out, $err) = psql_tcp($password,
	"SELECT extname FROM pg_extension WHERE extname = 'cdc_kafka'");
is($out =~ s/\s+$//r, 'cdc_kafka', 'the init script created the extension') or diag($err);
($rc, $out, $err) = psql_tcp($password, 'SHOW output_plugin_libraries');
like($out, qr/\bcdc_kafka\b/, 'the running server allows cdc_kafka') or diag($err);
ok(!grep({ /\Q$password\E/ } split /\n/, slurp_file($server_log)),
	'the password appears nowhere in the server log');

# The sidecar's slot and plugin options, over a password-authenticated
# replication connection as the sidecar makes it.
my $slot = $side[ (grep { $side[$_] eq '-S' } 0 .. $#side)[0] + 1 ] // 'cdc_kafka';
{
	local $ENV{PGPASSWORD} = $password;
	($rc, undef, $err) = run_cmd('pg_recvlogical', '-d', $tcp, '-S', $slot,
		'--create-slot', '-P', 'cdc_kafka');
}
is($rc, 0, "a replication connection creates the sidecar's slot $slot") or diag($err);
# The lab's changes (doc/docker.md tells users to pipe this file into psql).
{
	local $ENV{PGPASSWORD} = $password;
	($rc, $out, $err) = run_cmd('psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $tcp,
		'-f', "$root/docker/lab-changes.sql");
}
is($rc, 0, 'docker/lab-changes.sql applies to the seed') or diag($err);
($rc, $out, $err) = psql_tcp($password,
	"SELECT string_agg(id || ' ' || email, ', ' ORDER BY id) FROM inventory.customers");
is($out =~ s/\s+$//r,
	'1 sally.thomas@acme.com, 2 george@foobar.com, 3 edward@walker.com, 4 annek@noanswer.org, '
	  . '5 glauber.rocha@terraemtranse.movie, 6 hilton@tatuagem.movie, 7 fernando.meireles@cidadededeus.movie, '
	  . '8 meireles@cidadededeus.movie, 9 claudio.assis@amarelomanga.movie',
	'... leaving the lab\'s final state') or diag($err);

# What the sidecar will read from its slot, with its plugin options.
my @opts = map { $side[ $_ + 1 ] } grep { $side[$_] eq '-o' } 0 .. $#side;
my $optsql = join('', map { my ($k, $v) = split /=/, $_, 2; ", '$k', '" . ($v // 'true') . "'" } @opts);
($rc, $out, $err) = psql_tcp($password,
	"SELECT string_agg(format('%s %s %s %s', e->>'topic', e->'value'->'payload'->>'op',"
	  . " e->'key'->'payload'->>'id', e->'value'->'payload'->'source'->>'name'), ', ' ORDER BY n)"
	  . " FROM pg_logical_slot_peek_changes('$slot', NULL, NULL$optsql)"
	  . " WITH ORDINALITY AS c(lsn, xid, data, n), LATERAL (SELECT c.data::jsonb AS e) j");
is($rc, 0, "the plugin accepts the sidecar's options (@opts)") or diag($err);
my $want = join(', ', map { "lab_cdc.inventory.customers $_ lab_cdc" }
	  ('c 5', 'c 6', 'c 7', 'u 2', 'c 8', 'c 9', 'c 10', 'u 3', 'd 10'));
is($out =~ s/\s+$//r, $want, 'the slot yields the lab\'s nine events on lab_cdc topics');

if (!$exited)
{
	run_cmd('pg_ctl', '-D', $pgdata, '-m', 'fast', '-w', 'stop');
	waitpid($pid, 0);
}
is($?, 0, 'the server stops cleanly');

done_testing();
