# cdc_kafka: PostgreSQL output plugin (PGXS) plus the daemons that consume it.
#
#   make && make install     build and install the plugin, the extension and the daemons
#   make test                run every test (pg_regress, TAP, independent readers)
#   make demo                run the end-to-end lab on this machine
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
DATA = cdc_kafka--1.0.sql
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
# A fresh machine: no PostgreSQL server headers yet.  Install what the
# project needs (scripts/deps.sh), then run the asked-for target again.
all install test demo:
	bash scripts/deps.sh
	$(MAKE) $@
else
include $(PGXS)

include daemons.mk

# PGXS tracks no header dependencies; a stale object with an old struct
# layout would corrupt memory.
$(OBJS): $(wildcard $(srcdir)/plugin/*.h)

regress-list:
	@echo $(REGRESS)

# The README's two commands; each first makes sure that everything is
# installed, built and installed into PostgreSQL.
test demo: prepare
test:
	bash t/run_tests.sh
demo:
	bash scripts/demo.sh

.PHONY: prepare
prepare:
	bash scripts/deps.sh
	$(MAKE) all
	$(MAKE) install
endif
