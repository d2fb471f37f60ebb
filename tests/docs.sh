#!/bin/sh
# The documentation is part of the interface, so it is tested like code. Fails when
#  (a) a function declared in include/liveness.h has no man page man/NAME.3
#      (a page, or a one-line ".so man3/X.3" stub whose target names it),
#      or a man3 page documents no declared function;
#  (b) the built libliveness.so exports a symbol lib/liveness.map does not
#      list, the map lists one it does not export, or it exports anything
#      that is not liveness_*;
#  (c) a map symbol has no prototype in the header (or a prototype has no
#      map entry, which would leave it unexported);
#  (d) a man page's SYNOPSIS disagrees with the header, or its EXAMPLES
#      program no longer compiles and links against the static library;
#  (e) the header is not self-contained, as C and (if g++ exists) as C++;
#  (f) a function the header declares cannot be called from C99, C11 or
#      C++11 with -pedantic -Werror (tests/every_function.c calls them all).
# Usage: LIVENESS_BUILD=build sh tests/docs.sh   (from anywhere)
# LIVENESS_HEADER overrides the header whose declarations are checked.
set -u
LC_ALL=C
export LC_ALL

cd "$(dirname "$0")/.." || exit 1
B=${LIVENESS_BUILD:-build}
HEADER=${LIVENESS_HEADER:-include/liveness.h}
MAP=lib/liveness.map
CC=${CC:-cc}
CXX=${CXX:-g++}

