/*
 * Layer 1: the kernel's detection schedule (liveness_tcp_bound) and the
 * planner that picks settings for a detection budget (liveness_tcp_plan).
 *
 * The model follows Linux net/ipv4/tcp_timer.c and kernel/time/timer.c:
 *
 * Idle (nothing unacknowledged): tcp_keepalive_timer() probes at idle,
 * idle + intvl, ...; without TCP_USER_TIMEOUT the connection dies when the
 * timer finds count probes unanswered, at idle + count * intvl. With
 * TCP_USER_TIMEOUT = U it ignores the count and dies at the first tick where
 * a probe is out and U has passed since the last segment received: the
 * first k >= 1 with idle + k * intvl >= U.
 *
 * Busy (data unacknowledged): keepalive is suspended. The tail loss probe
 * fires after at most one RTO, then re-arms the RTO timer; the first RTO
 * retransmission sets retrans_stamp, from which both limits are measured.
 * With U the retransmission timer is clamped to fire at retrans_stamp + U
 * (tcp_clamp_rto_to_user_timeout), so the connection dies about 2 RTO + U
 * after the write: 3.42 s for U = 3000 ms on loopback, not 3.0 s. Without U
 * it dies at the first retransmission timer (RTO doubling, capped at
 * TCP_RTO_MAX = 120 s) whose time since retrans_stamp reaches
 * tcp_model_timeout(tcp_retries2, TCP_RTO_MIN): 924.6 s for the default 15,
 * the figure ip-sysctl.rst calls "hypothetical"; the real last tick lands a
 * little after it.
 *
 * Every kernel timer fires late: the delay is rounded up to whole jiffies
 * and the timer wheel files it in a level whose granularity is 8^n jiffies
 * (level n holds delays from 63 * 8^(n-1) jiffies), firing at the bucket's
 * end: up to 8/63 (~12.7 %) of the delay late. The wheel re-arms from the
 * late firing, so lateness adds up along a chain of timers. HZ is not
 * visible from user space, so the bound takes the worst of the common
 * configurations (100, 250, 300 and 1000).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>

#include "internal.h"
#include "liveness.h"

#define TCP_RTO_MIN_NS (200 * LIVENESS_MSEC)
#define TCP_RTO_MAX_NS (120 * LIVENESS_SEC)
#define DEFAULT_RETRIES2 15

static const unsigned hz_values[] = {100, 250, 300, 1000};

static liveness_time jiffy_ns(unsigned hz)
{
	return LIVENESS_SEC / hz;
}

/* Saturating multiplication: every schedule here is capped at LIVENESS_NEVER (see sat_add()). */
static liveness_time mul(liveness_time a, uint64_t k)
{
	return k != 0 && a > LIVENESS_NEVER / k ? LIVENESS_NEVER : a * k;
}

/* A delay as the kernel arms it: rounded up to whole jiffies. */
static liveness_time jiffies_up(liveness_time d, unsigned hz)
{
	liveness_time j = jiffy_ns(hz);

	return (d / j + (d % j != 0)) * j;
}

/*
 * How late one timer of delay d can fire: the rounding to jiffies, the
 * wheel level's granularity, and one tick for the softirq that runs it.
 */
static liveness_time timer_late(liveness_time d, unsigned hz)
{
	liveness_time j = jiffy_ns(hz);
	uint64_t jiffies = jiffies_up(d, hz) / j;
	uint64_t gran = 1, start = 63;

	while (jiffies >= start && gran < ((uint64_t)1 << 40)) {
		gran *= 8;
		start *= 8;
	}
	return (jiffies_up(d, hz) - d) + mul(j, gran + 1);
}

/* The smallest RTO a connection can have: TCP_RTO_MIN plus a sliver of RTT, in jiffies. */
static liveness_time rto_min(unsigned hz)
{
	return jiffies_up(TCP_RTO_MIN_NS + 1, hz);
}

static int read_retries2(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_retries2", "re");
	int v = DEFAULT_RETRIES2;

	if (f) {
		if (fscanf(f, "%d", &v) != 1 || v < 0 || v > 255)
			v = DEFAULT_RETRIES2;
		fclose(f);
	}
	return v;
}

/* tcp_model_timeout(): the time after retrans_stamp at which tcp_retries2 expires. */
static liveness_time retries_timeout(int retries)
{
	const unsigned thresh = 9; /* ilog2(TCP_RTO_MAX / TCP_RTO_MIN) = ilog2(600) */

	if ((unsigned)retries <= thresh)
		return mul(TCP_RTO_MIN_NS, (2u << retries) - 1);
	return TCP_RTO_MIN_NS * ((2u << thresh) - 1) +
	       mul(TCP_RTO_MAX_NS, (unsigned)retries - thresh);
}

static liveness_time idle_schedule(const struct liveness_tcp *t, unsigned hz, int nominal)
{
	liveness_time idle = (liveness_time)t->idle * LIVENESS_SEC;
	liveness_time intvl = (liveness_time)t->interval * LIVENESS_SEC;
	liveness_time u = (liveness_time)t->user_timeout * LIVENESS_MSEC;
	uint64_t k = (uint64_t)t->count;

	if (t->user_timeout != 0)
		k = u <= idle ? 1 : (u - idle + intvl - 1) / intvl;
	if (k < 1)
		k = 1;
	if (nominal)
		return sat_add(idle, mul(intvl, k));
	return sat_add(sat_add(idle, timer_late(idle, hz)),
		       mul(sat_add(intvl, timer_late(intvl, hz)), k));
}

