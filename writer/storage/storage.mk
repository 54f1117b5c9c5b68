# writer/storage/: the storage library of the Delta writer, one folder per
# part, each usable without the daemon:
#   storage/        bytebuf (growable buffers), json_out (JSON text)
#   parquet/        Thrift compact protocol, the Parquet writer and reader
#   delta/          the Delta log: replay, commits, checkpoints
#   objstore/       the object store: local directory and S3 backends
# Included by writer.mk, which links the daemon with $(WRITER_STORAGE_OBJS).

# The object store and its backends: every file the library reads or
# writes goes through it.
include $(srcdir)/writer/storage/objstore/objstore.mk

# Headers are included by bare name across the parts (and by the daemon).
DAEMON_CPPFLAGS += -I$(srcdir)/writer -I$(srcdir)/writer/storage \
	-I$(srcdir)/writer/storage/parquet -I$(srcdir)/writer/storage/delta \
	-I$(srcdir)/writer/storage/objstore

WRITER_STORAGE_OBJS = $(OBJSTORE_OBJS) \
	writer/storage/bytebuf.o \
	writer/storage/json_out.o \
	writer/storage/parquet/thrift.o \
	writer/storage/parquet/thrift_read.o \
	writer/storage/parquet/pq_rle.o \
	writer/storage/parquet/pq_codec.o \
	writer/storage/parquet/pq_page.o \
	writer/storage/parquet/pq_read.o \
	writer/storage/parquet/parquet.o \
	writer/storage/delta/delta_log.o \
	writer/storage/delta/delta_checkpoint.o \
	writer/storage/delta/delta_checkpoint_read.o

# The checkpoint reader decompresses what other engines write: Snappy
# (Spark's and DuckDB's default) and GZIP; zstd is in DAEMON_LIBS already.
DAEMON_LIBS += -lsnappy -lz $(OBJSTORE_LIBS)
# SHA-256 of names too long for a directory (writer/paths.c)
DAEMON_LIBS += -lcrypto

# Test drivers of the library, each in its part's test/ (t/200, t/210,
# t/240 run them).
WRITER_STORAGE_TESTS = writer/storage/parquet/test/pq_gen \
	writer/storage/delta/test/delta_tool

DAEMON_OBJS += $(WRITER_STORAGE_OBJS) $(WRITER_STORAGE_TESTS:=.o)

$(WRITER_STORAGE_TESTS): %: %.o $(WRITER_STORAGE_OBJS)
	$(DAEMON_CC) $(DAEMON_CFLAGS) -o $@ $^ $(DAEMON_LIBS)

all: $(WRITER_STORAGE_TESTS)

clean: clean-writer-storage
.PHONY: clean-writer-storage
clean-writer-storage:
	rm -f $(WRITER_STORAGE_TESTS)
