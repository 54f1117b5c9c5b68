# A changed header rebuilds every object that includes it, directly or
# through another header, and nothing else: a stale object with an old
# struct layout would corrupt memory.  The includes are read from the
# sources here, independently of the compiler's lists that make uses; each
# header of plugin/, common/, sidecar/, writer/ and tools/ is made newer in
# turn in a copy of the built tree, and "make -n" says what it would
# compile.
use strict;
use warnings;

use File::Basename qw(dirname);
use File::Find;
use Test::More;
use CdcKafka;

my $src = $CdcKafka::ROOT;
my $tree = "$ENV{TESTDIR}/tree";
my @dirs = qw(plugin common sidecar writer tools);
mkdir $tree or die "$tree: $!";
system('cp', '-r', '--preserve=timestamps',
	(map { "$src/$_" } @dirs, 'Makefile', 'daemons.mk', 'cdc_kafka.control'),
	glob("$src/cdc_kafka--*.sql"), $tree) == 0
  or BAIL_OUT('cannot copy the tree');

sub make
{
	my (@args) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'make', '-C', $tree, 'PG_CONFIG=' . ($ENV{PG_CONFIG} // 'pg_config'), @args ],
		'<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out . $err);
}

my ($rc, $out) = make('-s', '-j2');
is($rc, 0, 'the copy builds') or diag($out);
($rc, $out) = make('-q');
is($rc, 0, 'and is up to date') or diag($out);

# Every C file and header, and what each includes with #include "...": a
# name is looked for next to the including file, then among the project's
# headers on its side of the build (the Makefiles give the daemons one -I
# per folder; the plugin, built apart, includes only its own).
my (%includes, @c_files, @headers);
find(sub {
		return unless /\.[ch]$/;
		my $rel = substr($File::Find::name, length($tree) + 1);
		push @c_files, $rel if /\.c$/;
		push @headers, $rel if /\.h$/;
		open(my $fh, '<', $_) or die "$rel: $!";
		while (<$fh>)
		{
			push @{ $includes{$rel} }, $1 if /^\s*#\s*include\s+"([^"]+)"/;
		}
		close $fh;
	}, map { "$tree/$_" } @dirs);

sub resolve
{
	my ($from, $name) = @_;
	my $p = dirname($from) . "/$name";
	1 while $p =~ s{[^/]+/\.\./}{};
	return $p if -f "$tree/$p";
	my $plugin = $from =~ m{^plugin/};
	my @found = grep { ($plugin xor !m{^plugin/}) && substr("/$_", -length($name) - 1) eq "/$name" } @headers;
	die "$from includes \"$name\", which names " . scalar(@found) . " headers\n" if @found > 1;
	return $found[0];	# none: a PostgreSQL or system header
}

# The project's headers a file includes, directly or not.
sub closure
{
	my ($file) = @_;
	my (%seen, @todo);
	@todo = ($file);
	while (defined(my $f = shift @todo))
	{
		for my $name (@{ $includes{$f} // [] })
		{
			my $h = resolve($f, $name) or next;
			push @todo, $h unless $seen{$h}++;
		}
	}
	return \%seen;
}

# Only the C files that are built into objects.
my %deps = map { $_ => closure($_) } grep { my $o = $_; $o =~ s/\.c$/.o/; -f "$tree/$o" } @c_files;
ok(scalar(keys %deps) > 40, scalar(keys %deps) . ' objects');

for my $h (sort @headers)
{
	my @want = sort map { (my $o = $_) =~ s/\.c$/.o/; $o } grep { $deps{$_}{$h} } keys %deps;
	my $mtime = (stat "$tree/$h")[9];
	utime(time + 100, time + 100, "$tree/$h") or die "$h: $!";
	my ($rc, $out) = make('-n');
	utime($mtime, $mtime, "$tree/$h") or die "$h: $!";
	my %got;
	$got{$1} = 1 while $out =~ /\s-o\s+(\S+\.o)\s/g;
	is_deeply([ sort keys %got ], \@want,
		"$h: rebuilds the " . scalar(@want) . ' object(s) that include it');
}

# A header that is gone (moved to another folder of the include path, or
# removed) while the sources stay as they were: every object that included
# it is rebuilt, as it may now read another file (or fail to compile),
# never kept as it was.
my $gone = 'sidecar/lsn_track.h';
my @want = sort map { (my $o = $_) =~ s/\.c$/.o/; $o } grep { $deps{$_}{$gone} } keys %deps;
rename("$tree/$gone", "$tree/$gone.away") or die "$gone: $!";
($rc, $out) = make('-n');
rename("$tree/$gone.away", "$tree/$gone") or die "$gone: $!";
my %got;
$got{$1} = 1 while $out =~ /\s-o\s+(\S+\.o)\s/g;
is_deeply([ sort keys %got ], \@want,
	"$gone gone: the " . scalar(@want) . ' object(s) that included it are rebuilt');

done_testing();
