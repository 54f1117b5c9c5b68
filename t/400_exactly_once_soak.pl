# Exactly once under a random schedule of faults (issue 11): the whole
# pipeline, PostgreSQL -> cdc_kafka_sidecar -> Kafka -> cdc_delta_writer ->
# Delta, under a load of single-row and multi-row transactions (inserts,
# updates, deletes) and one large transaction, while a schedule drawn from a
# seeded random generator injects faults: kill -9 and SIGTERM of the
# sidecar and of the writer, PostgreSQL restarts (-m fast, -m immediate),
# and per broker kind:
#   Apache Kafka (scripts/kafka.sh): broker stop/start, kill -9 of the
#     broker, and a TCP proxy in front of its listener (t/tcp_proxy.pl; the
#     broker advertises the proxy's port, so every connection goes through
#     it) that drops every connection or stalls them;
#   the mock broker: broker down/up, injected retriable Produce errors (some
#     answered late), fatal ones, and Metadata errors.
# A supervisor loop restarts any daemon that exits, as systemd would.
#
# After each schedule, from PostgreSQL's own record of what committed (a
# log table written in the same transactions): every committed change is in
# Kafka exactly once and in commit order per key, and in Delta exactly once.
#
#   CDC_SOAK_SEED=N          replay a schedule (the seed is printed)
#   CDC_SOAK_SCHEDULES=N     schedules (default 2: Apache Kafka, then the mock;
#                            odd ones on Apache Kafka, even ones on the mock)
#   CDC_SOAK_BROKER=kafka|mock   every schedule on that broker
#   CDC_SOAK_SECONDS=N       seconds of load and faults per schedule (default 20)
#   CDC_SOAK_BIG_ROWS=N      rows of the large transaction (default 100000;
#                            a tenth on the mock, which keeps ~5 MB a partition)
use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time usleep);
use IO::Socket::INET;
use CdcKafka;
use CdcSpark;
use CdcWriter;

my $seed = $ENV{CDC_SOAK_SEED} // (int(time * 1000) ^ $$) % 1_000_000_007;
my $schedules = $ENV{CDC_SOAK_SCHEDULES} // 2;
my $seconds = $ENV{CDC_SOAK_SECONDS} // 20;
my $big_rows = $ENV{CDC_SOAK_BIG_ROWS} // 100000;
srand($seed);
diag("soak: seed $seed (CDC_SOAK_SEED=$seed replays it), $schedules schedule(s) of $seconds s");

my $work = $ENV{TESTDIR};
my $node = CdcKafka::start_pg('soak');
$node->safe_psql('postgres', q{
	CREATE SEQUENCE soak_chg;
	-- One change per loop turn; the log row is written in the same
	-- transaction: (chg, key, op, the row's v as its event carries it).
	CREATE PROCEDURE soak_load(tbl text, lg text, seconds float8, seed float8)
	LANGUAGE plpgsql AS $$
	DECLARE
		deadline timestamptz := clock_timestamp() + seconds * interval '1 second';
		k int;
		n int;
		cur bigint;
		nv bigint;
	BEGIN
		PERFORM setseed(seed);
		WHILE clock_timestamp() < deadline LOOP
			n := CASE WHEN random() < 0.7 THEN 1 ELSE 2 + floor(random() * 9)::int END;
			FOR j IN 1 .. n LOOP
				k := 1 + floor(random() * 2000)::int;
				cur := NULL;
				EXECUTE format('SELECT v FROM %I WHERE id = $1 FOR UPDATE', tbl) INTO cur USING k;
				nv := nextval('soak_chg');
				IF cur IS NULL THEN
					EXECUTE format('INSERT INTO %I VALUES ($1, $2, $3)', tbl) USING k, nv, repeat('x', 10);
					EXECUTE format('INSERT INTO %I VALUES ($1, $2, ''c'', $3)', lg) USING nv, k, nv;
				ELSIF random() < 0.3 THEN
					EXECUTE format('DELETE FROM %I WHERE id = $1', tbl) USING k;
					EXECUTE format('INSERT INTO %I VALUES ($1, $2, ''d'', $3)', lg) USING nv, k, cur;
				ELSE
					EXECUTE format('UPDATE %I SET v = $2 WHERE id = $1', tbl) USING k, nv;
					EXECUTE format('INSERT INTO %I VALUES ($1, $2, ''u'', $3)', lg) USING nv, k, nv;
				END IF;
			END LOOP;
			COMMIT;
			PERFORM pg_sleep(0.002);
		END LOOP;
	END
	$$;
});

# ---------------------------------------------------------------- Apache Kafka behind the proxy

sub free_port
{
	my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1) or die "socket: $!";
	my $p = $s->sockport;
	close $s;
	return $p;
}

