#!/bin/sh
# make distcheck: is the release tarball whole, and clean?
#  1. Its members are all under liveness-VERSION/ and none is generated
#     (build output, objects, libraries, packages, caches).
#  2. Unpacked in a fresh directory, with a `git` on PATH that fails, it
#     makes the same tarball's list again (make dist needs no git), builds,
#     passes `make check` (and `make check-cmake` where cmake exists), installs
#     into a DESTDIR exactly the expected files (nothing missing, nothing
#     extra), and `make uninstall` leaves no file there.
#  3. After all that the unpacked tree holds its files and build/ only, and
#     after `make clean` exactly its files: nothing was written outside build/.
# Usage: sh tests/distcheck.sh liveness-VERSION.tar.gz [make arguments...]
set -eu
LC_ALL=C
export LC_ALL

die() {
	echo "distcheck: FAIL: $*" >&2
	exit 1
}
[ $# -ge 1 ] || die "usage: $0 TARBALL [make arguments...]"
tarball=$1
shift
case $tarball in /*) ;; *) tarball=$(pwd)/$tarball ;; esac
[ -f "$tarball" ] || die "$tarball does not exist"
MAKE=${MAKE:-make}
# The unpacked tree is built as a user would build it: nothing of a calling
# make's command line (BUILD=..., PREFIX=...) reaches its makes.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES GNUMAKEFLAGS
name=$(basename "$tarball" .tar.gz)
version=${name#liveness-}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/liveness-distcheck.XXXXXX") || exit 1
keep=${DISTCHECK_KEEP:-}
trap '[ -n "$keep" ] && echo "distcheck: left $tmp" >&2 || rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

step() { printf 'distcheck: %s\n' "$*"; }
# run LOG make-arguments...: make in the unpacked tree, its output kept in LOG
# and shown on failure.
run() {
	log=$tmp/$1.log
	shift
	if ! (cd "$src" && $MAKE --no-print-directory "$@") >"$log" 2>&1; then
		tail -n 60 "$log" | sed 's/^/    /' >&2
		keep=1
		die "make $* failed (whole log: $log, kept)"
	fi
}

# ---- 1. the members ------------------------------------------------------------
tar -tzf "$tarball" >"$tmp/members" || die "$tarball is not a gzip'd tar"
bad=$(grep -v "^$name/" "$tmp/members" | head -n 5)
[ -z "$bad" ] || die "members outside $name/: $bad"
bad=$(sed "s|^$name/||" "$tmp/members" | grep -E \
	'^build|(^|/)(__pycache__|\.git|\.debhelper|tmp|obj-[^/]*)/|\.(o|a|so|so\.[0-9.]*|gcda|gcno|pyc|deb|changes|buildinfo)$|^debian/(files|.*\.substvars|.*\.log|liveness-tools|libliveness1|libliveness-dev)(/|$)|\.tar\.gz$' |
	head -n 10)
[ -z "$bad" ] || die "generated files in the tarball: $bad"
for f in Makefile README.md include/liveness.h lib/liveness.map liveness.pc.in \
	cmake/livenessConfig.cmake.in cmake/livenessConfigVersion.cmake.in tests/install.sh \
	debian/control debian/rules abi/libliveness.so.1.abi tests/minicheck/minicheck.c; do
	grep -qx "$name/$f" "$tmp/members" || die "$f is not in the tarball"
done
nmembers=$(wc -l <"$tmp/members" | tr -d ' ')

# ---- 2. unpack, rebuild the list without git, build, check, install --------------
mkdir "$tmp/unpack" "$tmp/bin"
printf '#!/bin/sh\necho "git $*" >>"%s/git-calls"\nexit 127\n' "$tmp" >"$tmp/bin/git"
chmod +x "$tmp/bin/git"
PATH=$tmp/bin:$PATH
export PATH
(cd "$tmp/unpack" && tar -xzf "$tarball") || die "cannot unpack $tarball"
src=$tmp/unpack/$name
[ -f "$src/Makefile" ] || die "no $name/Makefile in the tarball"
(cd "$src" && find . ! -type d | sed 's|^\./||' | sort) >"$tmp/files"

step "make dist in the unpacked tree (no git)"
run dist dist
tar -tzf "$src/$name.tar.gz" | sort >"$tmp/members2"
sort "$tmp/members" | diff -u - "$tmp/members2" >"$tmp/members.diff" ||
	{ cat "$tmp/members.diff" >&2; die "make dist from the tarball ships other files"; }
rm -f "$src/$name.tar.gz"
# make dist asks git whether this is a checkout (it is not); from here on
# nothing may call git.
rm -f "$tmp/git-calls"

step "make && make check $*"
run build -j2 all "$@"
run check check "$@"
grep -E '^(docs|install): ok|Checks: ' "$tmp/check.log" | sed 's/^/    /'
if command -v cmake >/dev/null 2>&1; then
	step "make check-cmake"
	run check-cmake check-cmake "$@"
	sed -n 's/^cmake: ok/    cmake: ok/p' "$tmp/check-cmake.log"
else
	step "no cmake: check-cmake not run"
fi

step "make install DESTDIR=... and make uninstall"
dest=$tmp/dest
run install install DESTDIR="$dest" "$@"
p=/usr/local
{
	echo "$p/bin/liveness"
	echo "$p/include/liveness.h"
	for f in libliveness.a "libliveness.so.$version" libliveness.so.${version%%.*} libliveness.so \
		libliveness-preload.so pkgconfig/liveness.pc cmake/liveness/livenessConfig.cmake \
		cmake/liveness/livenessConfigVersion.cmake; do
		echo "$p/lib/$f"
	done
	for m in "$src"/man/*.[137]; do
		echo "$p/share/man/man${m##*.}/$(basename "$m")"
	done
} | sort >"$tmp/want"
(cd "$dest" && find . ! -type d | sed 's|^\.||' | sort) >"$tmp/got"
diff -u "$tmp/want" "$tmp/got" >"$tmp/install.diff" ||
	{ cat "$tmp/install.diff" >&2; die "make install installs other files than expected (- missing, + extra)"; }
ninstalled=$(wc -l <"$tmp/got" | tr -d ' ')
run uninstall uninstall DESTDIR="$dest" "$@"
left=$(find "$dest" ! -type d | head -n 20)
[ -z "$left" ] || die "make uninstall left: $left"

# ---- 3. nothing written outside build/ --------------------------------------------
(cd "$src" && find . ! -type d ! -path './build/*' | sed 's|^\./||' | sort) >"$tmp/after"
diff -u "$tmp/files" "$tmp/after" >"$tmp/tree.diff" ||
	{ cat "$tmp/tree.diff" >&2; die "the build changed the tree outside build/ (+ new, - gone)"; }
run clean clean "$@"
(cd "$src" && find . ! -type d | sed 's|^\./||' | sort) >"$tmp/after"
diff -u "$tmp/files" "$tmp/after" >"$tmp/tree.diff" ||
	{ cat "$tmp/tree.diff" >&2; die "make clean leaves the tree unlike the tarball"; }
[ ! -s "$tmp/git-calls" ] || die "the unpacked tree ran git: $(sort -u "$tmp/git-calls" | head -n 3)"

echo "distcheck: ok ($(basename "$tarball"): $nmembers files; built, checked, $ninstalled files installed and uninstalled; no git needed; nothing left behind)"
