# Delta writer: column names Delta allows only with column mapping (a space
# or one of ,;{}()\n\t=, names equal but for case, very long names) turn
# column mapping on for their table (mode name: reader 2 / writer 5, an id
# and a "col-<uuid>" physical name per column, physical names in the Parquet
# files and the stats), and only for that table.  A table created without
# mapping is upgraded in the commit of the first such column, its columns
# keeping their names as physical names, so its older files stay readable.
# The writer reads the mapped table back from its log and checkpoint after a
# restart.  A name equal to an earlier column's but for case (Unicode case,
# as Spark compares) is stored as "__case_<h>_<name>", mapping or not:
# Delta's names are unique case-insensitively, and Spark refused the table
# that held both (COLUMN_ALREADY_EXISTS).  plugin -> sidecar -> Apache Kafka -> writer -> DuckDB, rows equal
# to PostgreSQL's.  (Without mapping the schema carried the names as they
# are, which t/js/delta_read.mjs and Spark refuse.)
use strict;
use warnings;

use feature 'fc';
use Digest::SHA qw(sha256_hex);
use Encode qw(encode_utf8);
use JSON::PP;
use Test::More;

use CdcKafka;
use CdcSpark;
use CdcWriter;

# Spark starts slowly: it does so while the test runs
my $spark = CdcSpark->start('spark35');
my $work = $ENV{TESTDIR};
my $root = "$work/delta";
my $wlog = "$work/writer.log";
my $slog = "$work/sidecar.log";
my $r;

my @odd = ('a b', 'x,y', 'p;q', 'c{d}', 'e(f)', "n\nl", "t\tab", 'k=v', 'Mixed', 'mixed', 'plain');
# the columns of "cased", the Unicode ones as UTF-8 bytes (what psql and
# the JSON reader hand over)
# ("ΑΣ" and "ας": Java lower-cases a final capital sigma to "ς")
my @cased = ('Name', 'name', 'NAME', encode_utf8("\x{c4}pfel"), encode_utf8("\x{e4}pfel"),
	encode_utf8("\x{391}\x{3a3}"), encode_utf8("\x{3b1}\x{3c2}"), 'other');
my $node = CdcKafka::start_pg('colmap');
sub ident { my ($n) = @_; $n =~ s/"/""/g; return qq("$n"); }
# the Delta name of a column whose name clashes with an earlier one's
sub case_alias { my ($n) = @_; return '__case_' . substr(sha256_hex($n), 0, 8) . "_$n"; }
$node->safe_psql('postgres', 'CREATE TABLE odd (id int PRIMARY KEY, '
	  . join(', ', map { ident($_) . ' text' } @odd) . ');
	CREATE TABLE grow (id int PRIMARY KEY, v text);
	CREATE TABLE fine (id int PRIMARY KEY, v text);
	CREATE TABLE shared (id int PRIMARY KEY, v text);
	CREATE TABLE cased (id int PRIMARY KEY, '
	  . join(', ', map { ident($_) . ' text' } @cased) . ');');

my $kb = CdcKafka::start_kafka();
my $sc = CdcKafka::start_sidecar(node => $node, bootstrap => $kb->bootstrap, slot => 'cm',
	create => 1, log => $slog, args => [ '-o', 'topic-prefix=lab' ]);
my @wargs = ('-p', '^lab\..*', '-X', 'flush.interval.ms=300', '-X', 'checkpoint.interval=1');
my $w = CdcWriter::start_writer($kb->bootstrap, $root, $wlog, @wargs);
ok(CdcKafka::wait_until(sub { CdcKafka::slurp($slog) =~ /streaming slot "cm"/ }, 60),
	'the sidecar streams the slot')
  or diag(CdcKafka::slurp($slog));

sub insert_odd
{
	my (@ids) = @_;
	$node->safe_psql('postgres', 'INSERT INTO odd VALUES '
		  . join(', ', map { my $id = $_; "($id, " . join(', ', map { $_ eq 'plain' && $id % 2 ? 'NULL' : "'$_ $id'" } @odd) . ')' } @ids));
}
insert_odd(1 .. 3);
$node->safe_psql('postgres', q{UPDATE odd SET "a b" = 'changed', "Mixed" = NULL WHERE id = 2;
	INSERT INTO grow VALUES (1, 'one'), (2, 'two');
	INSERT INTO fine VALUES (1, 'one');
	INSERT INTO shared VALUES (1, 'one');});
$node->safe_psql('postgres', 'INSERT INTO cased SELECT g, ' . join(', ', map { "'$_ ' || g" } @cased)
	  . ' FROM generate_series(1, 3) g; UPDATE cased SET "NAME" = NULL WHERE id = 2');
my $odir = "$root/public/odd";
my $gdir = "$root/public/grow";
my $fdir = "$root/public/fine";
my $sdir = "$root/public/shared";
my $cdir = "$root/public/cased";
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($odir) == 4 && CdcWriter::committed_rows($gdir) == 2
			&& CdcWriter::committed_rows($fdir) == 1 && CdcWriter::committed_rows($sdir) == 1
			&& CdcWriter::committed_rows($cdir) == 4 }, 120),
	'the first changes are committed')
  or diag(CdcKafka::slurp($wlog));

