# Delta writer, the seed scenario end to end from real parts: PostgreSQL
# with the cdc_kafka plugin renders the seed table's snapshot
# (cdc_kafka.snapshot_events) and the seed DML (the slot, format=kafka
# frames, exact bytes), kcat produces them to Apache Kafka (with the
# tombstone after the delete, as the sidecar does), cdc_delta_writer
# subscribed by pattern writes the Delta table, and DuckDB's current-state
# query (latest row per id by offset, deletes dropped) over the files the
# log lists must equal the table in PostgreSQL.  Both with schemas on and
# off.  A restart resumes from the Delta log: nothing written twice.
use strict;
use warnings;

use File::Temp qw(tempdir);
use PostgreSQL::Test::Cluster;
use Test::More;

use CdcKafka;
use CdcSpark;
use CdcWriter;

# Spark starts slowly: it does so while the test runs; the seed's tables are
# read by the seed lab's own Spark and Delta too
my @sparks = (CdcSpark->start('spark35'), CdcSpark->start('spark33'));
my $work = $ENV{TESTDIR} // tempdir(CLEANUP => 1);
mkdir $work;
my $log = "$work/writer.log";

my $node = CdcKafka::start_pg('seed');
CdcKafka::create_seed_table($node);
$node->safe_psql('postgres',
	"SELECT pg_create_logical_replication_slot('seed_slot', 'cdc_kafka')");

