# CdcSpark.pm: Spark with Delta Lake as a reader of the writer's tables, for
# the TAP tests.  One JVM per peer serves every test file of a run
# (scripts/spark-sql.sh --serve): t/run_tests.sh names a directory,
# CDC_SPARK_SHARED, where the first test that needs a peer starts it and
# the run stops it at its end; each test file talks to it over its own
# connection, a Spark session of its own.  Without CDC_SPARK_SHARED (a test
# run by prove alone) the file starts a JVM for itself
# (scripts/spark-sql.sh --batch).
#
#   my $spark = CdcSpark->start('spark35');   # starts the JVM early (it is slow)
#   my $a = $spark->sql($dir, 'SELECT ...');  # {rows => [...], columns => [...]} or {error => ...}
#   $spark->agrees_with_duckdb($dir, 'label');   # the assertions below
#   $spark->checksums_valid($dir, 'label');      # the .crc files, by us and by Delta
#   $spark->stop;
#
# Spark reads the table through Delta's own log reader, DuckDB through
# t/js/delta_read.mjs (our replay of the log); agrees_with_duckdb asserts
# that both see the same rows, value for value, and that DESCRIBE HISTORY and
# DESCRIBE DETAIL describe the log as it is.
package CdcSpark;

use strict;
use warnings;

use Carp;
use Fcntl qw(:flock);
use IO::Socket::INET;
use IPC::Run;
use JSON::PP;
use JSON::XS ();
use MIME::Base64;
use POSIX qw(setsid);
use Test::More;

use CdcKafka;
use CdcWriter;

my $JSON = JSON::PP->new->utf8->canonical;
my $JSON_ANSWER = JSON::XS->new->utf8;	# whole tables: JSON::PP is slow
my $ANSWER_S = 600;

# Spark's peer must have been fetched (scripts/deps.sh does it).
sub start
{
	my ($class, $peer) = @_;
	my $self = bless { peer => $peer }, $class;
	if (my $shared = $ENV{CDC_SPARK_SHARED})
	{
		$self->{portfile} = "$shared/$peer.port";
		$self->{log} = "$shared/$peer.log";
		$self->serve_start($shared);
		return $self;
	}
	my ($in, $out, $err) = ('', '', '');
	local $ENV{SPARK_PEER} = $peer;
	# each answer within $ANSWER_S seconds (the timer restarts with each
	# request): generous, a JVM on a loaded 2-core machine can crawl
	$self->{timer} = IPC::Run::timeout($ANSWER_S);
	$self->{h} = IPC::Run::start([ "$CdcKafka::ROOT/scripts/spark-sql.sh", '--batch' ],
		'<', \$in, '>', \$out, '2>', \$err, $self->{timer});
	@$self{qw(in out err)} = (\$in, \$out, \$err);
	return $self;
}

# Starts the peer's shared JVM unless it runs (a port file and a live
# process); it outlives this test file.  The lock keeps two files from
# starting it twice.
sub serve_start
{
	my ($self, $shared) = @_;
	my $peer = $self->{peer};
	open(my $lock, '>', "$shared/$peer.lock") or croak "$shared/$peer.lock: $!";
	flock($lock, LOCK_EX) or croak "flock: $!";
	my $pid = CdcKafka::slurp("$shared/$peer.pid");
	chomp $pid;
	return if $pid ne '' && kill(0, $pid);
	unlink $self->{portfile};
	$pid = fork() // croak "fork: $!";
	if ($pid == 0)
	{
		setsid();
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>>', $self->{log});
		open(STDERR, '>&', \*STDOUT);
		$ENV{SPARK_PEER} = $peer;
		$ENV{SPARK_MEM} //= '1536m';	# a whole run's tables, one at a time
		exec("$CdcKafka::ROOT/scripts/spark-sql.sh", '--serve', $self->{portfile});
		POSIX::_exit(127);
	}
	open(my $fh, '>', "$shared/$peer.pid") or croak "$shared/$peer.pid: $!";
	print $fh "$pid\n";
	close $fh;
	return;
}

sub peer { return $_[0]{peer}; }

sub log_tail
{
	my ($file) = @_;
	my $l = CdcKafka::slurp($file);
	return substr($l, length($l) > 2000 ? -2000 : 0);
}

# The connection to the shared JVM, once it listens.
sub connection
{
	my ($self) = @_;
	return $self->{sock} if $self->{sock};
	my $port;
	my $until = time + $ANSWER_S;
	until (($port = CdcKafka::slurp($self->{portfile})) =~ /^\d+\n/)
	{
		croak "$self->{peer}: the shared Spark JVM did not listen within $ANSWER_S s; its log ends with: "
		  . log_tail($self->{log}) if time > $until;
		select(undef, undef, undef, 0.2);
	}
	chomp $port;
	$self->{sock} = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp')
	  or croak "$self->{peer}: cannot reach the shared Spark JVM at 127.0.0.1:$port: $!";
	return $self->{sock};
}

