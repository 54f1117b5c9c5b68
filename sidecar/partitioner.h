/*-------------------------------------------------------------------------
 * partitioner.h
 *	  Kafka's default partitioner for keyed messages (the Java client's
 *	  murmur2, as librdkafka's "murmur2_random"), computed here because the
 *	  sidecar must know each event's partition before producing it: the
 *	  exactly-once skip is decided per partition.
 *-------------------------------------------------------------------------
 */
#ifndef SIDECAR_PARTITIONER_H
#define SIDECAR_PARTITIONER_H

#include <stddef.h>
#include <stdint.h>

extern uint32_t partitioner_murmur2(const void *key, size_t len);

/* Keyless events all go to partition 0: deterministic, so replays dedupe. */
extern int32_t partitioner_partition(const void *key, int32_t key_len,
									 int32_t partitions);

#endif							/* SIDECAR_PARTITIONER_H */