# Another writer of table "shared" turns column mapping on (its columns keep
# their names as physical names) while this writer holds the table: this
# writer's next commit meets that version, takes the mapping from the log
# and commits under it.
{
	my @acts = CdcWriter::log_actions($sdir);
	my ($md) = reverse map { $_->{metaData} || () } @acts;
	my $schema = decode_json($md->{schemaString});
	my $id = 0;
	$_->{metadata} = { 'delta.columnMapping.id' => ++$id, 'delta.columnMapping.physicalName' => $_->{name} }
	  for @{ $schema->{fields} };
	$md->{schemaString} = encode_json($schema);
	$md->{configuration} = { %{ $md->{configuration} }, 'delta.columnMapping.mode' => 'name',
		'delta.columnMapping.maxColumnId' => "$id" };
	my @commits = glob("$sdir/_delta_log/*.json");
	my $next = sprintf('%s/_delta_log/%020d.json', $sdir, scalar @commits);
	open(my $fh, '>', $next) or die;
	print $fh encode_json({ commitInfo => { timestamp => 1700000000000, operation => 'SET TBLPROPERTIES' } }) . "\n"
	  . encode_json({ protocol => { minReaderVersion => 2, minWriterVersion => 5 } }) . "\n"
	  . encode_json({ metaData => $md }) . "\n";
	close $fh;
}

# schema evolution: grow gets a column that needs mapping, and one equal to
# "v" but for case
$node->safe_psql('postgres', q{ALTER TABLE grow ADD COLUMN "new col" text, ADD COLUMN "V" text;
	INSERT INTO grow VALUES (3, 'three', 'new three', 'big three');});
insert_odd(6);
$node->safe_psql('postgres', q{INSERT INTO shared VALUES (2, 'two');});
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($gdir) == 3 && CdcWriter::committed_rows($odir) == 5
			&& CdcWriter::committed_rows($sdir) == 2 }, 120),
	'grow: the row with new columns is committed, odd a second commit')
  or diag(CdcKafka::slurp($wlog));

# a long name can only come from another producer (PostgreSQL stops at 63
# bytes): written straight into Kafka
my $long = 'long_' . ('x' x 295);
my $ltopic = 'lab.public.longname';
CdcWriter::produce($kb->bootstrap, $ltopic, map {
	CdcWriter::event(topic => $ltopic, fields => [ [ id => 'int32', optional => JSON::PP::false ], [ $long => 'string' ] ],
		key => { id => $_ }, after => { id => $_, $long => "value $_" }) } 1 .. 2);
my $ldir = "$root/public/longname";
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($ldir) == 2 }, 120), 'longname: the rows are committed')
  or diag(CdcKafka::slurp($wlog));

