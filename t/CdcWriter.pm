# CdcWriter.pm: helpers for the Delta writer's TAP tests (t/2NN_*.pl).
#
#   my $ev = CdcWriter::event(topic => 'p.s.t', fields => [[id => 'int32'], ...],
#                             op => 'c', after => {...}, schemas => 1);
#   CdcWriter::produce($bootstrap, $topic, [$key, $value], ...);  # undef value = tombstone
#   my $w = CdcWriter::start_writer($bootstrap, $root, '-t', $topic, ...);
#   CdcWriter::wait_rows($root_table_dir, $n);  CdcWriter::stop_writer($w);
#   my $r = CdcWriter::delta_read($table_dir, 'SELECT ...', ...);  # t/js/delta_read.mjs
#   my @ev = CdcWriter::plugin_events($node, $slot);   # [topic, key, value] from the plugin
#
# Events are Debezium 2.x JSON (JsonConverter, schemas on or off) built
# here from a column list; the broker is the project's mock broker
# (CdcKafka.pm), the producer kcat, the reader DuckDB.
package CdcWriter;

use strict;
use warnings;

use Carp;
use IPC::Run;
use JSON::PP;
use JSON::XS ();

use CdcKafka;

my $JSON = JSON::PP->new->utf8->canonical;

# Kafka Connect field schema for one column: [name => type, %extra], where
# type is a Connect type, or a Debezium logical name with its Connect type:
#   [amount => 'decimal', scale => 2, precision => 10]
#   [ts => 'io.debezium.time.MicroTimestamp']
my %logical = (
	'io.debezium.time.Date' => 'int32',
	'io.debezium.time.Time' => 'int32',
	'io.debezium.time.MicroTime' => 'int64',
	'io.debezium.time.Timestamp' => 'int64',
	'io.debezium.time.MicroTimestamp' => 'int64',
	'io.debezium.time.NanoTimestamp' => 'int64',
	'io.debezium.time.ZonedTimestamp' => 'string',
	'io.debezium.time.ZonedTime' => 'string',
	'io.debezium.time.MicroDuration' => 'int64',
	'io.debezium.time.Interval' => 'string',
	'io.debezium.data.Json' => 'string',
	'io.debezium.data.Uuid' => 'string',
	'io.debezium.data.Enum' => 'string',
	'io.debezium.data.Xml' => 'string',
	'io.debezium.data.Bits' => 'bytes',
);

