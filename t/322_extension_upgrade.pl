# The extension's versioning, as doc/production.md ("Upgrades") describes it:
#   - every version ever shipped keeps its script (cdc_kafka--1.0.sql is the
#     first), make install installs them all with the update scripts, and
#     default_version is reachable from each by ALTER EXTENSION ... UPDATE;
#   - a database created at 1.0 and updated ends with exactly the objects
#     (functions and their definitions, the view, comments, grants) of a
#     fresh CREATE EXTENSION at the default version;
#   - cdc_kafka.so still exports every C function any version's script
#     names, so a new library never breaks an older version's SQL objects;
#   - decoding needs the library, not the extension: a slot streams in a
#     database where CREATE EXTENSION was never run (so the library can be
#     upgraded before the extension's SQL).
use strict;
use warnings;

use File::Basename qw(basename);
use IPC::Run;
use Test::More;

use CdcKafka;

my $root = $CdcKafka::ROOT;
my ($default) = CdcKafka::slurp("$root/cdc_kafka.control") =~ /^default_version = '([^']+)'$/m;
ok($default, "cdc_kafka.control names a default_version ($default)");

my @scripts = map { basename($_) } glob("$root/cdc_kafka--*.sql");
my %full = map { /^cdc_kafka--([^-]+)\.sql$/ ? ($1 => 1) : () } @scripts;
my %update = map { /^cdc_kafka--([^-]+)--([^-]+)\.sql$/ ? ("$1>$2" => 1) : () } @scripts;
ok($full{'1.0'}, 'cdc_kafka--1.0.sql, the first version, is kept');
ok($full{$default} || grep({ /^[^>]+>\Q$default\E$/ } keys %update),
	"the default version $default has a script");

# make install installs every script (DATA lists them all)
my ($out, $err) = ('', '');
IPC::Run::run([ 'make', '-s', '--no-print-directory', '-C', $root, '-n', 'install' ],
	'<', \undef, '>', \$out, '2>', \$err);
is(join(' ', grep { $out !~ /\Q$_\E/ } @scripts), '', 'make install installs every cdc_kafka--*.sql');

# every C symbol of every script is in the library
my %symbols;
for my $s (@scripts)
{
	my $sql = CdcKafka::slurp("$root/$s");
	$symbols{$1} = $s while $sql =~ /'MODULE_PATHNAME',\s*'(\w+)'/g;
}
IPC::Run::run([ 'nm', '-D', '--defined-only', "$root/cdc_kafka.so" ], '<', \undef, '>', \$out, '2>', \$err)
  or die "nm: $err";
my %exported = map { (split ' ')[2] => 1 } grep { / T / } split /\n/, $out;
ok(scalar keys %symbols, 'the scripts name C functions (' . join(', ', sort keys %symbols) . ')');
is(join(' ', grep { !$exported{$_} || !$exported{"pg_finfo_$_"} } sort keys %symbols), '',
	'cdc_kafka.so exports each of them, with its V1 info function');

my $node = CdcKafka::start_pg('upgrade', extension => 0);

# What CREATE EXTENSION made: members, function and view definitions,
# comments and grants, as text to compare.
sub objects
{
	my ($db) = @_;
	return $node->safe_psql($db, q{
		WITH ext AS (SELECT oid FROM pg_extension WHERE extname = 'cdc_kafka'),
		members AS (
			SELECT d.classid, d.objid FROM pg_depend d, ext
			 WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid
			   AND d.deptype = 'e')
		SELECT pg_describe_object(classid, objid, 0) || E'\n' ||
			   coalesce(obj_description(objid, classid::regclass::text), '') || E'\n' ||
			   CASE classid
				 WHEN 'pg_proc'::regclass THEN
				   (SELECT pg_get_functiondef(objid) || coalesce(proacl::text, '') FROM pg_proc WHERE oid = objid)
				 WHEN 'pg_class'::regclass THEN
				   (SELECT coalesce(pg_get_viewdef(objid), '') || coalesce(relacl::text, '') FROM pg_class WHERE oid = objid)
				 ELSE '' END
		  FROM members ORDER BY 1});
}

$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION cdc_kafka');
my $fresh = objects('fresh');
like($fresh, qr/function cdc_kafka\.snapshot_events/, 'a fresh install has its objects');

for my $from (sort keys %full)
{
	my $db = 'from_' . ($from =~ s/\W/_/gr);
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, "CREATE EXTENSION cdc_kafka VERSION '$from'");
	my ($rc, $o, $e) = $node->psql($db, 'ALTER EXTENSION cdc_kafka UPDATE');
	is($rc, 0, "ALTER EXTENSION cdc_kafka UPDATE from $from succeeds") or diag($e);
	is($node->safe_psql($db, "SELECT extversion FROM pg_extension WHERE extname = 'cdc_kafka'"),
		$default, "... and reaches $default");
	is(objects($db), $fresh, "... with exactly the objects of a fresh $default install");
}

# decoding with the library alone
$node->safe_psql('postgres', 'CREATE TABLE t (id int PRIMARY KEY)');
$node->safe_psql('postgres', "SELECT pg_create_logical_replication_slot('noext', 'cdc_kafka')");
$node->safe_psql('postgres', 'INSERT INTO t VALUES (1)');
my $events = $node->safe_psql('postgres',
	"SELECT count(*) FROM pg_logical_slot_get_changes('noext', NULL, NULL, 'topic-prefix', 'u')
	  WHERE data::jsonb->>'topic' = 'u.public.t'");
is($events, 1, 'a slot decodes in a database without the extension');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_extension WHERE extname = 'cdc_kafka'"), 0,
	'... where CREATE EXTENSION was never run');

done_testing();
