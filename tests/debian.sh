#!/bin/sh
# The Debian packages as a user gets them, as root on Debian (CI):
#  1. make dist, unpacked in a temporary directory with its .orig.tar.gz,
#     dpkg-buildpackage -us -uc -b there (never in this tree)
#  2. lintian: no error and no warning (informational and pedantic tags are
#     printed); the packages' contents are listed; the hardening flags are in
#     the binaries
#  3. apt-get install ./*.deb; an outside program built with
#     `pkg-config --cflags --libs liveness` runs; so does a CMake project
#     (tests/cmake/) found with find_package(liveness 1.0); `liveness doctor`
#     exits 0 or 1 (1: it suggests changes), and `liveness run` finds the
#     packaged shim
#  4. the packages are purged again, whatever happened.
# DEB_BUILD_OPTIONS is passed on (nocheck skips the test suite in the build).
# Usage: sh tests/debian.sh   (LIVENESS_DEB_OUT=DIR keeps the .deb files there;
# DIST_UNTRACKED=1 packs files not yet committed, as make dist does)
set -eu
LC_ALL=C
export LC_ALL

cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
MAKE=${MAKE:-make}
part() { sed -n "s/^#define LIVENESS_VERSION_$1 \([0-9][0-9]*\)\$/\1/p" include/liveness.h; }
VERSION=$(part MAJOR).$(part MINOR).$(part PATCH)
pkgs="libliveness$(part MAJOR) libliveness-dev liveness-tools"

die() {
	echo "debian: FAIL: $*" >&2
	exit 1
}
[ "$(id -u)" = 0 ] || die "run as root: it installs and purges the packages"
for c in dpkg-buildpackage lintian apt-get pkg-config cmake; do
	command -v "$c" >/dev/null 2>&1 || die "no $c (apt-get install dpkg-dev debhelper lintian pkgconf cmake)"
done
for p in $pkgs; do
	! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		die "$p is installed already; purge it first (apt-get purge $pkgs)"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/liveness-deb.XXXXXX") || exit 1