static liveness_time busy_schedule(const struct liveness_tcp *t, unsigned hz, int nominal,
				   int retries)
{
	liveness_time rto = rto_min(hz);
	liveness_time rto_late = nominal ? 0 : timer_late(rto, hz);
	/* Tail loss probe, then the first RTO retransmission: retrans_stamp. */
	liveness_time stamp = 2 * (rto + rto_late);
	liveness_time limit, elapsed = 0, d = rto;

	if (t->user_timeout != 0) {
		liveness_time u = (liveness_time)t->user_timeout * LIVENESS_MSEC;
		liveness_time last = u < TCP_RTO_MAX_NS ? u : TCP_RTO_MAX_NS;
		return sat_add(sat_add(stamp, u), nominal ? 0 : timer_late(last, hz));
	}
	/* The timer fires on the backoff grid; death is the first tick past the limit. */
	limit = retries_timeout(retries);
	while (elapsed < limit) {
		d = d * 2 > TCP_RTO_MAX_NS ? TCP_RTO_MAX_NS : d * 2;
		elapsed += d + (nominal ? 0 : timer_late(d, hz));
	}
	return sat_add(stamp, elapsed);
}

static liveness_time bound(const struct liveness_tcp *t, int flags, int retries)
{
	int busy = flags & LIVENESS_BUSY, nominal = (flags & LIVENESS_NOMINAL) != 0;
	liveness_time worst = 0;
	size_t i;

	/* Bad input gets 0, which no setting gives: detection takes at least a second. */
	if (!t || !liveness__tcp_timing_valid(t) || (flags & ~(LIVENESS_BUSY | LIVENESS_NOMINAL)))
		return 0;
	if (!busy && !t->keepalive)
		return LIVENESS_NEVER;
	for (i = 0; i < sizeof(hz_values) / sizeof(hz_values[0]); i++) {
		liveness_time b = busy ? busy_schedule(t, hz_values[i], nominal, retries)
				       : idle_schedule(t, hz_values[i], nominal);
		if (b > worst)
			worst = b;
	}
	return worst;
}

LIVENESS_EXPORT liveness_time liveness_tcp_bound(const struct liveness_tcp *t, int flags)
{
	int retries = DEFAULT_RETRIES2;

	if ((flags & LIVENESS_BUSY) && t && t->user_timeout == 0)
		retries = read_retries2();
	return bound(t, flags, retries);
}

/*
 * The recipe: probes begin after half the budget (healthy idle peers are
 * not probed early), then every tenth of it; TCP_USER_TIMEOUT is the
 * largest value for which both the busy schedule (about 2 RTO + U) and the
 * first keepalive tick at or after U still end within the budget, worst
 * case. The count matches that tick, so kernels without TCP_USER_TIMEOUT
 * end at the same place.
 */
LIVENESS_EXPORT int liveness_tcp_plan(struct liveness_tcp *t, liveness_time budget)
{
	struct liveness_tcp p;
	liveness_time budget_s, u_lo, u_hi;

	if (!t || budget == 0)
		return -EINVAL;
	budget_s = budget / LIVENESS_SEC;
	if (budget < 2 * LIVENESS_SEC || budget / LIVENESS_MSEC > INT_MAX)
		return -ERANGE;
	p.keepalive = 1;
	p.linger = -1;
	p.interval = budget_s / 10 < 1				 ? 1
		     : budget_s / 10 > LIVENESS_TCP_MAX_INTERVAL ? LIVENESS_TCP_MAX_INTERVAL
								 : (int)(budget_s / 10);
	p.idle = budget_s / 2 < 1			? 1
		 : budget_s / 2 > LIVENESS_TCP_MAX_IDLE ? LIVENESS_TCP_MAX_IDLE
							: (int)(budget_s / 2);
	p.count = 1;

	/* Binary search for the largest U (ms) that meets the budget both ways. */
	u_lo = 0;
	u_hi = budget / LIVENESS_MSEC + 1;
	while (u_hi - u_lo > 1) {
		liveness_time mid = u_lo + (u_hi - u_lo) / 2;
		p.user_timeout = (unsigned)mid;
		if (bound(&p, LIVENESS_BUSY, 0) <= budget && bound(&p, LIVENESS_IDLE, 0) <= budget)
			u_lo = mid;
		else
			u_hi = mid;
	}
	if (u_lo == 0)
		return -ERANGE;
	p.user_timeout = (unsigned)u_lo;
	{
		liveness_time u = u_lo * LIVENESS_MSEC, idle = (liveness_time)p.idle * LIVENESS_SEC;
		liveness_time intvl = (liveness_time)p.interval * LIVENESS_SEC;
		uint64_t k = u <= idle ? 1 : (u - idle + intvl - 1) / intvl;
		if (k > LIVENESS_TCP_MAX_COUNT)
			return -ERANGE;
		p.count = (int)k;
	}
	*t = p;
	return 0;
}

/* For lib/diagnose.c, which judges whether a closed connection ran out of retransmissions. */
int liveness__tcp_retries2(void)
{
	return read_retries2();
}

liveness_time liveness__retries_timeout(int retries)
{
	return retries_timeout(retries);
}
