#!/bin/sh
# CMake users: install this build into temporary trees and build tests/cmake/
# (find_package(liveness 1.0 REQUIRED), liveness::liveness and
# liveness::liveness_static) against each, then run what it built:
#  1. DESTDIR=$tmp/dest PREFIX=/usr LIBDIR=/usr/lib/<multiarch>, found through
#     CMAKE_PREFIX_PATH=$tmp/dest/usr: the files find the tree from their own
#     place (relocatable), not the configured /usr
#  2. PREFIX=$tmp/prefix, then the whole prefix moved elsewhere
#  3. LIBDIR outside PREFIX: absolute paths
# and the version rules (SameMajorVersion): 1.0, 1.0.0 EXACT and 1.0...<2.0
# are found, 2.0, 0.9, 1.1 and 1.1...<2.0 are not; a consumer links the shared
# library or, with liveness::liveness_static, none; uninstall leaves no file.
# Usage: LIVENESS_BUILD=build sh tests/cmake.sh
set -eu
LC_ALL=C
export LC_ALL

cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
B=${LIVENESS_BUILD:-build}
MAKE=${MAKE:-make}
CMAKE=${CMAKE:-cmake}
part() { sed -n "s/^#define LIVENESS_VERSION_$1 \([0-9][0-9]*\)\$/\1/p" "$top/include/liveness.h"; }
VERSION=$(part MAJOR).$(part MINOR).$(part PATCH)
SONAME=libliveness.so.$(part MAJOR)

die() {
	echo "cmake: FAIL: $*" >&2
	exit 1
}
command -v "$CMAKE" >/dev/null 2>&1 || die "no $CMAKE (apt-get install cmake)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/liveness-cmake.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

run() { # log, command...
	log=$1
	shift
	if ! "$@" >"$log" 2>&1; then
		sed 's/^/    /' "$log" >&2
		return 1
	fi
}
make_in() { # log, make arguments...
	log=$1
	shift
	run "$log" sh -c 'cd "$1" && shift && exec "$@"' sh "$top" $MAKE --no-print-directory SANITIZE= BUILD="$B" "$@" ||
		die "make $* failed"
}
# consume NAME PREFIX_PATH [cmake -D options...]: configure, build, run.
consume() {
	name=$1 pp=$2
	shift 2
	bd=$tmp/build-$name
	rm -rf "$bd"
	run "$tmp/$name.configure.log" "$CMAKE" -S "$top/tests/cmake" -B "$bd" \
		-DCMAKE_PREFIX_PATH="$pp" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF "$@" ||
		die "$name: cmake configure failed"
	run "$tmp/$name.build.log" "$CMAKE" --build "$bd" || die "$name: cmake --build failed"
	found=$(sed -n 's/^-- liveness \([^ ]*\) in \(.*\)$/\1 \2/p' "$tmp/$name.configure.log")
	for exe in "$bd/consumer" "$bd/consumer-static"; do
		[ -x "$exe" ] || continue
		out=$("$exe") || die "$name: $exe failed: $out"
		case $out in
		"liveness $VERSION: "*) ;;
		*) die "$name: $exe printed '$out'" ;;
		esac
	done
	readelf -d "$bd/consumer" | grep -q "NEEDED.*\[$SONAME\]" ||
		die "$name: consumer is not linked against $SONAME"
	if [ -x "$bd/consumer-static" ]; then
		! readelf -d "$bd/consumer-static" | grep -q 'NEEDED.*libliveness' ||
			die "$name: consumer-static needs a shared libliveness"
	fi
}
# loads NAME LIBDIR: the consumer loads the library from LIBDIR.
loads() {
	loaded=$(LD_TRACE_LOADED_OBJECTS=1 "$tmp/build-$1/consumer" | sed -n "s/.*$SONAME => \([^ ]*\).*/\1/p")
	[ "$loaded" = "$2/$SONAME" ] || die "$1: consumer loads '$loaded', not $2/$SONAME"
}
# refuse NAME PREFIX_PATH VERSION: find_package(liveness VERSION) must fail.
refuse() {
	if "$CMAKE" -S "$top/tests/cmake" -B "$tmp/build-$1" -DCMAKE_PREFIX_PATH="$2" \
		-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DLIVENESS_FIND="$3" >"$tmp/$1.log" 2>&1; then
		sed 's/^/    /' "$tmp/$1.log" >&2
		die "$1: find_package(liveness $3) accepted $VERSION"
	fi
	rm -rf "$tmp/build-$1"
}
empty_after_uninstall() { # name, root, make arguments...
	name=$1 root=$2
	shift 2
	make_in "$tmp/$name.uninstall.log" uninstall "$@"
	left=$(find "$root" ! -type d | head -n 20)
	[ -z "$left" ] || die "$name: make uninstall left: $left"
}

