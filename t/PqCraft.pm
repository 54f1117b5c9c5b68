# PqCraft: builds small, deliberately malformed Parquet files for the
# checkpoint reader's tests (t/210_writer_checkpoint_start.pl).  Thrift
# compact encoding and page layout written by hand, so that a file can say
# what no Parquet library would write: a repeated footer field, a row
# count of 2^60, a DELTA_BINARY_PACKED block of 2^61 values, a dictionary
# index repeated sixty million times.
#
# Each crafted file is a function returning the file's bytes; see %CASES
# at the end for the list the test walks.
package PqCraft;

use strict;
use warnings;

use IO::Compress::Gzip qw(gzip $GzipError);

# Thrift compact types
use constant { BT => 1, BF => 2, I32 => 5, I64 => 6, BIN => 8, LIST => 9, STRUCT => 12 };

# parquet.thrift Type, Encoding, CompressionCodec, PageType
use constant { T_INT32 => 1, T_INT64 => 2, T_BYTE_ARRAY => 6 };
use constant { E_PLAIN => 0, E_DELTA_BINARY => 5, E_DELTA_BYTES => 7, E_RLE_DICT => 8 };
use constant { C_NONE => 0, C_GZIP => 2 };
use constant { P_DATA => 0, P_DICT => 2 };

sub uv
{
	my ($v) = @_;
	my $o = '';
	while (1)
	{
		my $b = $v & 0x7f;
		$v >>= 7;
		if ($v) { $o .= chr($b | 0x80); }
		else { return $o . chr($b); }
	}
}

# zigzag; Perl's integers are 64-bit, and the values used stay below 2^62
sub zz { my ($v) = @_; return uv($v >= 0 ? 2 * $v : -2 * $v - 1); }

# A struct: a list of [id, type, value]; value is a number, a string, a
# struct (array ref) or, for LIST, [elem_type, [items]].
sub st
{
	my @f = @_;
	my ($o, $last) = ('', 0);
	for my $f (@f)
	{
		my ($id, $t, $v) = @$f;
		my $d = $id - $last;
		$o .= ($d > 0 && $d <= 15) ? chr(($d << 4) | $t) : chr($t) . zz($id);
		$last = $id;
		$o .= val($t, $v);
	}
	return $o . "\0";
}

sub val
{
	my ($t, $v) = @_;
	return zz($v) if $t == I32 || $t == I64;
	return uv(length $v) . $v if $t == BIN;
	return st(@$v) if $t == STRUCT;
	if ($t == LIST)
	{
		my ($et, $items) = @$v;
		my $n = @$items;
		return ($n < 15 ? chr(($n << 4) | $et) : chr(0xf0 | $et) . uv($n))
		  . join('', map { val($et, $_) } @$items);
	}
	die "type $t";
}

