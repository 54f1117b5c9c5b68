# Delta writer: every Debezium type from the plugin's mapping, written by
# cdc_delta_writer from Apache Kafka and read back by DuckDB from the
# files the Delta log lists: right value, right Delta type, right Parquet
# type; nulls, empty strings, non-ASCII, large values, decimals at scale;
# ops c/r/u/d, deletes from the key, tombstones skipped; several commits.
# Then the same shape without schemas (schemas.enable=false): types come
# from the JSON, a new key evolves the table with a new metaData action.
use strict;
use warnings;

use File::Temp qw(tempdir);
use JSON::PP;
use MIME::Base64;
use Math::BigInt;
use Test::More;

use CdcKafka;
use CdcSpark;
use CdcWriter;

# Spark starts slowly: it does so while the test runs
my $spark = CdcSpark->start('spark35');
my $work = $ENV{TESTDIR} // tempdir(CLEANUP => 1);
mkdir $work;
my $root = "$work/delta";
my $log = "$work/writer.log";

# Kafka Connect Decimal: base64 of the big-endian two's complement unscaled value.
sub dec
{
	my ($unscaled) = @_;
	my $v = Math::BigInt->new($unscaled);
	my $n = 1;
	$n++ while $v >= Math::BigInt->new(2)->bpow(8 * $n - 1)
	  || $v < -Math::BigInt->new(2)->bpow(8 * $n - 1);
	$v += Math::BigInt->new(2)->bpow(8 * $n) if $v < 0;
	my $hex = substr($v->as_hex, 2);
	$hex = ('0' x (2 * $n - length $hex)) . $hex;
	return encode_base64(pack('H*', $hex), '');
}

my $topic = 'lab.public.alltypes';
my @fields = (
	[ id => 'int32', optional => JSON::PP::false ],
	[ i16 => 'int16' ],
	[ i32 => 'int32' ],
	[ i64 => 'int64' ],
	[ f32 => 'float' ],
	[ f64 => 'double' ],
	[ flag => 'boolean' ],
	[ txt => 'string' ],
	[ bin => 'bytes' ],
	[ money => 'decimal', scale => 2, precision => 10 ],
	[ big => 'decimal', scale => 10, precision => 38 ],
	[ huge => 'decimal', scale => 3, precision => 50 ],
	[ vnum => 'vardecimal' ],
	[ day => 'io.debezium.time.Date' ],
	[ ts => 'io.debezium.time.MicroTimestamp' ],
	[ tsms => 'io.debezium.time.Timestamp' ],
	[ tstz => 'io.debezium.time.ZonedTimestamp' ],
	[ tod => 'io.debezium.time.MicroTime' ],
	[ dur => 'io.debezium.time.MicroDuration' ],
	[ doc => 'io.debezium.data.Json' ],
	[ uid => 'io.debezium.data.Uuid' ],
	[ mood => 'io.debezium.data.Enum' ],
	[ nums => 'array', items => 'int32' ],
);
my $long_text = join('', map { chr(0x41 + $_ % 26) } 1 .. 100_000);
my @rows = (
	{ id => 1, i16 => 12, i32 => 100000, i64 => 5000000000, f32 => 1.5, f64 => 3.141592653589793,
		flag => JSON::PP::true, txt => 'plain', bin => encode_base64("\x00\x01\xfe\xff", ''),
		money => dec(123456), big => dec('123456789012345678901234567890'),
		huge => dec('1234567890123456789012345678901234567890123'),
		vnum => { scale => 3, value => dec(-12345) }, day => 19000, ts => 1529507596945104,
		tsms => 1529507596945, tstz => '2018-06-20T13:13:16.945104Z', tod => 45296000000,
		dur => 3600000000, doc => '{"a": 1}', uid => 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
		mood => 'happy', nums => [ 1, 2, undef ] },
	{ id => 2, i16 => -32768, i32 => 2147483647, i64 => 9223372036854775807, f32 => -0.25,
		f64 => 1e300, flag => JSON::PP::false, txt => "h\x{e9}llo \x{2713} \x{65e5}\x{672c} \x{1f389}",
		bin => '', money => dec(-1), big => dec('-99999999999999999999999999999999999999'),
		huge => dec(0), vnum => { scale => 0, value => dec(7) }, day => -1, ts => -1,
		tsms => 0, tstz => '2018-06-20T15:13:16.5+02:00', tod => 0, dur => -1, doc => '[]',
		uid => '00000000-0000-0000-0000-000000000000', mood => '', nums => [] },
	{ id => 3, txt => '' },
	{ id => 4, i16 => 32767, txt => $long_text, mood => "q\"b\\s/n\nt\tc\x{1}e\x{e9}\x{1f389}" },
);

