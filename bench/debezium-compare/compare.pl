#!/usr/bin/perl
# compare.pl: Debezium's records against cdc_kafka's, event by event.
#
#   perl compare.pl [--allow FILE] [--tamper] DEBEZIUM.jsonl CDC_KAFKA.jsonl
#
# Both files hold one record per line as kcat -J prints it: {"topic",
# "key", "payload", "headers": [name, value, ...]}, key and payload being
# the bytes a Kafka consumer reads (null for a null key or a tombstone).
# Records are compared per topic, in order: topic, key (schema and
# payload), value (schema and payload), tombstones, headers.  JSON is
# compared token by token as written (number formats, string escapes and
# key order count), not as parsed values.
#
# One line per difference: TOPIC #EVENT PATH: debezium=... ours=...;
# the last line is "debezium-compare: N events compared, M differences".
# Exit 0 when every difference matches the allow-list, 1 otherwise.
# --tamper changes one of our events first, to show that a difference fails.
use strict;
use warnings;

use JSON::PP;

my $allow_file;
my $tamper = 0;
while (@ARGV && $ARGV[0] =~ /^--/)
{
	my $opt = shift @ARGV;
	if ($opt eq '--allow') { $allow_file = shift @ARGV; }
	elsif ($opt eq '--tamper') { $tamper = 1; }
	else { die "compare.pl: unknown option $opt\n"; }
}
die "usage: compare.pl [--allow FILE] [--tamper] DEBEZIUM.jsonl CDC_KAFKA.jsonl\n" unless @ARGV == 2;

# ---------------------------------------------------------------- allow-list
# "PATTERN | REASON" per line: PATTERN a Perl regular expression matched
# against "TOPIC #EVENT PATH" of a difference (the corpus is fixed, so are
# the event numbers); every entry must give its reason.
my @allow;
if ($allow_file)
{
	open(my $fh, '<', $allow_file) or die "compare.pl: $allow_file: $!\n";
	while (my $line = <$fh>)
	{
		chomp $line;
		next if $line =~ /^\s*(#|$)/;
		my ($pat, $reason) = $line =~ /^(.*?)\s+\|\s+(\S.*)$/
		  or die "compare.pl: $allow_file:$.: not \"PATTERN | REASON\"\n";
		push @allow, { re => qr/$pat/, pattern => $pat, reason => $reason, used => 0 };
	}
	close $fh;
}

# ---------------------------------------------------------------- JSON, as written
# A node: {t => 'o', k => [keys], v => [nodes]}, {t => 'a', v => [nodes]}
# or {t => 's'|'n'|'l', raw => text as written}.
sub parse_json
{
	my ($text) = @_;
	my $pos = 0;
	my $node = _parse_value(\$text, \$pos);
	$pos++ while $pos < length($text) && substr($text, $pos, 1) =~ /\s/;
	die "trailing text at $pos\n" if $pos != length($text);
	return $node;
}

sub _ws { my ($s, $p) = @_; $$p++ while $$p < length($$s) && substr($$s, $$p, 1) =~ /\s/; }

sub _parse_value
{
	my ($s, $p) = @_;
	_ws($s, $p);
	my $c = substr($$s, $$p, 1);
	if ($c eq '{')
	{
		my %n = (t => 'o', k => [], v => []);
		$$p++;
		_ws($s, $p);
		if (substr($$s, $$p, 1) eq '}') { $$p++; return \%n; }
		while (1)
		{
			_ws($s, $p);
			my $k = _parse_value($s, $p);
			die "object key is not a string at $$p\n" unless $k->{t} eq 's';
			_ws($s, $p);
			die "expected : at $$p\n" unless substr($$s, $$p++, 1) eq ':';
			push @{ $n{k} }, JSON::PP->new->allow_nonref->decode($k->{raw});
			push @{ $n{v} }, _parse_value($s, $p);
			_ws($s, $p);
			my $d = substr($$s, $$p++, 1);
			return \%n if $d eq '}';
			die "expected , or } at $$p\n" unless $d eq ',';
		}
	}
	if ($c eq '[')
	{
		my %n = (t => 'a', v => []);
		$$p++;
		_ws($s, $p);
		if (substr($$s, $$p, 1) eq ']') { $$p++; return \%n; }
		while (1)
		{
			push @{ $n{v} }, _parse_value($s, $p);
			_ws($s, $p);
			my $d = substr($$s, $$p++, 1);
			return \%n if $d eq ']';
			die "expected , or ] at $$p\n" unless $d eq ',';
		}
	}
	if ($c eq '"')
	{
		pos($$s) = $$p;
		$$s =~ /\G("(?:[^"\\]|\\.)*")/gcs or die "bad string at $$p\n";
		$$p = pos($$s);
		return { t => 's', raw => $1 };
	}
	pos($$s) = $$p;
	$$s =~ /\G(-?[0-9][0-9.eE+-]*|true|false|null)/gc or die "bad token at $$p\n";
	my $tok = $1;
	$$p = pos($$s);
	return { t => ($tok =~ /^[a-z]/ ? 'l' : 'n'), raw => $tok };
}

