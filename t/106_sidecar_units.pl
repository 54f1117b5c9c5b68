# The sidecar's unit tests (sidecar/unit_test.c): frames, LSN tracker,
# positions, partitioner, configuration and masking.
use strict;
use warnings;

use Test::More;
use CdcKafka;

my $bin = CdcKafka::program('sidecar/sidecar_unit_test');
my $out = `$bin`;
my $rc = $? >> 8;
my @lines = grep { /^(not )?ok \d+ - / } split /\n/, $out;
ok(scalar @lines > 30, 'the unit tests ran') or diag($out);
for my $l (@lines)
{
	my ($not, $name) = $l =~ /^(not )?ok \d+ - (.*)$/;
	ok(!$not, $name);
}
is($rc, 0, 'unit test binary exits 0');
done_testing();
