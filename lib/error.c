/* liveness_strerror() and liveness_cause_name(): static strings, never NULL. */
#include <errno.h>
#include <limits.h>

#include "liveness.h"

/*
 * Our own table rather than strerror(3): strerror is not thread-safe on every
 * libc, and strerrordesc_np() is glibc-only. It covers every errno this
 * library returns, with the meaning it has here.
 */
LIVENESS_EXPORT const char *liveness_strerror(int err)
{
	/* INT_MIN has no positive counterpart; it is no errno either. */
	if (err == INT_MIN)
		return "unknown error";
	if (err < 0)
		err = -err;
	switch (err) {
	case 0: return "success";
	case EINVAL: return "invalid argument";
	case ERANGE: return "value out of range";
	case EBADF: return "bad file descriptor";
	case ENOTSOCK: return "not a socket";
	case EPROTOTYPE: return "not a TCP socket";
	case ENOTSUP: return "not supported on this system";
	case EIO: return "kernel holds other values than were set";
	case ENOMEM: return "out of memory";
	case EEXIST: return "already present";
	case ENOENT: return "not present";
	case EPERM: return "operation not permitted";
	case EACCES: return "permission denied";
	case EAGAIN: return "resource temporarily unavailable";
	case ENOPROTOOPT: return "protocol option not available";
	case ETIMEDOUT: return "connection timed out";
	case ECONNRESET: return "connection reset by peer";
	case ECONNREFUSED: return "connection refused";
	case EPIPE: return "broken pipe";
	case ENOTCONN: return "socket not connected";
	case EHOSTUNREACH: return "host unreachable";
	case ENETUNREACH: return "network unreachable";
	case EMFILE: return "too many open files in process";
	case ENFILE: return "too many open files in system";
	case EOVERFLOW: return "value too large";
	default: return "unknown error";
	}
}

LIVENESS_EXPORT const char *liveness_cause_name(enum liveness_cause c)
{
	switch (c) {
	case LIVENESS_ALIVE: return "alive";
	case LIVENESS_CLOSED: return "closed";
	case LIVENESS_RESET: return "reset";
	case LIVENESS_REFUSED: return "refused";
	case LIVENESS_UNREACHABLE: return "unreachable";
	case LIVENESS_KEEPALIVE_TIMEOUT: return "keepalive-timeout";
	case LIVENESS_RETRANSMIT_TIMEOUT: return "retransmit-timeout";
	case LIVENESS_HEARTBEAT_TIMEOUT: return "heartbeat-timeout";
	case LIVENESS_FLOOD: return "flood";
	case LIVENESS_LOCAL_ERROR: return "local-error";
	}
	return "unknown";
}
