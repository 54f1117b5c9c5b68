# typemap.c against Debezium's own arithmetic: random numeric, money,
# float, date/time, interval, varbit and uuid values are decoded by the
# plugin and checked by t/java/TypemapCheck.java with the Java classes
# Debezium uses (BigDecimal/BigInteger bytes, java.time ISO formatters,
# BitSet, MicroDuration's double formula).  Random Unicode text is checked
# with an independent JSON parser (JSON::PP) against PostgreSQL's md5.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use Digest::MD5 qw(md5_hex);
use Encode qw(encode_utf8);
use CdcKafka;

my $java = `sh -c 'command -v java'`;
chomp $java;
plan skip_all => 'java not installed (scripts/deps.sh installs it)' unless $java;

my $rows = 3000;
my $node = CdcKafka::start_pg('typemap_java');
$node->safe_psql('postgres', q{
	CREATE TABLE r (id int PRIMARY KEY, f8 float8, f4 real, n numeric(30,4),
		nv numeric, m money, ts timestamp, tstz timestamptz, d date, tm time,
		ttz timetz, iv interval, vb varbit(40), u uuid);
	CREATE TABLE txt (id int PRIMARY KEY, t text);
	SELECT pg_create_logical_replication_slot('s', 'cdc_kafka');
});
$node->safe_psql('postgres', qq{
	SELECT setseed(0.42);
	INSERT INTO r
	SELECT i,
		(random() - 0.5) * 10 ^ (floor(random() * 40) - 20),
		((random() - 0.5) * 10 ^ (floor(random() * 40) - 20))::real,
		round(((random() - 0.5) * 10 ^ floor(random() * 26))::numeric, 4),
		round(((random() - 0.5) * 10 ^ (floor(random() * 60) - 20))::numeric,
			  floor(random() * 30)::int),
		((random() - 0.5) * 1e12)::numeric(16,2)::money,
		'1970-01-01'::timestamp + (random() * 4e10 - 2e10) * interval '1 second',
		to_timestamp(random() * 4e10 - 2e10),
		date '1970-01-01' + (random() * 2e6 - 1e6)::int,
		time '00:00' + random() * interval '24 hours',
		(time '00:00' + random() * interval '24 hours')::timetz
			AT TIME ZONE ((random() * 28 - 14)::int::text),
		make_interval((random() * 100 - 50)::int, (random() * 1000 - 500)::int, 0,
			(random() * 1000 - 500)::int, (random() * 100 - 50)::int, 0,
			random() * 100000 - 50000),
		substring((random() * 2147483647)::int::bit(31)::varbit || (random() * 511)::int::bit(9)
			FROM 1 FOR 1 + floor(random() * 40)::int),
		gen_random_uuid()
	  FROM generate_series(1, $rows) i;
	-- text from every UTF-8 length class, control characters included
	INSERT INTO txt
	SELECT i, string_agg(chr(CASE floor(random() * 5)::int
				WHEN 0 THEN 1 + floor(random() * 127)::int
				WHEN 1 THEN 128 + floor(random() * 1920)::int
				WHEN 2 THEN 2048 + floor(random() * 53248)::int
				WHEN 3 THEN 57344 + floor(random() * 8192)::int
				ELSE 65536 + floor(random() * 1048576)::int END), '')
	  FROM generate_series(1, 500) i, generate_series(1, 1 + (i % 200)) j
	 GROUP BY i;
});

my $dir = PostgreSQL::Test::Utils::tempdir();
sub psql_to_file
{
	my ($file, $sql) = @_;
	my $out = $node->safe_psql('postgres', $sql);
	open(my $fh, '>', "$dir/$file") or die "$file: $!";
	print $fh $out, "\n";
	close $fh;
}

# Source values as PostgreSQL prints them (extract() gives exact numerics).
psql_to_file('src.txt', q{
	SELECT concat_ws('|', id, f8, f4, n, nv, m::numeric,
		extract(epoch FROM ts), extract(epoch FROM tstz), d - date '1970-01-01',
		extract(epoch FROM tm), ttz,
		extract(year FROM iv), extract(month FROM iv), extract(day FROM iv),
		extract(hour FROM iv), extract(minute FROM iv), extract(second FROM iv),
		vb, u)
	  FROM r ORDER BY id});