# Tables another engine made with column mapping (reader 2 / writer 5, the
# physical name "col-1" for "id"): the writer appends to one through its
# mapping; the other has a CHECK constraint, which the writer does not
# enforce, so that table is paused and the others go on.
my %other;
for my $name ('othereng', 'checked')
{
	my $d = "$root/public/$name";
	$other{$name} = $d;
	mkdir "$root/public";
	mkdir $d;
	mkdir "$d/_delta_log";
	my $schema = encode_json({ type => 'struct', fields => [ { name => 'id', type => 'integer', nullable => JSON::PP::true,
		metadata => { 'delta.columnMapping.id' => 1, 'delta.columnMapping.physicalName' => 'col-1' } } ] });
	my %conf = ('delta.columnMapping.mode' => 'name', 'delta.columnMapping.maxColumnId' => '1');
	$conf{'delta.constraints.positive'} = 'id > 0' if $name eq 'checked';
	open(my $fh, '>', "$d/_delta_log/00000000000000000000.json") or die;
	print $fh encode_json({ commitInfo => { timestamp => 1700000000000, operation => 'CREATE TABLE' } }) . "\n"
	  . encode_json({ protocol => { minReaderVersion => 2, minWriterVersion => 5 } }) . "\n"
	  . encode_json({ metaData => { id => '6f7a0c52-1d3e-4b7a-9c1e-' . ($name eq 'checked' ? '000000000001' : '000000000002'),
			format => { provider => 'parquet', options => {} }, schemaString => $schema,
			partitionColumns => [], configuration => \%conf, createdTime => 1700000000000 } }) . "\n";
	close $fh;
	CdcWriter::produce($kb->bootstrap, "lab.public.$name",
		CdcWriter::event(topic => "lab.public.$name", fields => [ [ id => 'int32', optional => JSON::PP::false ] ],
			key => { id => 7 }, after => { id => 7 }));
}
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($other{othereng}) == 1 }, 120),
	'othereng: the writer appends to another engine\'s mapped table')
  or diag(CdcKafka::slurp($wlog));
ok(CdcWriter::wait_for(sub { CdcKafka::slurp($wlog) =~ /public\/checked.*CHECK constraint \(delta\.constraints\.positive\).*paused/ }, 60),
	'checked: a table with a CHECK constraint is paused, the constraint named')
  or diag(CdcKafka::slurp($wlog));
ok(!-e "$other{checked}/_delta_log/00000000000000000001.json", 'checked: nothing was committed to it');
is(CdcWriter::stop_writer($w), 0, 'the writer exits 0 on SIGTERM');
$r = CdcWriter::delta_read($other{othereng}, 'SELECT id, __op FROM t');
is_deeply($r->{errors}, [], 'othereng: the log replays cleanly and DuckDB reads it through the mapping');
is_deeply($r->{results}[0], [ { id => 7, __op => 'c' } ], 'othereng: the row reads back');
is($r->{schema}[0]{physicalName}, 'col-1', 'othereng: "id" keeps the other engine\'s physical name');

# a restart reads the mapped tables from their logs (and checkpoints) and
# goes on with the same physical names
ok((grep { -e $_ } glob("$odir/_delta_log/*.checkpoint.parquet")) > 0, 'odd has a checkpoint');
my %before = map { $_ => CdcWriter::delta_read($_) } $odir, $gdir;
$w = CdcWriter::start_writer($kb->bootstrap, $root, $wlog, @wargs);
insert_odd(4, 5);
$node->safe_psql('postgres', q{INSERT INTO grow VALUES (4, 'four', 'new four', NULL); DELETE FROM odd WHERE id = 1;});
ok(CdcKafka::wait_slot_caught_up($node, 'cm', 90), 'the sidecar confirmed everything');
ok(CdcWriter::wait_for(sub { CdcWriter::committed_rows($odir) == 8 && CdcWriter::committed_rows($gdir) == 4 }, 120),
	'after a restart the writer commits to the mapped tables')
  or diag(CdcKafka::slurp($wlog));
is(CdcWriter::stop_writer($w), 0, 'the writer exits 0 again');
is(CdcKafka::stop_sidecar($sc), 0, 'the sidecar exits 0');

