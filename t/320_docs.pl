# The documentation is tested: README.md's shell blocks run as written, in
# order, in one shell, and their output is what the text says; the files
# doc/production.md shows are the ones deploy/ ships (and t/321 runs).
#
# A block is run only if an HTML comment marks it (invisible on GitHub):
#   <!-- test: run -->            run it
#   <!-- test: output -->         what the run block before it prints, exactly
#   <!-- test: same-as PATH -->   the block is the repository's file PATH
#   <!-- test: standin NAME -->   a step this machine cannot take as written
#                                 (it needs root, or makes a system cluster):
#                                 the test checks the block still says what
#                                 the stand-in NAME assumes, then runs NAME
# Stand-ins (%STANDIN below) replace only what needs root or the system:
# "build" installs the programs into a scratch bindir with the Makefile's
# own install target and puts it first on PATH; "cluster" is a temporary
# cluster with the -o settings parsed from the block; the `duckdb` command
# is DuckDB's SQL through DuckDB's Node package (t/js/duckdb_cli.mjs), as
# the DuckDB shell binary is not in Debian.  One line is replaced, `sleep 10`
# while the writer commits: the test waits for the rows instead of a time.
# The README runs twice: as written (the mock broker), and on Apache Kafka
# (scripts/kafka.sh in place of the mock's three lines).
# Everything else (mock broker, sidecar, writer, `ls`, psql) is the real
# program.  Fails on a failing command, a missing output, and processes
# left running after the document's own clean-up.
use strict;
use warnings;

use File::Path qw(make_path);
use File::Temp qw(tempdir);
use IPC::Run;
use Text::ParseWords qw(shellwords);
use Test::More;

use CdcKafka;

my $root = $CdcKafka::ROOT;
my $scratch = tempdir(CLEANUP => 1, DIR => $ENV{TESTDIR} ? do { make_path($ENV{TESTDIR}); $ENV{TESTDIR} } : undef);

# ---------------------------------------------------------------- parsing

# The marked blocks of a Markdown file: [kind, arg, text, line].
sub marked_blocks
{
	my ($file) = @_;
	open(my $fh, '<', "$root/$file") or die "$file: $!";
	my @lines = <$fh>;
	close $fh;
	my @blocks;
	for (my $i = 0; $i < @lines; $i++)
	{
		next unless $lines[$i] =~ /^<!-- test: (\S+)(?: (\S+))? -->\s*$/;
		my ($kind, $arg, $at) = ($1, $2, $i + 1);
		$i++ while $i + 1 < @lines && $lines[ $i + 1 ] =~ /^\s*$/;
		die "$file:$at: the marker is not followed by a fenced block"
		  unless $i + 1 < @lines && $lines[ $i + 1 ] =~ /^```/;
		$i += 2;
		my $text = '';
		$text .= $lines[ $i++ ] while $i < @lines && $lines[$i] !~ /^```\s*$/;
		push @blocks, [ $kind, $arg, $text, $at ];
	}
	return @blocks;
}

# ---------------------------------------------------------------- stand-ins

my $bindir = "$scratch/bin";
my @pgs;

# Each checks the block it replaces and returns the shell text to run.
my %STANDIN = (
	build => sub {
		my ($text) = @_;
		like($text, qr/^make && make install\b/m, 'build: the block builds and installs with make');
		# the Makefile's own install of the programs, into a scratch bindir
		my ($out, $err) = ('', '');
		my $ok = IPC::Run::run([ 'make', '-s', '-C', $root, 'install-daemons', "bindir=$bindir" ],
			'<', \undef, '>', \$out, '2>', \$err);
		ok($ok, 'make install-daemons bindir=DIR installs the programs') or diag($err);
		ok(-x "$bindir/$_", "... $_ is in bindir")
		  for qw(cdc_kafka_sidecar cdc_delta_writer cdc_kafka_mock_broker);
		open(my $fh, '>', "$bindir/duckdb") or die;
		print $fh "#!/bin/sh\nexec node '$root/t/js/duckdb_cli.mjs' \"\$@\"\n";
		close $fh;
		chmod 0755, "$bindir/duckdb";
		return "export PATH='$bindir':\"\$PATH\"\n";
	},
	cluster => sub {
		my ($text) = @_;
		my @words = shellwords($text =~ s/\\\n/ /gr);
		my %conf = map { /^([a-z_]+)=(.*)$/s } map { $words[ $_ + 1 ] } grep { $words[$_] eq '-o' } 0 .. $#words - 1;
		is($conf{wal_level}, 'logical', 'cluster: the block sets wal_level=logical');
		like($conf{output_plugin_libraries} // '', qr/\bcdc_kafka\b/,
			'cluster: the block lists cdc_kafka in output_plugin_libraries');
		like($text, qr/^export PGHOST=\S+ PGPORT=\d+$/m, 'cluster: the block exports PGHOST and PGPORT');
		my $pg = PostgreSQL::Test::Cluster->new('docs' . scalar @pgs);
		$pg->init(allows_streaming => 'logical');	# replication connections allowed
		$pg->append_conf('postgresql.conf', join('', map { "$_ = '$conf{$_}'\n" } sort keys %conf));
		$pg->start;
		push @pgs, $pg;
		return "export PGHOST='" . $pg->host . "' PGPORT=" . $pg->port . "\n";
	},
	'cluster-drop' => sub {
		my ($text) = @_;
		like($text, qr/^pg_dropcluster 15 cdc_lab --stop\b/m, 'cluster-drop: the block drops the lab cluster');
		return ": the test stops its cluster\n";
	},
);

