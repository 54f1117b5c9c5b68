# Storage library of the Delta writer (Parquet, Thrift, Delta log, paths)
# and its standalone test programs.  Included by daemons.mk; writer.mk
# links the daemon with $(WRITER_STORAGE_OBJS).

# The object store and its backends: every file the library reads or
# writes goes through it.
include $(srcdir)/writer/storage/objstore/objstore.mk
DAEMON_CPPFLAGS += -I$(srcdir)/writer -I$(srcdir)/writer/storage/objstore

WRITER_STORAGE_OBJS = $(OBJSTORE_OBJS) \
	writer/bytebuf.o \
	writer/thrift.o \
	writer/pq_rle.o \
	writer/json_out.o \
	writer/parquet.o \
	writer/paths.o \
	writer/delta_log.o \
	writer/delta_checkpoint.o \
	writer/thrift_read.o \
	writer/pq_codec.o \
	writer/pq_page.o \
	writer/pq_read.o \
	writer/delta_checkpoint_read.o

# The checkpoint reader decompresses what other engines write: Snappy
# (Spark's and DuckDB's default) and GZIP; zstd is in DAEMON_LIBS already.
DAEMON_LIBS += -lsnappy -lz $(OBJSTORE_LIBS)
# SHA-256 of names too long for a directory (paths.c)
DAEMON_LIBS += -lcrypto

WRITER_STORAGE_TESTS = writer/test/pq_gen writer/test/delta_tool

DAEMON_OBJS += $(WRITER_STORAGE_OBJS) $(WRITER_STORAGE_TESTS:=.o)

writer/test/%.o: DAEMON_CPPFLAGS += -I$(srcdir)/writer

$(WRITER_STORAGE_TESTS): %: %.o $(WRITER_STORAGE_OBJS)
	$(DAEMON_CC) $(DAEMON_CFLAGS) -o $@ $^ $(DAEMON_LIBS)

all: $(WRITER_STORAGE_TESTS)

clean: clean-writer-storage
.PHONY: clean-writer-storage
clean-writer-storage:
	rm -f $(WRITER_STORAGE_TESTS)
