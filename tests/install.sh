#!/bin/sh
# Install, use and uninstall the library the way a user would, twice, in a
# temporary directory (no network, nothing outside it is touched):
#  1. make install DESTDIR=$tmp/dest PREFIX=/opt/lv
#  2. make install PREFIX=$tmp/prefix with LIBDIR, INCLUDEDIR, MANDIR and
#     PKGCONFIGDIR overridden
# Each run checks the shared library and its symlinks, the static library,
# the header, liveness.pc and every man page (and .so stub target); builds an
# outside program with pkg-config against the shared library, checks that it
# loads the installed copy and prints what the library computes; checks the
# SONAME; then make uninstall with the same variables must leave no file.
# Usage: LIVENESS_BUILD=build sh tests/install.sh   (SANITIZE=1: build-san)
set -u
LC_ALL=C
export LC_ALL

cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
SANITIZE=${SANITIZE:-}
if [ "${LIVENESS_BUILD:-}" = build-san ]; then
	SANITIZE=1
fi
B=${LIVENESS_BUILD:-build}
[ "$SANITIZE" = 1 ] && [ -z "${LIVENESS_BUILD:-}" ] && B=build-san
MAKE=${MAKE:-make}
CC=${CC:-cc}
SAN=
[ "$SANITIZE" = 1 ] && SAN="-fsanitize=address,undefined"
# The version as the header writes it, its one source.
part() { sed -n "s/^#define LIVENESS_VERSION_$1 \([0-9][0-9]*\)\$/\1/p" "$top/include/liveness.h"; }
VERSION=$(part MAJOR).$(part MINOR).$(part PATCH)
SONAME=libliveness.so.$(part MAJOR)

