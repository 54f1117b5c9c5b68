/*-------------------------------------------------------------------------
 * clock.h
 *	  Milliseconds on the monotonic clock, for the daemons' intervals and
 *	  timeouts (wall-clock time is for what goes on the wire or to disk).
 *-------------------------------------------------------------------------
 */
#ifndef CDC_CLOCK_H
#define CDC_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t
clock_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds since the Unix epoch: timestamps that leave the process. */
static inline int64_t
clock_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif							/* CDC_CLOCK_H */