# SchemaElement: name, physical type (undef for a group), repetition
# (0 required, 1 optional, 2 repeated), children
sub schema_el
{
	my ($name, $type, $rep, $nch) = @_;
	my @f;
	push @f, [ 1, I32, $type ] if defined $type;
	push @f, [ 3, I32, $rep // 1 ], [ 4, BIN, $name ];
	push @f, [ 5, I32, $nch ] if defined $nch;
	return \@f;
}

sub compress_body
{
	my ($b, $codec) = @_;
	return $b if $codec == C_NONE;
	my $out;
	gzip(\$b => \$out) or die $GzipError;
	return $out;
}

# A DATA_PAGE (v1) or DICTIONARY_PAGE, header and body.
sub page
{
	my (%a) = @_;
	my $body = $a{body};
	my $comp = compress_body($body, $a{codec} // C_NONE);
	my $type = $a{type} // P_DATA;
	my @h = ([ 1, I32, $type ], [ 2, I32, length $body ], [ 3, I32, length $comp ]);
	if ($type == P_DICT)
	{
		push @h, [ 7, STRUCT, [ [ 1, I32, $a{nvalues} ], [ 2, I32, E_PLAIN ] ] ];
	}
	else
	{
		push @h, [ 5, STRUCT, [ [ 1, I32, $a{nvalues} ], [ 2, I32, $a{enc} ], [ 3, I32, 3 ], [ 4, I32, 3 ] ] ];
	}
	return st(@h) . $comp;
}

# v1 definition levels: all n at level 2 (an optional leaf in an optional
# struct), one RLE run with its 4-byte length
sub defs_all
{
	my ($n) = @_;
	my $rle = uv($n << 1) . chr(2);
	return pack('V', length $rle) . $rle;
}

# DELTA_BINARY_PACKED encoding of integers (block 128, 4 miniblocks)
sub delta_binary
{
	my @v = @_;
	my $o = uv(128) . uv(4) . uv(scalar @v) . zz(@v ? $v[0] : 0);
	my @d = map { $v[$_] - $v[ $_ - 1 ] } 1 .. $#v;
	while (@d)
	{
		my @blk = splice(@d, 0, 128);
		my $min = $blk[0];
		$_ < $min and $min = $_ for @blk;
		my @rel = map { $_ - $min } @blk;
		push @rel, 0 while @rel < 128;
		my (@w, @bodies);
		for my $m (0 .. 3)
		{
			my @mv = @rel[ $m * 32 .. $m * 32 + 31 ];
			my $max = 0;
			$_ > $max and $max = $_ for @mv;
			my $bw = 0;
			$bw++ while $bw < 64 && ($max >> $bw) > 0;
			push @w, $bw;
			my $bits = join('', map { scalar reverse(substr(unpack('B64', pack('Q>', $_)), 64 - $bw)) } @mv);
			push @bodies, pack('b*', $bits);
		}
		$o .= zz($min) . join('', map { chr } @w) . join('', @bodies);
	}
	return $o;
}

# The whole file: cols are {path => [names], type, codec, nvalues, pages};
# footer_extra is appended to FileMetaData as raw fields (ids after 4).
sub file
{
	my (%a) = @_;
	my $body = 'PAR1';
	my @chunks;
	for my $c (@{ $a{cols} })
	{
		my $off = length $body;
		$body .= $c->{pages};
		my $md = [ [ 1, I32, $c->{type} ], [ 2, LIST, [ I32, [0] ] ], [ 3, LIST, [ BIN, $c->{path} ] ],
			[ 4, I32, $c->{codec} // C_NONE ], [ 5, I64, $c->{nvalues} ], [ 6, I64, length $c->{pages} ],
			[ 7, I64, $c->{size} // length $c->{pages} ], [ 9, I64, $c->{offset} // $off ] ];
		push @chunks, [ [ 2, I64, $c->{offset} // $off ], [ 3, STRUCT, $md ] ];
	}
	my $rg = [ [ 1, LIST, [ STRUCT, \@chunks ] ], [ 2, I64, 0 ], [ 3, I64, $a{rg_rows} // $a{rows} ] ];
	my @rgs = map { $rg } 1 .. ($a{nrg} // 1);
	my @f = ([ 1, I32, 1 ], [ 2, LIST, [ STRUCT, $a{schema} ] ], [ 3, I64, $a{rows} ],
		[ 4, LIST, [ STRUCT, $a{row_groups} // \@rgs ] ]);
	push @f, @{ $a{footer_extra} } if $a{footer_extra};
	my $foot = st(@f);
	return $body . $foot . pack('V', length $foot) . 'PAR1';
}

# A one-struct schema: top (optional group) with optional leaves.
sub schema_of
{
	my ($top, @leaves) = @_;
	return [ schema_el('root', undef, 0, 1), schema_el($top, undef, 1, scalar @leaves),
		map { schema_el($_->[0], $_->[1]) } @leaves ];
}

# ---------- the cases ----------

# Bug: the footer's row group list given twice (two, then one row group).
sub dup_row_groups
{
	my $n = 3;
	my $vals = join('', map { pack('V', 1) . 'a' } 1 .. $n);
	my $col = { path => [ 'txn', 'appId' ], type => T_BYTE_ARRAY, nvalues => $n,
		pages => page(body => defs_all($n) . $vals, nvalues => $n, enc => E_PLAIN) };
	my $chunk = [ [ 2, I64, 4 ], [ 3, STRUCT, [ [ 1, I32, T_BYTE_ARRAY ], [ 2, LIST, [ I32, [0] ] ],
		[ 3, LIST, [ BIN, [ 'txn', 'appId' ] ] ], [ 4, I32, 0 ], [ 5, I64, $n ],
		[ 6, I64, length $col->{pages} ], [ 7, I64, length $col->{pages} ], [ 9, I64, 4 ] ] ] ];
	my $rg = [ [ 1, LIST, [ STRUCT, [$chunk] ] ], [ 2, I64, 0 ], [ 3, I64, $n ] ];
	return file(schema => schema_of('txn', [ 'appId', T_BYTE_ARRAY ]), cols => [$col], rows => $n,
		row_groups => [ $rg, $rg ], footer_extra => [ [ 4, LIST, [ STRUCT, [$rg] ] ] ]);
}

# Bug: DELTA_BINARY_PACKED with a block of 2^61 values: the miniblock's
# byte count overflowed to 0 and the deltas were read past the page.
sub dbp_huge_block
{
	my $n = 200000;
	my $vals = uv(1 << 61) . uv(1) . uv($n) . zz(0) . zz(0) . chr(8);
	my $col = { path => [ 'txn', 'version' ], type => T_INT64, nvalues => $n,
		pages => page(body => defs_all($n) . $vals, nvalues => $n, enc => E_DELTA_BINARY) };
	return file(schema => schema_of('txn', [ 'version', T_INT64 ]), cols => [$col], rows => $n);
}

# Bug: 2^60 rows and no needed leaf (only "x"): the row loop ran 2^60 times.
sub rows_no_needed_leaf
{
	my $col = { path => ['x'], type => T_INT32, nvalues => 0, pages => 'junk' };
	return file(schema => [ schema_el('root', undef, 0, 1), schema_el('x', T_INT32) ], cols => [$col],
		rows => 1 << 60);
}

# Bug: the same with no column chunk at all (the reviewer's 63-byte file).
sub rows_no_chunks
{
	return file(schema => [ schema_el('root', undef, 0, 1), schema_el('x', T_INT32) ], cols => [],
		rows => 1 << 60);
}

# A negative row count in the footer.
sub negative_rows
{
	return file(schema => [ schema_el('root', undef, 0, 1), schema_el('x', T_INT32) ], cols => [],
		rows => -5, row_groups => []);
}

# Bug: one 1 MB dictionary entry, its index repeated 60 million times
# (gzip: about a kilobyte); every index copied the entry (60 TB).
sub dict_bomb
{
	my ($l, $n) = (1 << 20, 60_000_000);
	my $dict = page(type => P_DICT, body => pack('V', $l) . ('a' x $l), nvalues => 1, codec => C_GZIP);
	my $data = page(body => defs_all($n) . "\0", nvalues => $n, enc => E_RLE_DICT, codec => C_GZIP);
	return file(schema => schema_of('add', [ 'path', T_BYTE_ARRAY ]),
		cols => [ { path => [ 'add', 'path' ], type => T_BYTE_ARRAY, codec => C_GZIP, nvalues => $n,
				pages => $dict . $data } ], rows => $n);
}

# DELTA_BYTE_ARRAY: a 1 MB value, then 4095 values that keep all of the
# previous one (prefix 1 MB, suffix empty): 4 GB from 1 MB.
sub prefix_bomb
{
	my ($l, $n) = (1 << 20, 4096);
	my $body = delta_binary(0, ($l) x ($n - 1)) . delta_binary($l, (0) x ($n - 1)) . ('b' x $l);
	return file(schema => schema_of('add', [ 'path', T_BYTE_ARRAY ]),
		cols => [ { path => [ 'add', 'path' ], type => T_BYTE_ARRAY, codec => C_GZIP, nvalues => $n,
				pages => page(body => defs_all($n) . $body, nvalues => $n, enc => E_DELTA_BYTES,
					codec => C_GZIP) } ], rows => $n);
}

# Bug: 20,000 leaves and 100,000 row groups without columns: a chunk slot
# per leaf per row group was 64 GB.
sub quadratic_row_groups
{
	my ($k, $r) = (20000, 100000);
	my $foot = st([ 1, I32, 1 ],
		[ 2, LIST, [ STRUCT, [ schema_el('root', undef, 0, $k), map { schema_el("x$_", T_INT32) } 1 .. $k ] ] ],
		[ 3, I64, 0 ], [ 4, LIST, [ STRUCT, [ map { [] } 1 .. $r ] ] ]);
	return 'PAR1' . $foot . pack('V', length $foot) . 'PAR1';
}

# The same number of leaves, and row groups listing one chunk each.
sub too_few_chunks
{
	return file(schema => [ schema_el('root', undef, 0, 2), schema_el('x', T_INT32), schema_el('y', T_INT32) ],
		cols => [ { path => ['x'], type => T_INT32, nvalues => 0, pages => 'junk' } ], rows => 1, nrg => 1000);
}

# Bug: a chunk offset near 2^63: offset + size overflowed.
sub chunk_offset_overflow
{
	my $off = 9223372036854775807 - 10;
	return file(schema => schema_of('txn', [ 'appId', T_BYTE_ARRAY ]),
		cols => [ { path => [ 'txn', 'appId' ], type => T_BYTE_ARRAY, nvalues => 1, pages => '', size => 100,
				offset => $off } ], rows => 1);
}

# Bug: protocol.minReaderVersion 2^32 + 1 read as (int) 1.
sub protocol_huge_version
{
	my $col = { path => [ 'protocol', 'minReaderVersion' ], type => T_INT64, nvalues => 1,
		pages => page(body => defs_all(1) . pack('q<', 4294967297), nvalues => 1, enc => E_PLAIN) };
	return file(schema => schema_of('protocol', [ 'minReaderVersion', T_INT64 ]), cols => [$col], rows => 1);
}

# name => [ bytes generator, the error message expected ]
our %CASES = (
	'repeated row group list' => [ \&dup_row_groups, qr/footer repeats its row group list/ ],
	'DELTA_BINARY_PACKED block of 2^61' => [ \&dbp_huge_block, qr/corrupt DELTA_BINARY_PACKED/ ],
	'2^60 rows, no needed leaf' => [ \&rows_no_needed_leaf, qr/checkpoint has no protocol action/ ],
	'2^60 rows, no column chunk' => [ \&rows_no_chunks, qr/0 column chunks for 1 leaf/ ],
	'negative row count' => [ \&negative_rows, qr/negative row count/ ],
	'dictionary bomb' => [ \&dict_bomb, qr/strings in the chunk exceed \d+ bytes/ ],
	'DELTA_BYTE_ARRAY prefix bomb' => [ \&prefix_bomb, qr/strings in the chunk exceed \d+ bytes/ ],
	'20000 leaves x 100000 empty row groups' => [ \&quadratic_row_groups, qr/row group 0 has no column list/ ],
	'fewer chunks than leaves' => [ \&too_few_chunks, qr/row group 0 has 1 column chunks for 2 leaf/ ],
	'chunk offset near 2^63' => [ \&chunk_offset_overflow, qr/bad offset or size/ ],
	'protocol version 2^32+1' => [ \&protocol_huge_version, qr/protocol version out of range/ ],
);

1;
