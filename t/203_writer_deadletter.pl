# Delta writer: corrupt and unexpected messages go to the dead-letter file
# with their topic, partition, offset, a reason and their bytes; they are
# never silently dropped and never stop the table: the good messages
# around them are committed, and the txn version covers the bad offsets
# too, so a restart does not dead-letter them again.
use strict;
use warnings;

use File::Temp qw(tempdir);
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
my $root = "$work/delta";
my $log = "$work/writer.log";
my $dlfile = "$work/dead.jsonl";
my $topic = 'dl.public.items';
my @fields = ([ id => 'int32', optional => JSON::PP::false ], [ name => 'string' ],
	[ price => 'decimal', scale => 2, precision => 8 ]);

sub good
{
	my ($id) = @_;
	return CdcWriter::event(topic => $topic, fields => \@fields, op => 'c',
		after => { id => $id, name => "item $id", price => encode_base64(pack('N', $id * 100), '') },
		key => { id => $id });
}
my $schema_only = CdcWriter::event(topic => $topic, fields => \@fields, after => { id => 1 })->[1];
$schema_only =~ s/,"payload":.*\}$/}/;

# [value, reason pattern]
my @bad = (
	[ 'this is not JSON', qr/not valid JSON/ ],
	[ '[1,2,3]', qr/not an object/ ],
	[ $schema_only, qr/no "payload"/ ],
	[ '{"payload":{"after":{"id":1}}}', qr/no "op"/ ],
	[ '{"before":null,"after":{"id":1},"op":"x"}', qr/unknown op/ ],
	[ '{"before":null,"after":null,"op":"c"}', qr/without "after"/ ],
	[ CdcWriter::event(topic => $topic, fields => \@fields, after => { id => 'seven' }, key => { id => 7 })->[1],
		qr/column "id": expected integer/ ],
	[ CdcWriter::event(topic => $topic, fields => \@fields, after => { id => 8, price => '***' }, key => { id => 8 })->[1],
		qr/column "price": expected base64/ ],
	[ CdcWriter::event(topic => $topic, fields => \@fields,
			after => { id => 9, price => encode_base64(pack('N', 1_000_000_00), '') }, key => { id => 9 })->[1],
		qr/column "price" \(decimal\(8,2\)\) cannot hold/ ],
	[ '{"before":null,"after":{"id":10,"name":"' . "\xff\xfe" . '"},"op":"c"}', qr/not valid JSON/ ],
	[ substr(good(11)->[1], 0, 200), qr/not valid JSON/ ],
	[ '{"before":null,"after":{"id":12},"op":"c","source":{"lsn":"abc"}}', qr/source\.lsn/ ],
);

my $kb = CdcKafka::start_kafka(topics => ["$topic:1"]);
my @msgs = (good(1), good(2));
push @msgs, [ '{"id":0}', $_->[0] ] for @bad;
# transaction metadata is skipped, not dead-lettered
push @msgs, [ '{"id":"571:53195829"}', '{"status":"BEGIN","id":"571:53195829","ts_ms":1486500577125,"event_count":null,"data_collections":null}' ];
push @msgs, good(3), good(4);
CdcWriter::produce($kb->bootstrap, $topic, @msgs);
my $last = scalar(@msgs) - 1;

my $w = CdcWriter::start_writer($kb->bootstrap, $root, $log, '-t', $topic,
	'-X', "deadletter.path=$dlfile", '-X', 'flush.interval.ms=300');
