/* Clock and poll-timeout helpers: the only place the library reads a clock. */
#include <limits.h>
#include <time.h>

#include "liveness.h"

LIVENESS_EXPORT liveness_time liveness_now(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer on any system we build for. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (liveness_time)ts.tv_sec * LIVENESS_SEC + (liveness_time)ts.tv_nsec;
}

LIVENESS_EXPORT int liveness_poll_timeout(liveness_time deadline, liveness_time now)
{
	liveness_time left, ms;

	if (deadline == LIVENESS_NEVER)
		return -1;
	if (deadline <= now)
		return 0;
	left = deadline - now;
	/* Round up so that poll never returns before the deadline. */
	ms = left / LIVENESS_MSEC + (left % LIVENESS_MSEC != 0);
	return ms > INT_MAX ? INT_MAX : (int)ms;
}