my ($kb, $kb_bootstrap, $proxy, $proxy_in, $proxy_out) = (undef, undef, undef, '', '');
sub proxy_command
{
	my ($line) = @_;
	$proxy_in .= "$line\n";
	my $deadline = time + 30;
	while ($proxy_out !~ /\n/)
	{
		die "tcp_proxy: no answer to $line" if time > $deadline || !$proxy->pumpable;
		$proxy->pump_nb;
		usleep(10_000);
	}
	$proxy_out =~ s/^([^\n]*)\n//;
	die "tcp_proxy: $line: $1" unless $1 =~ /^(ok|ready)/;
	return $1;
}

# Apache Kafka advertises the proxy's port, so every client connection
# after the first metadata answer goes through the proxy; the proxy learns
# the broker's own port once the broker has chosen it.
sub start_real_kafka
{
	my $port = free_port();
	my $target = "$work/proxy_target";
	$proxy = IPC::Run::start([ 'perl', "$CdcKafka::ROOT/t/tcp_proxy.pl", $port, "\@$target" ],
		'<', \$proxy_in, '>', \$proxy_out, '2>>', "$work/proxy.log");
	proxy_command('');		# "ready"
	$kb = CdcKafka::start_kafka(config => "advertised.listeners=PLAINTEXT://127.0.0.1:$port");
	my ($inner) = $kb->bootstrap =~ /:(\d+)$/;
	open(my $fh, '>', $target) or die "$target: $!";
	print $fh "$inner\n";
	close $fh;
	return "127.0.0.1:$port";
}

# ---------------------------------------------------------------- checks

# Kafka's messages of a topic, per partition in offset order: [partition,
# key id, op, v] with v the row version the event carries; tombstones left out.
sub kafka_changes
{
	my ($bootstrap, $topic) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'kcat', '-C', '-b', $bootstrap, '-t', $topic, '-e', '-q', '-o', 'beginning',
			'-f', "%p\t%o\t%s\n" ], '<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(300))
	  or die "kcat -C $topic: $err";
	my @msgs;
	for my $line (split /\n/, $out)
	{
		my ($p, $o, $v) = split /\t/, $line, 3;
		next unless defined $v && length $v;	# tombstone
		my ($op) = $v =~ /"op":"(\w)"/;
		my $row = $op eq 'd' ? 'before' : 'after';
		my ($id, $ver) = $v =~ /"$row":\{"id":(\d+),"v":(\d+)/
		  or die "unexpected event: $v";
		push @msgs, [ $p, $o, $id, $op, $ver ];
	}
	@msgs = sort { $a->[0] <=> $b->[0] || $a->[1] <=> $b->[1] } @msgs;
	return @msgs;
}

