# What doc/production.md tells an operator to install, run as written:
#   1. deploy/systemd/*.service pass `systemd-analyze verify` with no
#      complaint, and keep their hardening (`systemd-analyze security`);
#   2. deploy/cdc_kafka/{sidecar,writer}.conf, the worked SASL/SCRAM + TLS
#      configuration, run through each unit's own ExecStart line against
#      Apache Kafka with a SASL_SSL listener (scripts/kafka.sh
#      KAFKA_SASL_SSL=1: a CA of its own, SCRAM-SHA-512 user cdc_kafka):
#      the seed lab goes PostgreSQL -> Kafka -> Delta over TLS, and the
#      Delta table's current state equals PostgreSQL's.  Only what names
#      this machine is replaced (hosts, the password, the CA file, the
#      table root); the security settings are the files' own;
#   3. a wrong password is refused by the broker, and the sidecar says so;
#      the writer says so and exits 2;
#   4. -X dump of the files masks the password, not the mechanism or user.
use strict;
use warnings;

use File::Path qw(make_path);
use IPC::Run;
use Test::More;

use CdcKafka;
use CdcWriter;

my $root = $CdcKafka::ROOT;
my $work = $ENV{TESTDIR} // die 'TESTDIR';
make_path($work);

sub slurp { return CdcKafka::slurp(@_); }

