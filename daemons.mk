# The daemons: never linked with server code; libpq, librdkafka, json-c, zstd.
PG_INCLUDEDIR := $(shell $(PG_CONFIG) --includedir)
PG_LIBDIR := $(shell $(PG_CONFIG) --libdir)

# The daemons are ordinary programs: they install where users find them, on
# PATH, not in PostgreSQL's private bindir.  PGXS sets bindir to the
# server's; this file comes after PGXS, so the default here wins, and
# "make install bindir=DIR" wins over both.  (PGXS uses bindir only for
# PROGRAM, SCRIPTS and installcheck, none of which this project uses.)
bindir = /usr/local/bin

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
-include $(srcdir)/fuzz/fuzz.mk

# Each object lists the headers it included when it was compiled (-MMD,
# NAME.d next to it), so a changed header rebuilds every object that uses
# it; a removed header is no error (-MP).
$(DAEMON_OBJS): %.o: %.c
	$(DAEMON_CC) $(DAEMON_CFLAGS) $(DAEMON_CPPFLAGS) -MMD -MP -c -o $@ $<
-include $(DAEMON_OBJS:.o=.d)

all: $(DAEMONS)

install: install-daemons
.PHONY: install-daemons
install-daemons: $(DAEMONS)
	$(MKDIR_P) '$(DESTDIR)$(bindir)'
	$(if $(DAEMONS),$(INSTALL_PROGRAM) $(DAEMONS) '$(DESTDIR)$(bindir)/')

uninstall: uninstall-daemons
.PHONY: uninstall-daemons
uninstall-daemons:
	rm -f $(addprefix '$(DESTDIR)$(bindir)'/,$(notdir $(DAEMONS)))

clean: clean-daemons
.PHONY: clean-daemons
clean-daemons:
	rm -f $(DAEMONS) $(DAEMON_OBJS) $(DAEMON_OBJS:.o=.d)
