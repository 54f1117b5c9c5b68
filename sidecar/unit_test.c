/*-------------------------------------------------------------------------
 * unit_test.c
 *	  Unit tests (TAP output) for the sidecar's pure parts: frame parsing,
 *	  the LSN tracker, positions, the partitioner, config and masking.
 *	  Run by t/106_sidecar_units.pl.
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "frame.h"
#include "lsn_track.h"
#include "partitioner.h"
#include "position.h"

static int	unit_n = 0;
static int	unit_failed = 0;

static void
unit_ok(int cond, const char *name)
{
	unit_n++;
	if (!cond)
		unit_failed++;
	printf("%sok %d - %s\n", cond ? "" : "not ", unit_n, name);
}

static size_t
unit_put32(unsigned char *b, uint32_t v)
{
	b[0] = v >> 24;
	b[1] = v >> 16;
	b[2] = v >> 8;
	b[3] = v;
	return 4;
}

static size_t
unit_frame(unsigned char *b, char kind, char op, uint64_t commit, uint64_t seq,
		   const char *topic, const char *key, const char *value)
{
	size_t		o = 0;

	b[o++] = kind;
	b[o++] = op;
	o += unit_put32(b + o, commit >> 32);
	o += unit_put32(b + o, (uint32_t) commit);
	o += unit_put32(b + o, 0);
	o += unit_put32(b + o, 7);
	o += unit_put32(b + o, seq >> 32);
	o += unit_put32(b + o, (uint32_t) seq);
	o += unit_put32(b + o, strlen(topic));
	memcpy(b + o, topic, strlen(topic));
	o += strlen(topic);
	o += unit_put32(b + o, key ? strlen(key) : (uint32_t) -1);
	if (key)
	{
		memcpy(b + o, key, strlen(key));
		o += strlen(key);
	}
	o += unit_put32(b + o, value ? strlen(value) : (uint32_t) -1);
	if (value)
	{
		memcpy(b + o, value, strlen(value));
		o += strlen(value);
	}
	o += unit_put32(b + o, 0);	/* no headers */
	return o;
}

static void
unit_frames(void)
{
	unsigned char b[512];
	char		err[512];
	Frame		f;
	size_t		size;
	size_t		n = unit_frame(b, 'E', 'u', 0x100000020ULL, 3, "p.s.t", "{\"id\":1}", "{\"v\":2}");
	size_t		n2;

	unit_ok(frame_parse((char *) b, n, true, &f, &size, err, sizeof(err)) && size == n,
			"frame: parses, and says how long it is");
	unit_ok(f.kind == 'E' && f.op == 'u' && f.commit_lsn == 0x100000020ULL &&
			f.change_lsn == 7 && f.seq == 3, "frame: header fields");
	unit_ok(f.topic_len == 5 && memcmp(f.topic, "p.s.t", 5) == 0, "frame: topic");
	unit_ok(f.key_len == 8 && f.value_len == 7 && memcmp(f.value, "{\"v\":2}", 7) == 0,
			"frame: key and value");
	unit_ok(!frame_parse((char *) b, n - 1, true, &f, &size, err, sizeof(err)) &&
			strstr(err, "truncated") != NULL, "frame: truncated is an error");
	n2 = unit_frame(b + n, 'C', '0', 0x100000020ULL, 1, "", NULL, NULL);
	unit_ok(frame_parse((char *) b, n + n2, true, &f, &size, err, sizeof(err)) && size == n &&
			f.kind == 'E' &&
			frame_parse((char *) b + size, n2, true, &f, &size, err, sizeof(err)) && size == n2 &&
			f.kind == 'C', "frame: two frames in one message, one after the other");
	unit_ok(!frame_parse((char *) b + n, 3, true, &f, &size, err, sizeof(err)) &&
			strstr(err, "too short") != NULL, "frame: a few stray bytes after a frame are an error");
	n = unit_frame(b, 'E', 'c', 5, 1, "t", NULL, NULL);
	unit_ok(frame_parse((char *) b, n, true, &f, &size, err, sizeof(err)) && f.key == NULL &&
			f.key_len == -1 && f.value == NULL, "frame: null key and value");
	n = unit_frame(b, 'X', 'c', 5, 1, "t", NULL, NULL);
	unit_ok(!frame_parse((char *) b, n, true, &f, &size, err, sizeof(err)) &&
			strstr(err, "format=kafka") != NULL, "frame: unknown kind hints at the format");
	n = unit_frame(b, 'C', '0', 5, 2, "", NULL, NULL);
	unit_ok(frame_parse((char *) b, n, true, &f, &size, err, sizeof(err)) && f.kind == 'C' && f.seq == 2,
			"frame: commit frame");
	n = unit_frame(b, 'E', 'c', 5, 0x100000002ULL, "t", NULL, NULL);
	unit_ok(frame_parse((char *) b, n, true, &f, &size, err, sizeof(err)) && f.seq == 0x100000002ULL,
			"frame: seq is 64 bits (a transaction or a snapshot past 2^32 events)");
	n = unit_frame(b, 'E', 'd', 5, 1, "t", "{\"id\":1}", "{}") - 4;
	n += unit_put32(b + n, 1);
	n += unit_put32(b + n, 17);
	memcpy(b + n, "__debezium.newkey", 17);
	n += 17;
	n += unit_put32(b + n, 8);
	memcpy(b + n, "{\"id\":2}", 8);
	n += 8;
	unit_ok(frame_parse((char *) b, n, true, &f, &size, err, sizeof(err)) && size == n &&
			f.nheaders == 1 && f.headers[0].name_len == 17 &&
			memcmp(f.headers[0].name, "__debezium.newkey", 17) == 0 &&
			f.headers[0].value_len == 8 && memcmp(f.headers[0].value, "{\"id\":2}", 8) == 0,
			"frame: a header, name and value");
	unit_ok(!frame_parse((char *) b, n - 1, true, &f, &size, err, sizeof(err)) &&
			strstr(err, "truncated") != NULL, "frame: a truncated header is an error");
}

