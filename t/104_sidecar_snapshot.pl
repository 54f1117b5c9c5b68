# The initial snapshot of a table with existing rows while writes continue:
# snapshot and stream meet without gap or overlap.  Every update adds 1 to
# its row's counter, so for each key the events must count up by exactly one
# from the snapshot read (or the insert) on; the replayed final state must
# equal the table.
use strict;
use warnings;

use Test::More;
use Time::HiRes qw(usleep);
use CdcKafka;

my $rows = 15000;
my $node = CdcKafka::start_pg('snapshot');
$node->safe_psql('postgres', qq{
	CREATE TABLE snap (id int PRIMARY KEY, v int NOT NULL);
	INSERT INTO snap SELECT g, 0 FROM generate_series(1, $rows) g;
	CREATE TABLE other (id int PRIMARY KEY);
	INSERT INTO other SELECT generate_series(1, 10);
});
my $kb = CdcKafka::start_kafka(topics => [ 'sn.public.snap:3' ]);
my $log = "$ENV{TESTDIR}/sidecar.log";

# Writes: updates (+1) on existing rows, inserts of new rows, a few deletes.
my $sql = "$ENV{TESTDIR}/writes.sql";
open(my $fh, '>', $sql) or die $!;
srand(42);
for my $i (1 .. 1500)
{
	my $id = 1 + int(rand($rows));
	print $fh "UPDATE snap SET v = v + 1 WHERE id = $id;\n";
	print $fh "INSERT INTO snap VALUES (" . ($rows + $i) . ", 0);\n" if $i % 3 == 0;
	print $fh "DELETE FROM snap WHERE id = " . (1 + int(rand($rows))) . ";\n" if $i % 50 == 0;
	print $fh "SELECT pg_sleep(0.002);\n" if $i % 10 == 0;
}
close $fh;
my ($wout, $werr) = ('', '');
my $writer = IPC::Run::start([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1',
		'-d', $node->connstr('postgres'), '-f', $sql ],
	'<', \undef, '>', \$wout, '2>', \$werr);
usleep(300_000);

my $sc = CdcKafka::start_sidecar(node => $node, bootstrap => $kb->bootstrap,
	slot => 'snap', create => 1, log => $log,
	args => [ '-o', 'topic-prefix=sn', '-o', 'schemas=false',
		'-o', 'exclude-tables=public\.other' ]);
$writer->finish;
is($writer->full_result(0), 0, 'the writes committed') or diag($werr);
ok(CdcKafka::wait_slot_caught_up($node, 'snap', 180), 'the sidecar catches up')
  or diag(CdcKafka::slurp($log));
is(CdcKafka::stop_sidecar($sc), 0, 'SIGTERM: exit 0');

