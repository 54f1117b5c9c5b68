# The daemons: never linked with server code; libpq, librdkafka, json-c, zstd.
PG_INCLUDEDIR := $(shell $(PG_CONFIG) --includedir)
PG_LIBDIR := $(shell $(PG_CONFIG) --libdir)
PG_BINDIR := $(shell $(PG_CONFIG) --bindir)

DAEMON_CC ?= cc
DAEMON_CFLAGS ?= -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
	-Wno-unused-parameter -Wno-missing-field-initializers
DAEMON_CPPFLAGS = -I$(srcdir)/common -I$(PG_INCLUDEDIR)
DAEMON_LIBS = -L$(PG_LIBDIR) -lpq -lrdkafka -ljson-c -lzstd -lpthread -lm

DAEMONS =
DAEMON_OBJS =

# Each component lists its own sources; a missing one is simply not built yet.
-include $(srcdir)/common/common.mk
-include $(srcdir)/tools/tools.mk
-include $(srcdir)/sidecar/sidecar.mk
-include $(srcdir)/writer/writer.mk

$(DAEMON_OBJS): %.o: %.c
	$(DAEMON_CC) $(DAEMON_CFLAGS) $(DAEMON_CPPFLAGS) -c -o $@ $<

all: $(DAEMONS)

install: install-daemons
.PHONY: install-daemons
install-daemons: $(DAEMONS)
	$(MKDIR_P) '$(DESTDIR)$(PG_BINDIR)'
	$(if $(DAEMONS),$(INSTALL_PROGRAM) $(DAEMONS) '$(DESTDIR)$(PG_BINDIR)/')

clean: clean-daemons
.PHONY: clean-daemons
clean-daemons:
	rm -f $(DAEMONS) $(DAEMON_OBJS)
