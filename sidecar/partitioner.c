/*-------------------------------------------------------------------------
 * partitioner.c
 *	  org.apache.kafka.common.utils.Utils.murmur2, from its definition.
 *-------------------------------------------------------------------------
 */
#include "partitioner.h"

uint32_t
partitioner_murmur2(const void *key, size_t len)
{
	const unsigned char *data = key;
	const uint32_t m = 0x5bd1e995;
	const int	r = 24;
	uint32_t	h = 0x9747b28c ^ (uint32_t) len;
	size_t		n4 = len & ~(size_t) 3;

	for (size_t i = 0; i < n4; i += 4)
	{
		uint32_t	k = (uint32_t) data[i] | ((uint32_t) data[i + 1] << 8) |
			((uint32_t) data[i + 2] << 16) | ((uint32_t) data[i + 3] << 24);

		k *= m;
		k ^= k >> r;
		k *= m;
		h *= m;
		h ^= k;
	}
	switch (len & 3)
	{
		case 3:
			h ^= (uint32_t) data[n4 + 2] << 16;
			/* FALLTHROUGH */
		case 2:
			h ^= (uint32_t) data[n4 + 1] << 8;
			/* FALLTHROUGH */
		case 1:
			h ^= data[n4];
			h *= m;
	}
	h ^= h >> 13;
	h *= m;
	h ^= h >> 15;
	return h;
}

int32_t
partitioner_partition(const void *key, int32_t key_len, int32_t partitions)
{
	if (key == NULL || key_len < 0 || partitions <= 1)
		return 0;
	return (int32_t) ((partitioner_murmur2(key, (size_t) key_len) & 0x7fffffff) %
					  (uint32_t) partitions);
}