static void
unit_lsn_track(void)
{
	LsnTrack	t;
	uint64_t	a,
				b,
				c;

	lsn_track_init(&t, 2, 50);
	a = lsn_track_begin(&t, 100);
	lsn_track_add(&t, a);
	lsn_track_add(&t, a);
	unit_ok(lsn_track_begin(&t, 100) == a, "track: same commit LSN, same entry");
	lsn_track_end(&t, a);
	b = lsn_track_begin(&t, 200);
	lsn_track_add(&t, b);
	lsn_track_end(&t, b);
	unit_ok(lsn_track_begin(&t, 300) == 0, "track: full ring refuses a new transaction");
	lsn_track_ack(&t, b);
	unit_ok(lsn_track_advance(&t) == 50, "track: a later ack does not pass an older pending transaction");
	lsn_track_ack(&t, a);
	unit_ok(lsn_track_advance(&t) == 50, "track: one event of the first still pending");
	lsn_track_ack(&t, a);
	unit_ok(lsn_track_advance(&t) == 200, "track: both acknowledged, both confirmed");
	unit_ok(lsn_track_count(&t) == 0 && t.pending_total == 0, "track: empty again");
	c = lsn_track_begin(&t, 300);
	lsn_track_add(&t, c);
	lsn_track_ack(&t, c);
	unit_ok(lsn_track_advance(&t) == 200, "track: incomplete transaction (no C frame) is not confirmed");
	lsn_track_end(&t, c);
	unit_ok(lsn_track_advance(&t) == 300, "track: confirmed once its C frame arrives");
	c = lsn_track_begin(&t, 400);
	lsn_track_forget_incomplete(&t);
	unit_ok(lsn_track_count(&t) == 0, "track: a reconnect forgets an empty incomplete entry");
	lsn_track_free(&t);

	/*
	 * A reconnect cuts transaction 200 short with an event in flight, after
	 * 100 complete but unacknowledged; the server sends both again.
	 */
	lsn_track_init(&t, 8, 50);
	a = lsn_track_begin(&t, 100);
	lsn_track_add(&t, a);
	lsn_track_end(&t, a);
	b = lsn_track_begin(&t, 200);
	lsn_track_add(&t, b);
	lsn_track_forget_incomplete(&t);
	c = lsn_track_begin(&t, 100);	/* its event is skipped: Kafka has it */
	lsn_track_end(&t, c);
	c = lsn_track_begin(&t, 200);
	lsn_track_add(&t, c);
	lsn_track_end(&t, c);
	lsn_track_ack(&t, a);
	lsn_track_ack(&t, c);
	unit_ok(lsn_track_advance(&t) == 100,
			"track: the cut transaction's event in flight holds it back");
	lsn_track_ack(&t, b);
	unit_ok(lsn_track_advance(&t) == 200,
			"track: once acknowledged, the transaction sent again is confirmed");
	unit_ok(lsn_track_count(&t) == 0, "track: and the cut entry is gone");
	lsn_track_free(&t);
}

