# The plugin frees the include/exclude regular expressions it compiles
# (on PostgreSQL 15 pg_regcomp mallocs them): a long-lived backend that
# calls snapshot_events() or decodes a slot with filters many times keeps
# its size.  Before, each call leaked the compiled filters, here ~1 MB.
use strict;
use warnings;

use Test::More;

use CdcKafka;

my $node = CdcKafka::start_pg('regex_memory');
# a filter of 400 alternatives: a large compiled automaton
my $filter = join(',', map { "public\\.t$_" } 1 .. 400);
$node->safe_psql('postgres', qq{
	CREATE TABLE t1 (id int PRIMARY KEY);
	INSERT INTO t1 VALUES (1);
	SELECT 'x' FROM pg_create_logical_replication_slot('s', 'cdc_kafka');
	CREATE FUNCTION rss_kb() RETURNS bigint LANGUAGE sql
		AS \$\$ SELECT substring(pg_read_file('/proc/self/status') FROM 'VmRSS:\\s+(\\d+)')::bigint \$\$;
});

# one backend: warm up, measure, 200 calls, measure
sub growth
{
	my ($call) = @_;
	my $out = $node->safe_psql('postgres', qq{
		DO \$\$ BEGIN FOR i IN 1..20 LOOP $call END LOOP; END \$\$;
		SELECT rss_kb();
		DO \$\$ BEGIN FOR i IN 1..200 LOOP $call END LOOP; END \$\$;
		SELECT rss_kb();
	});
	my ($before, $after) = split /\n/, $out;
	return $after - $before;
}

my $snap = growth(qq{PERFORM count(*) FROM cdc_kafka.snapshot_events('t1', NULL, ARRAY['include-tables', '$filter', 'exclude-schemas', 'x$filter']);});
note("snapshot_events: RSS grew by $snap kB over 200 calls");
cmp_ok($snap, '<', 20000, "200 snapshot_events() calls with filters keep the backend's size ($snap kB more)");

my $dec = growth(qq{PERFORM count(*) FROM pg_logical_slot_peek_changes('s', NULL, NULL, 'include-tables', '$filter');});
note("decoding sessions: RSS grew by $dec kB over 200 sessions");
cmp_ok($dec, '<', 20000, "200 decoding sessions with filters keep the backend's size ($dec kB more)");

# a filter that fails to compile after one that did: nothing left behind either
my $bad = growth(qq{BEGIN PERFORM count(*) FROM cdc_kafka.snapshot_events('t1', NULL, ARRAY['include-tables', '$filter', 'exclude-tables', '(']); EXCEPTION WHEN OTHERS THEN NULL; END;});
cmp_ok($bad, '<', 20000, "200 calls that fail on their second filter keep the backend's size ($bad kB more)");

done_testing();
