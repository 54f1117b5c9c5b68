# Delta writer: every value is stored exactly or dead-lettered saying why.
#  - numeric without typmod (VariableScaleDecimal): every scale 0..1000,
#    the longest and the smallest values PostgreSQL has, from the plugin's
#    own events, read by the writer's decoder (writer/test/event_dump) and
#    compared with PostgreSQL's text of the same values; numeric(p,s) with
#    a negative scale, a scale above p, p up to 38 and above, the same way;
#  - strings: only valid UTF-8 (RFC 3629) is taken, whichever way the
#    message is read (fast scanner or json-c) and wherever the bytes are
#    (a value, a column name, JSON text); the rest is dead-lettered;
#  - an empty decimal and a delete whose key names no row are dead-lettered;
#  - end to end through the writer: the table keeps every good row and
#    DuckDB reads it, the bad messages are in the dead-letter file.
use strict;
use warnings;

use File::Temp qw(tempdir);
use IPC::Run;
use JSON::PP;
use MIME::Base64;
use Test::More;

use CdcKafka;
use CdcSpark;
use CdcWriter;

# Spark starts slowly: it does so while the test runs
my $spark = CdcSpark->start('spark35');
my $work = $ENV{TESTDIR} // tempdir(CLEANUP => 1);
mkdir $work;
my $dump = CdcKafka::program('writer/test/event_dump');
my $J = JSON::PP->new->canonical;