sub run_cmd
{
	my ($out, $err) = ('', '');
	IPC::Run::run([@_], '<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(300));
	return ($? >> 8, $out, $err);
}

# The unit's ExecStart, with the program as built here and the -c FILE given.
sub exec_start
{
	my ($unit, $conf) = @_;
	my ($line) = slurp("$root/deploy/systemd/$unit") =~ /^ExecStart=(.*)$/m
	  or die "$unit has no ExecStart";
	my @argv = split ' ', $line;
	$argv[0] =~ m{^/usr/local/bin/(cdc_\w+)$} or die "$unit: ExecStart runs $argv[0]";
	my %built = (cdc_kafka_sidecar => 'sidecar', cdc_delta_writer => 'writer');
	$argv[0] = CdcKafka::program("$built{$1}/$1");
	my ($c) = grep { $argv[$_] eq '-c' } 0 .. $#argv;
	die "$unit: ExecStart has no -c FILE" unless defined $c;
	$argv[ $c + 1 ] = $conf;
	return @argv;
}

# ---------------------------------------------------------------- 1. units

for my $unit ('cdc_kafka_sidecar.service', 'cdc_delta_writer.service')
{
	# verify checks that ExecStart's program exists: point it at the build
	my $text = slurp("$root/deploy/systemd/$unit");
	like($text, qr{^ExecStart=/usr/local/bin/\S+ -c /etc/cdc_kafka/\w+\.conf$}m,
		"$unit runs the installed program with -c /etc/cdc_kafka/*.conf");
	like($text, qr/^Restart=on-failure$/m, "$unit restarts after a failure");
	like($text, qr/^RestartPreventExitStatus=1$/m, '... but not after a configuration error (exit 1)');
	like($text, qr/^User=cdc_kafka$/m, '... and runs as the unprivileged user cdc_kafka');
	my ($prog) = $text =~ m{^ExecStart=/usr/local/bin/(\S+)}m;
	my %built = (cdc_kafka_sidecar => 'sidecar', cdc_delta_writer => 'writer');
	$text =~ s{^ExecStart=/usr/local/bin/(\S+)}{"ExecStart=" . CdcKafka::program("$built{$1}/$1")}me;
	make_path("$work/units");
	open(my $fh, '>', "$work/units/$unit") or die;
	print $fh $text;
	close $fh;
	my ($rc, $out, $err) = run_cmd('systemd-analyze', 'verify', "$work/units/$unit");
	ok($rc == 0 && $out . $err eq '', "systemd-analyze verify $unit: no complaint")
	  or diag("exit $rc: $out$err");
	($rc, $out, $err) = run_cmd('systemd-analyze', 'security', '--offline=yes', '--threshold=20',
		"$work/units/$unit");
	my ($level) = $out =~ /Overall exposure level for \S+: ([\d.]+)/;
	ok($rc == 0 && defined $level, "systemd-analyze security $unit: exposure $level of 10, at most 2.0")
	  or diag("exit $rc: $err" . ($out =~ /(^.*✗.*$)/mg));
}

# ---------------------------------------------------------------- 2. SASL_SSL

my ($rc, $out, $err);
{
	local $ENV{KAFKA_SASL_SSL} = 1;
	($rc, $out, $err) = run_cmd('bash', "$root/scripts/kafka.sh", 'start', "$work/kafka");
}
my ($secured) = $out =~ /^sasl_ssl\.bootstrap\.servers=(\S+)$/m;
ok($rc == 0 && $secured, 'Kafka starts with a SASL_SSL listener') or BAIL_OUT("kafka.sh: $err");
END { run_cmd('bash', "$root/scripts/kafka.sh", 'stop', "$work/kafka") if $work && -d "$work/kafka"; }
my $password = slurp("$work/kafka/tls/cdc_kafka.password") =~ s/\s+$//r;
my $ca = "$work/kafka/tls/ca.pem";

my $node = CdcKafka::start_pg('secured');
CdcKafka::create_seed_table($node);

# The example file with this machine's hosts, password, CA and root; every
# other line, the security settings among them, as it is.
sub local_conf
{
	my ($name, %replace) = @_;
	my $text = slurp("$root/deploy/cdc_kafka/$name");
	my %seen;
	$text =~ s/^([\w.-]+)=.*$/exists $replace{$1} ? do { $seen{$1} = 1; "$1=$replace{$1}" } : $&/mge;
	is(join(',', sort keys %seen), join(',', sort keys %replace), "$name: sets every key replaced here");
	my $path = "$work/$name";
	open(my $fh, '>', $path) or die;
	print $fh $text;
	close $fh;
	return $path;
}
my %kafka = ('kafka.bootstrap.servers' => $secured, 'kafka.sasl.password' => $password,
	'kafka.ssl.ca.location' => $ca);
my $sidecar_conf = local_conf('sidecar.conf', %kafka,
	'database.conninfo' => $node->connstr('postgres'), 'plugin.topic-prefix' => 'shop');
my $writer_conf = local_conf('writer.conf', %kafka, root => "$work/delta",
	# the consumer group and new topics, quickly (as in the README)
	'kafka.topic.metadata.refresh.interval.ms' => 1000);
like(slurp($sidecar_conf), qr/^kafka\.security\.protocol=SASL_SSL$/m, 'the sidecar speaks SASL_SSL');
like(slurp($writer_conf), qr/^kafka\.sasl\.mechanism=SCRAM-SHA-512$/m, 'the writer logs in with SCRAM-SHA-512');

my @sidecar = exec_start('cdc_kafka_sidecar.service', $sidecar_conf);
my @writer = exec_start('cdc_delta_writer.service', $writer_conf);
my $slog = "$work/sidecar.log";
my $wlog = "$work/writer.log";
my $hs = IPC::Run::start(\@sidecar, '<', \undef, '>>', $slog, '2>>', $slog);
my $hw = IPC::Run::start(\@writer, '<', \undef, '>>', $wlog, '2>>', $wlog);
ok(CdcKafka::wait_until(sub { $node->safe_psql('postgres',
	"SELECT active FROM pg_replication_slots WHERE slot_name = 'shop'") eq 't' }, 120),
	'the sidecar has taken the snapshot and streams the slot') or diag(slurp($slog));
CdcKafka::apply_seed_changes($node);

my $table = "$work/delta/inventory/customers";
ok(CdcWriter::wait_for(sub { -d "$table/_delta_log" && CdcWriter::committed_rows($table) >= 13 }, 180),
	'the 13 events of the seed lab reach Delta through SASL_SSL')
  or diag(slurp($slog) . slurp($wlog));
my $current = CdcWriter::delta_read($table,
	"SELECT id, email FROM (SELECT *, row_number() OVER (PARTITION BY id ORDER BY __kafka_offset DESC) AS rn FROM t)
	  WHERE rn = 1 AND __op <> 'd' ORDER BY id");
my $pg = $node->safe_psql('postgres', 'SELECT id, email FROM inventory.customers ORDER BY id');
is(join("\n", map { "$_->{id}|$_->{email}" } @{ $current->{results}[0] }), $pg,
	"the Delta table's current state equals PostgreSQL's");
is(CdcKafka::stop_sidecar($hs), 0, 'the sidecar stops with exit 0 on SIGTERM');
is(CdcWriter::stop_writer($hw), 0, 'the writer stops with exit 0 on SIGTERM');
unlike(slurp($slog) . slurp($wlog), qr/\Q$password\E/, 'the password is in neither log');

# ---------------------------------------------------------------- 3. refused

my $bad_conf = local_conf('sidecar.conf', %kafka, 'kafka.sasl.password' => 'not-the-password',
	'database.conninfo' => $node->connstr('postgres'), 'plugin.topic-prefix' => 'shop');
my $blog = "$work/bad.log";
my $hb = IPC::Run::start([ exec_start('cdc_kafka_sidecar.service', $bad_conf) ], '<', \undef,
	'>>', $blog, '2>>', $blog);
ok(CdcKafka::wait_until(sub { slurp($blog) =~ /SASL authentication error/ }, 120),
	'a wrong password: the broker refuses the login and the sidecar logs why') or diag(slurp($blog));
$hb->signal('TERM');
eval { $hb->finish; 1 } or $hb->kill_kill;
unlike(slurp($blog), qr/not-the-password/, 'without printing the password');

# the writer: a refused login concerns every table, so it exits 2 (README)
my $bad_wconf = "$work/writer-bad.conf";
(my $wtext = slurp($writer_conf)) =~ s/^kafka\.sasl\.password=.*$/kafka.sasl.password=not-the-password/m;
open(my $wfh, '>', $bad_wconf) or die;
print $wfh $wtext;
close $wfh;
my ($bwout, $bwerr) = ('', '');
my $bw = IPC::Run::start([ exec_start('cdc_delta_writer.service', $bad_wconf) ], '<', \undef,
	'>', \$bwout, '2>', \$bwerr, IPC::Run::timeout(120));
eval { $bw->finish; 1 } or do { $bw->kill_kill; $bwerr .= "\n(still running after 120 s)"; };
is($bw->result, 2, 'a wrong password: the writer exits 2') or diag($bwerr);
like($bwerr, qr/Kafka refused the login: .*SASL authentication error/, '... saying Kafka refused the login');
unlike($bwerr, qr/not-the-password/, '... without printing the password');

# ---------------------------------------------------------------- 4. dump

for my $d ([ $sidecar[0], $sidecar_conf ], [ $writer[0], $writer_conf ])
{
	($rc, $out, $err) = run_cmd($d->[0], '-c', $d->[1], '-X', 'dump');
	ok($rc == 0 && $out =~ /^kafka\.sasl\.password=\*+  # file$/m
		  && $out =~ /^kafka\.sasl\.username=cdc_kafka  # file$/m && $out !~ /\Q$password\E/,
		"$d->[0] -X dump: the user shown, the password masked") or diag("$err$out");
}

done_testing();
