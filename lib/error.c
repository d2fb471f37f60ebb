/*
 * liveness_version(), liveness_strerror() and liveness_cause_name(): static
 * strings, never NULL.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "liveness.h"

#define STRING(x) #x
#define VERSION_OF(major, minor, patch) STRING(major) "." STRING(minor) "." STRING(patch)

LIVENESS_EXPORT const char *liveness_version(void)
{
	return VERSION_OF(LIVENESS_VERSION_MAJOR, LIVENESS_VERSION_MINOR, LIVENESS_VERSION_PATCH);
}

/*
 * The system's description of an errno the library gives no meaning of its
 * own. glibc's strerrordesc_np() (2.32 on) returns a static, untranslated
 * string and is safe in any thread; elsewhere strerror(3) is the portable
 * call (musl's returns static strings too). NULL when the system knows none:
 * musl gives any errno it does not know its description of 0 ("No error
 * information"), and err is never 0 here.
 */
static const char *system_description(int err)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
	return strerrordesc_np(err);
#else
	const char *s = strerror(err);

	return strcmp(s, strerror(0)) == 0 ? NULL : s;
#endif
}

/*
 * Our own words for every errno this library returns, with the meaning it
 * has here (EIO: the read-back differed); the system's for any other, so
 * that a caller may pass a libc errno too.
 */
LIVENESS_EXPORT const char *liveness_strerror(int err)
{
	const char *s;

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
	case EEXIST: return "already in a group";
	case EBUSY: return "still in a group";
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
	default: s = system_description(err); return s != NULL && *s != '\0' ? s : "unknown error";
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
	case LIVENESS_VANISHED: return "vanished";
	}
	return "unknown";
}