sub field_schema
{
	my ($f) = @_;
	my ($name, $type, %x) = @$f;
	my %s = (optional => $x{optional} // JSON::PP::true, field => $name);
	if ($type eq 'decimal')
	{
		$s{type} = 'bytes';
		$s{name} = 'org.apache.kafka.connect.data.Decimal';
		$s{version} = 1;
		$s{parameters} = { scale => "$x{scale}" };
		$s{parameters}{'connect.decimal.precision'} = "$x{precision}" if defined $x{precision};
	}
	elsif ($type eq 'vardecimal')
	{
		$s{type} = 'struct';
		$s{name} = 'io.debezium.data.VariableScaleDecimal';
		$s{version} = 1;
		$s{fields} = [ { type => 'int32', optional => JSON::PP::false, field => 'scale' },
			{ type => 'bytes', optional => JSON::PP::false, field => 'value' } ];
	}
	elsif ($type eq 'array')
	{
		$s{type} = 'array';
		$s{items} = { type => $x{items} // 'int32', optional => JSON::PP::true };
	}
	elsif ($logical{$type})
	{
		$s{type} = $logical{$type};
		$s{name} = $type;
		$s{version} = 1;
	}
	else
	{
		$s{type} = $type;
	}
	return \%s;
}

# The value schema block of an envelope, as Debezium orders it.
sub envelope_schema
{
	my ($topic, $fields) = @_;
	my $row = { type => 'struct', fields => [ map { field_schema($_) } @$fields ],
		optional => JSON::PP::true, name => "$topic.Value" };
	my $source = { type => 'struct', optional => JSON::PP::false,
		name => 'io.debezium.connector.postgresql.Source', field => 'source',
		fields => [
			{ type => 'string', optional => JSON::PP::false, field => 'version' },
			{ type => 'string', optional => JSON::PP::false, field => 'connector' },
			{ type => 'string', optional => JSON::PP::false, field => 'name' },
			{ type => 'int64', optional => JSON::PP::false, field => 'ts_ms' },
			{ type => 'string', optional => JSON::PP::false, field => 'db' },
			{ type => 'string', optional => JSON::PP::false, field => 'schema' },
			{ type => 'string', optional => JSON::PP::false, field => 'table' },
			{ type => 'int64', optional => JSON::PP::true, field => 'txId' },
			{ type => 'int64', optional => JSON::PP::true, field => 'lsn' },
		] };
	return { type => 'struct', optional => JSON::PP::false, name => "$topic.Envelope",
		version => 1, fields => [ { %$row, field => 'before' }, { %$row, field => 'after' },
			$source, { type => 'string', optional => JSON::PP::false, field => 'op' },
			{ type => 'int64', optional => JSON::PP::true, field => 'ts_ms' } ] };
}

# [key, value] of one change event.
#   topic, fields (for the schema), op, before, after, key (hashref),
#   schemas (default 1), lsn, txid, ts_ms, payload_first
sub event
{
	my (%a) = @_;
	my ($prefix, $schema, $table) = split /\./, $a{topic};
	my $payload = {
		before => $a{before},
		after => $a{after},
		source => { version => '2.3.4.Final', connector => 'postgresql', name => $prefix,
			ts_ms => $a{ts_ms} // 1700000000000, db => 'postgres', schema => $schema,
			table => $table, txId => $a{txid} // 750, lsn => $a{lsn} // 33976960 },
		op => $a{op} // 'c',
		ts_ms => 1700000000500,
	};
	my $schemas = $a{schemas} // 1;
	my ($key, $value);
	if ($schemas)
	{
		my $ks = $a{key_fields} // [ [ id => 'int32', optional => JSON::PP::false ] ];
		$key = $JSON->encode({ schema => { type => 'struct', optional => JSON::PP::false,
					name => "$a{topic}.Key", fields => [ map { field_schema($_) } @$ks ] },
				payload => $a{key} }) if $a{key};
		my $sch = $JSON->encode(envelope_schema($a{topic}, $a{fields}));
		# payload_first: same event, the other member order (json-c reads it)
		$value = $a{payload_first}
		  ? '{"payload":' . $JSON->encode($payload) . ',"schema":' . $sch . '}'
		  : '{"schema":' . $sch . ',"payload":' . $JSON->encode($payload) . '}';
	}
	else
	{
		$key = $JSON->encode($a{key}) if $a{key};
		$value = $JSON->encode($payload);
	}
	return [ $key, $value ];
}

# Produces [key, value] pairs (undef value: a tombstone) with kcat, keyed
# placement as the Java client's.
sub produce
{
	my ($bootstrap, $topic, @pairs) = @_;
	my $in = '';
	for my $p (@pairs)
	{
		my ($k, $v) = @$p;
		# text strings go out as UTF-8, byte strings as they are
		for ($k, $v) { utf8::encode($_) if defined && utf8::is_utf8($_); }
		croak "a message may not contain the delimiter" if grep { defined && /[\x1e\n]/ } ($k, $v);
		$in .= ($k // '') . "\x1e" . ($v // '') . "\n";
	}
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'kcat', '-P', '-b', $bootstrap, '-t', $topic, '-K', "\x1e", '-Z',
			'-X', 'partitioner=murmur2_random' ],
		'<', \$in, '>', \$out, '2>', \$err, IPC::Run::timeout(120))
	  or croak "kcat -P $topic failed: $err";
	return;
}

sub writer_program { return CdcKafka::program('writer/cdc_delta_writer'); }

# Starts the writer with the mock broker's consumer-group timings; output
# goes to $log (appended).
sub start_writer
{
	my ($bootstrap, $root, $log, @args) = @_;
	my @cmd = (writer_program(), '-b', $bootstrap, '-r', $root,
		'-X', 'kafka.session.timeout.ms=6000', '-X', 'kafka.heartbeat.interval.ms=1000',
		'-X', 'kafka.topic.metadata.refresh.interval.ms=1000', @args);
	my $h = IPC::Run::start(\@cmd, '<', \undef, '>>', $log, '2>>', $log);
	return $h;
}

# SIGTERM and wait; returns the exit code.
sub stop_writer
{
	my ($h) = @_;
	$h->signal('TERM');
	eval { $h->finish; 1 } or do { $h->kill_kill; return -1; };
	return $h->result(0);
}

# Every action of a table's JSON commits, in version order.
sub log_actions
{
	my ($dir) = @_;
	my @actions;
	for my $f (sort glob("$dir/_delta_log/*.json"))
	{
		open(my $fh, '<', $f) or next;
		while (my $line = <$fh>)
		{
			my $a = eval { $JSON->decode($line) } or next;
			push @actions, $a;
		}
	}
	return @actions;
}

# The version checksums (_delta_log/<version>.crc) against the log:
# replays the JSON commits from version 0 and, for each version, checks
# that its .crc exists and that numFiles, tableSizeBytes, metadata,
# protocol and (when present) setTransactions equal the replayed state.
# Returns the number of versions and a list of problems, one line each.
sub checksum_problems
{
	my ($dir) = @_;
	my (%live, %txn, $meta, $protocol, @problems);
	my @commits = sort glob("$dir/_delta_log/" . ('[0-9]' x 20) . '.json');
	for my $i (0 .. $#commits)
	{
		my ($v) = $commits[$i] =~ m{/(\d{20})\.json$};
		return (0, ["commit $i is missing: replay from version 0 impossible"]) if $v != $i;
		open(my $fh, '<', $commits[$i]) or croak "$commits[$i]: $!";
		while (my $line = <$fh>)
		{
			my $a = eval { $JSON->decode($line) } or next;
			$live{ $a->{add}{path} } = $a->{add}{size} if $a->{add};
			delete $live{ $a->{remove}{path} } if $a->{remove};
			$txn{ $a->{txn}{appId} } = $a->{txn} if $a->{txn};
			$meta = $a->{metaData} if $a->{metaData};
			$protocol = $a->{protocol} if $a->{protocol};
		}
		close $fh;
		(my $crc_file = $commits[$i]) =~ s/\.json$/.crc/;
		open(my $ch, '<', $crc_file) or do { push @problems, "version $i: no .crc"; next; };
		my $crc = eval { local $/; $JSON->decode(scalar <$ch>) };
		close $ch;
		if (!$crc) { push @problems, "version $i: .crc is not JSON"; next; }
		my $bytes = 0;
		$bytes += $_ for values %live;
		my %want = (numFiles => scalar(keys %live), tableSizeBytes => $bytes, numMetadata => 1, numProtocol => 1);
		for my $k (sort keys %want)
		{
			push @problems, "version $i: $k " . ($crc->{$k} // 'missing') . ", the log says $want{$k}"
			  if ($crc->{$k} // -1) != $want{$k};
		}
		for ([ metadata => $meta ], [ protocol => $protocol ])
		{
			my ($k, $log) = @$_;
			my ($got, $exp) = map { defined $_ ? $JSON->encode($_) : 'none' } $crc->{$k}, $log;
			push @problems, "version $i: $k $got, the log says $exp" if $got ne $exp;
		}
		if ($crc->{setTransactions})
		{
			my ($got, $exp) = map { join(',', sort map { $JSON->encode($_) } @$_) }
			  $crc->{setTransactions}, [ values %txn ];
			push @problems, "version $i: setTransactions $got, the log says $exp" if $got ne $exp;
		}
	}
	return (scalar @commits, \@problems);
}

# Rows committed to a table (sum of numRecords over live adds), from the
# log alone (cheap enough to poll).
sub committed_rows
{
	my ($dir) = @_;
	my %live;
	for my $a (log_actions($dir))
	{
		if ($a->{add})
		{
			my $st = JSON::PP->new->decode($a->{add}{stats});
			$live{ $a->{add}{path} } = $st->{numRecords};
		}
		delete $live{ $a->{remove}{path} } if $a->{remove};
	}
	my $n = 0;
	$n += $_ for values %live;
	return $n;
}

# Latest txn version per appId, from the log.
sub txn_versions
{
	my ($dir) = @_;
	my %v;
	for my $a (log_actions($dir))
	{
		$v{ $a->{txn}{appId} } = $a->{txn}{version} if $a->{txn};
	}
	return \%v;
}

# Waits until cond->() is true (polling), at most $timeout seconds.
sub wait_for
{
	my ($cond, $timeout) = @_;
	return CdcKafka::wait_until($cond, $timeout // 90);
}

# The plugin's events on slot $slot (format=json) as [topic, key, value],
# key and value exactly as the plugin wrote them (undef: JSON null).
sub plugin_events
{
	my ($node, $slot, @opts) = @_;
	my $opts = join('', map { ", '$_'" } @opts);
	my @ev;
	for (split /\n/, $node->safe_psql('postgres',
		"SELECT data FROM pg_logical_slot_get_changes('$slot', NULL, NULL$opts)"))
	{
		/^\{"topic":("(?:[^"\\]|\\.)*"),"key":/ or croak "not a plugin event: " . substr($_, 0, 100);
		my $topic = JSON::PP->new->allow_nonref->decode($1);
		my $rest = substr($_, $+[0]);
		my $i = index($rest, ',"value":');
		my ($k, $v) = (substr($rest, 0, $i), substr($rest, $i + 9, -1));
		push @ev, [ $topic, $k eq 'null' ? undef : $k, $v eq 'null' ? undef : $v ];
	}
	return @ev;
}

# Runs t/js/delta_read.mjs; returns its decoded output.
sub delta_read
{
	my ($dir, @sql) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'node', "$CdcKafka::ROOT/t/js/delta_read.mjs", $dir, @sql ],
		'<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(300))
	  or croak "delta_read.mjs failed: $err";
	return JSON::XS->new->utf8->decode($out);	# large answers: JSON::PP is slow
}

1;