multiarch=$(${CC:-cc} -print-multiarch 2>/dev/null) || multiarch=
libdir=/usr/lib${multiarch:+/$multiarch}
major=$(part MAJOR)
n=0

# 1. A DESTDIR tree of a /usr install, as a package has it.
dest=$tmp/dest
make_in "$tmp/destdir.install.log" install DESTDIR="$dest" PREFIX=/usr LIBDIR="$libdir"
cfg=$dest$libdir/cmake/liveness
[ -f "$cfg/livenessConfig.cmake" ] && [ -f "$cfg/livenessConfigVersion.cmake" ] ||
	die "destdir: no livenessConfig.cmake and livenessConfigVersion.cmake in $cfg"
consume destdir "$dest/usr"
[ "$found" = "$VERSION $cfg" ] || die "destdir: found '$found', want '$VERSION $cfg'"
loads destdir "$dest$libdir"
n=$((n + 1))
consume exact "$dest/usr" -DLIVENESS_FIND="$VERSION" -DLIVENESS_STATIC=OFF
consume range "$dest/usr" -DLIVENESS_FIND="$major.0...<$((major + 1)).0" -DLIVENESS_STATIC=OFF
refuse next-major "$dest/usr" "$((major + 1)).0"
if [ "$major" -gt 0 ]; then refuse previous-major "$dest/usr" "$((major - 1)).9"; fi
refuse newer "$dest/usr" "$major.$(($(part MINOR) + 1))"
refuse range-above "$dest/usr" "$major.$(($(part MINOR) + 1))...<$((major + 1)).0"
n=$((n + 6))
empty_after_uninstall destdir "$dest" DESTDIR="$dest" PREFIX=/usr LIBDIR="$libdir"

# 2. A prefix of its own, then moved: nothing in it names where it was.
pre=$tmp/prefix
make_in "$tmp/prefix.install.log" install PREFIX="$pre"
consume prefix "$pre"
loads prefix "$pre/lib"
mv "$pre" "$tmp/moved"
consume moved "$tmp/moved"
loads moved "$tmp/moved/lib"
mv "$tmp/moved" "$pre"
empty_after_uninstall prefix "$pre" PREFIX="$pre"
n=$((n + 2))

# 3. LIBDIR outside PREFIX: the configured absolute paths.
make_in "$tmp/split.install.log" install PREFIX="$tmp/split" LIBDIR="$tmp/elsewhere/lib"
grep -q '^set(_liveness_relocatable FALSE)' "$tmp/elsewhere/lib/cmake/liveness/livenessConfig.cmake" ||
	die "split: livenessConfig.cmake should hold absolute paths"
consume split "$tmp/elsewhere"
loads split "$tmp/elsewhere/lib"
empty_after_uninstall split "$tmp/split" PREFIX="$tmp/split" LIBDIR="$tmp/elsewhere/lib"
[ -z "$(find "$tmp/elsewhere" ! -type d)" ] || die "split: make uninstall left files in LIBDIR"
n=$((n + 1))

echo "cmake: ok ($B; $n configurations: DESTDIR $libdir relocated, PREFIX moved, LIBDIR outside PREFIX; version rules; shared and static targets; uninstall clean)"
