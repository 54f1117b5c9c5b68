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
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

include daemons.mk

.PHONY: test demo deps regress-list
regress-list:
	@echo $(REGRESS)

deps:
	bash scripts/deps.sh

test: all
	bash t/run_tests.sh

demo: all
	bash scripts/demo.sh
