# fuzz/: libFuzzer targets (clang from Debian: clang-14, libclang-rt-14-dev)
# over the writer's message decoding and both daemons' options.  Built
# with AddressSanitizer and UndefinedBehaviorSanitizer into fuzz/build/;
# never part of "all".
#
#   make fuzz                      each target for FUZZ_SECONDS (60) from its
#                                  seed corpus fuzz/corpus/<target>/
#   make fuzz FUZZ_SECONDS=600     a longer run
#   make fuzz-build                build only
#
# A crash, a sanitizer report, a leak or an input that runs over 10 s (a
# hang) fails the run; the input that
# caused it is saved as fuzz/build/crash-* (reproduce: fuzz/build/<target>
# fuzz/build/crash-...).  New inputs found go to fuzz/build/corpus/, not
# into the seed corpus.

FUZZ_CC ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS = -g -O1 -std=gnu11 -D_GNU_SOURCE -fno-omit-frame-pointer \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_LDFLAGS = -fsanitize=fuzzer,address,undefined
FUZZ_TARGETS = fuzz_event fuzz_writer_options fuzz_sidecar_options

# every object but the daemons' main.o (the options targets include it)
FUZZ_WRITER_SRCS = $(filter-out writer/main.c,$(WRITER_OBJS:.o=.c)) \
	$(WRITER_STORAGE_OBJS:.o=.c) $(COMMON_OBJS:.o=.c)
FUZZ_SIDECAR_SRCS = $(filter-out sidecar/main.c,$(SIDECAR_OBJS:.o=.c)) \
	$(COMMON_OBJS:.o=.c)
FUZZ_EVENT_SRCS = writer/event.c writer/decimal.c writer/storage/bytebuf.c

fuzz/build/obj/%.o: %.c $(wildcard writer/*.h writer/storage/*.h writer/storage/*/*.h common/*.h sidecar/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(DAEMON_CPPFLAGS) -I$(srcdir)/writer -c -o $@ $<

fuzz/build/fuzz_event: fuzz/fuzz_event.c $(FUZZ_EVENT_SRCS:%.c=fuzz/build/obj/%.o)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_LDFLAGS) $(DAEMON_CPPFLAGS) -I$(srcdir)/writer \
		-o $@ $^ $(DAEMON_LIBS)

# (the daemon's main.c is #included, so it is a prerequisite, not an input)
fuzz/build/fuzz_writer_options: fuzz/fuzz_writer_options.c fuzz/fuzz_argv.h \
		writer/main.c $(FUZZ_WRITER_SRCS:%.c=fuzz/build/obj/%.o)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_LDFLAGS) $(DAEMON_CPPFLAGS) -I$(srcdir)/writer \
		-o $@ $(filter-out %.h writer/main.c,$^) $(DAEMON_LIBS)

fuzz/build/fuzz_sidecar_options: fuzz/fuzz_sidecar_options.c fuzz/fuzz_argv.h \
		sidecar/main.c $(FUZZ_SIDECAR_SRCS:%.c=fuzz/build/obj/%.o)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_LDFLAGS) $(DAEMON_CPPFLAGS) -I$(srcdir)/sidecar \
		-o $@ $(filter-out %.h sidecar/main.c,$^) $(DAEMON_LIBS)

.PHONY: fuzz fuzz-build clean-fuzz
fuzz-build: $(FUZZ_TARGETS:%=fuzz/build/%)

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p fuzz/build/corpus/$$t; \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
		fuzz/build/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -close_fd_mask=3 \
			-print_final_stats=1 -artifact_prefix=fuzz/build/ \
			fuzz/build/corpus/$$t fuzz/corpus/$$t 2>fuzz/build/$$t.log || \
			{ grep -A40 -m1 'ERROR\|runtime error\|deadly signal' fuzz/build/$$t.log; \
			  echo "fuzz: $$t FAILED (fuzz/build/$$t.log)"; exit 1; }; \
		grep -E '^stat::number_of_executed_units|^Done' fuzz/build/$$t.log | tr '\n' ' '; echo; \
	done

clean: clean-fuzz
clean-fuzz:
	rm -rf fuzz/build
