/*
 * Layer 4: many heartbeats stepped from one loop. A single-level hashed
 * timing wheel (Varghese and Lauck) over the struct liveness_hb objects the
 * caller embeds.
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
 * revolution, which also makes far deadlines work. A member due a revolution
 * after the slot being stepped is filed a slot earlier instead: early, never
 * late, and never back into the slot being emptied.
 *
 * With a million connections, visiting a member is a cache miss (~200 ns
 * here), and the visits are nearly the whole cost of the group. So a slot is
 * not a linked list through the members, whose walk waits for one miss at a
 * time and whose filing writes to a neighbour (a second miss), but an array
 * of member pointers: stepping prefetches the member PREFETCH places ahead,
 * so that many misses are in flight at once, and filing appends a pointer to
 * the slot's array, which is in cache. hb->pprev points at the member's
 * entry; removal is O(1) by moving the array's last entry into the hole.
 *
 * The visit itself is cheap: unless a ping awaits its answer, proof plus
 * the policy's interval less the member's jitter is a lower bound of the
 * deadline (hb_due_floor()). The group keeps the interval and jitter span
 * of the policy of the member added last (a policy stays unchanged while
 * any hb uses it, and adding a member refreshes them), so for members of
 * that policy the bound is a load, a multiplication and an add.
 * When that bound is still ahead, the member is re-filed there without
 * computing the real deadline; at worst that costs one early visit. Only a
 * member that may be due goes through liveness__hb_step().
 *
 * The arrays are lists of chunks of CHUNK_BYTES (aligned to their size, so
 * an entry's address gives its chunk, and the chunk its list). Every chunk
 * of a list but its head is full, so a list of k members holds
 * ceil(k / ENTRIES) chunks and the group at most
 * ceil(members / ENTRIES) + min(members, slots + 2) of them. The group keeps
 * that many: liveness_group_add() grows the spare chunks by half, and is the
 * one call that can fail with -ENOMEM (changing nothing); removing and
 * stepping never allocate and never run short. That is 8 bytes per member
 * (12 at most after growing), plus a chunk per slot once there are more
 * members than slots.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hb_private.h"

#define MIN_SLOTS 256
#define MAX_SLOTS 16384
/* Slots enough for a revolution of about this long: longer than usual intervals. */
#define REVOLUTION (64 * LIVENESS_SEC)
/* Chunks are this big and aligned to it. */
#define CHUNK_BYTES 512
/* Chunks allocated at least at once; otherwise half as many as there are. */
#define MIN_BLOCK 64
/* Members prefetched ahead of the one being stepped (at most ENTRIES). */
#define PREFETCH 48

/* A list of members: a slot of the wheel, due, or never. */
struct liveness__bucket {
	struct liveness__chunk *head; /* the only chunk that may be partly full */
	uint64_t n;		      /* entries in use in head */
};

#define ENTRIES ((CHUNK_BYTES - 2 * sizeof(void *)) / sizeof(void *))

struct liveness__chunk {
	struct liveness__chunk *next; /* in its list, the spare chunks, or the blocks */
	struct liveness__bucket *bucket;
	struct liveness_hb *hb[ENTRIES];
};

/*
 * The group: private, so that the wheel's layout can change without
 * breaking a caller; one allocation holds it, the used bits and the
 * buckets (liveness_group_new()).
 */
struct liveness_group {
	/* Aligned to 8 so that its size is a multiple of 8 where uint64_t
	 * members align to 4 only (i386): the used bits follow it. */
	_Alignas(8) struct liveness__bucket *wheel; /* slots + 2 buckets: the slots, due, never */
	struct liveness__bucket *cur;		    /* the slot being stepped, or NULL */
	struct liveness__chunk *spare;		    /* free chunks of member pointers */
	struct liveness__chunk *blocks;		    /* allocations of chunks */
	uint64_t *used;				    /* one bit per non-empty slot */
	const struct liveness_policy *policy;	    /* of the member added last; NULL if none */
	liveness_time interval, span;		    /* its interval and jitter span */
	liveness_time resolution;
	uint64_t magic;	   /* UINT64_MAX / resolution, to divide by it */
	liveness_time now; /* latest time passed in */
	uint64_t tick;	   /* next wheel tick to visit */
	uint64_t max_tick; /* last tick whose time is representable */
	uint64_t members;
	uint64_t chunks; /* chunks allocated, for members */
	uint32_t mask;	 /* slots - 1 */
};

