#!/bin/sh
# Build the library with another toolchain and run suites against it, for
# toolchains without libcheck: musl-gcc, gcc -m32 on a 64-bit Debian. The
# suites are compiled against tests/minicheck/ (the part of Check's API they
# use), linked to BUILD/libliveness.a with the same --wrap wrappers as the
# real runner, and run on real loopback sockets.
#
#   CC=musl-gcc sh tests/portable.sh BUILD [SUITE...]
#   CC='gcc -m32' TARGETS='libliveness.so liveness' sh tests/portable.sh build-m32 hb group
#
# BUILD is a build directory of its own (make BUILD=...). TARGETS are built
# there too (relative to BUILD; libliveness.a always). SUITE defaults to the
# pure and loopback suites: time error hb group tcp diagnose oom. WERROR=1
# is the default. Prints the runner's summary; fails on any failure.
set -eu
LC_ALL=C
export LC_ALL

cd "$(dirname "$0")/.." || exit 1
[ $# -ge 1 ] || { echo "usage: CC=... $0 BUILD [SUITE...]" >&2; exit 2; }
B=$1
shift
suites=${*:-time error hb group tcp diagnose oom}
CC=${CC:-cc}
MAKE=${MAKE:-make}
die() {
	echo "portable: FAIL ($CC): $*" >&2
	exit 1
}

targets="$B/libliveness.a"
for t in ${TARGETS:-}; do targets="$targets $B/$t"; done
# shellcheck disable=SC2086
$MAKE -s --no-print-directory BUILD="$B" CC="$CC" WERROR="${WERROR:-1}" $targets ||
	die "make $targets failed"

mkdir -p "$B/minicheck"
srcs=
: >"$B/minicheck/suites.h"
for s in $suites; do
	[ -f "tests/check_$s.c" ] || die "no tests/check_$s.c"
	echo "SUITE($s)" >>"$B/minicheck/suites.h"
	srcs="$srcs tests/check_$s.c"
done
wraps=$(sed -n 's/^TEST_WRAPPED := //p' Makefile)
wrapflags=
for w in $wraps; do wrapflags="$wrapflags -Wl,--wrap=$w"; done
werror=
[ "${WERROR:-1}" = 1 ] && werror=-Werror
# shellcheck disable=SC2086
$CC -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra $werror -Wno-missing-prototypes \
	-Itests/minicheck -I"$B/minicheck" -Itests -Iexamples -Iinclude -o "$B/minicheck/runner" \
	tests/run.c $srcs tests/util.c tests/wrap.c examples/netns.c tests/minicheck/minicheck.c \
	"$B/libliveness.a" $wrapflags -lm || die "the runner does not build"

out=$B/minicheck/run.log
rc=0
LIVENESS_BUILD=$B "$B/minicheck/runner" >"$out" 2>&1 || rc=$?
grep -v '^Running suite' "$out" | grep -E '^[^ ]+:[0-9]+:[FE]:|Checks:' || true
summary=$(grep 'Checks:' "$out" | tail -n 1)
case $summary in
*"Failures: 0, Errors: 0") [ "$rc" = 0 ] || die "runner exited $rc" ;;
*) die "suites failed (whole log: $out)" ;;
esac
echo "portable: ok ($CC; suites: $suites; $summary)"