my $dir = "$root/public/items";
ok(CdcWriter::wait_for(sub { (CdcWriter::txn_versions($dir)->{"$topic-0"} // -1) == $last }),
	'the txn version reaches the last offset, past every bad message');
is(CdcWriter::stop_writer($w), 0, 'writer exits 0 on SIGTERM');

my $r = CdcWriter::delta_read($dir, 'SELECT id, name, price::VARCHAR AS price FROM t ORDER BY id');
is_deeply($r->{errors}, [], 'log replays cleanly');
is_deeply($r->{results}[0], [ map { { id => $_, name => "item $_", price => "$_.00" } } 1 .. 4 ],
	'the good messages before and after the bad ones are all in the table');

open(my $fh, '<', $dlfile) or die "$dlfile: $!";
my @lines = map { JSON::PP->new->decode($_) } <$fh>;
close $fh;
is(scalar @lines, scalar @bad, 'one dead-letter line per bad message');
for my $i (0 .. $#bad)
{
	my $l = $lines[$i];
	is_deeply([ $l->{topic}, $l->{partition}, $l->{offset} ], [ $topic, 0, $i + 2 ],
		"bad message $i: topic, partition, offset");
	like($l->{reason}, $bad[$i][1], "bad message $i: reason \"$l->{reason}\"");
	is(decode_base64($l->{value}), $bad[$i][0], "bad message $i: its bytes are kept");
	is(decode_base64($l->{key}), '{"id":0}', "bad message $i: its key is kept");
}

# restart: nothing is read again, nothing dead-lettered twice
CdcWriter::produce($kb->bootstrap, $topic, good(5));
$w = CdcWriter::start_writer($kb->bootstrap, $root, $log, '-t', $topic,
	'-X', "deadletter.path=$dlfile", '-X', 'flush.interval.ms=300');
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($dir) == 5 }), 'restart: the new row is committed');
is(CdcWriter::stop_writer($w), 0, 'writer exits 0 again');
open($fh, '<', $dlfile) or die;
my $n = () = <$fh>;
is($n, scalar @bad, 'restart: no message dead-lettered twice');
like(slurp($log), qr/dl\.public\.items \[0\] \@2: not valid JSON/, 'the log names the message as topic [p] @off');

# A new table whose first messages make no row (a bad one, a tombstone, a
# transaction event): their offsets are still committed, which creates the
# table with the change-log columns only, and its first row adds the rest.
my $fresh = 'dl.public.fresh';
$kb->create_topic("$fresh:1");
CdcWriter::produce($kb->bootstrap, $fresh, [ '{"id":1}', 'not JSON' ], [ '{"id":1}', undef ],
	[ '{"id":"1:2"}', '{"status":"BEGIN","id":"1:2","ts_ms":1,"event_count":null,"data_collections":null}' ]);
$w = CdcWriter::start_writer($kb->bootstrap, $root, $log, '-t', $fresh,
	'-X', "deadletter.path=$dlfile", '-X', 'flush.interval.ms=300');
my $fresh_dir = "$root/public/fresh";
ok(CdcWriter::wait_for(sub { (CdcWriter::txn_versions($fresh_dir)->{"$fresh-0"} // -1) == 2 }),
	'a new table whose first messages make no row: their offsets are committed');
my @ev = @{ CdcWriter::event(topic => $fresh, fields => \@fields, op => 'c',
	after => { id => 1, name => 'first', price => encode_base64(pack('N', 100), '') }, key => { id => 1 }) };
CdcWriter::produce($kb->bootstrap, $fresh, \@ev);
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($fresh_dir) == 1 }), 'and its first row follows');
is(CdcWriter::stop_writer($w), 0, 'the writer kept running: exit 0');
$r = CdcWriter::delta_read($fresh_dir, 'SELECT id, name, price::VARCHAR AS price, __op FROM t');
is_deeply($r->{errors}, [], 'DuckDB reads the table');
is_deeply($r->{results}[0], [ { id => 1, name => 'first', price => '1.00', __op => 'c' } ],
	'with the row and its columns');

sub slurp { open(my $f, '<', $_[0]) or die; local $/; return <$f>; }

# Spark, through Delta's own log reader, reads what DuckDB reads
$spark->agrees_with_duckdb($dir, 'rows around dead-lettered messages');
$spark->agrees_with_duckdb($fresh_dir, 'a table created without rows, then evolved');
$spark->stop;

$kb->stop;
done_testing();