die() {
	echo "install: FAIL: $*" >&2
	exit 1
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/liveness-install.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

cat >"$tmp/outside.c" <<'EOF'
#include <errno.h>
#include <stdio.h>

#include <liveness.h>

int main(void)
{
	struct liveness_tcp t;
	int r = liveness_tcp_plan(&t, 60 * LIVENESS_SEC);

	if (r != 0) {
		printf("plan failed: %s\n", liveness_strerror(r));
		return 1;
	}
	printf("plan=%d keepalive=%d budget-met=%d einval=%s version=%s\n", r, t.keepalive,
	       liveness_tcp_bound(&t, LIVENESS_BUSY) <= 60 * LIVENESS_SEC,
	       liveness_strerror(-EINVAL), liveness_version());
	return 0;
}
EOF
expect="plan=0 keepalive=1 budget-met=1 einval=invalid argument version=$VERSION"

# make_in LOG VAR=VALUE... : run make from the top directory, quietly.
make_in() {
	log=$1
	shift
	if ! (cd "$top" && $MAKE --no-print-directory SANITIZE="$SANITIZE" "$@") >"$log" 2>&1; then
		sed 's/^/    /' "$log" >&2
		die "make $* failed"
	fi
}

# check_run NAME ROOT LIBDIR INCLUDEDIR MANDIR PKGCONFIGDIR MAKEVARS...
# ROOT is DESTDIR (or empty); the *DIR arguments are as configured, without it.
check_run() {
	name=$1 root=$2 libdir=$3 incdir=$4 mandir=$5 pcdir=$6
	shift 6
	L=$root$libdir I=$root$incdir M=$root$mandir P=$root$pcdir
	make_in "$tmp/$name.install.log" install "$@"

	# Libraries and symlinks.
	[ -f "$L/libliveness.so.$VERSION" ] && [ ! -h "$L/libliveness.so.$VERSION" ] ||
		die "$name: $L/libliveness.so.$VERSION is not a regular file"
	[ -x "$L/libliveness.so.$VERSION" ] || die "$name: libliveness.so.$VERSION is not executable"
	[ -h "$L/$SONAME" ] && [ "$(readlink "$L/$SONAME")" = "libliveness.so.$VERSION" ] ||
		die "$name: $L/$SONAME is not a symlink to libliveness.so.$VERSION"
	[ -h "$L/libliveness.so" ] && [ "$(readlink "$L/libliveness.so")" = "$SONAME" ] ||
		die "$name: $L/libliveness.so is not a symlink to $SONAME"
	[ -f "$L/libliveness.a" ] || die "$name: $L/libliveness.a missing"
	soname=$(readelf -d "$L/libliveness.so.$VERSION" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
	[ "$soname" = "$SONAME" ] || die "$name: SONAME is '$soname', want $SONAME"

	# Header, pkg-config file, man pages.
	cmp -s "$top/include/liveness.h" "$I/liveness.h" || die "$name: $I/liveness.h missing or different"
	[ -f "$P/liveness.pc" ] || die "$name: $P/liveness.pc missing"
	grep -qx "libdir=$libdir" "$P/liveness.pc" ||
		die "$name: liveness.pc says $(grep '^libdir=' "$P/liveness.pc"), want libdir=$libdir (stale build dir .pc?)"
	grep -qx "includedir=$incdir" "$P/liveness.pc" ||
		die "$name: liveness.pc says $(grep '^includedir=' "$P/liveness.pc"), want includedir=$incdir"
	npages=0
	for p in "$top"/man/*.3 "$top"/man/*.7; do
		[ -f "$p" ] || continue
		sec=${p##*.}
		inst=$M/man$sec/$(basename "$p")
		t=$(sed -n '1s/^\.so  *man3\///p' "$p")
		if [ -n "$t" ]; then
			# An alias is installed as a link to its page, which man -l and
			# man both follow from any directory.
			[ -L "$inst" ] && [ "$(readlink "$inst")" = "$t" ] ||
				die "$name: $inst is not a link to $t"
			cmp -s "$top/man/$t" "$inst" || die "$name: $inst does not reach $t"
			(cd / && mandoc -Tutf8 "$inst" >/dev/null 2>&1) ||
				die "$name: mandoc cannot read $inst"
		else
			cmp -s "$p" "$inst" || die "$name: $inst missing or different"
		fi
		npages=$((npages + 1))
	done
	[ "$npages" -gt 0 ] || die "$name: no man pages in man/"
	[ -f "$M/man7/liveness.7" ] || die "$name: $M/man7/liveness.7 missing"

	# The pkg-config file carries the header's version.
	v=$(PKG_CONFIG_PATH=$P pkg-config --modversion liveness) ||
		die "$name: pkg-config --modversion liveness failed"
	[ "$v" = "$VERSION" ] || die "$name: liveness.pc says version $v, the header $VERSION"

	# An outside program, built with pkg-config against the shared library.
	if [ -n "$root" ]; then
		flags=$(PKG_CONFIG_PATH=$P PKG_CONFIG_SYSROOT_DIR=$root pkg-config --cflags --libs liveness)
	else
		flags=$(PKG_CONFIG_PATH=$P pkg-config --cflags --libs liveness)
	fi || die "$name: pkg-config --cflags --libs liveness failed"
	# shellcheck disable=SC2086
	$CC -std=c11 -Wall -Wextra -Werror $SAN -o "$tmp/outside" "$tmp/outside.c" $flags \
		>"$tmp/cc.log" 2>&1 || {
		sed 's/^/    /' "$tmp/cc.log" >&2
		die "$name: outside program does not build with: $flags"
	}
	readelf -d "$tmp/outside" | grep -q "NEEDED.*\[$SONAME\]" ||
		die "$name: outside program is not linked against $SONAME"
	loaded=$(LD_LIBRARY_PATH=$L LD_TRACE_LOADED_OBJECTS=1 "$tmp/outside" | sed -n "s/.*$SONAME => \([^ ]*\).*/\1/p")
	[ "$loaded" = "$L/$SONAME" ] || die "$name: outside program loads '$loaded', not $L/$SONAME"
	out=$(LD_LIBRARY_PATH=$L ASAN_OPTIONS=detect_leaks=0 "$tmp/outside") ||
		die "$name: outside program failed: $out"
	[ "$out" = "$expect" ] || die "$name: outside program printed '$out', want '$expect'"

	# Uninstall leaves no file behind (directories may stay).
	make_in "$tmp/$name.uninstall.log" uninstall "$@"
	left=$(find "${root:-$tmp/prefix}" ! -type d | head -n 20)
	[ -z "$left" ] || die "$name: make uninstall left: $left"
}

[ -e /opt/lv ] && preexisting=1 || preexisting=0
check_run destdir "$tmp/dest" /opt/lv/lib /opt/lv/include /opt/lv/share/man /opt/lv/lib/pkgconfig \
	DESTDIR="$tmp/dest" PREFIX=/opt/lv
[ "$preexisting" = 1 ] || [ ! -e /opt/lv ] || die "destdir: make install wrote to /opt/lv outside DESTDIR"

pre=$tmp/prefix
check_run dirs "" "$pre/lib64" "$pre/inc" "$pre/man" "$pre/pc" \
	PREFIX="$pre" LIBDIR="$pre/lib64" INCLUDEDIR="$pre/inc" MANDIR="$pre/man" PKGCONFIGDIR="$pre/pc"

echo "install: ok ($B; DESTDIR + PREFIX=/opt/lv, and LIBDIR/INCLUDEDIR/MANDIR/PKGCONFIGDIR overrides; $npages man pages; soname $SONAME; uninstall clean)"
