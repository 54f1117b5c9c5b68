#!/bin/bash
# The daemons built with AddressSanitizer, LeakSanitizer and
# UndefinedBehaviorSanitizer (gcc), and TAP tests of the writer and the
# sidecar run with them.  Any sanitizer report fails: a memory error or
# undefined behaviour stops the program, a leak at exit is reported, and
# every report is a file in the run's report directory.
#
#   bash scripts/sanitize.sh                 the default subset (.ci/run)
#   bash scripts/sanitize.sh t/2NN_x.pl ...  those tests
#
# The build is a copy of the tree in a temporary directory, so the
# ordinary build stays as it is; the plugin is the installed one.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TESTS=("$@")
if [ ${#TESTS[@]} -eq 0 ]; then
	# quick ones, about 2 minutes in all;
	# the decoder is the fuzzer's (fuzz/)
	TESTS=(t/105_sidecar_bad_input.pl t/114_sidecar_topic_creation.pl t/121_sidecar_shutdown.pl
		t/218_writer_truncate.pl t/216_writer_table_failure.pl)
fi

W=$(mktemp -d /tmp/cdc_kafka_sanitize.XXXXXX)
trap '[ -n "${CDC_KEEP_WORK:-}" ] || rm -rf "$W"' EXIT
mkdir "$W/src"
tar -C "$ROOT" --exclude='*.o' --exclude='*.d' --exclude='*.so' --exclude='*.bc' --exclude=node_modules \
	--exclude=./fuzz/build --exclude=./.git -cf - . | tar -C "$W/src" -xf -
ln -s "$ROOT/t/node_modules" "$W/src/t/node_modules"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
make -C "$W/src" -s -j2 \
	DAEMON_CFLAGS="-O1 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers $SAN" \
	writer/cdc_delta_writer sidecar/cdc_kafka_sidecar tools/cdc_kafka_mock_broker \
	writer/test/event_dump writer/test/table_dir writer/storage/delta/test/delta_tool \
	writer/storage/parquet/test/pq_gen sidecar/sidecar_unit_test
mkdir -p "$W/reports"
chmod 777 "$W/reports"
chown -R postgres: "$W/src" 2>/dev/null || true
chmod 755 "$W"

export ASAN_OPTIONS="log_path=$W/reports/asan:detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="log_path=$W/reports/ubsan:print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$ROOT/scripts/lsan.supp:print_suppressions=0"
rc=0
(cd "$W/src" && bash t/run_tests.sh "${TESTS[@]}") || rc=$?
reports=$(find "$W/reports" -type f | sort)
if [ -n "$reports" ]; then
	for f in $reports; do echo "=== $f"; head -60 "$f"; done
	echo "sanitize: $(echo "$reports" | wc -l) sanitizer report(s)"
	exit 1
fi
echo "sanitize: no sanitizer report"
exit $rc