static void
unit_positions(void)
{
	Position	a = {0x1000000A0ULL, 3, 1};
	Position	b;
	char		txt[POSITION_TEXT_LEN];
	int			n = position_format(&a, txt, sizeof(txt));

	unit_ok(strcmp(txt, "1/A0:3:1") == 0, "position: text form");
	unit_ok(position_parse(txt, n, &b) && position_cmp(&a, &b) == 0, "position: round trip");
	unit_ok(!position_parse("1/A0:3", 6, &b) && !position_parse("1/A0:3:1x", 9, &b),
			"position: malformed header rejected");
	b = a;
	b.sub = 0;
	unit_ok(position_cmp(&b, &a) < 0, "position: event before its tombstone");
	b.seq = 4;
	unit_ok(position_cmp(&b, &a) > 0, "position: seq orders within a transaction");
	b.commit_lsn = 0;
	unit_ok(position_cmp(&b, &a) < 0, "position: snapshot rows come first");
	a.seq = 0xFFFFFFFFULL;
	b = a;
	b.seq = 0x100000000ULL;
	unit_ok(position_cmp(&b, &a) > 0, "position: seq past 2^32 still orders after");
	n = position_format(&b, txt, sizeof(txt));
	unit_ok(strcmp(txt, "1/A0:4294967296:1") == 0 && position_parse(txt, n, &a) &&
			a.seq == 0x100000000ULL, "position: a 64-bit seq in text and back");
}

static void
unit_partitioner(void)
{
	/* the Java client's UtilsTest vectors */
	unit_ok((int32_t) partitioner_murmur2("21", 2) == -973932308, "murmur2: \"21\"");
	unit_ok((int32_t) partitioner_murmur2("foobar", 6) == -790332482, "murmur2: \"foobar\"");
	unit_ok((int32_t) partitioner_murmur2("abc", 3) == 479470107, "murmur2: \"abc\"");
	unit_ok((int32_t) partitioner_murmur2("a-little-bit-long-string", 24) == -985981536,
			"murmur2: a-little-bit-long-string");
	unit_ok(partitioner_partition(NULL, -1, 8) == 0, "partition: keyless goes to 0");
	unit_ok(partitioner_partition("21", 2, 7) == (int32_t) ((uint32_t) -973932308 & 0x7fffffff) % 7,
			"partition: positive hash modulo count");
}

static const ConfigDef unit_defs[] = {
	{"a.str", CONFIG_STRING, "x", NULL, 0, 0, 0, "a string"},
	{"a.int", CONFIG_INT, "5", NULL, 1, 10, 0, "an int"},
	{"a.conn", CONFIG_STRING, "", NULL, 0, 0, CONFIG_F_CONNINFO, "conninfo"},
	{NULL}
};
static const ConfigPrefix unit_prefixes[] = {
	{"kafka.", NULL, false, "passed on"},
	{NULL}
};