_Static_assert(sizeof(struct liveness__chunk) == CHUNK_BYTES, "chunk size");
_Static_assert(sizeof(struct liveness_group) % sizeof(uint64_t) == 0,
	       "the used bits follow the group in its allocation");
_Static_assert((CHUNK_BYTES & (CHUNK_BYTES - 1)) == 0, "chunks align to their size");
_Static_assert(PREFETCH <= ENTRIES, "prefetch within the next chunk");

#if defined(__GNUC__)
#define prefetch(p) __builtin_prefetch(p, 1)
#define always_inline inline __attribute__((always_inline))
#else
#define prefetch(p) ((void)(p))
#define always_inline inline
#endif

static struct liveness__chunk *chunk_of(struct liveness_hb **entry)
{
	return (struct liveness__chunk *)((uintptr_t)entry & ~(uintptr_t)(CHUNK_BYTES - 1));
}

static void prefetch_chunk(const struct liveness__chunk *c)
{
	for (size_t i = 0; i < CHUNK_BYTES; i += 64)
		prefetch((const char *)c + i);
}

static uint32_t slots(const struct liveness_group *g)
{
	return g->mask + 1;
}

static struct liveness__bucket *due(const struct liveness_group *g)
{
	return &g->wheel[slots(g)];
}

static void set_used(struct liveness_group *g, uint32_t slot)
{
	g->used[slot >> 6] |= (uint64_t)1 << (slot & 63);
}

/* Chunks the group may need with this many members; see the top comment. */
static uint64_t chunks_needed(const struct liveness_group *g, uint64_t members)
{
	uint64_t lists = (uint64_t)slots(g) + 2;

	return (members + ENTRIES - 1) / ENTRIES + (members < lists ? members : lists);
}

/* Grow the spare chunks for one more member. Returns 0 or -ENOMEM, changing nothing. */
static int reserve(struct liveness_group *g)
{
	uint64_t want = chunks_needed(g, g->members + 1), count;
	struct liveness__chunk *block;

	if (want <= g->chunks)
		return 0;
	count = g->chunks / 2 > MIN_BLOCK ? g->chunks / 2 : MIN_BLOCK;
	if (count < want - g->chunks)
		count = want - g->chunks;
	/* One more chunk heads the block, to link the blocks for free(). */
	if (count + 1 > SIZE_MAX / CHUNK_BYTES)
		return -ENOMEM;
	block = aligned_alloc(CHUNK_BYTES, (size_t)(count + 1) * CHUNK_BYTES);
	if (block == NULL)
		return -ENOMEM;
	block->next = g->blocks;
	g->blocks = block;
	for (uint64_t i = count; i >= 1; i--) {
		block[i].next = g->spare;
		g->spare = &block[i];
	}
	g->chunks += count;
	return 0;
}

/* Append hb to bucket b. The spare chunks cannot run out (see reserve()). */
static always_inline void push(struct liveness_group *g, struct liveness__bucket *b,
			       struct liveness_hb *hb)
{
	struct liveness__chunk *c = b->head;
	uint64_t n = b->n;

	if (c == NULL || n == ENTRIES) {
		c = g->spare;
		g->spare = c->next;
		c->next = b->head;
		c->bucket = b;
		b->head = c;
		n = 0;
	}
	c->hb[n] = hb;
	hb->pprev = &c->hb[n];
	b->n = n + 1;
}

/* b's head chunk was emptied: drop it. */
static void drop_head(struct liveness_group *g, struct liveness__bucket *b)
{
	struct liveness__chunk *c = b->head;
	uint32_t slot = (uint32_t)(b - g->wheel);

	b->head = c->next;
	b->n = b->head != NULL ? ENTRIES : 0;
	c->next = g->spare;
	g->spare = c;
	if (b->head == NULL && slot < slots(g)) {
		g->used[slot >> 6] &= ~((uint64_t)1 << (slot & 63));
		if (b == g->cur)
			g->cur = NULL;
	}
}