my $kb = CdcKafka::start_kafka(topics => [ "$topic:1", 'lab.public.nos:1' ]);
my @events;
for my $r (@rows)
{
	my %after = map { $_->[0] => undef } @fields;
	%after = (%after, %$r);
	push @events, CdcWriter::event(topic => $topic, fields => \@fields, op => $r->{id} == 4 ? 'r' : 'c',
		after => \%after, key => { id => $r->{id} }, lsn => 1000 + $r->{id}, txid => 500 + $r->{id});
}
# an update, a delete with before, a delete with only the key + its tombstone
push @events, CdcWriter::event(topic => $topic, fields => \@fields, op => 'u',
	after => { id => 1, txt => 'updated' }, key => { id => 1 });
push @events, CdcWriter::event(topic => $topic, fields => \@fields, op => 'd',
	before => { id => 2, txt => 'gone' }, key => { id => 2 });
push @events, CdcWriter::event(topic => $topic, fields => \@fields, op => 'd',
	before => undef, key => { id => 3 });
push @events, [ JSON::PP->new->canonical->encode({ schema => undef, payload => { id => 3 } }), undef ];
# deletes carrying full rows 1 and 2, "payload" before "schema": read by
# the json-c path, where the inserts took the allocation-free scanner; both
# must give the same values
for my $r (@rows[0, 1])
{
	my %before = map { $_->[0] => undef } @fields;
	%before = (%before, %$r);
	push @events, CdcWriter::event(topic => $topic, fields => \@fields, op => 'd',
		before => \%before, key => { id => $r->{id} }, payload_first => 1);
}
CdcWriter::produce($kb->bootstrap, $topic, @events);

my $w = CdcWriter::start_writer($kb->bootstrap, $root, $log, '-t', $topic, '-t', 'lab.public.nos',
	'-X', 'flush.rows=3', '-X', 'flush.interval.ms=500');
my $dir = "$root/public/alltypes";
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($dir) == 9 }),
	'nine rows committed (the tombstone is skipped)');