# One statement; with $dir, "t" is the table's newest snapshot.  Before
# the first, the session takes this test's S3 environment (AWS_*) for
# s3a:// tables: a shared JVM has the environment of the test that
# started it.
sub sql
{
	my ($self, $dir, $sql) = @_;
	unless ($self->{env_given}++)
	{
		my %aws = map { $_ => $ENV{$_} } grep { /^AWS_/ } keys %ENV;
		my $a = %aws ? $self->request({ env => \%aws }, 'the S3 environment') : {};
		croak "$self->{peer}: the S3 environment: $a->{error}" if $a->{error};
	}
	return $self->request({ table => $dir, sql => $sql }, $sql);
}

sub request
{
	my ($self, $r, $what) = @_;
	my $req = $JSON->encode($r) . "\n";
	return $self->sql_shared($req, $what) if $self->{portfile};
	${ $self->{in} } .= $req;
	my $out = $self->{out};
	$self->{timer}->start($ANSWER_S);
	my $err = $self->{err};
	eval { $self->{h}->pump until $$out =~ /\n/; 1 }
	  or croak "$self->{peer}: no answer to \"$what\" ($@); its stderr ends with: "
	  . substr($$err, length($$err) > 2000 ? -2000 : 0);
	$$out =~ s/^([^\n]*)\n//;
	return $JSON_ANSWER->decode($1);
}

sub sql_shared
{
	my ($self, $req, $sql) = @_;
	my $sock = $self->connection;
	my $line;
	eval {
		local $SIG{ALRM} = sub { die "timed out after $ANSWER_S s\n" };
		alarm $ANSWER_S;
		print $sock $req or die "send: $!\n";
		$line = <$sock>;
		alarm 0;
		defined $line or die "connection closed\n";
		1;
	} or do {
		alarm 0;
		my $e = $@;
		croak "$self->{peer}: no answer to \"$sql\" ($e); the shared JVM's log ends with: "
		  . log_tail($self->{log});
	};
	return $JSON_ANSWER->decode($line);
}

sub stop
{
	my ($self) = @_;
	close(delete $self->{sock}) if $self->{sock};
	return unless $self->{h};
	$self->{timer}->start(120);
	eval { $self->{h}->finish; 1 } or $self->{h}->kill_kill;
	delete $self->{h};
	return;
}

sub DESTROY { $_[0]->stop; }

# A value as text both readers agree on, by DuckDB's column type: DuckDB's
# JSON gives big integers as strings, timestamps as "2018-06-20 13:13:16.5+00"
# and blobs as "\x00A"; our Spark program gives numbers, ISO instants
# ("2018-06-20T13:13:16.500Z") and base64.
sub canonical
{
	my ($type, $v, $engine) = @_;
	return 'NULL' unless defined $v;
	if ($type =~ /^TIMESTAMP/)
	{
		$v =~ s/^(\+?)(\d+-\d\d-\d\d)[ T]/$2T/;
		$v =~ s/(?:Z|\+00(?::00)?)$//;
		$v =~ s/(\.\d*?)0+$/$1/;
		$v =~ s/\.$//;
		return $v;
	}
	if ($type eq 'BLOB')
	{
		my $bytes = $engine eq 'spark' ? decode_base64($v)
		  : do { (my $b = $v) =~ s/\\x([0-9A-Fa-f]{2})/chr(hex $1)/ge; $b };
		return unpack('H*', $bytes);
	}
	if ($type eq 'FLOAT' || $type eq 'DOUBLE')
	{
		return $v if $v =~ /[a-z]/i && $v !~ /e/i;	# NaN, Infinity
		# FLOAT: both print the float's shortest form, which may differ
		# once widened; 7 significant digits say the same float
		return $type eq 'FLOAT' ? sprintf('%.7g', $v) : sprintf('%.17g', $v);
	}
	return "$v";
}