sub render
{
	my ($n) = @_;
	return 'null' unless defined $n;
	return $n->{raw} if exists $n->{raw};
	return '[' . join(',', map { render($_) } @{ $n->{v} }) . ']' if $n->{t} eq 'a';
	my @parts;
	for my $i (0 .. $#{ $n->{k} })
	{
		push @parts, JSON::PP->new->allow_nonref->encode($n->{k}[$i]) . ':' . render($n->{v}[$i]);
	}
	return '{' . join(',', @parts) . '}';
}

sub member
{
	my ($n, @path) = @_;
	for my $name (@path)
	{
		return undef unless defined $n && $n->{t} eq 'o';
		my ($i) = grep { $n->{k}[$_] eq $name } 0 .. $#{ $n->{k} };
		return undef unless defined $i;
		$n = $n->{v}[$i];
	}
	return $n;
}

sub raw_string
{
	my ($n) = @_;
	return undef unless defined $n && $n->{t} eq 's';
	return JSON::PP->new->allow_nonref->decode($n->{raw});
}

# ---------------------------------------------------------------- records
sub read_records
{
	my ($file) = @_;
	open(my $fh, '<:raw', $file) or die "compare.pl: $file: $!\n";
	my %by_topic;
	my @order;
	my $json = JSON::PP->new->utf8(0);
	while (my $line = <$fh>)
	{
		next unless $line =~ /^\{/;
		my $r = $json->decode($line);
		my $rec = {
			topic => $r->{topic},
			key => defined $r->{key} ? parse_json($r->{key}) : undef,
			value => defined $r->{payload} ? parse_json($r->{payload}) : undef,
			headers => [ @{ $r->{headers} // [] } ],
		};
		push @order, $r->{topic} unless $by_topic{ $r->{topic} };
		push @{ $by_topic{ $r->{topic} } }, $rec;
	}
	close $fh;
	return (\%by_topic, \@order);
}

# ---------------------------------------------------------------- normalisation
# Only what must differ between two producers of the same events.
sub set_raw
{
	my ($n, $raw, @path) = @_;
	my $leaf = pop @path;
	my $o = member($n, @path);
	return unless defined $o && $o->{t} eq 'o';
	for my $i (0 .. $#{ $o->{k} })
	{
		$o->{v}[$i] = { t => 's', raw => $raw } if $o->{k}[$i] eq $leaf;
	}
}

sub normalise
{
	my ($rec) = @_;
	my $v = $rec->{value};

	# Our exactly-once position ("commit LSN:seq:n"): the sidecar reads it
	# back after a crash to skip what Kafka holds; Debezium has no such
	# header, and a consumer reads headers by name.
	my @h;
	for (my $i = 0; $i < @{ $rec->{headers} }; $i += 2)
	{
		push @h, $rec->{headers}[$i], $rec->{headers}[ $i + 1 ]
		  unless $rec->{headers}[$i] eq 'cdc_kafka.pos';
	}
	$rec->{headers} = \@h;
	return unless defined $v;
	my $p = member($v, 'payload') // return;

	# The envelope's ts_ms/ts_us/ts_ns: the wall-clock time each producer
	# handled the event.
	set_raw($v, '"<processing time>"', 'payload', $_) for qw(ts_ms ts_us ts_ns);
	# source.version names the producer and its release.
	set_raw($v, '"<version>"', 'payload', 'source', 'version');
	my $op = raw_string(member($p, 'op')) // '';
	my $txid = member($p, 'source', 'txId');
	# Snapshot reads and messages outside a transaction carry no commit
	# time: each producer stamps them with the time it read them.
	if ($op eq 'r' || ($op eq 'm' && defined $txid && $txid->{raw} eq 'null'))
	{
		set_raw($v, '"<read time>"', 'payload', 'source', $_) for qw(ts_ms ts_us ts_ns);
	}
	# A snapshot read carries its slot's consistent point (lsn, sequence)
	# and the id of the transaction that read it: two slots, two readers.
	if ($op eq 'r')
	{
		for my $f (qw(lsn sequence txId))
		{
			my $n = member($p, 'source', $f);
			set_raw($v, '"<snapshot position>"', 'payload', 'source', $f)
			  if defined $n && $n->{raw} ne 'null';
		}
	}
}

# ---------------------------------------------------------------- comparison
my @diffs;
my $events = 0;

sub short
{
	my ($s) = @_;
	return length($s) > 300 ? substr($s, 0, 300) . "...(" . length($s) . " chars)" : $s;
}

sub diff
{
	my ($topic, $event, $path, $a, $b) = @_;
	push @diffs, { topic => $topic, event => $event, path => $path,
		debezium => short($a), ours => short($b) };
}

# Arrays of schema fields are matched by field name, other arrays by index.
sub field_name
{
	my ($n) = @_;
	return undef unless $n->{t} eq 'o';
	return raw_string(member($n, 'field'));
}

sub compare_nodes
{
	my ($topic, $event, $path, $a, $b) = @_;
	if (!defined $a || !defined $b)
	{
		diff($topic, $event, $path, render($a), render($b)) if defined $a || defined $b;
		return;
	}
	if ($a->{t} ne $b->{t} || exists $a->{raw})
	{
		diff($topic, $event, $path, render($a), render($b)) if render($a) ne render($b);
		return;
	}
	if ($a->{t} eq 'o')
	{
		my %bi = map { $b->{k}[$_] => $_ } 0 .. $#{ $b->{k} };
		my %ai = map { $a->{k}[$_] => $_ } 0 .. $#{ $a->{k} };
		my @common_a = grep { exists $bi{$_} } @{ $a->{k} };
		my @common_b = grep { exists $ai{$_} } @{ $b->{k} };
		for my $k (@{ $a->{k} })
		{
			diff($topic, $event, "$path.$k", render($a->{v}[ $ai{$k} ]), '(absent)') unless exists $bi{$k};
		}
		for my $k (@{ $b->{k} })
		{
			diff($topic, $event, "$path.$k", '(absent)', render($b->{v}[ $bi{$k} ])) unless exists $ai{$k};
		}
		diff($topic, $event, "$path.<key order>", join(',', @common_a), join(',', @common_b))
		  if join("\0", @common_a) ne join("\0", @common_b);
		compare_nodes($topic, $event, "$path.$_", $a->{v}[ $ai{$_} ], $b->{v}[ $bi{$_} ]) for @common_a;
		return;
	}
	# arrays
	my @an = map { field_name($_) } @{ $a->{v} };
	my @bn = map { field_name($_) } @{ $b->{v} };
	if (@an && !grep { !defined } @an, @bn)
	{
		my %bi = map { $bn[$_] => $_ } 0 .. $#bn;
		my %ai = map { $an[$_] => $_ } 0 .. $#an;
		diff($topic, $event, "$path\[$_]", render($a->{v}[ $ai{$_} ]), '(absent)') for grep { !exists $bi{$_} } @an;
		diff($topic, $event, "$path\[$_]", '(absent)', render($b->{v}[ $bi{$_} ])) for grep { !exists $ai{$_} } @bn;
		my @ca = grep { exists $bi{$_} } @an;
		my @cb = grep { exists $ai{$_} } @bn;
		diff($topic, $event, "$path.<field order>", join(',', @ca), join(',', @cb))
		  if join("\0", @ca) ne join("\0", @cb);
		compare_nodes($topic, $event, "$path\[$_]", $a->{v}[ $ai{$_} ], $b->{v}[ $bi{$_} ]) for @ca;
		return;
	}
	if (@{ $a->{v} } != @{ $b->{v} })
	{
		diff($topic, $event, $path, render($a), render($b));
		return;
	}
	compare_nodes($topic, $event, "$path\[$_]", $a->{v}[$_], $b->{v}[$_]) for 0 .. $#{ $a->{v} };
}

# What identifies an event for alignment: op (or tombstone) and key.
sub signature
{
	my ($r) = @_;
	my $op = defined $r->{value} ? (raw_string(member($r->{value}, 'payload', 'op'))
		  // raw_string(member($r->{value}, 'payload', 'status')) // '?') : 'tombstone';
	return $op . ' ' . render(member($r->{key}, 'payload') // $r->{key});
}

# Longest common subsequence of two signature lists: pairs of indexes.
sub align
{
	my ($x, $y) = @_;
	my ($n, $m) = (scalar @$x, scalar @$y);
	my @l = map { [ (0) x ($m + 1) ] } 0 .. $n;
	for (my $i = $n - 1; $i >= 0; $i--)
	{
		for (my $j = $m - 1; $j >= 0; $j--)
		{
			$l[$i][$j] = $x->[$i] eq $y->[$j] ? $l[ $i + 1 ][ $j + 1 ] + 1 :
			  ($l[ $i + 1 ][$j] >= $l[$i][ $j + 1 ] ? $l[ $i + 1 ][$j] : $l[$i][ $j + 1 ]);
		}
	}
	my @pairs;
	my ($i, $j) = (0, 0);
	while ($i < $n || $j < $m)
	{
		if ($i < $n && $j < $m && $x->[$i] eq $y->[$j]) { push @pairs, [ $i++, $j++ ]; }
		elsif ($j >= $m || ($i < $n && $l[ $i + 1 ][$j] >= $l[$i][ $j + 1 ])) { push @pairs, [ $i++, undef ]; }
		else { push @pairs, [ undef, $j++ ]; }
	}
	return @pairs;
}

my ($dbz, $dbz_order) = read_records($ARGV[0]);
my ($ours, $ours_order) = read_records($ARGV[1]);
if ($tamper)
{
	# one of our events names another database
	for my $t (@$ours_order)
	{
		my ($r) = grep { defined $_->{value} && member($_->{value}, 'payload', 'source', 'db') } @{ $ours->{$t} };
		next unless $r;
		set_raw($r->{value}, '"tampered"', 'payload', 'source', 'db');
		last;
	}
}
normalise($_) for map { @$_ } values %$dbz, values %$ours;

my %seen;
for my $topic (grep { !$seen{$_}++ } @$dbz_order, @$ours_order)
{
	my @a = @{ $dbz->{$topic} // [] };
	my @b = @{ $ours->{$topic} // [] };
	my $n = 0;
	for my $pair (align([ map { signature($_) } @a ], [ map { signature($_) } @b ]))
	{
		my ($i, $j) = @$pair;
		$n++;
		$events++;
		my $ev = "#$n";
		if (!defined $j)
		{
			diff($topic, $ev, '(event)', signature($a[$i]), '(absent)');
			next;
		}
		if (!defined $i)
		{
			diff($topic, $ev, '(event)', '(absent)', signature($b[$j]));
			next;
		}
		compare_nodes($topic, $ev, 'key', $a[$i]{key}, $b[$j]{key});
		compare_nodes($topic, $ev, 'value', $a[$i]{value}, $b[$j]{value});
		my $ha = join(' ', map { $_ // 'null' } @{ $a[$i]{headers} });
		my $hb = join(' ', map { $_ // 'null' } @{ $b[$j]{headers} });
		diff($topic, $ev, 'headers', $ha, $hb) if $ha ne $hb;
	}
}

my $unallowed = 0;
for my $d (@diffs)
{
	my ($entry) = grep { "$d->{topic} $d->{event} $d->{path}" =~ $_->{re} } @allow;
	$entry->{used}++ if $entry;
	$unallowed++ unless $entry;
	printf "%s %s %s: debezium=%s ours=%s%s\n", $d->{topic}, $d->{event}, $d->{path},
	  $d->{debezium}, $d->{ours}, $entry ? "  [allowed: $entry->{reason}]" : '';
}
for my $e (grep { !$_->{used} } @allow)
{
	print "debezium-compare: allow-list entry matched nothing: $e->{pattern}\n";
}
printf "debezium-compare: %d events compared, %d differences (%d on the allow-list)\n",
  $events, scalar @diffs, scalar(@diffs) - $unallowed;
exit($unallowed ? 1 : 0);
