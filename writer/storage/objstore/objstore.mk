# writer/storage/objstore: the object-store interface and its backends
# (local directory, S3), and their unit-test program.  Included by
# writer/storage.mk.

OBJSTORE_OBJS = \
	writer/storage/objstore/objstore.o \
	writer/storage/objstore/objstore_local.o \
	writer/storage/objstore/objstore_s3.o \
	writer/storage/objstore/s3_credentials.o \
	writer/storage/objstore/s3_xml.o

# libcurl signs S3 requests (CURLOPT_AWS_SIGV4), expat reads S3's XML,
# libcrypto hashes payloads for x-amz-content-sha256.
OBJSTORE_LIBS = -lcurl -lexpat -lcrypto

OBJSTORE_TEST = writer/storage/objstore/test/objstore_test

# (storage.mk adds $(OBJSTORE_OBJS) to the library and DAEMON_OBJS)
DAEMON_OBJS += $(OBJSTORE_TEST).o

$(OBJSTORE_OBJS) $(OBJSTORE_TEST).o: DAEMON_CPPFLAGS += -I$(srcdir)/writer

$(OBJSTORE_TEST): $(OBJSTORE_TEST).o $(OBJSTORE_OBJS) writer/storage/bytebuf.o
	$(DAEMON_CC) $(DAEMON_CFLAGS) -o $@ $^ $(OBJSTORE_LIBS)

all: $(OBJSTORE_TEST)

clean: clean-objstore
.PHONY: clean-objstore
clean-objstore:
	rm -f $(OBJSTORE_TEST)
