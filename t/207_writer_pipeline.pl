# The whole pipeline with every real part: PostgreSQL with the cdc_kafka
# plugin -> cdc_kafka_sidecar -> Apache Kafka -> cdc_delta_writer
# (pattern subscription, consumer group) -> DuckDB.  After the seed DML
# and changes to a table of mixed types, the current state DuckDB computes
# from the Delta tables equals the tables in PostgreSQL, value by value.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use Test::More;

use CdcKafka;
use CdcSpark;
use CdcWriter;

# Spark starts slowly: it does so while the test runs; the seed's tables are
# read by the seed lab's own Spark and Delta too
my @sparks = (CdcSpark->start('spark35'), CdcSpark->start('spark33'));
my $work = $ENV{TESTDIR};
my $root = "$work/delta";
my $wlog = "$work/writer.log";

my $node = CdcKafka::start_pg('pipeline');
CdcKafka::create_seed_table($node);
$node->safe_psql('postgres', q{
	CREATE TABLE public.typed (id int PRIMARY KEY, n numeric(10,2), big numeric(30,8), ts timestamp,
		tz timestamptz, d date, b bytea, j jsonb, a int[], u uuid, f float8, r real, s smallint,
		l bigint, t text, ok boolean);
	INSERT INTO public.typed VALUES
		(1, 12.34, 123456789012345678.12345678, '2018-06-20 15:13:16.945104', '2018-06-20 15:13:16.945104+02',
		 '2022-01-08', '\x0001feff', '{"a": [1, 2], "b": "x"}', '{1,2,3}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
		 3.5, 1.25, -32768, 9223372036854775807, 'héllo ✓', true),
		(2, -0.01, 0, '1970-01-01 00:00:00', '1969-12-31 23:59:59.999999+00', '1969-12-31', '', '[]', '{}',
		 NULL, -1e300, NULL, 32767, -1, '', false),
		(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
});

my $kb = CdcKafka::start_kafka();
my $sc = CdcKafka::start_sidecar(node => $node, bootstrap => $kb->bootstrap, slot => 'pipe',
	create => 1, log => "$work/sidecar.log", args => [ '-o', 'topic-prefix=lab_cdc' ]);
my $w = CdcWriter::start_writer($kb->bootstrap, $root, $wlog, '-p', '^lab_cdc\..*',
	'-X', 'flush.interval.ms=300');

# the changes must come after the slot's snapshot, or the snapshot holds them
# (and the counts below are off): under load the sidecar can start late
ok(CdcKafka::wait_until(sub { CdcKafka::slurp("$work/sidecar.log") =~ /streaming slot "pipe"/ }, 60),
	'the sidecar took its snapshot and streams the slot')
  or diag(CdcKafka::slurp("$work/sidecar.log"));
CdcKafka::apply_seed_changes($node);
$node->safe_psql('postgres', q{
	UPDATE public.typed SET n = 99.99, t = 'changed' WHERE id = 2;
	DELETE FROM public.typed WHERE id = 3;
	INSERT INTO public.typed (id, n, t) VALUES (4, 1, 'new');
});
ok(CdcKafka::wait_slot_caught_up($node, 'pipe', 90), 'the sidecar confirmed everything')
  or diag(CdcKafka::slurp("$work/sidecar.log"));

my $cdir = "$root/inventory/customers";
my $tdir = "$root/public/typed";
# 4 snapshot rows + 9 changes; 3 snapshot rows + 3 changes
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($cdir) == 13 && CdcWriter::committed_rows($tdir) == 6 }, 120),
	'the writer committed every change of both tables')
  or diag(CdcKafka::slurp($wlog));
is(CdcWriter::stop_writer($w), 0, 'writer: SIGTERM exits 0');
is(CdcKafka::stop_sidecar($sc), 0, 'sidecar: SIGTERM exits 0');

my $latest = q{SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY id ORDER BY __kafka_offset DESC) AS rn FROM t)
	WHERE rn = 1 AND __op <> 'd' ORDER BY id};
my $r = CdcWriter::delta_read($cdir,
	"SELECT id || '|' || first_name || '|' || last_name || '|' || email AS r FROM ($latest)");
is_deeply($r->{errors}, [], 'customers: the log replays cleanly');
is(join("\n", map { $_->{r} } @{ $r->{results}[0] }),
	$node->safe_psql('postgres',
		"SELECT id || '|' || first_name || '|' || last_name || '|' || email FROM inventory.customers ORDER BY id"),
	'customers: DuckDB current state equals PostgreSQL');

my @cols = qw(id n big ts tz d b j a u f r s l t ok);
$r = CdcWriter::delta_read($tdir,
	"SELECT concat_ws('|', id, coalesce(n::VARCHAR, '~'), coalesce(big::VARCHAR, '~'),
		coalesce(epoch_us(ts)::VARCHAR, '~'), coalesce(epoch_us(tz)::VARCHAR, '~'), coalesce(d::VARCHAR, '~'),
		coalesce(lower(hex(b)), '~'), coalesce(j, '~'), coalesce(a, '~'), coalesce(u, '~'),
		coalesce(f::VARCHAR, '~'), coalesce(r::VARCHAR, '~'), coalesce(s::VARCHAR, '~'),
		coalesce(l::VARCHAR, '~'), coalesce(t, '~'), coalesce(ok::VARCHAR, '~')) AS r FROM ($latest)");
