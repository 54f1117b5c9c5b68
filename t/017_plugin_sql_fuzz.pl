# The plugin's option parsing and its SQL functions, fed random but seeded
# input through SQL (CDC_FUZZ_SEED=N repeats a run; the seed is printed):
# option names and values for decoding sessions and snapshot_events(),
# and emit() topics, keys and payloads that are then decoded.  Each call
# either works or fails with an ERROR; the server never crashes, and every
# event it writes is valid JSON.
use strict;
use warnings;

use Test::More;

use CdcKafka;

my $seed = $ENV{CDC_FUZZ_SEED} // 20261206;
srand($seed);
note("seed $seed");

my $node = CdcKafka::start_pg('sql_fuzz');
$node->safe_psql('postgres', q{
	CREATE TABLE f (id int PRIMARY KEY, v text, n numeric, j jsonb);
	INSERT INTO f VALUES (1, 'a', 1.5, '{"a":1}');
	SELECT 'x' FROM pg_create_logical_replication_slot('s', 'cdc_kafka');
});

my @names = qw(topic-prefix schemas decimal-handling format include-transaction
  include-schemas exclude-schemas include-tables exclude-tables message-prefixes
  include-messages include-truncate publish-via-partition-root batch-bytes snapshot-lsn);
my @atoms = ('', 'true', 'false', 'on', 'off', '1', '0', 'yes', 'precise', 'double', 'string',
	'json', 'kafka', 'public', 'public\.f', '.*', '(', '[a-', 'a{99999}', '(a+)+$', '\\', "\x{e9}t\x{e9}",
	'0/0', '0/16B3748', 'FFFFFFFF/FFFFFFFF', '-1', '2147483648', '99999999999999999999', "a'b", '"',
	'x' x 300, 'a,b,,c', ' ', "\t", '%s%n', 'public.f,other');

sub pick { return $_[ int(rand(@_)) ]; }
sub rand_value
{
	my $v = join('', map { pick(@atoms) } 1 .. 1 + int(rand(3)));
	$v = chr(32 + int(rand(95))) x int(rand(20)) if rand() < 0.15;
	return $v;
}
sub rand_name { return rand() < 0.85 ? pick(@names) : rand_value(); }
sub lit
{
	my ($s) = @_;
	$s =~ s/'/''/g;
	return "'$s'";
}

# an option list: mostly known names, sometimes repeated, bare or garbage
sub rand_options
{
	my @o;
	for (1 .. int(rand(5)))
	{
		push @o, lit(rand_name()), rand() < 0.1 ? 'NULL' : lit(rand_value());
	}
	return @o;
}

my ($ok, $err, $bad_json) = (0, 0, 0);
sub try_sql
{
	my ($sql) = @_;
	my ($ret, $stdout, $stderr) = $node->psql('postgres', $sql);
	if ($ret == 0) { $ok++; return 1; }
	die "psql: $stderr" if $stderr =~ /server closed the connection|terminated|connection to server/;
	# an event that is not JSON is the plugin's fault, not the input's
	if ($stderr =~ /invalid input syntax for type json/)
	{
		diag("not JSON: $sql\n$stderr");
		$bad_json++;
	}
	$err++;
	return 0;
}

for my $i (1 .. 100)
{
	my @o = rand_options();
	# decoding sessions (peek: the changes stay for the next one)
	$node->safe_psql('postgres', "INSERT INTO f VALUES ($i + 1, " . lit(rand_value()) . ", $i.5, '[1,{\"k\":null}]')")
	  if $i % 10 == 0;
	try_sql('SELECT count(*) FROM (SELECT data::text::jsonb FROM pg_logical_slot_peek_changes(\'s\', NULL, NULL'
		  . join('', map { ", $_" } @o) . ")) d");
	# snapshot_events with {name, value, ...}
	my @a = map { $_ eq 'NULL' ? 'NULL' : $_ } rand_options();
	try_sql("SELECT count(*), bool_and(value::jsonb IS NOT NULL) FROM cdc_kafka.snapshot_events('f', "
		  . (rand() < 0.5 ? 'NULL' : lit(rand_value())) . ', ARRAY[' . join(',', @a) . ']::text[])');
}

# emit(): random topics, keys and JSON payloads, then decoded
sub rand_json
{
	my ($depth) = @_;
	my $r = rand();
	return '"' . join('', map { pick('a', "\x{e9}", '\\"', '\\n', '\\u0000', ' ', '😀') } 1 .. int(rand(8))) . '"'
	  if $r < 0.3 || $depth > 6;
	return pick('0', '-1.5e300', '1e-400', 'true', 'null', '12345678901234567890') if $r < 0.5;
	return '[' . join(',', map { rand_json($depth + 1) } 1 .. int(rand(4))) . ']' if $r < 0.75;
	return '{' . join(',', map { '"k' . int(rand(5)) . '":' . rand_json($depth + 1) } 1 .. int(rand(4))) . '}';
}
for my $i (1 .. 100)
{
	my $topic = rand() < 0.7 ? 'out.' . join('', map { pick('a', 'B', '9', '_', '-', '.') } 1 .. 1 + int(rand(10))) : rand_value();
	my $key = rand() < 0.2 ? 'NULL' : lit(rand_value());
	try_sql('SELECT cdc_kafka.emit(' . lit($topic) . ", $key, " . lit(rand_json(0)) . '::jsonb)');
}
my $events = $node->safe_psql('postgres',
	q{SELECT count(*) FROM (SELECT data::text::jsonb FROM pg_logical_slot_get_changes('s', NULL, NULL)) d});
cmp_ok($events, '>', 0, "every decoded event after the emits is valid JSON ($events events)");

note("$ok calls worked, $err failed with an ERROR");
is($bad_json, 0, 'every event of every decoding session and snapshot is valid JSON');
cmp_ok($ok, '>', 0, 'some random calls work');
cmp_ok($err, '>', 0, 'some random calls fail with an ERROR');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server is up');
my $log = slurp($node->logfile);
unlike($log, qr/terminated by signal|server process .* was terminated|PANIC/, 'no backend crashed');

sub slurp { open(my $f, '<', $_[0]) or return ''; local $/; return <$f>; }

done_testing();
