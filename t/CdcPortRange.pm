# Loaded into every TAP test by t/run_tests.sh: with CDC_PORT_RANGE=LOW-HIGH
# set, PostgreSQL::Test::Cluster gives its clusters ports in that range
# (its own is 10200-32767, fixed in its source).  The same checks as its
# get_free_port: nothing listens there, and no other test holds it (the
# lock files in PG_TEST_PORT_DIR).
package CdcPortRange;

use strict;
use warnings;

use PostgreSQL::Test::Cluster;

if (my $range = $ENV{CDC_PORT_RANGE})
{
	my ($low, $high) = $range =~ /^(\d+)-(\d+)$/
	  or die "CDC_PORT_RANGE=\"$range\": give LOW-HIGH\n";
	die "CDC_PORT_RANGE=\"$range\": give LOW-HIGH, within 1024-65535\n"
	  if $low < 1024 || $high > 65535 || $low > $high;
	my $next = $low + int(rand($high - $low + 1));
	no warnings 'redefine';
	*PostgreSQL::Test::Cluster::get_free_port = sub {
		for (1 .. $high - $low + 1)
		{
			my $port = $next;
			$next = $next >= $high ? $low : $next + 1;
			next if grep { $_->port == $port } @PostgreSQL::Test::Cluster::all_nodes;
			return $port
			  if PostgreSQL::Test::Cluster::can_bind('127.0.0.1', $port)
			  && PostgreSQL::Test::Cluster::_reserve_port($port);
		}
		die "no free port in CDC_PORT_RANGE=$range\n";
	};
}

1;
