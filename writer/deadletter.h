/*-------------------------------------------------------------------------
 *
 * deadletter.h
 *	  The dead-letter log: messages the writer cannot turn into a row.
 *
 * One JSON object per line: time, topic, partition, offset, reason, and
 * the key and value as base64 (null when absent), so nothing is lost and
 * the bytes can be replayed.  The offset of a dead-lettered message is
 * committed to Delta like any other (the table goes on); the file is
 * fsynced before that commit, so a message is never in neither place.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CDC_WRITER_DEADLETTER_H
#define CDC_WRITER_DEADLETTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct DeadLetter DeadLetter;

/* Opens path for appending (creating it). */
extern DeadLetter *deadletter_open(const char *path, char *errstr,
								   size_t errlen);
extern void deadletter_close(DeadLetter *dl);

extern bool deadletter_write(DeadLetter *dl, const char *topic,
							 int32_t partition, int64_t offset,
							 const char *reason,
							 const void *key, size_t keylen,
							 const void *value, size_t vallen,
							 char *errstr, size_t errlen);

/* Makes every line written so far durable (before a Delta commit). */
extern bool deadletter_sync(DeadLetter *dl, char *errstr, size_t errlen);

#endif							/* CDC_WRITER_DEADLETTER_H */