fails=0
fail() {
	echo "docs: FAIL: $*" >&2
	fails=$((fails + 1))
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/liveness-docs.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

for f in "$HEADER" "$MAP" "$B/libliveness.so" "$B/libliveness.a"; do
	if [ ! -e "$f" ]; then
		echo "docs: FAIL: $f is missing (run make first)" >&2
		exit 1
	fi
done

# A sanitized build needs the sanitizer runtimes at link time.
SAN=
if nm "$B/libliveness.a" 2>/dev/null | grep -q '__asan_\|__ubsan_'; then
	SAN="-fsanitize=address,undefined"
fi

# ---- The functions the header declares ------------------------------------
# Preprocess (drops comments and macros such as liveness_container_of), cut
# into declarations at ';', '{' and '}', and take the name before the
# parameter list of each non-typedef declaration.
if ! "$CC" -E -P -std=c11 -D_GNU_SOURCE -Iinclude "$HEADER" >"$tmp/header.i" 2>"$tmp/cpp.err"; then
	cat "$tmp/cpp.err" >&2
	echo "docs: FAIL: $HEADER does not preprocess" >&2
	exit 1
fi
tr '\n\t' '  ' <"$tmp/header.i" | tr ';{}' '\n\n\n' | awk '
	/^ *typedef / { next }
	match($0, /liveness_[A-Za-z0-9_]* *\(/) {
		name = substr($0, RSTART, RLENGTH)
		sub(/ *\($/, "", name)
		print name
	}' | sort -u >"$tmp/funcs"
nfuncs=$(wc -l <"$tmp/funcs" | tr -d ' ')
[ "$nfuncs" -gt 0 ] || fail "no liveness_* function found in $HEADER"

# ---- (a) a man page for every function --------------------------------------
is_stub() {
	head -n 1 "$1" | grep -q '^\.so ' && [ "$(wc -l <"$1" | tr -d ' ')" -le 1 ]
}
# Set page to the file that documents function $1 (a stub's target), or to
# nothing after reporting why there is none. No subshell: fail must count.
page_for() {
	page=
	p=man/$1.3
	[ -f "$p" ] || return 0
	if ! is_stub "$p"; then
		page=$p
		return 0
	fi
	t=$(sed -n '1s/^\.so  *//p' "$p")
	case $t in
	man3/*.3) ;;
	*)
		fail "$p: stub must read '.so man3/PAGE.3', not '.so $t'"
		return 0
		;;
	esac
	t=man/${t#man3/}
	if [ ! -f "$t" ]; then
		fail "$p: stub target $t does not exist"
	elif is_stub "$t"; then
		fail "$p: stub target $t is itself a stub"
	else
		page=$t
	fi
}
while read -r f; do
	if [ ! -f "man/$f.3" ]; then
		fail "$f is declared in $HEADER but has no man page man/$f.3 (page or .so stub)"
		continue
	fi
	page_for "$f"
	[ -n "$page" ] || continue
	# The page must name the function and declare it in its SYNOPSIS.
	grep -q "^\.Nm $f\( ,\)\{0,1\}\$" "$page" || fail "$page: NAME section lacks '.Nm $f'"
	grep -q "^\.F[no] $f\( \|\$\)" "$page" || fail "$page: SYNOPSIS lacks '.Fn $f' or '.Fo $f'"
done <"$tmp/funcs"

npages=0
for p in man/*.3; do
	[ -f "$p" ] || continue
	npages=$((npages + 1))
	n=$(basename "$p" .3)
	# liveness(3) is the overview of the interface, not a function's page.
	[ "$n" = liveness ] && continue
	grep -qx "$n" "$tmp/funcs" || fail "$p documents no function declared in $HEADER"
done
for p in man/*.7; do
	[ -f "$p" ] && npages=$((npages + 1))
done

# ---- (b) exported symbols against the version script --------------------------
# The map's global symbols: comments stripped, 'name;' lines in global: sections.
awk '
	{ line = line $0 "\n" }
	END {
		while ((i = index(line, "/*")) > 0) {
			rest = substr(line, i + 2)
			j = index(rest, "*/")
			line = substr(line, 1, i - 1) (j ? substr(rest, j + 2) : "")
		}
		n = split(line, a, "\n")
		for (k = 1; k <= n; k++) {
			s = a[k]
			gsub(/[ \t]/, "", s)
			if (s ~ /^global:/) { g = 1; sub(/^global:/, "", s) }
			if (s ~ /^local:/) { g = 0; continue }
			if (s ~ /^}/) { g = 0; continue }
			if (g && s ~ /^[A-Za-z_][A-Za-z0-9_]*;$/) { sub(/;$/, "", s); print s }
		}
	}' "$MAP" | sort -u >"$tmp/map"
# Version nodes (LIVENESS_0.1 and the like) appear as absolute symbols.
sed -n 's/^\([A-Za-z_][A-Za-z0-9_.]*\)[ \t]*{.*/\1/p' "$MAP" | sort -u >"$tmp/nodes"
if ! nm -D --defined-only "$B/libliveness.so" >"$tmp/nm" 2>"$tmp/nm.err"; then
	cat "$tmp/nm.err" >&2
	fail "nm -D cannot read $B/libliveness.so"
fi
awk '{ s = $NF; sub(/@.*/, "", s); print $(NF - 1), s }' "$tmp/nm" >"$tmp/nm2"
awk '$1 != "A" { print $2 }' "$tmp/nm2" | sort -u >"$tmp/exported"
for s in $(awk '$1 == "A" { print $2 }' "$tmp/nm2" | sort -u | comm -23 - "$tmp/nodes"); do
	fail "$B/libliveness.so exports absolute symbol $s, not a version node of $MAP"
done
for s in $(grep -v '^liveness_' "$tmp/exported"); do
	fail "$B/libliveness.so exports $s, which is not a liveness_* symbol"
done
for s in $(comm -23 "$tmp/exported" "$tmp/map" | grep '^liveness_'); do
	fail "$B/libliveness.so exports $s, which $MAP does not list"
done
for s in $(comm -13 "$tmp/exported" "$tmp/map"); do
	fail "$MAP lists $s, which $B/libliveness.so does not export"
done
nexported=$(wc -l <"$tmp/exported" | tr -d ' ')

# ---- (c) map symbols against header prototypes ------------------------------
for s in $(comm -23 "$tmp/map" "$tmp/funcs"); do
	fail "$MAP lists $s, which has no prototype in $HEADER"
done
for s in $(comm -13 "$tmp/map" "$tmp/funcs"); do
	fail "$s is declared in $HEADER but not listed in $MAP (it would not be exported)"
done

# ---- (d) SYNOPSIS and EXAMPLES of every page -------------------------------
# mdoc escapes in literal text; \e last, so that "\e&" stays a backslash and '&'.
unescape() {
	sed -e "s/\\\\(aq/'/g" -e 's/\\(dq/"/g' -e 's/\\&//g' -e 's/\\-/-/g' -e 's/\\e/\\/g'
}
build_c() { # source, output, what
	if ! "$CC" -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror $SAN -Iinclude \
		-o "$2" "$1" "$B/libliveness.a" >"$2.log" 2>&1; then
		sed 's/^/    /' "$2.log" >&2
		fail "$3"
		return 1
	fi
}
nexamples=0
for p in man/*.3 man/*.7; do
	[ -f "$p" ] || continue
	is_stub "$p" && continue
	n=$(basename "$p")
	# SYNOPSIS declarations (.Ft, .Fn, .Fo/.Fa/.Fc) redeclared after the
	# header: the compiler rejects any that conflicts with the prototype.
	awk '
		function unq(s) { gsub(/"/, "", s); return s }
		function args(s,   out, a, n, i) {
			# .Fn name "type a" "type b" or .Fn name void
			out = ""
			n = 0
			while (match(s, /"[^"]*"|[^ "]+/)) {
				a = substr(s, RSTART, RLENGTH)
				s = substr(s, RSTART + RLENGTH)
				out = out (n++ ? ", " : "") unq(a)
			}
			return out
		}
		/^\.Sh / { syn = ($0 == ".Sh SYNOPSIS") }
		!syn { next }
		/^\.Ft / { ft = unq(substr($0, 5)) }
		/^\.Fn / {
			s = substr($0, 5); name = s; sub(/ .*/, "", name)
			rest = substr(s, length(name) + 1)
			print ft " " name "(" args(rest) ");"
		}
		/^\.Fo / { fo = substr($0, 5); fa = ""; nfa = 0 }
		/^\.Fa / && fo != "" { fa = fa (nfa++ ? ", " : "") unq(substr($0, 5)) }
		/^\.Fc/ && fo != "" { print ft " " fo "(" (nfa ? fa : "void") ");"; fo = "" }
	' "$p" | unescape >"$tmp/syn.body"
	if [ -s "$tmp/syn.body" ]; then
		{
			echo '#include "liveness.h"'
			cat "$tmp/syn.body"
		} >"$tmp/syn.c"
		if ! "$CC" -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude \
			-fsyntax-only "$tmp/syn.c" >"$tmp/syn.log" 2>&1; then
			sed 's/^/    /' "$tmp/syn.log" >&2
			fail "$p: SYNOPSIS does not match the prototypes in include/liveness.h"
		fi
	fi
	# The first literal block after .Sh EXAMPLES.
	awk '
		/^\.Sh EXAMPLES/ { ex = 1; next }
		ex && !lit && /^\.Sh / { exit }
		ex && !lit && /^\.Bd -literal/ { lit = 1; next }
		lit && /^\.Ed/ { exit }
		lit { print }
	' "$p" | unescape >"$tmp/$n.c"
	if ! grep -q '^\.Sh EXAMPLES' "$p"; then
		case $p in
		*.3) fail "$p has no EXAMPLES section" ;;
		esac
		continue
	fi
	if ! grep -q 'main(' "$tmp/$n.c"; then
		fail "$p: EXAMPLES has no .Bd -literal block with a complete program (main)"
		continue
	fi
	build_c "$tmp/$n.c" "$tmp/$n.out" "$p: EXAMPLES program does not compile and link" &&
		nexamples=$((nexamples + 1))