# Compares one copy with the expected changes; returns (lost, duplicated,
# out of order) and reports the first few of each.
sub compare
{
	my ($what, $expected, $got, $check_order) = @_;
	my (%rank, %count);
	for my $i (0 .. $#$expected)
	{
		$rank{ $expected->[$i] } = $i;
	}
	$count{$_}++ for @$got;
	my @lost = grep { !$count{$_} } @$expected;
	my @dup = grep { $count{$_} > 1 } sort keys %count;
	my @foreign = grep { !exists $rank{$_} } sort keys %count;
	my $dups = 0;
	$dups += $count{$_} - 1 for @dup;
	my $disorder = 0;
	if ($check_order)
	{
		my %last;
		for my $c (@$got)
		{
			next unless exists $rank{$c};
			my ($id) = split /:/, $c;
			$disorder++ if defined $last{$id} && $rank{$c} < $last{$id};
			$last{$id} = $rank{$c};
		}
	}
	diag("$what: lost @lost[0 .. ($#lost < 9 ? $#lost : 9)]") if @lost;
	diag("$what: duplicated @dup[0 .. ($#dup < 9 ? $#dup : 9)]") if @dup;
	diag("$what: not committed in PostgreSQL: @foreign[0 .. ($#foreign < 9 ? $#foreign : 9)]") if @foreign;
	return (scalar(@lost) + scalar(@foreign), $dups, $disorder);
}

# ---------------------------------------------------------------- one schedule

my ($total_faults, $total_changes, $total_lost, $total_dup, $total_disorder) = (0, 0, 0, 0, 0);

my $spark = CdcSpark->start('spark35');
for my $s (1 .. $schedules)
{
	my $real = ($ENV{CDC_SOAK_BROKER} // '') eq 'kafka' ? 1
	  : ($ENV{CDC_SOAK_BROKER} // '') eq 'mock' ? 0 : $s % 2 == 1;
	my ($tbl, $lg, $prefix) = ("items_$s", "log_$s", "soak$s");
	my $topic = "$prefix.public.$tbl";
	my $tdir = "$work/delta$s/public/$tbl";
	my ($slog, $wlog) = ("$work/sidecar$s.log", "$work/writer$s.log");
	my $big = $real ? $big_rows : int($big_rows / 10);
	$node->safe_psql('postgres', qq{
		CREATE TABLE $tbl (id int PRIMARY KEY, v bigint NOT NULL, pad text);
		ALTER TABLE $tbl REPLICA IDENTITY FULL;
		CREATE TABLE $lg (chg bigint PRIMARY KEY, id int NOT NULL, op char(1) NOT NULL, v bigint NOT NULL);
	});

	my $mb;
	if ($real)
	{
		$kb_bootstrap //= start_real_kafka();
		$kb->create_topic("$topic:3");
	}
	else
	{
		# 8 partitions: the mock keeps about 5 MB of each
		$mb = CdcKafka::start_mock_broker(topics => [ "$topic:8" ]);
	}
	my $bootstrap = $real ? $kb_bootstrap : $mb->bootstrap;

	# the schedule: a fault every 1-4 s, from the seeded generator
	my @kinds = qw(sidecar_kill9 sidecar_term writer_kill9 writer_term pg_fast pg_immediate broker_down);
	push @kinds, $real ? qw(broker_kill9 proxy_drop proxy_stall proxy_drop proxy_stall)
	  : qw(produce_retriable produce_late produce_fatal metadata_error produce_retriable);
	my @faults;
	for (my $t = 1 + rand(2); $t < $seconds - 1; $t += 1 + rand(3))
	{
		push @faults, [ $t, $kinds[ int(rand(@kinds)) ], rand() ];
	}
	my $big_at = rand($seconds / 2);
	my $load_seed = rand();
	note(sprintf("schedule %d (%s): large transaction at %.1f s; faults: %s", $s,
		$real ? 'Apache Kafka' : 'mock broker', $big_at,
		join(', ', map { sprintf('%.1f %s', $_->[0], $_->[1]) } @faults)));

	my @sargs = ('-o', "topic-prefix=$prefix", '-o', 'schemas=false', '-o', "include-tables=public\\.$tbl",
		'-X', 'shutdown.timeout.ms=5000', '-X', 'status.interval.s=1');
	my ($sc, $w, $load, $bigtx);
	my $start_sidecar = sub {
		$sc = CdcKafka::start_sidecar(node => $node, bootstrap => $bootstrap, slot => $prefix,
			create => 1, log => $slog, args => \@sargs);
	};
	my $start_writer = sub {
		$w = CdcWriter::start_writer($bootstrap, "$work/delta$s", $wlog, '-t', $topic,
			'-X', 'assignment=static', '-X', 'flush.interval.ms=500');
	};
	my $load_until = time + $seconds;
	my $start_load = sub {
		my $left = $load_until - time;
		return if $left <= 0.5;
		my ($o, $e) = ('', '');
		$load = IPC::Run::start([ 'psql', '-X', '-q', '-d', $node->connstr('postgres'),
				'-c', "CALL soak_load('$tbl', '$lg', $left, " . ($load_seed = rand()) . ')' ],
			'<', \undef, '>', \$o, '2>', \$e);
	};
	my $big_done = 0;
	my $start_big = sub {
		my ($o, $e) = ('', '');
		$bigtx = IPC::Run::start([ 'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-c', qq{
			WITH ins AS (INSERT INTO $tbl SELECT g, nextval('soak_chg'), 'big'
				FROM generate_series(1000001, @{[ 1000000 + $big ]}) g RETURNING id, v)
			INSERT INTO $lg SELECT v, id, 'c', v FROM ins} ], '<', \undef, '>', \$o, '2>', \$e);
	};

	$start_sidecar->();
	ok(CdcKafka::wait_until(sub { CdcKafka::slurp($slog) =~ /streaming slot/ }, 120),
		"schedule $s: the sidecar streams") or diag(CdcKafka::slurp($slog));
	$start_writer->();
	my $t0 = time;
	$load_until = $t0 + $seconds;
	$start_load->();

	# The supervisor: faults when due, their repair later, and a restart of
	# whatever exited, as systemd's Restart=always.
	my @repairs;
	my ($restarts, $nfaults, $broker_is_down, $kstart) = (0, 0, 0, undef);
	my $supervise = sub {
		my $now = time - $t0;
		while (@faults && $faults[0][0] <= $now)
		{
			my ($at, $kind, $r) = @{ shift @faults };
			$nfaults++;
			note(sprintf('%.1f s: %s', $now, $kind));
			if ($kind eq 'sidecar_kill9') { $sc->signal('KILL'); }
			elsif ($kind eq 'sidecar_term') { $sc->signal('TERM'); }
			elsif ($kind eq 'writer_kill9') { $w->signal('KILL'); }
			elsif ($kind eq 'writer_term') { $w->signal('TERM'); }
			elsif ($kind =~ /^pg_(fast|immediate)$/) { $node->restart(mode => $1); }
			elsif ($kind =~ /^broker_/ && $broker_is_down)
			{
				note('  (the broker is down already: nothing more to do)');
			}
			elsif ($kind =~ /^broker_(down|kill9)$/ && $real)
			{
				# as systemd stops it: SIGTERM (a clean shutdown) or SIGKILL,
				# then started again once gone
				my @pids = $kb->pids(1);
				kill $1 eq 'down' ? 'TERM' : 'KILL', @pids;
				$broker_is_down = 1;
				push @repairs, [ $now + 0.5 + 3 * $r, sub {
					my $gone = time + 60;
					usleep(50_000) while time < $gone && grep { kill 0, $_ } @pids;
					# started in the background: a JVM start takes seconds
					my ($o, $e) = ('', '');
					$kstart = IPC::Run::start([ 'bash', "$CdcKafka::ROOT/scripts/kafka.sh", 'start',
							$kb->{dir} ], '<', \undef, '>', \$o, '2>', \$e);
				} ];
			}
			elsif ($kind eq 'broker_down')
			{
				$mb->down(1);
				$broker_is_down = 1;
				push @repairs, [ $now + 0.5 + 3 * $r, sub { $mb->up(1); $broker_is_down = 0; } ];
			}
			elsif ($kind eq 'proxy_drop') { proxy_command('drop'); }
			elsif ($kind eq 'proxy_stall') { proxy_command('stall ' . int(500 + 4000 * $r)); }
			elsif ($kind eq 'produce_retriable')
			{
				my @e = qw(NOT_LEADER_FOR_PARTITION REQUEST_TIMED_OUT UNKNOWN_TOPIC_OR_PART NOT_ENOUGH_REPLICAS);
				$mb->error('Produce', $e[ int($r * @e) ], 1 + int(20 * $r));
			}
			elsif ($kind eq 'produce_late')
			{
				$mb->error('Produce', $r < 0.5 ? 'NOT_LEADER_FOR_PARTITION' : 'REQUEST_TIMED_OUT',
					1 + int(3 * $r), 100 + int(900 * $r));
			}
			elsif ($kind eq 'produce_fatal')
			{
				$mb->error('Produce', $r < 0.5 ? 'TOPIC_AUTHORIZATION_FAILED' : 'INVALID_RECORD', 1);
			}
			elsif ($kind eq 'metadata_error')
			{
				$mb->error('Metadata', 'LEADER_NOT_AVAILABLE', 1 + int(10 * $r));
			}
		}
		@repairs = sort { $a->[0] <=> $b->[0] } @repairs;
		while (@repairs && $repairs[0][0] <= time - $t0)
		{
			(shift @repairs)->[1]->();
		}
		if ($kstart && !CdcKafka::running($kstart))
		{
			eval { $kstart->finish; };
			undef $kstart;
			$broker_is_down = 0;
		}
		if (!CdcKafka::running($sc)) { eval { $sc->finish; }; $restarts++; $start_sidecar->(); }
		if (!CdcKafka::running($w)) { eval { $w->finish; }; $restarts++; $start_writer->(); }
		if ($load && !CdcKafka::running($load)) { eval { $load->finish; }; undef $load; $start_load->(); }
		if (!$bigtx && !$big_done && time - $t0 >= $big_at) { $start_big->(); }
		if ($bigtx && !CdcKafka::running($bigtx))
		{
			eval { $bigtx->finish; };
			$big_done = $bigtx->result(0) == 0;
			undef $bigtx;
			# rolled back by a restart: once more, as the application would
			$start_big->() unless $big_done;
		}
	};
	# (a fault made late by a slow one, a broker start, still happens)
	while (time - $t0 < $seconds || $load || $bigtx || @repairs || @faults || $kstart)
	{
		$supervise->();
		usleep(100_000);
	}

	# Everything up again: the sidecar and the writer catch up.
	my $end_lsn = $node->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');
	my $caught = CdcKafka::wait_until(sub {
		$supervise->();
		$node->safe_psql('postgres',
			"SELECT coalesce(confirmed_flush_lsn >= '$end_lsn', false) FROM pg_replication_slots WHERE slot_name = '$prefix'") eq 't';
	}, 300);
	ok($caught, "schedule $s: the sidecar confirmed everything") or diag(CdcKafka::slurp($slog));
	# as many rows as Kafka holds events (which the checks below compare
	# with what committed)
	my @msgs = kafka_changes($bootstrap, $topic);
	my $written = CdcWriter::wait_for(sub { $supervise->(); CdcWriter::committed_rows($tdir) >= @msgs }, 300);
	ok($written, "schedule $s: the writer committed as many rows as Kafka holds events (" . scalar(@msgs) . ')')
	  or diag(CdcKafka::slurp($wlog));
	sleep 2;		# a duplicate would come now
	$supervise->();
	is(CdcWriter::stop_writer($w), 0, "schedule $s: writer SIGTERM exits 0");
	is(CdcKafka::stop_sidecar($sc), 0, "schedule $s: sidecar SIGTERM exits 0");
	ok($big_done, "schedule $s: the large transaction ($big rows) committed");

	# The record of what committed, in commit order (one writer session at
	# a time per key: chg order is commit order per key).
	my @expected = split /\n/, $node->safe_psql('postgres',
		"SELECT id || ':' || op || ':' || v FROM $lg ORDER BY chg");
	my %first;
	$first{ $_->[0] } //= $_->[1] for @msgs;
	is(join(',', grep { $first{$_} != 0 } sort keys %first), '',
		"schedule $s: the broker kept every message (no partition starts past offset 0)");
	my @kafka = map { "$_->[2]:$_->[3]:$_->[4]" } @msgs;
	my ($kl, $kd, $ko) = compare("schedule $s Kafka", \@expected, \@kafka, 1);
	# one string: JSON::PP decodes it much faster than 100k row objects
	my $r = CdcWriter::delta_read($tdir,
		q{SELECT string_agg(id || ':' || __op || ':' || v, ' ') AS c FROM t});
	is_deeply($r->{errors}, [], "schedule $s: the Delta log replays cleanly");
	my @delta = split / /, $r->{results}[0][0]{c} // '';
	my ($dl, $dd) = compare("schedule $s Delta", \@expected, \@delta, 0);
	# Spark, through Delta's own log reader, reads the same rows
	my $a = $spark->sql($tdir, q{SELECT concat_ws(' ', sort_array(collect_list(concat_ws(':', id, __op, v)))) AS c FROM t});
	is($a->{error}, undef, "schedule $s: Spark reads the table");
	ok(($a->{rows}[0]{c} // '') eq join(' ', sort @delta), "schedule $s: Spark reads the rows DuckDB reads ("
		  . scalar(@delta) . ')');
	is($kl, 0, "schedule $s: no committed change lost in Kafka");
	is($kd, 0, "schedule $s: none duplicated in Kafka");
	is($ko, 0, "schedule $s: in commit order per key in Kafka");
	is($dl, 0, "schedule $s: none lost in Delta");
	is($dd, 0, "schedule $s: none duplicated in Delta");
	note(sprintf('schedule %d: %d changes, %d faults, %d daemon restarts', $s, scalar @expected,
		$nfaults, $restarts));
	$total_faults += $nfaults;
	$total_changes += @expected;
	$total_lost += $kl + $dl;
	$total_dup += $kd + $dd;
	$total_disorder += $ko;
	$mb->stop if $mb;
}

diag("soak: $schedules schedules, $total_faults faults, $total_changes changes checked, "
	  . "$total_lost lost, $total_dup duplicated, $total_disorder out of order (seed $seed)");
if ($kb)
{
	proxy_command('quit');
	$proxy->finish;
	$kb->stop;
}
$node->stop;
done_testing();
