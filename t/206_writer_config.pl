# Delta writer configuration: -X / -c FILE through the shared parser, clear
# errors naming the bad key or value (exit 1), secrets never printed,
# precedence defaults < file < flags, --help lists the defaults; topic
# names that would make odd paths stay inside the root.
use strict;
use warnings;

use File::Temp qw(tempdir);
use IPC::Run;
use Test::More;

use CdcKafka;
use CdcSpark;
use CdcWriter;

# Spark starts slowly: it does so while the test runs
my $spark = CdcSpark->start('spark35');
my $work = $ENV{TESTDIR} // tempdir(CLEANUP => 1);
mkdir $work;
my $root = "$work/delta";
my $prog = CdcWriter::writer_program();

sub run_writer
{
	my @args = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ $prog, @args ], '<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(60));
	return ($? >> 8, $out, $err);
}

my ($rc, $out, $err) = run_writer('--help');
is($rc, 0, '--help exits 0');
like($out, qr/flush\.rows\s+commit a table after this many rows.*\n\s+default: 100000/,
	'--help lists flush.rows and its default');
like($out, qr/flush\.interval\.ms.*\n\s+default: 5000/, '--help lists flush.interval.ms = 5000');
like($out, qr/flush\.bytes.*\n\s+default: 67108864/, '--help lists flush.bytes = 64 MB');

my @cases = (
	[ [ '-r', $root, '-t', 'a', '-X', 'no.such.key=1' ], qr/unknown configuration key "no\.such\.key"/ ],
	[ [ '-r', $root, '-t', 'a', '-X', 'flush.rows=abc' ], qr/"flush\.rows"/ ],
	[ [ '-r', $root, '-t', 'a', '-X', 'flush.rows=0' ], qr/"flush\.rows"/ ],
	[ [ '-r', $root, '-t', 'a', '-X', 'assignment=sometimes' ], qr/"assignment"/ ],
	[ [ '-r', $root, '-t', 'a', '-X', 'kafka.no.such.property=1' ], qr/no\.such\.property/ ],
	[ [ '-r', $root, '-t', 'a', '-X', 'kafka.security.protocol=bogus' ], qr/security\.protocol/ ],
	[ [ '-t', 'a' ], qr/no table root/ ],
	[ [ '-r', $root ], qr/no topics/ ],
	[ [ '-r', $root, '-t', 'a', '-p', 'b' ], qr/either topics/ ],
	[ [ '-r', $root, '-p', 'b', '-X', 'assignment=static' ], qr/assignment=static needs topics/ ],
	[ [ '-r', $root, '-t', 'a', 'stray' ], qr/unexpected argument "stray"/ ],
	[ [ '-r', $root, '-t', 'a', '-c', "$work/missing.conf" ], qr/missing\.conf/ ],
	# librdkafka would skip offsets Kafka no longer holds in silence
	[ [ '-r', $root, '-t', 'a', '-X', 'kafka.auto.offset.reset=earliest' ], qr/auto\.offset\.reset=earliest.*offset\.gap=skip/ ],
	[ [ '-r', $root, '-t', 'a', '-X', 'auto.offset.reset=latest' ], qr/auto\.offset\.reset=latest/ ],
	# a root that exists but cannot be written concerns every table
	[ [ '-r', "$work/ro", '-t', 'a', '-X', "deadletter.path=$work/dl.jsonl" ], qr/\/ro" is not writable/ ],
	[ [ '-r', $root, '-t', 'a', '-X', "deadletter.path=$work/ro/dl.jsonl" ], qr/\Q$work\E\/ro\/dl\.jsonl/ ],
);
mkdir "$work/ro";
chmod 0555, "$work/ro";
for my $c (@cases)
{
	($rc, $out, $err) = run_writer(@{ $c->[0] });
	is($rc, 1, "exit 1 for: @{ $c->[0] }");
	like($err, $c->[1], "message names the problem: @{ $c->[0] }");
}

# secrets never printed: not in -X dump, not in errors
($rc, $out, $err) = run_writer('-r', $root, '-t', 'a', '-X', 'kafka.sasl.password=hunter2',
	'-X', 'kafka.ssl.key.password=sekret1', '-X', 'dump');
is($rc, 0, '-X dump exits 0');
like($out, qr/kafka\.sasl\.password=\*+/, 'dump masks sasl.password');
unlike($out . $err, qr/hunter2|sekret1/, 'no password in the dump');
($rc, $out, $err) = run_writer('-r', $root, '-t', 'a', '-X', 'kafka.sasl.password=hunter2',
	'-X', 'kafka.security.protocol=sasl_plaintext', '-X', 'kafka.sasl.mechanisms=NOPE');
is($rc, 1, 'bad sasl.mechanisms: exit 1');
like($err, qr/SASL mechanism/, 'the error says what is wrong');
unlike($out . $err, qr/hunter2/, 'no password in the error');

# file and flags: defaults < file < flags, whatever the order
open(my $fh, '>', "$work/w.conf") or die;
print $fh "# writer settings\nflush.rows = 500\nflush.interval.ms=700\nkafka.client.id=from-file\n\n";
close $fh;
($rc, $out, $err) = run_writer('-X', 'flush.rows=9', '-c', "$work/w.conf", '-r', $root, '-t', 'a', '-X', 'dump');
is($rc, 0, '-c FILE accepted');
like($out, qr/^flush\.rows=9\b/m, 'a flag beats the file even when given first');
like($out, qr/^flush\.interval\.ms=700\b/m, 'the file beats the default');
like($out, qr/^kafka\.client\.id=from-file\b/m, 'kafka.* keys from the file');
open($fh, '>', "$work/bad.conf") or die;
print $fh "flush.rows=5\nflush.rowz=6\n";
close $fh;
($rc, $out, $err) = run_writer('-c', "$work/bad.conf", '-r', $root, '-t', 'a');
is($rc, 1, 'unknown key in the file: exit 1');
like($err, qr/bad\.conf:2.*flush\.rowz/, 'the error names FILE:LINE and the key');

# odd topic names make paths inside the root
my $kb = CdcKafka::start_kafka(topics => [ 'odd....:1', 'x.y.-2e-2e:1' ]);
my @fields = ([ id => 'int32' ]);
CdcWriter::produce($kb->bootstrap, 'odd....',
	CdcWriter::event(topic => 'odd.a.b', fields => \@fields, after => { id => 1 }, key => { id => 1 }));
CdcWriter::produce($kb->bootstrap, 'x.y.-2e-2e',
	CdcWriter::event(topic => 'x.y.z', fields => \@fields, after => { id => 2 }, key => { id => 2 }));
my $w = CdcWriter::start_writer($kb->bootstrap, $root, "$work/writer.log", '-t', 'odd....', '-t', 'x.y.-2e-2e',
	'-X', 'assignment=static', '-X', 'flush.interval.ms=200');
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows("$root/_/_") == 1 && CdcWriter::committed_rows("$root/y/-2d2e-2d2e") == 1 }),
	'tables of odd topic names are directories under the root');
is(CdcWriter::stop_writer($w), 0, 'SIGTERM exits 0');
my @outside = grep { !m{^\Q$root\E(/|$)} } map { my $p = $_; chomp $p; $p } `find $work -newer $work/w.conf -name '*.parquet'`;
is_deeply(\@outside, [], 'no Parquet file outside the root');

# Spark, through Delta's own log reader, reads what DuckDB reads
$spark->agrees_with_duckdb($_, "odd topic name: $_") for ("$root/_/_", "$root/y/-2d2e-2d2e");
$spark->stop;

$kb->stop;
done_testing();