# [key, value] pairs of one query returning topic, key, value as text
sub snapshot
{
	my ($prefix, $schemas) = @_;
	my $out = $node->safe_psql('postgres',
		"SELECT encode(convert_to(coalesce(key, ''), 'UTF8'), 'hex') || ' ' || encode(convert_to(value, 'UTF8'), 'hex')
		   FROM cdc_kafka.snapshot_events('inventory.customers', '$prefix',
		        ARRAY['schemas', '$schemas'])");
	return map { [ map { pack('H*', $_) } split / / ] } split /\n/, $out;
}
my %snap = (on => [ snapshot('lab_cdc', 'true') ], off => [ snapshot('lab_nos', 'false') ]);

CdcKafka::apply_seed_changes($node);

# The slot's format=kafka frames (doc/contracts.md): topic, key, value.
sub stream
{
	my ($fn, $prefix, $schemas) = @_;
	my $out = $node->safe_psql('postgres',
		"SELECT encode(data, 'hex') FROM $fn('seed_slot', NULL, NULL,
		   'topic-prefix', '$prefix', 'schemas', '$schemas', 'format', 'kafka')");
	my @msgs;
	# a row is one write: frames back to back, up to batch-bytes
	for my $hex (split /\n/, $out)
	{
		my $b = pack('H*', $hex);
		my $off = 0;
		while ($off < length $b)
		{
			my ($kind, $op) = unpack('a a', substr($b, $off, 2));
			my $pos = $off + 26;
			my $tl = unpack('N', substr($b, $pos, 4));
			my $topic = substr($b, $pos + 4, $tl);
			$pos += 4 + $tl;
			my $kl = unpack('l>', substr($b, $pos, 4));
			my $key = $kl >= 0 ? substr($b, $pos + 4, $kl) : undef;
			$pos += 4 + ($kl > 0 ? $kl : 0);
			my $vl = unpack('l>', substr($b, $pos, 4));
			my $value = $vl >= 0 ? substr($b, $pos + 4, $vl) : undef;
			$off = $pos + 4 + ($vl > 0 ? $vl : 0);
			next unless $kind eq 'E';
			push @msgs, [ $key, $value ];
			push @msgs, [ $key, undef ] if $op eq 'd';	# the sidecar's tombstone
		}
	}
	return @msgs;
}
my %stream = (on => [ stream('pg_logical_slot_peek_binary_changes', 'lab_cdc', 'true') ],
	off => [ stream('pg_logical_slot_get_binary_changes', 'lab_nos', 'false') ]);
is(scalar @{ $stream{on} }, 10, 'nine change events and one tombstone from the slot');
is(scalar @{ $snap{on} }, 4, 'four snapshot events');

my $expected = $node->safe_psql('postgres',
	"SELECT id || '|' || first_name || '|' || last_name || '|' || email FROM inventory.customers ORDER BY id");
my $current = q{SELECT id || '|' || first_name || '|' || last_name || '|' || email AS r FROM (
	SELECT *, row_number() OVER (PARTITION BY id ORDER BY __kafka_offset DESC) AS rn FROM t)
	WHERE rn = 1 AND __op <> 'd' ORDER BY id};

# one more change, for the restart
$node->safe_psql('postgres',
	"INSERT INTO inventory.customers VALUES (11, 'Gil', 'Neves', 'gil.neves\@example.com')");
my %later = (on => [ stream('pg_logical_slot_peek_binary_changes', 'lab_cdc', 'true') ],
	off => [ stream('pg_logical_slot_get_binary_changes', 'lab_nos', 'false') ]);
is(scalar @{ $later{on} }, 1, 'one more event from the slot');
my $expected_later = $node->safe_psql('postgres',
	"SELECT id || '|' || first_name || '|' || last_name || '|' || email FROM inventory.customers ORDER BY id");

my $kb = CdcKafka::start_kafka();
for my $mode ('on', 'off')
{
	my $prefix = $mode eq 'on' ? 'lab_cdc' : 'lab_nos';
	my $topic = "$prefix.inventory.customers";
	my $root = "$work/delta_$mode";
	my $dir = "$root/inventory/customers";
	CdcWriter::produce($kb->bootstrap, $topic, @{ $snap{$mode} }, @{ $stream{$mode} });

	my $w = CdcWriter::start_writer($kb->bootstrap, $root, $log, '-p', "^$prefix\\..*",
		'-X', 'flush.interval.ms=300', '-X', "kafka.group.id=seed_$mode");
	ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($dir) == 13 }),
		"schemas $mode: 13 change rows committed");
	is(CdcWriter::stop_writer($w), 0, "schemas $mode: SIGTERM exits 0");

	my $r = CdcWriter::delta_read($dir, $current,
		q{SELECT __op, count(*)::INT AS n FROM t GROUP BY __op ORDER BY __op});
	is_deeply($r->{errors}, [], "schemas $mode: the log replays cleanly");
	is(join("\n", map { $_->{r} } @{ $r->{results}[0] }), $expected,
		"schemas $mode: DuckDB's current state equals the table in PostgreSQL");
	is_deeply($r->{results}[1], [ { __op => 'c', n => 6 }, { __op => 'd', n => 1 },
			{ __op => 'r', n => 4 }, { __op => 'u', n => 2 } ], "schemas $mode: ops");

	# a restart resumes from the log: only the new event is added
	CdcWriter::produce($kb->bootstrap, $topic, @{ $later{$mode} });
	$w = CdcWriter::start_writer($kb->bootstrap, $root, $log, '-t', $topic,
		'-X', 'flush.interval.ms=300', '-X', "kafka.group.id=seed2_$mode");
	ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($dir) >= 14 }),
		"schemas $mode: restarted writer committed the new event");
	sleep 1;
	is(CdcWriter::stop_writer($w), 0, "schemas $mode: second SIGTERM exits 0");
	$r = CdcWriter::delta_read($dir, 'SELECT count(*)::INT AS n, count(DISTINCT (__kafka_partition, __kafka_offset))::INT AS d FROM t',
		$current);
	is_deeply($r->{results}[0], [ { n => 14, d => 14 } ],
		"schemas $mode: each event exactly once after the restart");
	is(join("\n", map { $_->{r} } @{ $r->{results}[1] }),
		$expected_later, "schemas $mode: current state still equals PostgreSQL");
	for my $spark (@sparks)
	{
		$spark->agrees_with_duckdb($dir, "schemas $mode");
		is($spark->seed_current_state($dir), $expected_later,
			$spark->peer . ": schemas $mode: Spark's current state equals PostgreSQL");
	}
}

$_->stop for @sparks;
$kb->stop;
$node->stop;
done_testing();