ok(CdcWriter::wait_for(sub { (CdcWriter::txn_versions($dir)->{"$topic-0"} // -1) == 9 }),
	'the txn version covers the tombstone\'s offset');

my $r = CdcWriter::delta_read($dir,
	q{SELECT id, i16, i32, i64::VARCHAR AS i64, f32, f64, flag, txt, hex(bin) AS bin,
		money::VARCHAR AS money, big::VARCHAR AS big, huge, vnum, day::VARCHAR AS day,
		epoch_us(ts)::VARCHAR AS ts, epoch_us(tsms)::VARCHAR AS tsms, epoch_us(tstz)::VARCHAR AS tstz,
		tod::VARCHAR AS tod, dur::VARCHAR AS dur, doc, uid, mood, nums, __op,
		__source_lsn::VARCHAR AS lsn, __source_txid::VARCHAR AS txid, __kafka_offset::VARCHAR AS off,
		__kafka_partition AS part, __kafka_topic AS topic, __kafka_timestamp IS NOT NULL AS has_kts
	  FROM t ORDER BY __kafka_offset},
	q{SELECT length(txt) AS n FROM t WHERE id = 4},
	q{WITH v AS (SELECT __op = 'd' AS slow, i16, i32, i64, f32, f64, flag, txt, bin, money, big, huge, vnum,
	                    day, ts, tsms, tstz, tod, dur, doc, uid, mood, nums
	               FROM t WHERE id IN (1, 2) AND (__op = 'c' OR __kafka_offset >= 8))
	  SELECT (SELECT count(*) FROM (SELECT * EXCLUDE (slow) FROM v WHERE slow
	                                EXCEPT SELECT * EXCLUDE (slow) FROM v WHERE NOT slow))::INT AS a,
	         (SELECT count(*) FROM (SELECT * EXCLUDE (slow) FROM v WHERE NOT slow
	                                EXCEPT SELECT * EXCLUDE (slow) FROM v WHERE slow))::INT AS b,
	         (SELECT count(*) FROM v)::INT AS n});
is_deeply($r->{errors}, [], 'the Delta log replays cleanly (versions, actions, stats, files)');
cmp_ok($r->{version}, '>=', 2, 'several commits (flush.rows=3)');
cmp_ok($r->{files}, '>=', 3, 'several live files');

my %delta_type = map { $_->{name} => $_->{type} } @{ $r->{schema} };
my %duck_type = map { $_->{name} => $_->{type} } @{ $r->{columns} };
my %expect = (
	id => [ 'integer', 'INTEGER' ], i16 => [ 'short', 'SMALLINT' ], i32 => [ 'integer', 'INTEGER' ],
	i64 => [ 'long', 'BIGINT' ], f32 => [ 'float', 'FLOAT' ], f64 => [ 'double', 'DOUBLE' ],
	flag => [ 'boolean', 'BOOLEAN' ], txt => [ 'string', 'VARCHAR' ], bin => [ 'binary', 'BLOB' ],
	money => [ 'decimal(10,2)', 'DECIMAL(10,2)' ], big => [ 'decimal(38,10)', 'DECIMAL(38,10)' ],
	huge => [ 'string', 'VARCHAR' ], vnum => [ 'string', 'VARCHAR' ], day => [ 'date', 'DATE' ],
	ts => [ 'timestamp', 'TIMESTAMP WITH TIME ZONE' ], tsms => [ 'timestamp', 'TIMESTAMP WITH TIME ZONE' ],
	tstz => [ 'timestamp', 'TIMESTAMP WITH TIME ZONE' ], tod => [ 'long', 'BIGINT' ],
	dur => [ 'long', 'BIGINT' ], doc => [ 'string', 'VARCHAR' ], uid => [ 'string', 'VARCHAR' ],
	mood => [ 'string', 'VARCHAR' ], nums => [ 'string', 'VARCHAR' ],
	__op => [ 'string', 'VARCHAR' ], __source_lsn => [ 'long', 'BIGINT' ],
	__source_txid => [ 'long', 'BIGINT' ], __source_ts_ms => [ 'long', 'BIGINT' ],
	__kafka_topic => [ 'string', 'VARCHAR' ], __kafka_partition => [ 'integer', 'INTEGER' ],
	__kafka_offset => [ 'long', 'BIGINT' ], __kafka_timestamp => [ 'timestamp', 'TIMESTAMP WITH TIME ZONE' ],
);
for my $c (sort keys %expect)
{
	is($delta_type{$c}, $expect{$c}[0], "Delta type of $c");
	is($duck_type{$c}, $expect{$c}[1], "Parquet type of $c as DuckDB reads it") if $expect{$c}[1];
}

my @got = @{ $r->{results}[0] };
is(scalar @got, 9, 'DuckDB reads nine rows');
is_deeply($r->{results}[2], [ { a => 0, b => 0, n => 4 } ],
	'the fast scanner and the json-c path read the same values');
my %r1 = %{ $got[0] };
my %want1 = (id => 1, i16 => 12, i32 => 100000, i64 => '5000000000', f32 => 1.5,
	f64 => 3.141592653589793, flag => JSON::PP::true, txt => 'plain', bin => '0001FEFF',
	money => '1234.56', big => '12345678901234567890.1234567890',
	huge => '1234567890123456789012345678901234567890.123', vnum => '-12.345',
	day => '2022-01-08', ts => '1529507596945104', tsms => '1529507596945000',
	tstz => '1529500396945104', tod => '45296000000', dur => '3600000000', doc => '{"a": 1}',
	uid => 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', mood => 'happy', nums => '[1,2,null]',
	__op => 'c', lsn => '1001', txid => '501', off => '0', part => 0, topic => $topic,
	has_kts => JSON::PP::true);
for my $k (sort keys %want1)
{
	is($r1{$k}, $want1{$k}, "row 1: $k");
}
my %r2 = %{ $got[1] };
my %want2 = (i16 => -32768, i32 => 2147483647, i64 => '9223372036854775807', f32 => -0.25,
	f64 => 1e300, flag => JSON::PP::false,
	txt => "h\x{e9}llo \x{2713} \x{65e5}\x{672c} \x{1f389}", bin => '', money => '-0.01',
	big => '-9999999999999999999999999999.9999999999', huge => '0.000', vnum => '7',
	day => '1969-12-31', ts => '-1', tsms => '0', tstz => '1529500396500000', tod => '0',
	dur => '-1', doc => '[]', mood => '', nums => '[]');
for my $k (sort keys %want2)
{
	is($r2{$k}, $want2{$k}, "row 2 (extremes, non-ASCII, empty): $k");
}
my %r3 = %{ $got[2] };
is($r3{txt}, '', 'row 3: empty string stays empty');
is_deeply([ map { defined $r3{$_} ? $_ : () } qw(i16 i32 i64 f32 f64 flag bin money big huge vnum day ts tsms tstz tod dur doc uid mood nums) ],
	[], 'row 3: every other column is null');
is($got[3]{__op}, 'r', 'row 4: snapshot read op');
is($got[3]{mood}, "q\"b\\s/n\nt\tc\x{1}e\x{e9}\x{1f389}", 'row 4: JSON escapes decoded');
is($r->{results}[1][0]{n}, 100_000, 'a 100 kB string survives');
is_deeply([ map { [ $_->{id}, $_->{__op}, $_->{txt} ] } @got[ 4 .. 6 ] ],
	[ [ 1, 'u', 'updated' ], [ 2, 'd', 'gone' ], [ 3, 'd', undef ] ],
	'update, delete from before, delete from the key');

# ---- schemas off: types from JSON, schema evolution by a new key
my $nos = 'lab.public.nos';
CdcWriter::produce($kb->bootstrap, $nos,
	CdcWriter::event(topic => $nos, schemas => 0, op => 'c', key => { id => 1 },
		after => { id => 1, name => "n\x{f6}", score => 1.5, ok => JSON::PP::true, tags => [ 1, 2 ],
			meta => { x => 1 }, nothing => undef }));
my $ndir = "$root/public/nos";
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($ndir) == 1 }), 'schemaless row committed');
CdcWriter::produce($kb->bootstrap, $nos,
	CdcWriter::event(topic => $nos, schemas => 0, op => 'c', key => { id => 2 },
		after => { id => 2, name => 'b', score => 2, ok => JSON::PP::false, extra => 5 }));
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($ndir) == 2 }), 'row with a new key committed');
is(CdcWriter::stop_writer($w), 0, 'SIGTERM: writer exits 0');
my ($versions, $slow) = CdcKafka::slurp($log) =~ /(\d+) schema versions, (\d+) messages read by json-c/;
is($versions, 1, 'one schema version parsed for all the schema\'d events');
# json-c: the key-only delete, the two payload-first deletes and the two
# schemaless events (the tombstone is not parsed at all)
is($slow, 1 + 2 + 2, 'everything else went through the allocation-free scanner');