/*
 * The group's fields that filing reads, copied: stores through member and
 * chunk pointers could alias the group, so the compiler would load them
 * again for every member; a local copy stays in registers.
 */
struct view {
	struct liveness__bucket *wheel;
	const struct liveness__bucket *cur;
	liveness_time now, resolution;
	uint64_t magic, max_tick;
	uint32_t mask;
};

static always_inline struct view view_of(const struct liveness_group *g)
{
	struct view v = {g->wheel, g->cur, g->now, g->resolution, g->magic, g->max_tick, g->mask};

	return v;
}

/* ceil(d / resolution), with a multiplication rather than a division where possible. */
static inline uint64_t tick_of(const struct view *v, liveness_time d)
{
#if defined(__SIZEOF_INT128__)
	/* magic is UINT64_MAX / resolution: q is d / resolution or one less. */
	__extension__ typedef unsigned __int128 u128;
	uint64_t q = (uint64_t)((u128)d * v->magic >> 64);
	uint64_t r = d - q * v->resolution;

	if (r >= v->resolution) {
		q++;
		r -= v->resolution;
	}
	return q + (r != 0);
#else
	return d / v->resolution + (d % v->resolution != 0);
#endif
}

/* File hb by its deadline d: on the wheel, in the due bucket, or with no deadline. */
static always_inline void file(struct liveness_group *g, const struct view *v,
			       struct liveness_hb *hb, liveness_time d)
{
	struct liveness__bucket *b;
	uint64_t tick;
	uint32_t slot;

	if (d <= v->now && d != LIVENESS_NEVER) {
		push(g, &v->wheel[v->mask + 1], hb); /* due */
		return;
	}
	tick = tick_of(v, d); /* never early */
	if (d == LIVENESS_NEVER || tick > v->max_tick) {
		/* Deadlines only move later, so such a member needs no step again. */
		push(g, &v->wheel[v->mask + 2], hb); /* never */
		return;
	}
	slot = (uint32_t)(tick & v->mask);
	b = &v->wheel[slot];
	/*
	 * The slot being stepped is due now: this member is due a revolution
	 * later. File it a tick earlier instead (early, never late).
	 */
	if (b == v->cur) {
		slot = (slot - 1) & v->mask;
		b = &v->wheel[slot];
	}
	if (b->head == NULL)
		set_used(g, slot);
	push(g, b, hb);
}

/* The index of the lowest set bit of w, which is not 0. */
static inline unsigned lowest_bit(uint64_t w)
{
#if defined(__GNUC__)
	return (unsigned)__builtin_ctzll(w);
#else
	unsigned n = 0;

	while (!(w & 1)) {
		w >>= 1;
		n++;
	}
	return n;
#endif
}

/*
 * The first used slot among the count ticks from tick on (count <= slots),
 * as a tick, in *found. Returns 0 if there is none.
 */