chmod 755 "$tmp" # apt's sandbox user reads the .deb files
installed=0
cleanup() {
	if [ "$installed" = 1 ]; then
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $pkgs >/dev/null 2>&1 ||
			echo "debian: could not purge $pkgs" >&2
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

t0=$(date +%s)
# shellcheck disable=SC2086
$MAKE -s --no-print-directory dist DIST_TARBALL="$tmp/liveness-$VERSION.tar.gz" >"$tmp/dist.log" 2>&1 ||
	{ cat "$tmp/dist.log" >&2; die "make dist failed"; }
(cd "$tmp" && tar -xzf "liveness-$VERSION.tar.gz" && mv "liveness-$VERSION.tar.gz" "liveness_$VERSION.orig.tar.gz") ||
	die "cannot unpack the tarball"
[ -f "$tmp/liveness-$VERSION/debian/control" ] || die "the tarball has no debian/ (not committed yet?)"
if ! (cd "$tmp/liveness-$VERSION" && dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1; then
	tail -n 80 "$tmp/build.log" >&2
	die "dpkg-buildpackage failed"
fi
t1=$(date +%s)
grep -E '^[0-9]+%: Checks:|^(docs|install): ok' "$tmp/build.log" | sed 's/^/    test: /'
changes=$(ls "$tmp"/liveness_*.changes) || die "no .changes file"

rc=0
lintian -I --pedantic --fail-on error,warning "$changes" >"$tmp/lintian.log" 2>&1 || rc=$?
grep -v 'running with root privileges' "$tmp/lintian.log" | sed 's/^/    lintian: /'
[ "$rc" = 0 ] || die "lintian reports errors or warnings"
echo "debian: lintian: no error, no warning ($(grep -c '^[IP]:' "$tmp/lintian.log") informational or pedantic tags)"
for d in "$tmp"/*.deb; do
	case $d in *-dbgsym_*) continue ;; esac
	echo "debian: $(basename "$d"):"
	dpkg -c "$d" | awk '$1 !~ /^d/ { print "    " $1 " " $6 ($7 ? " " $7 " " $8 : "") }'
done
if [ -n "${LIVENESS_DEB_OUT:-}" ]; then
	mkdir -p "$LIVENESS_DEB_OUT" && cp "$tmp"/*.deb "$LIVENESS_DEB_OUT"/
fi

# Hardening (debian/rules: hardening=+all through dpkg-buildflags): every ELF
# file has RELRO and BIND_NOW and calls __stack_chk_fail, the command is a PIE,
# and the command and the shim call fortified functions (the library calls
# none that _FORTIFY_SOURCE covers). hardening-check (devscripts) too where
# it is installed; control-flow protection is not asked of it, since this
# release's dpkg-buildflags does not add -fcf-protection.
mkdir "$tmp/x"
for d in "$tmp"/*.deb; do
	case $d in *-dbgsym_*) continue ;; esac
	dpkg-deb -x "$d" "$tmp/x" || die "cannot unpack $d"
done
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
cmd=$tmp/x/usr/bin/liveness
lib=$tmp/x/usr/lib/$multiarch/libliveness.so.$VERSION
shim=$tmp/x/usr/lib/$multiarch/libliveness-preload.so
for f in "$cmd" "$lib" "$shim"; do
	[ -f "$f" ] || die "no ${f#"$tmp/x"} in the packages"
	readelf -lW "$f" | grep -q GNU_RELRO || die "${f#"$tmp/x"}: no RELRO"
	readelf -dW "$f" | grep -Eq '\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*NOW' || die "${f#"$tmp/x"}: no BIND_NOW"
	readelf --dyn-syms -W "$f" | grep -q ' __stack_chk_fail' || die "${f#"$tmp/x"}: no stack protector"
done
readelf -hW "$cmd" | grep -q 'Type: *DYN' || die "/usr/bin/liveness is not a PIE"
for f in "$cmd" "$shim"; do
	readelf --dyn-syms -W "$f" | grep -Eq ' __[a-z_]+_chk' || die "${f#"$tmp/x"}: no fortified call"
done
if command -v hardening-check >/dev/null 2>&1; then
	hardening-check --nocfprotection "$cmd" "$lib" "$shim" >"$tmp/hardening.log" 2>&1 ||
		{ cat "$tmp/hardening.log" >&2; die "hardening-check failed"; }
	echo "debian: hardening-check: ok (PIE, stack protector, fortify, RELRO, BIND_NOW)"
else
	echo "debian: hardening: RELRO, BIND_NOW, stack protector, PIE and fortify found (no hardening-check)"
fi

installed=1
(cd "$tmp" && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ./*.deb) >"$tmp/apt.log" 2>&1 ||
	{ cat "$tmp/apt.log" >&2; die "apt-get install ./*.deb failed"; }

# An outside program, built the way the README says.
flags=$(pkg-config --cflags --libs liveness) || die "pkg-config --cflags --libs liveness failed"
[ "$(pkg-config --modversion liveness)" = "$VERSION" ] || die "pkg-config says $(pkg-config --modversion liveness)"
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -Werror -o "$tmp/outside" "$top/tests/cmake/consumer.c" $flags ||
	die "an outside program does not build with: $flags"
out=$("$tmp/outside") || die "the outside program failed: $out"
echo "debian: pkg-config ($flags): $out"

# A CMake project, found in the system's directories.
cmake -S "$top/tests/cmake" -B "$tmp/cmake" >"$tmp/cmake.log" 2>&1 &&
	cmake --build "$tmp/cmake" >>"$tmp/cmake.log" 2>&1 ||
	{ cat "$tmp/cmake.log" >&2; die "the CMake project does not build against the packages"; }
out=$("$tmp/cmake/consumer") || die "the CMake-built consumer failed: $out"
out2=$("$tmp/cmake/consumer-static") || die "the CMake-built consumer-static failed: $out2"
[ "$out" = "$out2" ] || die "consumer and consumer-static disagree: '$out', '$out2'"
echo "debian: cmake: $(sed -n 's/^-- liveness /liveness /p' "$tmp/cmake.log"): $out"

# The command from the package: doctor says 0 (nothing to change) or 1
# (changes suggested); 2 is a usage error, above 128 a crash.
rc=0
liveness doctor >"$tmp/doctor.log" 2>&1 || rc=$?
case $rc in
0 | 1) echo "debian: liveness doctor exited $rc ($(wc -l <"$tmp/doctor.log" | tr -d ' ') lines)" ;;
*)
	cat "$tmp/doctor.log" >&2
	die "liveness doctor exited $rc"
	;;
esac
# liveness run finds the packaged shim (LVT_LIBDIR) and the program runs.
liveness run --budget 30s -- sh -c 'case $LD_PRELOAD in */libliveness-preload.so*) echo "$LD_PRELOAD";; *) exit 3;; esac' \
	>"$tmp/run.log" 2>&1 || { cat "$tmp/run.log" >&2; die "liveness run did not preload the packaged shim"; }
echo "debian: liveness run preloads $(cat "$tmp/run.log")"
t2=$(date +%s)
echo "debian: ok (dpkg-buildpackage $((t1 - t0)) s; lintian, install and use $((t2 - t1)) s)"