# The current state (latest change per key) read by DuckDB through the
# mapping equals PostgreSQL's table, column by column.
sub current_state
{
	my ($dir, $table, @cols) = @_;
	my $r = CdcWriter::delta_read($dir, "SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() OVER (PARTITION BY id "
		  . 'ORDER BY __source_lsn DESC, __kafka_offset DESC) AS rn FROM t) WHERE rn = 1 AND __op <> \'d\' ORDER BY id');
	my $pg = decode_json($node->safe_psql('postgres',
			"SELECT coalesce(json_agg(json_build_array("
			  . join(', ', map { my $c = $_; $c =~ s/"/""/g; qq(x."$c") } @cols)
			  . ") ORDER BY id), '[]') FROM $table x"));
	my @delta = map { my $row = $_; [ map { $row->{$_} } delta_names(@cols) ] } @{ $r->{results}[0] };
	$_ = [ map { defined $_ ? "$_" : undef } @$_ ] for @delta, @$pg;
	return ($r, \@delta, $pg);
}

# The Delta names (as JSON reads them) of source columns @cols (UTF-8), in
# table order: a name that clashes with an earlier one but for case takes
# its alias.
sub delta_names
{
	my (@cols) = @_;
	my %seen;
	return map { Encode::decode_utf8($seen{ fc Encode::decode_utf8($_) }++ ? case_alias($_) : $_) } @cols;
}

sub mapping_ok
{
	my ($r, $what) = @_;
	is_deeply($r->{errors}, [], "$what: the log replays cleanly and DuckDB reads it through the mapping");
	is_deeply([ $r->{protocol}{minReaderVersion}, $r->{protocol}{minWriterVersion} ], [ 2, 5 ],
		"$what: protocol reader 2, writer 5");
	is($r->{configuration}{'delta.columnMapping.mode'}, 'name', "$what: delta.columnMapping.mode=name");
	my @ids = sort { $a <=> $b } map { $_->{id} } @{ $r->{schema} };
	is_deeply(\@ids, [ 1 .. scalar @ids ], "$what: one id per column");
	is($r->{configuration}{'delta.columnMapping.maxColumnId'}, scalar @ids, "$what: maxColumnId is the highest id");
}

my ($delta, $pg);
($r, $delta, $pg) = current_state($odir, 'odd', 'id', @odd);
mapping_ok($r, 'odd');
is_deeply($delta, $pg, 'odd: the current state equals PostgreSQL\'s');
is(scalar @$pg, 5, 'odd: five rows in PostgreSQL');
is_deeply([ map { $_->{name} } grep { $_->{name} !~ /^__(?!case_)/ } @{ $r->{schema} } ], [ 'id', delta_names(@odd) ],
	'odd: the logical names are the source names, "mixed" as "' . case_alias('mixed') . '"');
# the UUID of the name (version 8 over SHA-256): two writers adding one
# column at once name it alike
sub physical_name
{
	my @h = split //, substr(sha256_hex(encode_utf8($_[0])), 0, 32);
	$h[12] = '8';
	$h[16] = sprintf('%x', (hex($h[16]) & 3) | 8);
	my $u = join '', @h;
	return 'col-' . join('-', map { substr($u, $_->[0], $_->[1]) } [ 0, 8 ], [ 8, 4 ], [ 12, 4 ], [ 16, 4 ], [ 20, 12 ]);
}
is_deeply([ grep { $_->{physicalName} ne physical_name($_->{name}) } @{ $r->{schema} } ], [],
	'odd (mapped from its first commit): every physical name is col-<uuid of its name>');

# the Parquet files hold the physical names (and the ids as field_id); the
# stats are keyed by them
my $pq = CdcWriter::delta_read($odir, "SELECT DISTINCT name, field_id FROM parquet_schema({files}) WHERE name <> 'spark_schema' ORDER BY name");
my %phys = map { $_->{physicalName} => $_->{id} } @{ $r->{schema} };
is_deeply({ map { $_->{name} => $_->{field_id} } @{ $pq->{results}[0] } }, \%phys,
	'odd: Parquet column names are the physical names, field_id the mapping ids');
my @adds = grep { $_->{add} } CdcWriter::log_actions($odir);
ok(@adds && !(grep { my $st = decode_json($_->{add}{stats}); grep { !exists $phys{$_} } keys %{ $st->{nullCount} } } @adds),
	'odd: add stats are keyed by physical name');

($r, $delta, $pg) = current_state($gdir, 'grow', 'id', 'v', 'new col', 'V');
mapping_ok($r, 'grow');
is_deeply($delta, $pg, 'grow: the current state equals PostgreSQL\'s (rows from before the upgrade included)');
my %gp = map { $_->{name} => $_->{physicalName} } @{ $r->{schema} };
is($gp{id}, 'id', 'grow: a column from before the upgrade keeps its name as physical name');
is($gp{__kafka_offset}, '__kafka_offset', 'grow: so do the change-log columns');
like($gp{'new col'}, qr/^col-/, 'grow: the new column "new col" has a col-<uuid> physical name');
like($gp{ case_alias('V') }, qr/^col-/, 'grow: "V", equal to "v" but for case, is "' . case_alias('V') . '", with a col-<uuid> physical name');
my @gproto = map { $_->{protocol} } grep { $_->{protocol} } CdcWriter::log_actions($gdir);
is_deeply([ map { "$_->{minReaderVersion},$_->{minWriterVersion}" } @gproto ], [ '1,2', '2,5' ],
	'grow: created on reader 1 / writer 2, upgraded to reader 2 / writer 5 once');
for my $d ($odir, $gdir)
{
	my $after = CdcWriter::delta_read($d);
	my @b = map { "$_->{name}=$_->{physicalName}" } @{ $before{$d}{schema} };
	my @a = map { "$_->{name}=$_->{physicalName}" } @{ $after->{schema} };
	ok($after->{version} > $before{$d}{version} && @b && "@b" eq "@a[0 .. $#b]",
		"$d: commits after the restart kept every physical name");
}

$r = CdcWriter::delta_read($ldir, 'SELECT id, "' . $long . '" AS v FROM t ORDER BY id');
mapping_ok($r, 'longname');
is_deeply($r->{results}[0], [ { id => 1, v => 'value 1' }, { id => 2, v => 'value 2' } ], 'longname: the values read back');

($r, $delta, $pg) = current_state($sdir, 'shared', 'id', 'v');
mapping_ok($r, 'shared');
is_deeply($delta, $pg, 'shared: the current state equals PostgreSQL\'s');
like(CdcKafka::slurp($wlog), qr/public\/shared: column mapping turned on by another writer/,
	'shared: the writer took the mapping another writer turned on');
ok(!(grep { $_->{physicalName} ne $_->{name} } @{ $r->{schema} }), 'shared: with the physical names that writer gave');

# a table that needs no mapping stays on reader 1 / writer 2 with plain names
$r = CdcWriter::delta_read($fdir, 'SELECT id, v FROM t');
is_deeply($r->{errors}, [], 'fine: the log replays cleanly');
is_deeply([ $r->{protocol}{minReaderVersion}, $r->{protocol}{minWriterVersion} ], [ 1, 2 ],
	'fine: a table that needs no mapping stays on reader 1, writer 2');
ok(!exists $r->{configuration}{'delta.columnMapping.mode'}, 'fine: and has no mapping mode');

# names equal but for case need no mapping: each later one is stored under
# its alias, and the table stays on reader 1 / writer 2
($r, $delta, $pg) = current_state($cdir, 'cased', 'id', @cased);
is_deeply($r->{errors}, [], 'cased: the log replays cleanly');
is_deeply($delta, $pg, 'cased: the current state equals PostgreSQL\'s');
is(scalar @$pg, 3, 'cased: three rows in PostgreSQL');
is_deeply([ map { $_->{name} } grep { $_->{name} !~ /^__(?!case_)/ } @{ $r->{schema} } ],
	[ map { Encode::decode_utf8($_) } 'id', 'Name', case_alias('name'), case_alias('NAME'), $cased[3], case_alias($cased[4]),
		$cased[5], case_alias($cased[6]), 'other' ],
	'cased: "name", "NAME", "äpfel" and "ας" take their aliases, the first of each keeps its name');
is_deeply([ $r->{protocol}{minReaderVersion}, $r->{protocol}{minWriterVersion} ], [ 1, 2 ],
	'cased: no column mapping (reader 1, writer 2)');
like(CdcKafka::slurp($wlog), qr/public\/cased: column "NAME" is stored as "__case_[0-9a-f]{8}_NAME"/,
	'cased: the writer says under which name it stores a column');

# Spark reads every table as DuckDB does: the mapped ones through their
# mapping, those with names equal but for case under the aliases
$spark->agrees_with_duckdb($odir, 'mapped from the first commit, names equal but for case');
$spark->agrees_with_duckdb($gdir, 'mapping turned on by schema evolution');
$spark->agrees_with_duckdb($cdir, 'names equal but for case, no mapping');
$spark->agrees_with_duckdb($ldir, 'a name over 255 bytes');
$spark->agrees_with_duckdb($sdir, 'mapping turned on by another writer');
$spark->agrees_with_duckdb($fdir, 'no mapping needed');
$spark->stop;

$kb->stop;
done_testing();