# Lines replaced inside run blocks: [regex, replacement, why].
my @REPLACE = (
	[ qr/^sleep 10$/m, 'doc_wait_rows $LAB/delta/public/orders 5',
		'the writer commits within flush.interval.ms: wait for the 5 rows, not a time' ],
);
# The README's second run, on Apache Kafka ("with your Kafka, set BOOTSTRAP
# to its bootstrap servers instead"): scripts/kafka.sh instead of the mock.
my @REAL_KAFKA = (
	[ qr/^cdc_kafka_mock_broker -d -f \$LAB\/bootstrap .*\nuntil \[ -s \$LAB\/bootstrap \]; .*\nBOOTSTRAP=\$\(cat \$LAB\/bootstrap\)$/m,
		"BOOTSTRAP=\$(bash '$root/scripts/kafka.sh' start \$LAB/kafka | sed -n 's/^bootstrap\\.servers=//p')",
		'Apache Kafka (scripts/kafka.sh) instead of the mock broker' ],
	[ qr/^rm -rf \$LAB$/m, "bash '$root/scripts/kafka.sh' stop \$LAB/kafka\nrm -rf \$LAB",
		'... stopped before the lab is removed' ],
);

# ---------------------------------------------------------------- running

# Runs a document's marked blocks in one bash; returns ok/not per block.
sub run_document
{
	my ($doc, $pass, @replace) = @_;
	my @blocks = marked_blocks($doc);
	ok(scalar @blocks, "$doc has marked blocks");
	ok(scalar(grep { $_->[0] eq 'run' } @blocks) > 0, "$doc has blocks marked to run")
	  if $doc eq 'README.md';
	my $dir = "$scratch/" . ($doc =~ s{\W}{_}gr) . ($pass ? "_$pass" : '');
	$doc .= " ($pass)" if $pass;
	make_path("$dir/tmp");
	my $script = <<'EOS';
set -eo pipefail
# stands in for `sleep 10` while the writer commits: until the table has
# the rows (a hang guard of 120 s, not a timing assumption)
doc_wait_rows()
{
	local n=0 files
	for _ in $(seq 600); do
		# no table, or no commit yet: ls says so and exits 1
		if files=$(cdc_delta_writer ls "$1" 2>/dev/null); then
			n=$(duckdb -csv -noheader -c "SELECT count(*) FROM read_parquet([$(echo "$files" | sed "s/.*/'&'/" | paste -sd,)])")
			[ "$n" -ge "$2" ] && return 0
		fi
		sleep 0.2
	done
	echo "only $n of $2 rows in $1" >&2
	return 1
}
EOS
	my @runs;
	for my $b (@blocks)
	{
		my ($kind, $arg, $text, $line) = @$b;
		my $n = scalar @runs;
		if ($kind eq 'output')
		{
			die "$doc:$line: an output block with no run block before it" unless @runs;
			$runs[-1]{expect} = $text;
			next;
		}
		if ($kind eq 'same-as')
		{
			is($text, CdcKafka::slurp("$root/$arg"), "$doc:$line shows $arg as it is");
			next;
		}
		if ($kind eq 'standin')
		{
			my $s = $STANDIN{$arg} or die "$doc:$line: no stand-in named \"$arg\"";
			$text = $s->($text);
		}
		elsif ($kind eq 'run')
		{
			for my $r (@REPLACE, @replace)
			{
				next unless $text =~ s/$r->[0]/$r->[1]/;
				note("$doc:$line: $r->[2]");
				$r->[3]++;
			}
		}
		else
		{
			die "$doc:$line: unknown marker \"$kind\"";
		}
		my ($first) = $b->[2] =~ /^(\S.*)$/m;
		push @runs, { line => $line, first => $first };
		$script .= "{\n$text\n} >'$dir/$n.out' 2>'$dir/$n.err'\ntouch '$dir/$n.done'\n";
	}
	open(my $fh, '>', "$dir/script.sh") or die;
	print $fh $script;
	close $fh;

	my ($out, $err) = ('', '');
	local $ENV{TMPDIR} = "$dir/tmp";
	# a hang guard, not a timing assumption: Spark's start on a loaded machine
	my $h = IPC::Run::start([ 'setsid', 'bash', "$dir/script.sh" ], '<', \undef,
		'>', \$out, '2>', \$err, IPC::Run::timeout(900));
	eval { $h->finish; 1 } or do { diag("$doc: $@"); $h->kill_kill; };
	my $sid = $h->{KIDS}[0]{PID};	# setsid: the session of everything it ran
	for my $i (0 .. $#runs)
	{
		my $r = $runs[$i];
		my $what = "$doc:$r->{line}: $r->{first}";
		my $done = -e "$dir/$i.done";
		ok($done, "$what: runs") or diag("stderr:\n" . CdcKafka::slurp("$dir/$i.err") . $err,
			map { "--- $_\n" . CdcKafka::slurp($_) } glob("$dir/tmp/*/*.log"));
		last unless $done;
		next unless defined $r->{expect};
		is(CdcKafka::slurp("$dir/$i.out") =~ s/[ \t]+$//mgr, $r->{expect} =~ s/[ \t]+$//mgr,
			"$what: prints what the document shows");
	}
	# what the document started, it also stopped
	my @left = grep { /^\s*(\d+)\s/ && $1 == $sid } split /\n/, `ps -eo sid=,args=`;
	is(scalar @left, 0, "$doc: no process left running") or diag(join("\n", @left));
	kill 'KILL', -$sid if @left;
	return;
}

run_document($_) for 'README.md', 'doc/production.md';
run_document('README.md', 'kafka', @REAL_KAFKA);
is(join(' ', map { $_->[3] // 0 } @REAL_KAFKA), '1 1', 'the Apache Kafka run replaced what it meant to');
$_->stop for @pgs;

done_testing();