my @msgs = CdcKafka::kcat_consume($kb->bootstrap, 'sn.public.snap', timeout => 120);
my (%state, %reads, %bad, $last_marks);
my $ops = '';
for my $m (@msgs)	# per partition, offset order: per-key order
{
	my $id = CdcKafka::json_or_undef($m->{key})->{id};
	next unless defined $m->{value};	# tombstone
	my $v = CdcKafka::json_or_undef($m->{value});
	my $op = $v->{op};
	$last_marks++ if ($v->{source}{snapshot} // '') eq 'last';
	if ($op eq 'r')
	{
		$reads{$id}++;
		$bad{$id} = "read after other events" if exists $state{$id};
		$state{$id} = $v->{after}{v};
	}
	elsif ($op eq 'c')
	{
		$bad{$id} = 'insert of a live row' if defined $state{$id};
		$state{$id} = $v->{after}{v};
	}
	elsif ($op eq 'u')
	{
		$bad{$id} = "update from " . ($state{$id} // 'nothing') . " to $v->{after}{v}"
		  unless defined $state{$id} && $v->{after}{v} == $state{$id} + 1;
		$state{$id} = $v->{after}{v};
	}
	elsif ($op eq 'd')
	{
		$bad{$id} = 'delete of a missing row' unless defined $state{$id};
		$state{$id} = undef;
	}
}
my $nreads = scalar keys %reads;
note("snapshot reads: $nreads, events: " . scalar(@msgs));
ok($nreads > 0 && $nreads <= $rows + 500, 'the snapshot read existing rows');
is(scalar(grep { $reads{$_} > 1 } keys %reads), 0, 'no row read twice');
is(scalar keys %bad, 0, 'every key counts up by one from its read or insert: no gap, no overlap')
  or diag(explain({ map { $_ => $bad{$_} } (sort keys %bad)[0 .. 9] }));
is($last_marks, 1, 'exactly one event is marked snapshot "last"');

my %db = map { split /\|/ } split /\n/, $node->safe_psql('postgres', 'SELECT id, v FROM snap');
my %live = map { $_ => $state{$_} } grep { defined $state{$_} } keys %state;
is_deeply(\%live, \%db, 'the replayed events give the table as it is');
is(scalar(CdcKafka::kcat_consume($kb->bootstrap, 'sn.public.other')), 0,
	'a table excluded by the plugin options is not snapshotted');
like(CdcKafka::slurp($log), qr/snapshot: public\.snap: \d+ row\(s\)/, 'the snapshot is logged per table');

# snapshot.mode=initial_only of one table into topics "<slot>.public.*";
# returns the exit code and what it printed on stderr.
sub snapshot_only
{
	my ($slot, $table, @more) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ CdcKafka::program('sidecar/cdc_kafka_sidecar'), '-d', $node->connstr('postgres'),
			'-S', $slot, '-X', 'snapshot.mode=initial_only',
			'-X', 'kafka.bootstrap.servers=' . $kb->bootstrap, '-o', "topic-prefix=$slot",
			'-o', 'schemas=false', '-o', "include-tables=public\\.$table", @more ],
		'<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(120));
	return ($? >> 8, $err);
}

# snapshot.mode=initial_only: the rows, then exit 0, and no slot left behind.
my ($rc, $err) = snapshot_only('once', 'snap', '--create-slot');
is($rc, 0, 'initial_only: exit 0 after the snapshot') or diag($err);
is(scalar(CdcKafka::kcat_consume($kb->bootstrap, 'once.public.snap', timeout => 120)),
	$node->safe_psql('postgres', 'SELECT count(*) FROM snap'), 'initial_only: every row once');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'once'"),
	0, 'initial_only: the slot is dropped (no WAL retained)');
# A permanent slot of that name (a running pipeline's) is left alone: the
# snapshot is taken all the same, and nothing is streamed from that slot.
$node->safe_psql('postgres', "SELECT pg_create_logical_replication_slot('busy', 'cdc_kafka')");
$node->safe_psql('postgres', "INSERT INTO snap SELECT max(id) + 1, 0 FROM snap");
my $busy_lsn = $node->safe_psql('postgres',
	"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'busy'");
($rc, $err) = snapshot_only('busy', 'snap', '--create-slot');
is($rc, 0, 'initial_only beside an existing slot: exit 0 after the snapshot') or diag($err);
my @busy = CdcKafka::kcat_consume($kb->bootstrap, 'busy.public.snap', timeout => 120);
is(scalar(grep { (CdcKafka::json_or_undef($_->{value}) // {})->{op} eq 'r' } @busy),
	$node->safe_psql('postgres', 'SELECT count(*) FROM snap'),
	'initial_only beside an existing slot: every row once, as snapshot reads');
is(scalar(@busy), scalar(grep { defined $_->{value} } @busy), 'and no streamed change');
is($node->safe_psql('postgres', "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'busy'"),
	$busy_lsn, 'the existing slot is not consumed');
($rc, $err) = snapshot_only('once', 'snap');
is($rc, 1, 'initial_only without --create-slot: exit 1');
like($err, qr/initial_only needs --create-slot/, 'initial_only without --create-slot: says so');

# The "last" mark goes into source.snapshot, also when the last row has a
# column named snapshot holding 'true' (its "after" comes before "source").
$node->safe_psql('postgres', q{
	CREATE TABLE marks (id int PRIMARY KEY, snapshot text);
	INSERT INTO marks VALUES (1, 'true');
});
($rc, $err) = snapshot_only('marks', 'marks', '--create-slot');
is($rc, 0, 'snapshot of a table with a column named snapshot: exit 0') or diag($err);
my @marks = map { CdcKafka::json_or_undef($_->{value}) }
  CdcKafka::kcat_consume($kb->bootstrap, 'marks.public.marks', timeout => 120);
is(scalar @marks, 1, 'its one row is read');
is($marks[0]{source}{snapshot}, 'last', 'the row is marked last in source.snapshot');
is($marks[0]{after}{snapshot}, 'true', 'and its column keeps its value');

$kb->stop;
$node->stop;
done_testing();
