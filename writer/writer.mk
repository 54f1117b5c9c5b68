# writer/: cdc_delta_writer, Kafka change topics -> Delta Lake tables: the
# daemon (consumer, events, tables, dead letters, table names) on top of
# the storage library in writer/storage/ (Parquet, Delta log, object
# store), which has its own storage.mk.
# (storage.mk appends to DAEMON_OBJS with a filter over itself, which
# needs a simply expanded variable)
DAEMON_OBJS := $(DAEMON_OBJS)
-include $(srcdir)/writer/storage/storage.mk

WRITER_OBJS = \
	writer/main.o \
	writer/consumer.o \
	writer/event.o \
	writer/decimal.o \
	writer/table.o \
	writer/deadletter.o \
	writer/paths.o \
	writer/list_files.o

DAEMONS += writer/cdc_delta_writer
DAEMON_OBJS += $(WRITER_OBJS)

writer/cdc_delta_writer: $(WRITER_OBJS) $(WRITER_STORAGE_OBJS) $(COMMON_OBJS)
	$(DAEMON_CC) $(DAEMON_CFLAGS) -o $@ $^ $(DAEMON_LIBS)

# The message decoder alone, for tests: stdin messages -> decoded rows.
DAEMON_OBJS += writer/test/event_dump.o
writer/test/event_dump: writer/test/event_dump.o writer/event.o writer/decimal.o \
		$(WRITER_STORAGE_OBJS)
	$(DAEMON_CC) $(DAEMON_CFLAGS) -o $@ $^ $(DAEMON_LIBS)
# The table directories paths.c gives, for tests.
DAEMON_OBJS += writer/test/table_dir.o
writer/test/table_dir: writer/test/table_dir.o writer/paths.o $(WRITER_STORAGE_OBJS)
	$(DAEMON_CC) $(DAEMON_CFLAGS) -o $@ $^ $(DAEMON_LIBS)
all: writer/test/event_dump writer/test/table_dir
clean: clean-event-dump
.PHONY: clean-event-dump
clean-event-dump:
	rm -f writer/test/event_dump writer/test/table_dir