# Spark and DuckDB read the same table: same columns, same rows (ordered by
# topic, partition, offset), and Spark's DESCRIBE HISTORY / DETAIL match the
# log.  Spark reads $table (a directory, or an s3a:// URL); DuckDB and the
# log checks read $copy, a local copy of it (the table itself by default).
# Returns the DuckDB read (delta_read.mjs output) for more checks.
sub agrees_with_duckdb
{
	my ($self, $table, $label, $copy) = @_;
	my $dir = $copy // $table;
	$label = "$self->{peer}: $label";
	my $order = 'ORDER BY __kafka_topic, __kafka_partition, __kafka_offset';
	my $duck = CdcWriter::delta_read($dir, "SELECT * FROM t $order");
	my $sp = $self->sql($table, "SELECT * FROM t $order");
	is($sp->{error}, undef, "$label: Spark reads the table through Delta's log");
	my @names = map { $_->{name} } @{ $duck->{columns} };
	is_deeply([ map { $_->[0] } @{ $sp->{columns} // [] } ], \@names,
		"$label: Spark's columns are DuckDB's");
	my %type = map { $_->{name} => $_->{type} } @{ $duck->{columns} };
	my $rows = sub {
		my ($engine, $rs) = @_;
		return [ map { my $r = $_; join("\x1f", map { canonical($type{$_}, $r->{$_}, $engine) } @names) } @$rs ];
	};
	my ($s, $d) = ($rows->('spark', $sp->{rows} // []), $rows->('duckdb', $duck->{results}[0]));
	is(scalar @$s, scalar @$d, "$label: Spark reads as many rows as DuckDB (" . scalar(@$d) . ')');
	my $last = $#$s > $#$d ? $#$s : $#$d;
	my @diff = grep { ($s->[$_] // '(none)') ne ($d->[$_] // '(none)') } 0 .. $last;
	is_deeply([ map { { spark => $s->[$_], duckdb => $d->[$_] } } @diff[ 0 .. ($#diff < 2 ? $#diff : 2) ] ],
		[], "$label: every value as DuckDB reads it");

	my @actions = CdcWriter::log_actions($dir);
	my @ops = map { $_->{commitInfo}{operation} } grep { $_->{commitInfo} } @actions;
	my ($protocol) = reverse grep { $_ } map { $_->{protocol} } @actions;
	$protocol //= { minReaderVersion => 1, minWriterVersion => 2 };
	my $h = $self->sql(undef, "DESCRIBE HISTORY delta.`$table`");
	is($h->{error}, undef, "$label: DESCRIBE HISTORY");
	my @hist = sort { $a->{version} <=> $b->{version} } @{ $h->{rows} // [] };
	# a log cleaned up by a checkpoint keeps only the newer commits
	is_deeply([ map { $_->{operation} } @hist[ -@ops .. -1 ] ], \@ops,
		"$label: DESCRIBE HISTORY lists each commit's operation");
	is($hist[-1]{version}, $duck->{version}, "$label: DESCRIBE HISTORY ends at the table's version");
	my $det = $self->sql(undef, "DESCRIBE DETAIL delta.`$table`");
	is($det->{error}, undef, "$label: DESCRIBE DETAIL");
	my $dt = $det->{rows}[0] // {};
	is_deeply([ @$dt{qw(format numFiles minReaderVersion minWriterVersion)} ],
		[ 'delta', $duck->{files}, @$protocol{qw(minReaderVersion minWriterVersion)} ], "$label: DESCRIBE DETAIL: format, live files, protocol");
	return $duck;
}

# Delta's own check of the version checksums: with
# incremental.commit.verify on, a transaction validates the .crc of the
# version it starts from against Delta's replay of the log (numFiles,
# tableSizeBytes, metadata, protocol, setTransactions), and with
# checksum.mismatch.fatal a mismatch fails it.  The transaction is a DELETE
# that matches nothing, so it commits nothing.  Returns Spark's error, or
# undef when the checksum (if any) is valid.
sub checksum_error
{
	my ($self, $dir) = @_;
	my @conf = map { "spark.databricks.delta.$_" } qw(incremental.commit.verify checksum.mismatch.fatal);
	$self->sql(undef, "SET $_ = true") for @conf;
	my $r = $self->sql(undef, "DELETE FROM delta.`$dir` WHERE false");
	$self->sql(undef, "RESET $_") for @conf;
	return $r->{error};
}

# Every version of the table has its .crc, equal to the state the log
# gives (CdcWriter::checksum_problems), and Delta validates the newest.
sub checksums_valid
{
	my ($self, $dir, $label) = @_;
	$label = "$self->{peer}: $label";
	my ($n, $problems) = CdcWriter::checksum_problems($dir);
	cmp_ok($n, '>', 0, "$label: the log has $n versions");
	is_deeply($problems, [], "$label: each version has a .crc equal to the log's state");
	is($self->checksum_error($dir), undef, "$label: Delta finds the newest .crc valid");
	return;
}

# The seed table's current state as Spark computes it from the change log
# (latest row per id, deletes dropped), as "id|first|last|email" lines, the
# form the seed tests take from PostgreSQL.
sub seed_current_state
{
	my ($self, $dir) = @_;
	my $a = $self->sql($dir, q{SELECT concat_ws('|', id, first_name, last_name, email) AS r
		FROM (SELECT *, row_number() OVER (PARTITION BY id ORDER BY __kafka_offset DESC) AS rn FROM t) latest
		WHERE rn = 1 AND __op <> 'd' ORDER BY id});
	croak "$self->{peer}: $a->{error}" if $a->{error};
	return join("\n", map { $_->{r} } @{ $a->{rows} });
}

1;