is_deeply($r->{errors}, [], 'typed: the log replays cleanly');
my %dtype = map { $_->{name} => $_->{type} } @{ $r->{schema} };
is_deeply([ @dtype{@cols} ],
	[qw(integer decimal(10,2) decimal(30,8) timestamp timestamp date binary string string string double float short long string boolean)],
	'typed: Delta types from the plugin\'s schema');
my $pg = $node->safe_psql('postgres', q{
	SELECT concat_ws('|', id, coalesce(n::text, '~'), coalesce(big::text, '~'),
		coalesce(((extract(epoch FROM ts) * 1000000)::bigint)::text, '~'),
		coalesce(((extract(epoch FROM tz) * 1000000)::bigint)::text, '~'), coalesce(d::text, '~'),
		coalesce(encode(b, 'hex'), '~'), coalesce(j::text, '~'), coalesce(array_to_json(a)::text, '~'),
		coalesce(u::text, '~'), coalesce(f::text, '~'), coalesce(r::text, '~'), coalesce(s::text, '~'),
		coalesce(l::text, '~'), coalesce(t, '~'), coalesce(ok::text, '~'))
	  FROM public.typed ORDER BY id});
# float text differs between engines (1e+300 vs 1e300): compare as numbers
my @duck = map { $_->{r} } @{ $r->{results}[0] };
utf8::decode($pg);
my @pgr = split /\n/, $pg;
is(scalar @duck, scalar @pgr, 'typed: as many current rows as in PostgreSQL');
for my $i (0 .. $#pgr)
{
	my @a = split /\|/, $duck[$i] // '', -1;
	my @b = split /\|/, $pgr[$i], -1;
	for my $k (0 .. $#cols)
	{
		my ($x, $y) = ($a[$k] // 'missing', $b[$k] // 'missing');
		if ($cols[$k] =~ /^[fr]$/ && $x ne '~' && $y ne '~')
		{
			ok(abs($x - $y) <= 1e-9 * abs($y), "typed row $b[0]: $cols[$k] ($x vs $y)");
		}
		else
		{
			is($x, $y, "typed row $b[0]: $cols[$k]");
		}
	}
}

# Schema changes through the whole pipeline: a new column evolves the table
# (a second metaData); a column widened in PostgreSQL keeps its Delta type,
# a value that no longer fits is dead-lettered and the table goes on.
$sc = CdcKafka::start_sidecar(node => $node, bootstrap => $kb->bootstrap, slot => 'pipe',
	log => "$work/sidecar.log", args => [ '-o', 'topic-prefix=lab_cdc' ]);
$w = CdcWriter::start_writer($kb->bootstrap, $root, $wlog, '-p', '^lab_cdc\..*',
	'-X', 'flush.interval.ms=300');
$node->safe_psql('postgres', q{
	ALTER TABLE public.typed ADD COLUMN extra text;
	INSERT INTO public.typed (id, t, extra) VALUES (5, 'five', 'more');
	ALTER TABLE public.typed ALTER COLUMN s TYPE integer;
	INSERT INTO public.typed (id, s) VALUES (6, 1000);
	INSERT INTO public.typed (id, s) VALUES (7, 100000);
	INSERT INTO public.typed (id, t) VALUES (8, 'after the bad one');
});
ok(CdcKafka::wait_slot_caught_up($node, 'pipe', 90), 'schema changes: the sidecar confirmed everything');
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($tdir) == 9 }, 120),
	'schema changes: three more rows committed, one dead-lettered')
  or diag(CdcKafka::slurp($wlog));
is(CdcWriter::stop_writer($w), 0, 'writer: SIGTERM exits 0');
is(CdcKafka::stop_sidecar($sc), 0, 'sidecar: SIGTERM exits 0');
$r = CdcWriter::delta_read($tdir, "SELECT id, s, extra, t FROM ($latest) WHERE id >= 5");
is_deeply($r->{errors}, [], 'schema changes: the log replays cleanly');
%dtype = map { $_->{name} => $_->{type} } @{ $r->{schema} };
is($dtype{extra}, 'string', 'the new column is in the table schema');
is($dtype{s}, 'short', 'the widened column keeps its Delta type');
is_deeply($r->{results}[0], [ { id => 5, s => undef, extra => 'more', t => 'five' },
		{ id => 6, s => 1000, extra => undef, t => undef },
		{ id => 8, s => undef, extra => undef, t => 'after the bad one' } ],
	'new column filled, widened values that fit kept, later rows written');
my $dead = CdcKafka::slurp("$root/_deadletter.jsonl");
like($dead, qr/"topic":"lab_cdc\.public\.typed".*"reason":"column \\"s\\" \(short\) cannot hold this value"/,
	'the value that does not fit is in the dead-letter file');

# Spark, through Delta's own log reader, reads what DuckDB reads
my $pg_customers = $node->safe_psql('postgres',
	"SELECT id || '|' || first_name || '|' || last_name || '|' || email FROM inventory.customers ORDER BY id");
for my $spark (@sparks)
{
	$spark->agrees_with_duckdb($cdir, 'customers');
	is($spark->seed_current_state($cdir), $pg_customers,
		$spark->peer . ": customers: Spark's current state equals PostgreSQL");
	$spark->agrees_with_duckdb($tdir, 'typed, with schema evolution');
	$spark->stop;
}

$kb->stop;
$node->stop;
done_testing();