static int find_used(const struct liveness_group *g, uint64_t tick, uint64_t count, uint64_t *found)
{
	uint32_t s = (uint32_t)(tick & g->mask);
	uint64_t seen = 0, w;

	while (seen < count) {
		w = g->used[s >> 6] >> (s & 63);
		if (w != 0) {
			seen += lowest_bit(w);
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

LIVENESS_EXPORT int liveness_group_new(struct liveness_group **gp, liveness_time resolution,
				       liveness_time now)
{
	liveness_time want;
	uint32_t n = MIN_SLOTS;
	struct liveness_group *g;

	if (gp == NULL || resolution == 0)
		return -EINVAL;
	want = REVOLUTION / resolution;
	while (n < want && n < MAX_SLOTS)
		n *= 2;
	/* One allocation: the group, the used bits, the slots, the due and never buckets. */
	g = calloc(1, sizeof(*g) + n / 64 * sizeof(uint64_t) +
			      (n + 2) * sizeof(struct liveness__bucket));
	if (g == NULL)
		return -ENOMEM;
	g->used = (uint64_t *)(g + 1);
	g->wheel = (struct liveness__bucket *)(g->used + n / 64);
	g->resolution = resolution;
	g->magic = UINT64_MAX / resolution;
	g->now = now;
	g->tick = now / resolution + 1; /* ticks up to now count as visited */
	g->max_tick = (LIVENESS_NEVER - 1) / resolution;
	g->mask = n - 1;
	*gp = g;
	return 0;
}

LIVENESS_EXPORT void liveness_group_free(struct liveness_group *g)
{
	struct liveness__chunk *c, *next;

	if (g == NULL)
		return;
	for (uint32_t i = 0; i < slots(g) + 2; i++) {
		struct liveness__bucket *b = &g->wheel[i];

		for (c = b->head; c != NULL; c = c->next)
			for (uint64_t k = 0; k < (c == b->head ? b->n : ENTRIES); k++)
				c->hb[k]->pprev = NULL;
	}
	for (c = g->blocks; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(g); /* with the used bits and the buckets */
}

LIVENESS_EXPORT int liveness_group_add(struct liveness_group *g, struct liveness_hb *hb)
{
	struct view v;
	int err;

	if (g == NULL || hb == NULL || hb->policy == NULL)
		return -EINVAL;
	if (hb->pprev != NULL)
		return -EEXIST;
	/*
	 * Members are stepped up to one resolution late; more than retry late
	 * would read as a local stall (lib/hb.c) and postpone a verdict.
	 */
	if (hb->policy->retry < g->resolution)
		return -EINVAL;
	err = reserve(g);
	if (err != 0)
		return err;
	/* Refreshed on every add: a policy freed and another at its address. */
	g->policy = hb->policy;
	g->interval = hb->policy->interval;
	g->span = hb_span(hb->policy);
	g->members++;
	v = view_of(g);
	file(g, &v, hb, liveness_hb_deadline(hb));
	return 0;
}

LIVENESS_EXPORT void liveness_group_remove(struct liveness_group *g, struct liveness_hb *hb)
{
	struct liveness_hb **entry, *last;
	struct liveness__bucket *b;
	uintptr_t at;

	if (g == NULL || hb == NULL || hb->pprev == NULL)
		return;
	entry = hb->pprev;
	b = chunk_of(entry)->bucket;
	at = (uintptr_t)b - (uintptr_t)g->wheel;
	if (at >= ((uintptr_t)slots(g) + 2) * sizeof(*b))
		return; /* in another group */
	/* The bucket's last entry fills the hole. */
	last = b->head->hb[--b->n];
	*entry = last;
	last->pprev = entry;
	hb->pprev = NULL;
	if (b->n == 0)
		drop_head(g, b);
	g->members--;
}

LIVENESS_EXPORT liveness_time liveness_group_deadline(const struct liveness_group *g)
{
	uint64_t tick;

	if (g == NULL)
		return 0; /* no deadline is 0: time runs from the group's start on */
	if (due(g)->head != NULL || g->cur != NULL)
		return g->now;
	if (!find_used(g, g->tick, slots(g), &tick))
		return LIVENESS_NEVER;
	/* A slot may hold members a revolution ahead: then this is early, never late. */
	if (tick > g->max_tick)
		return LIVENESS_NEVER - 1;
	return tick * g->resolution;
}

/*
 * Take the next member off bucket b, from the end of its head chunk,
 * prefetching the member PREFETCH places behind it in that order, and the
 * chunk after the next when a chunk is used up.
 */
static inline struct liveness_hb *pop(struct liveness_group *g, struct liveness__bucket *b)
{
	struct liveness__chunk *c = b->head, *next;
	struct liveness_hb *hb;
	uint64_t i;

	/* hb->pprev is stale until hb is filed again, or set to NULL if it is not. */
	i = --b->n;
	hb = c->hb[i];
	next = c->next;
	if (i >= PREFETCH)
		prefetch(c->hb[i - PREFETCH]);
	else if (next != NULL)
		prefetch(next->hb[ENTRIES - PREFETCH + i]);
	if (i == 0) {
		/* The next chunk is in cache, and the one after it (see take_slot()). */
		if (next != NULL && next->next != NULL && next->next->next != NULL)
			prefetch_chunk(next->next->next);
		drop_head(g, b);
	}
	return hb;
}

/* Make the next used slot due at now the one being stepped. Returns 0 if none. */
static int take_slot(struct liveness_group *g, liveness_time now)
{
	uint64_t now_tick = now / g->resolution, tick;
	struct liveness__bucket *b;
	struct liveness__chunk *c;
	uint64_t k;

	if (g->tick > now_tick)
		return 0;
	/* After a long gap, one revolution visits every slot. */
	if (now_tick - g->tick >= slots(g))
		g->tick = now_tick - slots(g) + 1;
	if (!find_used(g, g->tick, now_tick - g->tick + 1, &tick)) {
		g->tick = now_tick + 1;
		return 0;
	}
	b = g->cur = &g->wheel[tick & g->mask];
	g->tick = tick + 1;
	/*
	 * Start the misses: the chunks after the first, and the first PREFETCH
	 * members. From here on pop() keeps two chunks ahead.
	 */
	c = b->head;
	if (c->next != NULL) {
		prefetch_chunk(c->next);
		if (c->next->next != NULL)
			prefetch_chunk(c->next->next);
	}
	k = b->n;
	for (int i = 0; i < PREFETCH; i++) {
		if (k == 0) {
			if ((c = c->next) == NULL)
				break;
			k = ENTRIES;
		}
		prefetch(c->hb[--k]);
	}
	return 1;
}

/*
 * Step the slot being stepped while its members only need re-filing (rx
 * moved their deadlines on: nearly every visit), in a loop that keeps the
 * group's fields in registers. Returns the first member that may be due,
 * taken off the slot, or NULL once the slot is empty.
 */
static struct liveness_hb *refile(struct liveness_group *g, liveness_time now)
{
	const struct view v = view_of(g);
	const struct liveness_policy *policy = g->policy;
	const liveness_time interval = g->interval, span = g->span;
	struct liveness__bucket *b = g->cur;
	struct liveness_hb *hb;
	liveness_time gap, next;

	for (;;) {
		hb = pop(g, b);
		gap = hb->policy == policy ? interval - hb_jitter_of(hb, span) : hb_gap(hb);
		/* The floor may be early, which costs a visit, never a late one. */
		if ((hb->peer & HB_DEAD) || !hb_due_floor(hb, gap, &next) ||
		    next <= hb_clamp(hb, now))
			return hb;
		file(g, &v, hb, next);
		if (b->head == NULL)
			return NULL;
	}
}

LIVENESS_EXPORT int liveness_group_step(struct liveness_group *g, liveness_time now,
					struct liveness_hb **member, enum liveness_event *ev,
					uint32_t *seq)
{
	struct liveness_hb *hb;
	enum liveness_event e;
	liveness_time next;
	struct view v;

	if (g == NULL || member == NULL)
		return -EINVAL;
	*member = NULL;
	if (ev != NULL)
		*ev = LIVENESS_NONE;
	if (now < g->now)
		now = g->now; /* a clock running backwards: no time passes */
	g->now = now;
	for (;;) {
		struct liveness__bucket *b = due(g);

		if (b->head != NULL) {
			hb = pop(g, b);
		} else if (g->cur != NULL) {
			hb = refile(g, now);
			if (hb == NULL)
				continue;
		} else {
			if (!take_slot(g, now))
				return 0;
			continue;
		}
		/* Maybe due: the exact deadline, and what is due now. */
		e = liveness__hb_step(hb, now, seq, g->resolution, &next);
		if (e == LIVENESS_DEAD) {
			hb->pprev = NULL;
			g->members--;
		} else {
			v = view_of(g);
			file(g, &v, hb, next);
			if (e == LIVENESS_NONE)
				continue;
		}
		*member = hb;
		if (ev != NULL)
			*ev = e;
		return 1;
	}
}
