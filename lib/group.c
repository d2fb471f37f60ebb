/*
 * Layer 4: many heartbeats stepped from one loop. A single-level hashed
 * timing wheel (Varghese and Lauck) over the struct liveness_hb objects the
 * caller embeds: the links live in the hb, so the group allocates only the
 * wheel, at init.
 *
 * Timeouts are lazy, as in the kernel's keepalive timer and libev's "be
 * smart about timeouts": liveness_hb_rx() only stores a time, so a member
 * stays filed at the deadline it had when filed. When that slot comes up,
 * the member's real deadline is computed; if rx moved it later, the member
 * is re-filed and nothing is returned for it. That is sound because an hb
 * deadline never moves earlier except by a step (lib/hb.c), and it costs a
 * visit per connection about once per interval instead of timer work per
 * packet.
 *
 * A member with deadline d is filed at tick ceil(d / resolution), in slot
 * tick % slots. The wheel holds no tick count per member: a member filed
 * more than a revolution ahead is simply visited and re-filed once per
 * revolution, which also makes far deadlines work.
 *
 * Each slot has 8 lanes, filed round-robin and stepped round-robin with a
 * prefetch of each lane's next member, so that walking a slot waits for up
 * to 8 cache misses at once instead of one at a time: with a million
 * connections, visiting a member is a cache miss.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hb_private.h"

#define LANES 8
#define MIN_SLOTS 256
#define MAX_SLOTS 16384
/* Slots enough for a revolution of about this long: longer than usual intervals. */
#define REVOLUTION (64 * LIVENESS_SEC)

_Static_assert(sizeof(((struct liveness_group *)0)->due) / sizeof(struct liveness_hb *) == LANES,
	       "due lanes");

#if defined(__GNUC__)
#define prefetch(p) __builtin_prefetch(p, 1)
#else
#define prefetch(p) ((void)(p))
#endif

static void list_push(struct liveness_hb **head, struct liveness_hb *hb)
{
	hb->next = *head;
	if (hb->next != NULL)
		hb->next->pprev = &hb->next;
	*head = hb;
	hb->pprev = head;
}

static uint32_t slots(const struct liveness_group *g)
{
	return g->mask + 1;
}

static void set_used(struct liveness_group *g, uint32_t slot)
{
	g->used[slot >> 6] |= (uint64_t)1 << (slot & 63);
}

static void clear_used(struct liveness_group *g, uint32_t slot)
{
	g->used[slot >> 6] &= ~((uint64_t)1 << (slot & 63));
}

static int slot_empty(const struct liveness_group *g, uint32_t slot)
{
	for (int i = 0; i < LANES; i++)
		if (g->wheel[(size_t)slot * LANES + i] != NULL)
			return 0;
	return 1;
}

/* File hb by its deadline d: on the wheel, in the due lanes, or with no deadline. */
static void file(struct liveness_group *g, struct liveness_hb *hb, liveness_time d)
{
	uint64_t tick;
	uint32_t slot, lane = g->lane++ & (LANES - 1);

	tick = d / g->resolution + (d % g->resolution != 0); /* never early */
	if (d == LIVENESS_NEVER || (d > g->now && tick > g->max_tick)) {
		/* Deadlines only move later, so such a member needs no step again. */
		list_push(&g->never, hb);
		return;
	}
	if (d <= g->now) {
		list_push(&g->due[lane], hb);
		return;
	}
	slot = (uint32_t)(tick & g->mask);
	list_push(&g->wheel[(size_t)slot * LANES + lane], hb);
	set_used(g, slot);
}

static void unlink_hb(struct liveness_group *g, struct liveness_hb *hb)
{
	struct liveness_hb **pp = hb->pprev;
	uintptr_t at = (uintptr_t)pp, base = (uintptr_t)g->wheel;

	*pp = hb->next;
	if (hb->next != NULL)
		hb->next->pprev = pp;
	hb->next = NULL;
	hb->pprev = NULL;
	if (*pp == NULL && at >= base && at < base + (uintptr_t)slots(g) * LANES * sizeof(*pp)) {
		uint32_t slot = (uint32_t)((at - base) / sizeof(*pp) / LANES);

		if (slot_empty(g, slot))
			clear_used(g, slot);
	}
}

/*
 * The first used slot among the count ticks from tick on (count <= slots),
 * as a tick, in *found. Returns 0 if there is none.
 */
static int find_used(const struct liveness_group *g, uint64_t tick, uint64_t count,
		     uint64_t *found)
{
	uint32_t s = (uint32_t)(tick & g->mask);
	uint64_t seen = 0, w;

	while (seen < count) {
		w = g->used[s >> 6] >> (s & 63);
		if (w != 0) {
			seen += (uint64_t)__builtin_ctzll(w);
			if (seen >= count)
				return 0;
			*found = tick + seen;
			return 1;
		}
		seen += 64 - (s & 63);
		s = (s + 64 - (s & 63)) & g->mask;
	}
	return 0;
}

LIVENESS_EXPORT int liveness_group_init(struct liveness_group *g, liveness_time resolution,
					liveness_time now)
{
	liveness_time want;
	uint32_t n = MIN_SLOTS;
	struct liveness_hb **wheel;
	uint64_t *used;

	if (g == NULL || resolution == 0)
		return -EINVAL;
	want = REVOLUTION / resolution;
	while (n < want && n < MAX_SLOTS)
		n *= 2;
	wheel = calloc((size_t)n * LANES, sizeof(*wheel));
	used = calloc(n / 64, sizeof(*used));
	if (wheel == NULL || used == NULL) {
		free(wheel);
		free(used);
		return -ENOMEM;
	}
	memset(g, 0, sizeof(*g));
	g->wheel = wheel;
	g->used = used;
	g->resolution = resolution;
	g->now = now;
	g->tick = now / resolution + 1; /* ticks up to now count as visited */
	g->max_tick = (LIVENESS_NEVER - 1) / resolution;
	g->mask = n - 1;
	return 0;
}