# Decodes [key, value] pairs with the writer's decoder; one result each.
sub decode
{
	my (@msgs) = @_;
	my $in = join('', map { ($_->[0] // '') . "\x1e" . ($_->[1] // '') . "\n" } @msgs);
	my ($out, $err) = ('', '');
	# (a decoder that crashes mid-input breaks the pipe)
	local $SIG{PIPE} = 'IGNORE';
	eval { IPC::Run::run([$dump], '<', \$in, '>', \$out, '2>', \$err, IPC::Run::timeout(300)); 1 }
	  or $err .= $@;
	my @r = map { eval { JSON::PP->new->utf8->decode($_) } // () } split /\n/, $out;
	# a crash: the messages from there on have no result
	if (@r < @msgs)
	{
		diag("event_dump stopped after " . scalar(@r) . " of " . scalar(@msgs) . " messages ($?): "
			  . substr($err, 0, 300));
		push @r, { result => 'crash' } while @r < @msgs;
	}
	return @r;
}

# The same message with the payload first: only json-c reads that order.
sub payload_first
{
	my ($v) = @_;
	my $i = index($v, ',"payload":');
	return $v if $i < 0 || substr($v, 0, 10) ne '{"schema":';
	return '{"payload":' . substr($v, $i + 11, -1) . ',"schema":' . substr($v, 10, $i - 10) . '}';
}

sub value_of
{
	my ($r, $col) = @_;
	return undef unless $r->{result} eq 'row';
	my ($v) = grep { $_->[0] eq $col } @{ $r->{values} };
	return $v ? $v->[2] : undef;
}

# ---- numeric without typmod, from the plugin --------------------------------

my $node = CdcKafka::start_pg('values');
$node->safe_psql('postgres', q{
	CREATE TABLE num (id serial PRIMARY KEY, n numeric);
	SELECT pg_create_logical_replication_slot('s', 'cdc_kafka');
});
# every scale 0..1000, both signs, digits from md5; then lengths
$node->safe_psql('postgres', q{
	INSERT INTO num (n)
	SELECT ((CASE WHEN s % 2 = 1 THEN '-' ELSE '' END) || (s * 7919 % 100003)::text || '.' ||
			substr(translate(repeat(md5(s::text), 32), 'abcdef', '314159'), 1, s))::numeric
	  FROM generate_series(0, 1000) s;
	INSERT INTO num (n)
	SELECT ((CASE WHEN l % 3 = 0 THEN '-' ELSE '' END) ||
			substr(translate(repeat(md5(l::text), 40), 'abcdef0', '2718281'), 1, l) || '.' ||
			substr(translate(repeat(md5(l::text), 40), 'abcdef', '141421'), 1, l % 7))::numeric
	  FROM generate_series(1, 1200, 7) l;
	INSERT INTO num (n) VALUES (0), (0.00001), (-0.00001), (1), (-1), (255), (-128), (-129),
		(256), (65535), (-65536), (0.0), (('0.' || repeat('0', 999) || '1')::numeric),
		(-('0.' || repeat('0', 999) || '1')::numeric),
		(repeat('9', 131072)::numeric), (-(repeat('9', 131072)::numeric)),
		(('0.' || repeat('0', 16382) || '7')::numeric),
		((repeat('8', 131072) || '.' || repeat('3', 16383))::numeric);
});
# the plugin drops a fraction's trailing zeros, as Debezium does
my @pg = split /\n/, $node->safe_psql('postgres', 'SELECT trim_scale(n)::text FROM num ORDER BY id');
# {"topic":T,"key":K,"value":V}: V exactly as the plugin wrote it
my @events = map { my $i = index($_, ',"value":'); substr($_, $i + 9, -1) }
  split /\n/, $node->safe_psql('postgres',
	q[SELECT data FROM pg_logical_slot_get_changes('s', NULL, NULL) WHERE data::jsonb->>'topic' LIKE '%.num']);
is(scalar @events, scalar @pg, 'one plugin event per numeric row (' . scalar(@pg) . ')');

for my $path ([ 'scanner', sub { $_[0] } ], [ 'json-c', \&payload_first ])
{
	my @got = decode(map { [ undef, $path->[1]->($_) ] } @events);
	my @bad = grep { $got[$_]{result} ne 'row' || !defined value_of($got[$_], 'n')
		  || value_of($got[$_], 'n') ne $pg[$_] } 0 .. $#pg;
	is(scalar @bad, 0, "$path->[0]: every numeric reads as PostgreSQL prints it")
	  or diag(join("\n", map { substr("$pg[$_] vs " . $J->encode($got[$_]), 0, 300) } @bad[0 .. ($#bad < 4 ? $#bad : 4)]));
}

# ---- numeric with a typmod, from the plugin ---------------------------------
# a negative scale (PostgreSQL 15: numeric(5,-2) holds 12300 as 123 at
# scale -2, as Debezium's Decimal does), a scale above the precision, the
# widest Delta decimal and wider; stored as PostgreSQL prints them

$node->safe_psql('postgres', q{
	CREATE TABLE fixed (id serial PRIMARY KEY, a numeric(5,-2), b numeric(3,5),
		c numeric(38,38), d numeric(39,-3), e numeric(1,-1000), f numeric(38,0));
	INSERT INTO fixed (a, b, c, d, e, f) VALUES
		(12345, 0.00123, 0.12345678901234567890123456789012345678,
		 repeat('9', 39)::numeric * 1000, ('9' || repeat('0', 1000))::numeric, repeat('9', 38)::numeric),
		(-99949, -0.00999, -0.00000000000000000000000000000000000001, -1234,
		 -('4' || repeat('0', 1000))::numeric, -1),
		(0, 0, 0, 0, 0, 0);
});
my @fcols = qw(a b c d e f);
my @fpg = map { [ split /\|/ ] } split /\n/, $node->safe_psql('postgres',
	q{SELECT concat_ws('|', a, b, c, d, e, f) FROM fixed ORDER BY id});
my @fevents = map { my $i = index($_, ',"value":'); substr($_, $i + 9, -1) }
  split /\n/, $node->safe_psql('postgres',
	q[SELECT data FROM pg_logical_slot_get_changes('s', NULL, NULL) WHERE data::jsonb->>'topic' LIKE '%.fixed']);
is(scalar @fevents, 3, 'one plugin event per row of typmod numerics');
for my $path ([ 'scanner', sub { $_[0] } ], [ 'json-c', \&payload_first ])
{
	my @got = decode(map { [ undef, $path->[1]->($_) ] } @fevents);
	my @bad;
	for my $i (0 .. $#fpg)
	{
		for my $k (0 .. $#fcols)
		{
			my $v = value_of($got[$i], $fcols[$k]) // '(none)';
			push @bad, "row $i $fcols[$k]: " . substr($fpg[$i][$k], 0, 60) . ' vs ' . substr($v, 0, 60)
			  if $v ne $fpg[$i][$k];
		}
	}
	is_deeply(\@bad, [], "$path->[0]: every typmod numeric reads as PostgreSQL prints it");
}

# ---- hand-made hostile messages --------------------------------------------

my $topic = 'hv.public.items';
my @fields = ([ id => 'int32', optional => JSON::PP::false ], [ s => 'string' ],
	[ n => 'vardecimal' ],
	[ d => 'decimal', scale => 2, precision => 8 ], [ tags => 'array', items => 'string' ]);

sub ev
{
	my (%after) = @_;
	return CdcWriter::event(topic => $topic, fields => \@fields, op => 'c',
		after => { id => 1, %after }, key => { id => 1 })->[1];
}

# raw bytes that JSON may not hold, and escapes that are no character
my %invalid = (
	'overlong /' => "\xc0\xaf",
	'overlong 3-byte' => "\xe0\x80\xaf",
	'UTF-16 surrogate as UTF-8' => "\xed\xa0\x80",
	'above U+10FFFF' => "\xf4\x90\x80\x80",
	'F5 lead byte' => "\xf5\x80\x80\x80",
	'truncated sequence' => "a\xe2\x82",
	'lone continuation byte' => "\x80",
	'lone high surrogate escape' => '\ud800',
	'lone low surrogate escape' => '\udc00',
	'high surrogate then a letter' => '\ud800\u0041',
);
my (@hostile, @expect);
for my $what (sort keys %invalid)
{
	my $b = $invalid{$what};
	my $v = ev(s => 'PLACEHOLDER');
	$v =~ s/PLACEHOLDER/$b/;
	push @hostile, [ '{"id":1}', $v ], [ '{"id":1}', payload_first($v) ];
	push @expect, "$what in a string (scanner)", "$what in a string (json-c)";
	($v = ev(tags => ['PLACEHOLDER'])) =~ s/PLACEHOLDER/$b/;
	push @hostile, [ '{"id":1}', $v ];
	push @expect, "$what in an array's JSON text";
	($v = ev(s => 'x')) =~ s/"field":"s"/"field":"s$b"/;
	push @hostile, [ '{"id":1}', $v ];
	push @expect, "$what in a column name of the schema";
	push @hostile, [ '{"id":1}', qq({"before":null,"after":{"id":1,"c$b":2},"op":"c"}) ];
	push @expect, "$what in a schemaless column name";
	push @hostile, [ '{"id":1}', qq({"before":null,"after":{"id":1,"s":"$b"},"op":"c"}) ];
	push @expect, "$what in a schemaless string";
}
my @res = decode(@hostile);
for my $i (0 .. $#hostile)
{
	is($res[$i]{result}, 'bad', "dead-lettered: $expect[$i]");
	like($res[$i]{reason} // '', qr/UTF-8/, "the reason says UTF-8: $expect[$i]");
}

# column names no PostgreSQL column has: empty, or with a NUL (json-c's
# C-string names cut "a\u0000b" to "a": a column renamed, its value lost)
my @names = (
	[ 'NUL in a column name of the schema', do { (my $v = ev(s => 'x')) =~ s/"field":"s"/"field":"s\\u0000t"/g; $v },
		qr/NUL/ ],
	[ 'NUL in a payload member name', do { (my $v = ev(s => 'x')) =~ s/"s":"x"/"s":"x","s\\u0000t":"y"/; $v }, qr/NUL/ ],
	[ 'NUL in a schemaless column name', '{"before":null,"after":{"id":1,"c\u0000d":2},"op":"c"}', qr/NUL/ ],
	[ 'empty column name of the schema', do { (my $v = ev(s => 'x')) =~ s/"field":"s"/"field":""/g; $v },
		qr/column name is empty/ ],
	[ 'empty schemaless column name', '{"before":null,"after":{"id":1,"":2},"op":"c"}', qr/empty name/ ],
);
@res = decode(map { [ '{"id":1}', $_->[1] ], [ '{"id":1}', payload_first($_->[1]) ] } @names);
for my $i (0 .. $#names)
{
	for my $k (0, 1)
	{
		my $r = $res[2 * $i + $k];
		is($r->{result}, 'bad', "$names[$i][0] is dead-lettered (" . ($k ? 'json-c' : 'scanner') . ')')
		  or diag($J->encode($r));
		like($r->{reason} // '', $names[$i][2], "$names[$i][0]: the reason says why");
	}
}

# valid edges are kept byte for byte
my %valid = ('U+10FFFF' => "\xf4\x8f\xbf\xbf", 'U+FFFF' => "\xef\xbf\xbf",
	'U+0080' => "\xc2\x80", 'surrogate pair escape' => '\ud83d\ude00', 'NUL escape' => '\u0000');
my %valid_text = (%valid, 'surrogate pair escape' => "\xf0\x9f\x98\x80", 'NUL escape' => "\0");
for my $what (sort keys %valid)
{
	(my $v = ev(s => 'PLACEHOLDER')) =~ s/PLACEHOLDER/$valid{$what}/;
	my @r = decode([ '{"id":1}', $v ], [ '{"id":1}', payload_first($v) ]);
	my $want = $valid_text{$what};
	utf8::decode($want);
	is(value_of($r[0], 's'), $want, "$what is kept (scanner)");
	is(value_of($r[1], 's'), $want, "$what is kept (json-c)");
}

# decimals that are no number, numbers that are too big for their column
my @dec = (
	[ 'empty Decimal', ev(d => ''), qr/column "d".*empty decimal/ ],
	[ 'empty VariableScaleDecimal', ev(n => { scale => 2, value => '' }), qr/column "n".*empty decimal/ ],
	[ 'VariableScaleDecimal scale above 16383', ev(n => { scale => 16384, value => 'AQ==' }),
		qr/column "n".*scale outside/ ],
	[ 'VariableScaleDecimal scale below -1000', ev(n => { scale => -1001, value => 'AQ==' }),
		qr/column "n".*scale outside/ ],
	[ 'VariableScaleDecimal longer than any numeric', ev(n => { scale => 0, value => encode_base64("\x01" x 70000, '') }),
		qr/column "n".*more digits than PostgreSQL/ ],
	[ 'Decimal of 17 bytes', ev(d => encode_base64("\x01" x 17, '')), qr/column "d".*more than 38 digits/ ],
);
@res = decode(map { [ '{"id":1}', $_->[1] ], [ '{"id":1}', payload_first($_->[1]) ] } @dec);
for my $i (0 .. $#dec)
{
	for my $k (0, 1)
	{
		my $r = $res[2 * $i + $k];
		is($r->{result}, 'bad', "$dec[$i][0] is dead-lettered (" . ($k ? 'json-c' : 'scanner') . ')');
		like($r->{reason} // '', $dec[$i][2], "$dec[$i][0]: the reason says why");
	}
}
my @ok = decode([ undef, ev(n => { scale => 5, value => 'AQ==' }) ], [ undef, ev(n => { scale => 1000, value => '/w==' }) ],
	[ undef, ev(n => { scale => -3, value => '/w==' }) ], [ undef, ev(n => { scale => -1000, value => 'AA==' }) ]);
is(value_of($ok[0], 'n'), '0.00001', 'VariableScaleDecimal 1 at scale 5 is 0.00001');
is(value_of($ok[1], 'n'), '-0.' . ('0' x 999) . '1', 'VariableScaleDecimal -1 at scale 1000');
is(value_of($ok[2], 'n'), '-1000', 'VariableScaleDecimal -1 at scale -3 is -1000');
is(value_of($ok[3], 'n'), '0', 'VariableScaleDecimal 0 at scale -1000 is 0');
# sign bytes in front of a Decimal change nothing, however many
@ok = decode([ undef, ev(d => encode_base64(("\0" x 19) . "\x01", '')) ],
	[ undef, ev(d => encode_base64(("\xff" x 19) . "\xfe", '')) ]);
is(value_of($ok[0], 'd'), '0.01', 'Decimal 1 in 20 bytes at scale 2 is 0.01');
is(value_of($ok[1], 'd'), '-0.02', 'Decimal -2 in 20 bytes at scale 2 is -0.02');

# deletes without "before": the key must name the row
my $del = CdcWriter::event(topic => $topic, fields => \@fields, op => 'd', after => undef)->[1];
my @keys = (
	[ 'key without columns', '{}', qr/key without columns/ ],
	[ 'key column null', '{"id":null}', qr/key column "id" null/ ],
	[ 'schema key column null', '{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}]},"payload":{"id":null}}',
		qr/key column "id" null/ ],
	[ 'key of the wrong type', '{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}]},"payload":{"id":"seven"}}',
		qr/column "id": expected integer, got string/ ],
	[ 'key that is not JSON', '{"id":', qr/key that is not valid JSON/ ],
	[ 'key with trailing data', '{"id":1} 2', qr/trailing data/ ],
	[ 'key with an empty decimal', '{"schema":{"type":"struct","fields":[{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"0"},"field":"id"}]},"payload":{"id":""}}',
		qr/empty decimal/ ],
);
@res = decode(map { [ $_->[1], $del ] } @keys);
for my $i (0 .. $#keys)
{
	is($res[$i]{result}, 'bad', "delete with a $keys[$i][0] is dead-lettered");
	like($res[$i]{reason} // '', $keys[$i][2], "delete with a $keys[$i][0]: the reason says why");
}
@res = decode([ '{"id":7}', $del ]);
is_deeply($res[0]{values}, [ [ 'id', 'int', '7' ] ], 'a delete with a good key is a row of its key');

# ---- end to end through the writer ------------------------------------------

my $root = "$work/delta";
my $log = "$work/writer.log";
my $dlfile = "$work/dead.jsonl";
my $kb = CdcKafka::start_kafka(topics => ["$topic:1"]);
my @good = map { [ qq({"id":$_}), ev(id => $_, s => "row $_", n => { scale => 5, value => 'AQ==' }) ] } 1 .. 3;
$good[2][1] = ev(id => 3, s => 'row 3', n => { scale => 1000, value => '/w==' });
my @bad = grep { $_->[1] !~ /[\x1e\n]/ } @hostile[0 .. 11];
my @bad_e2e = (@bad, [ '{"id":9}', ev(id => 9, d => '') ], [ '{}', $del ], [ '{"id":null}', $del ]);
CdcWriter::produce($kb->bootstrap, $topic, $good[0], @bad_e2e, @good[1, 2]);
my $last = scalar(@bad_e2e) + 2;
my $w = CdcWriter::start_writer($kb->bootstrap, $root, $log, '-t', $topic,
	'-X', "deadletter.path=$dlfile", '-X', 'flush.interval.ms=300');
my $dir = "$root/public/items";
ok(CdcWriter::wait_for(sub { (CdcWriter::txn_versions($dir)->{"$topic-0"} // -1) == $last }),
	'the writer gets past every bad message');
is(CdcWriter::stop_writer($w), 0, 'and exits 0 on SIGTERM');
my $r = CdcWriter::delta_read($dir, 'SELECT id, s, n FROM t ORDER BY id');
is_deeply($r->{errors}, [], 'DuckDB reads the table');
is_deeply($r->{results}[0], [ { id => 1, s => 'row 1', n => '0.00001' }, { id => 2, s => 'row 2', n => '0.00001' },
		{ id => 3, s => 'row 3', n => '-0.' . ('0' x 999) . '1' } ],
	'with every good row, exactly, and nothing else');
open(my $fh, '<', $dlfile) or die "$dlfile: $!";
my @lines = map { $J->decode($_) } <$fh>;
close $fh;
is(scalar @lines, scalar @bad_e2e, 'one dead-letter line per bad message');
is_deeply([ map { $_->{offset} } @lines ], [ 1 .. scalar @bad_e2e ], 'at their offsets');

# Spark, through Delta's own log reader, reads what DuckDB reads
$spark->agrees_with_duckdb($dir, 'values at the edges (decimal scale 1000)');
$spark->stop;

$kb->stop;
done_testing();