static void
unit_config(void)
{
	Config	   *cfg = config_create(unit_defs, unit_prefixes);
	char		err[512];
	char		buf[256];
	int			iter = 0;
	const char *name,
			   *value;

	unit_ok(config_set(cfg, "a.int", "7", CONFIG_SRC_FLAG, err, sizeof(err)) &&
			config_set(cfg, "a.int", "9", CONFIG_SRC_FILE, err, sizeof(err)) &&
			config_get_int(cfg, "a.int") == 7, "config: a flag beats a later file");
	unit_ok(!config_set(cfg, "a.int", "11", CONFIG_SRC_FLAG, err, sizeof(err)) &&
			strstr(err, "out of range") != NULL, "config: range checked");
	unit_ok(!config_set(cfg, "b", "1", CONFIG_SRC_FLAG, err, sizeof(err)) &&
			strstr(err, "unknown configuration key \"b\"") != NULL, "config: unknown key");
	unit_ok(config_set_pair(cfg, "kafka.x.y=a=b", CONFIG_SRC_FLAG, err, sizeof(err)) &&
			config_prefix_next(cfg, "kafka.", &iter, &name, &value) &&
			strcmp(name, "x.y") == 0 && strcmp(value, "a=b") == 0,
			"config: prefixed key, value may hold =");

	config_mask_conninfo("host=h password=secret user=u", buf, sizeof(buf));
	unit_ok(strcmp(buf, "host=h password=******** user=u") == 0, "mask: keyword form");
	config_mask_conninfo("password = 'se cr\\'et' dbname=d", buf, sizeof(buf));
	unit_ok(strcmp(buf, "password = ******** dbname=d") == 0, "mask: quoted value");
	config_mask_conninfo("postgresql://u:secret@h:5432/d?sslmode=require&password=x", buf, sizeof(buf));
	unit_ok(strcmp(buf, "postgresql://u:********@h:5432/d?sslmode=require&password=********") == 0,
			"mask: URI user info and parameter");
	config_mask_conninfo("postgresql://u@h/d?sslpass%77ord=x&Pass=1&password%3D=y", buf, sizeof(buf));
	unit_ok(strcmp(buf, "postgresql://u@h/d?sslpass%77ord=********&Pass=1&password%3D=********") == 0,
			"mask: URI parameter names are percent-decoded first");
	config_mask_conninfo("dbname='host=h password=secret' user=u", buf, sizeof(buf));
	unit_ok(strcmp(buf, "dbname=******** user=u") == 0, "mask: a dbname that is a connection string");
	config_mask_conninfo("dbname=postgresql://u:secret@h/d host=x", buf, sizeof(buf));
	unit_ok(strcmp(buf, "dbname=******** host=x") == 0, "mask: a dbname that is a URI");
	config_mask_conninfo("dbname=plain", buf, sizeof(buf));
	unit_ok(strcmp(buf, "dbname=plain") == 0, "mask: a plain dbname stays");
	config_mask_conninfo("postgres://u@h/d", buf, sizeof(buf));
	unit_ok(strcmp(buf, "postgres://u@h/d") == 0, "mask: URI without password unchanged");
	/* longer than the buffer: cut, not a loop (the fuzzer's hang; alarm in main) */
	{
		char		small[8];

		config_mask_conninfo("host=h dbname=d password=secret", small, sizeof(small));
		unit_ok(strcmp(small, "host=h ") == 0, "mask: a connection string longer than the buffer is cut");
		config_mask_conninfo("postgresql://u:secret@host/d", small, sizeof(small));
		unit_ok(strcmp(small, "postgre") == 0, "mask: a URI longer than the buffer is cut");
	}
	unit_ok(strcmp(config_mask_value("kafka.sasl.password", "x", 0, buf, sizeof(buf)), "********") == 0 &&
			strcmp(config_mask_value("kafka.ssl.key.password", "x", 0, buf, sizeof(buf)), "********") == 0 &&
			strcmp(config_mask_value("kafka.acks", "all", 0, buf, sizeof(buf)), "all") == 0,
			"mask: *password* keys");
	unit_ok(strcmp(config_mask_value("kafka.sasl.username", "bob", 0, buf, sizeof(buf)), "bob") == 0 &&
			strcmp(config_mask_value("kafka.sasl.mechanism", "SCRAM-SHA-512", 0, buf, sizeof(buf)), "SCRAM-SHA-512") == 0,
			"mask: sasl.username and sasl.mechanism are no secrets and stay");
	config_destroy(cfg);
}

int
main(void)
{
	alarm(60);					/* a looping unit fails instead of hanging */
	unit_frames();
	unit_lsn_track();
	unit_positions();
	unit_partitioner();
	unit_config();
	printf("1..%d\n", unit_n);
	return unit_failed ? 1 : 0;
}