static void detach_all(struct liveness_hb *hb)
{
	struct liveness_hb *next;

	for (; hb != NULL; hb = next) {
		next = hb->next;
		hb->next = NULL;
		hb->pprev = NULL;
	}
}

LIVENESS_EXPORT void liveness_group_free(struct liveness_group *g)
{
	if (g == NULL || g->wheel == NULL)
		return;
	for (size_t i = 0; i < (size_t)slots(g) * LANES; i++)
		detach_all(g->wheel[i]);
	for (int i = 0; i < LANES; i++)
		detach_all(g->due[i]);
	detach_all(g->never);
	free(g->wheel);
	free(g->used);
	memset(g, 0, sizeof(*g));
}

LIVENESS_EXPORT int liveness_group_add(struct liveness_group *g, struct liveness_hb *hb)
{
	if (g == NULL || g->wheel == NULL || hb == NULL || hb->policy == NULL)
		return -EINVAL;
	if (hb->pprev != NULL)
		return -EEXIST;
	/*
	 * Members are stepped up to one resolution late; more than retry late
	 * would read as a local stall (lib/hb.c) and postpone a verdict.
	 */
	if (hb->policy->retry < g->resolution)
		return -EINVAL;
	file(g, hb, liveness_hb_deadline(hb));
	return 0;
}

LIVENESS_EXPORT void liveness_group_remove(struct liveness_group *g, struct liveness_hb *hb)
{
	if (g == NULL || g->wheel == NULL || hb == NULL || hb->pprev == NULL)
		return;
	unlink_hb(g, hb);
}

LIVENESS_EXPORT liveness_time liveness_group_deadline(const struct liveness_group *g)
{
	uint64_t tick;

	if (g == NULL || g->wheel == NULL)
		return LIVENESS_NEVER;
	for (int i = 0; i < LANES; i++)
		if (g->due[i] != NULL)
			return g->now;
	if (!find_used(g, g->tick, slots(g), &tick))
		return LIVENESS_NEVER;
	/* A slot may hold members a revolution ahead: then this is early, never late. */
	if (tick > g->max_tick)
		return LIVENESS_NEVER - 1;
	return tick * g->resolution;
}

/*
 * Take the next member off the due lanes, round-robin, prefetching the one
 * behind it. The new lane head's pprev is left stale (it would cost a miss
 * now); fix_due() repairs the heads before control returns to the caller.
 */
static struct liveness_hb *pop_due(struct liveness_group *g)
{
	for (uint32_t i = 0; i < LANES; i++) {
		uint32_t lane = (g->next_due + i) & (LANES - 1);
		struct liveness_hb *hb = g->due[lane];

		if (hb != NULL) {
			g->due[lane] = hb->next;
			if (hb->next != NULL)
				prefetch(hb->next);
			g->next_due = lane + 1;
			hb->next = NULL;
			hb->pprev = NULL;
			return hb;
		}
	}
	return NULL;
}

static void fix_due(struct liveness_group *g)
{
	for (int i = 0; i < LANES; i++)
		if (g->due[i] != NULL)
			g->due[i]->pprev = &g->due[i];
}

/* Move the next used slot due at now to the due lanes. Returns 0 if none. */
static int take_slot(struct liveness_group *g, liveness_time now)
{
	uint64_t now_tick = now / g->resolution, tick;
	uint32_t slot;

	if (g->tick > now_tick)
		return 0;
	/* After a long gap, one revolution visits every slot. */
	if (now_tick - g->tick >= slots(g))
		g->tick = now_tick - slots(g) + 1;
	if (!find_used(g, g->tick, now_tick - g->tick + 1, &tick)) {
		g->tick = now_tick + 1;
		return 0;
	}
	slot = (uint32_t)(tick & g->mask);
	for (int i = 0; i < LANES; i++) {
		struct liveness_hb **head = &g->wheel[(size_t)slot * LANES + i];

		g->due[i] = *head;
		*head = NULL;
		if (g->due[i] != NULL)
			prefetch(g->due[i]);
	}
	clear_used(g, slot);
	g->tick = tick + 1;
	return 1;
}

LIVENESS_EXPORT struct liveness_hb *liveness_group_step(struct liveness_group *g,
							liveness_time now,
							enum liveness_event *ev, uint32_t *seq)
{
	struct liveness_hb *hb;
	enum liveness_event e;
	liveness_time next;

	if (ev != NULL)
		*ev = LIVENESS_NONE;
	if (g == NULL || g->wheel == NULL)
		return NULL;
	if (now < g->now)
		now = g->now; /* a clock running backwards: no time passes */
	g->now = now;
	for (;;) {
		hb = pop_due(g);
		if (hb == NULL) {
			if (!take_slot(g, now))
				return NULL;
			continue;
		}
		e = liveness__hb_step(hb, now, seq, &next);
		if (e != LIVENESS_DEAD)
			file(g, hb, next);
		if (e != LIVENESS_NONE) {
			fix_due(g);
			if (ev != NULL)
				*ev = e;
			return hb;
		}
	}
}
