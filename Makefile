# cdc_kafka: PostgreSQL output plugin (PGXS) plus the daemons that consume it.
#
#   make && make install     build and install the plugin, the extension and the daemons
#   make test                run every test (pg_regress, TAP, independent readers)
#   make demo                run the end-to-end lab on this machine (mock Kafka)
#   make demo KAFKA=real     the same on Apache Kafka (scripts/kafka.sh)
#
# The plugin is built by PGXS with the server's flags; the daemons are plain
# libpq/librdkafka programs with their own flags (daemons.mk).

MODULE_big = cdc_kafka
OBJS = \
	plugin/cdc_kafka.o \
	plugin/options.o \
	plugin/relcache.o \
	plugin/event.o \
	plugin/typemap.o \
	plugin/jsonbuf.o \
	plugin/snapshot.o

EXTENSION = cdc_kafka
# every version's script and every update script (cdc_kafka--A--B.sql):
# ALTER EXTENSION cdc_kafka UPDATE needs them all installed
DATA = $(sort $(notdir $(wildcard $(srcdir)/cdc_kafka--*.sql)))
PGFILEDESC = "cdc_kafka - Debezium-compatible logical decoding output plugin"

# pg_regress suite: one file per feature, run against a cluster whose
# configuration is in sql/logical.conf (t/run_tests.sh starts one).
REGRESS = $(sort $(basename $(notdir $(wildcard $(srcdir)/sql/*.sql))))
REGRESS_OPTS = --temp-config=$(srcdir)/sql/logical.conf

PG_CONFIG ?= pg_config
PGXS := $(wildcard $(shell $(PG_CONFIG) --pgxs 2>/dev/null))
.DEFAULT_GOAL := all

.PHONY: test demo deps regress-list
deps:
	bash scripts/deps.sh

ifeq ($(PGXS),)
# A fresh machine: no PostgreSQL server headers yet.  The README's two
# commands install what the project needs (scripts/deps.sh), then run the
# asked-for target again; plain make and make install never install
# system packages.
test demo:
	bash scripts/deps.sh
	$(MAKE) $@
all install:
	@echo "no PostgreSQL server headers ($(PG_CONFIG) --pgxs): run \"make deps\" (or scripts/deps.sh) first, or name a server's pg_config: make PG_CONFIG=..." >&2
	@exit 1
else
include $(PGXS)

# The daemons are built against this machine's libpq; "make
# WITH_DAEMONS=no" builds only the plugin, as scripts/pg.sh does inside the
# Debian root of a newer server.
WITH_DAEMONS ?= yes
ifeq ($(WITH_DAEMONS),yes)
include daemons.mk
endif

# PGXS tracks no header dependencies, and a stale object with an old struct
# layout corrupts memory: each object lists the headers it included when it
# was compiled (-MMD, in plugin/NAME.d), and a removed header is no error
# (-MP).  Only the objects: the bitcode files PGXS also makes must not
# overwrite those lists.
$(OBJS): override CPPFLAGS += -MMD -MP
-include $(OBJS:.o=.d)
clean: clean-plugin-deps
.PHONY: clean-plugin-deps
clean-plugin-deps:
	rm -f $(OBJS:.o=.d)

# Rebuilt as well: an object compiled before its list existed (an older
# checkout), and one whose list names a header that is gone (moved or
# removed: PGXS's ".SECONDARY:" keeps make from taking a missing header,
# the empty rule -MP writes for it, as a change).
.PHONY: deps-missing
deps_headers = $(filter %.h,$(subst \, ,$(file < $(1:.o=.d))))
$(foreach o,$(OBJS) $(DAEMON_OBJS),$(if $(wildcard $(o:.o=.d)),\
	$(if $(filter-out $(wildcard $(call deps_headers,$(o))),$(call deps_headers,$(o))),\
		$(eval $(o): deps-missing)),\
	$(eval $(o): deps-missing)))

# "make installcheck" runs pg_regress against a running server (one with
# sql/logical.conf's settings): psql is the server's, whatever bindir the
# daemons install to.
installcheck: bindir = $(shell $(PG_CONFIG) --bindir)

regress-list:
	@echo $(REGRESS)

# The README's two commands; each first makes sure that everything is
# installed, built and installed into PostgreSQL.
test demo: prepare
test:
	bash t/run_tests.sh
demo:
	KAFKA=$(KAFKA) bash scripts/demo.sh

.PHONY: prepare
prepare:
	bash scripts/deps.sh
	$(MAKE) all
	$(MAKE) install
endif