for my $mode (qw(precise string double))
{
	psql_to_file("$mode.txt", qq{
		SELECT data FROM pg_logical_slot_peek_changes('s', NULL, NULL,
			'schemas', 'false', 'decimal-handling', '$mode')
		 WHERE data LIKE '%"table":"r"%'});
}

my ($stdout, $stderr);
IPC::Run::run([ $java, "$ENV{CDC_ROOT}/t/java/TypemapCheck.java",
				map { "$dir/$_.txt" } qw(src precise string double) ],
			  '>', \$stdout, '2>', \$stderr);
diag($stderr) if $stderr;
my %result;
for (split /\n/, $stdout)
{
	if (/^RESULT (\S+) (\d+) (\d+)$/) { $result{$1} = [ $2, $3 ]; }
	elsif (/^# /) { diag($_); }
}
for my $cat (qw(event float8 float4 numeric_precise numeric_string
	numeric_double numeric_variable numeric_variable_string money_precise
	money_string timestamp timestamptz date time timetz interval varbit uuid))
{
	ok(defined $result{$cat} && $result{$cat}[0] == $rows && $result{$cat}[1] == 0,
		"$cat: $rows values as Debezium renders them")
	  or diag("$cat: " . ($result{$cat} ? "$result{$cat}[1] of $result{$cat}[0] differ" : 'not checked'));
}

# Text: JSON::PP decodes what the plugin escaped to the very same string.
my $md5 = $node->safe_psql('postgres', q{SELECT string_agg(id || ':' || md5(t), ',' ORDER BY id) FROM txt});
my %want = map { split /:/ } split /,/, $md5;
my $events = $node->safe_psql('postgres', q{
	SELECT data FROM pg_logical_slot_get_changes('s', NULL, NULL, 'schemas', 'false')
	 WHERE data LIKE '%"table":"txt"%'});
my ($n, $same) = (0, 0);
for my $line (split /\n/, $events)
{
	my $ev = JSON::PP->new->utf8->decode($line);
	my $after = $ev->{value}{after};
	$n++;
	$same++ if md5_hex(encode_utf8($after->{t})) eq $want{ $after->{id} };
}
is($n, 500, 'one event per text row');
is($same, 500, 'every random Unicode text decodes to the stored string');

# Non-UTF8 databases: the JSON stays valid read as UTF-8 or in the server
# encoding, because non-ASCII characters are written as \u escapes
# (SQL_ASCII bytes are read as Latin-1 code points).
for my $enc (qw(LATIN1 SQL_ASCII))
{
	my $db = lc $enc;
	$node->safe_psql('postgres', qq{CREATE DATABASE $db ENCODING '$enc'
		LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0});
	$node->safe_psql($db, q{
		CREATE EXTENSION cdc_kafka;
		CREATE TABLE t (id int PRIMARY KEY, t text);
	});
	$node->safe_psql($db, "SELECT pg_create_logical_replication_slot('s_$db', 'cdc_kafka')");
	my $value = $enc eq 'LATIN1' ? q{E'caf\\u00e9 \\u00ff'} : q{E'caf\\xe9 \\xff'};
	$node->safe_psql($db, "INSERT INTO t VALUES (1, $value)");
	my $line = $node->safe_psql($db, q{
		SELECT data FROM pg_logical_slot_get_changes('s_' || current_database(), NULL, NULL,
			'schemas', 'false')});
	unlike($line, qr/[^\x00-\x7f]/, "$enc: the event is plain ASCII");
	my $ev = eval { JSON::PP->new->utf8->decode($line) };
	is($ev && $ev->{value}{after}{t}, "caf\x{e9} \x{ff}", "$enc: text decodes to its characters");
}
# SQL_ASCII text that is valid UTF-8 (what clients usually send) is kept.
$node->safe_psql('sql_ascii', q{INSERT INTO t VALUES (2, E'h\\xc3\\xa9llo \\xf0\\x9f\\x98\\x80 \\xc3')});
my $line = $node->safe_psql('sql_ascii', q{
	SELECT data FROM pg_logical_slot_get_changes('s_sql_ascii', NULL, NULL, 'schemas', 'false')});
my $ev = eval { JSON::PP->new->utf8->decode($line) };
is($ev && $ev->{value}{after}{t}, "h\x{e9}llo \x{1f600} \x{c3}",
	'SQL_ASCII: valid UTF-8 passes through, a stray byte is escaped');

done_testing();
