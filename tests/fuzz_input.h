/*
 * What the libFuzzer targets (tests/fuzz_*.c) share: an invariant check that
 * traps, so that libFuzzer keeps the input, and a reader that takes the
 * input a few bytes at a time as numbers.
 */
#ifndef LIVENESS_TESTS_FUZZ_INPUT_H
#define LIVENESS_TESTS_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x))                                                                          \
			__builtin_trap();                                                          \
	} while (0)

struct in {
	const uint8_t *p;
	size_t n;
};

/* The next bytes of input as a number, big-endian; zeros once the input runs out. */
static inline uint64_t take(struct in *in, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++) {
		v = v << 8 | (in->n > 0 ? *in->p : 0);
		if (in->n > 0)
			in->p++, in->n--;
	}
	return v;
}

#endif