$r = CdcWriter::delta_read($ndir,
	q{SELECT id, name, score, ok, tags, meta, extra, __op FROM t ORDER BY id});
is_deeply($r->{errors}, [], 'schemaless table: log replays cleanly');
%delta_type = map { $_->{name} => $_->{type} } @{ $r->{schema} };
is_deeply([ @delta_type{qw(id name score ok tags meta extra)} ],
	[qw(long string double boolean string string long)],
	'types inferred from JSON; the new key added as a column');
ok(!exists $delta_type{nothing}, 'a key only ever null gets no column (its type is unknown)');
is_deeply($r->{results}[0],
	[ { id => '1', name => "n\x{f6}", score => 1.5, ok => JSON::PP::true, tags => '[1,2]',
			meta => '{"x":1}', extra => undef, __op => 'c' },
		{ id => '2', name => 'b', score => 2, ok => JSON::PP::false, tags => undef,
			meta => undef, extra => '5', __op => 'c' } ],
	'schemaless values, null for columns a row lacks');
my $metas = 0;
for my $f (glob("$ndir/_delta_log/*.json"))
{
	open(my $fh, '<', $f) or die;
	$metas += grep { /^\{"metaData"/ } <$fh>;
}
is($metas, 2, 'schema evolution wrote a second metaData action');

# Spark, through Delta's own log reader, reads what DuckDB reads
$spark->agrees_with_duckdb($dir, 'every type');
$spark->agrees_with_duckdb($ndir, 'schemaless, with schema evolution');
$spark->stop;

$kb->stop;
done_testing();