done

# The README's usage example is documentation too.
awk '/^```c$/ { c = 1; next } c && /^```$/ { exit } c { print }' README.md >"$tmp/readme.c"
if grep -q 'main(' "$tmp/readme.c"; then
	build_c "$tmp/readme.c" "$tmp/readme.out" "README.md: the usage example does not compile and link" &&
		nexamples=$((nexamples + 1))
else
	fail "README.md has no \`\`\`c block with a complete program"
fi

# ---- (e) the header stands alone ---------------------------------------------
hdir=$(dirname "$HEADER")
hname=$(basename "$HEADER")
printf '#include <%s>\n#include <%s>\n' "$hname" "$hname" >"$tmp/alone.c"
if ! "$CC" -std=c11 -Wall -Wextra -Werror -pedantic -I"$hdir" -c -o "$tmp/alone.o" \
	"$tmp/alone.c" >"$tmp/alone.log" 2>&1; then
	sed 's/^/    /' "$tmp/alone.log" >&2
	fail "$HEADER is not self-contained in C (c11 -pedantic)"
fi
langs=C
if command -v "$CXX" >/dev/null 2>&1; then
	cp "$tmp/alone.c" "$tmp/alone.cc"
	if ! "$CXX" -Wall -Wextra -Werror -I"$hdir" -c -o "$tmp/alone.o" \
		"$tmp/alone.cc" >"$tmp/alone.log" 2>&1; then
		sed 's/^/    /' "$tmp/alone.log" >&2
		fail "$HEADER is not self-contained in C++ ($CXX)"
	fi
	langs="C, C++"
else
	echo "docs: note: no $CXX, C++ self-containment not checked" >&2
fi

# ---- (f) every function, from C99, C11 and C++11 -----------------------------
# tests/every_function.c calls each one; it must name every function declared.
for f in $(cat "$tmp/funcs"); do
	grep -q "\b$f(" tests/every_function.c ||
		fail "tests/every_function.c does not call $f, which $HEADER declares"
done
every() { # compiler, flags, what
	if ! $1 $2 -Wall -Wextra -pedantic -Werror $SAN -I"$hdir" -o "$tmp/every" \
		tests/every_function.c -x none "$B/libliveness.a" >"$tmp/every.log" 2>&1; then
		head -n 30 "$tmp/every.log" | sed 's/^/    /' >&2
		fail "tests/every_function.c does not build as $3"
	elif ! ASAN_OPTIONS=detect_leaks=0 "$tmp/every" >"$tmp/every.log" 2>&1; then
		sed 's/^/    /' "$tmp/every.log" >&2
		fail "tests/every_function.c built as $3 fails"
	fi
}
every "$CC" "-std=c99 -D_POSIX_C_SOURCE=200809L" "C99"
every "$CC" "-std=c11 -D_POSIX_C_SOURCE=200809L" "C11"
if command -v "$CXX" >/dev/null 2>&1; then
	every "$CXX" "-x c++ -std=c++11" "C++11"
	langs="$langs; every function from C99, C11 and C++11"
else
	langs="$langs; every function from C99 and C11"
fi

if [ "$fails" -ne 0 ]; then
	echo "docs: $fails problem(s) found" >&2
	exit 1
fi
echo "docs: $nfuncs functions, $npages pages, $nexported exports, $nexamples examples compiled, header self-contained ($langs)"
