#!/bin/sh
# What the tests and the demo need (never the library itself, which needs only libc).
# On Debian as root it installs what is missing; elsewhere it prints the exact command.
# LIVENESS_DEPS_EXTRA adds packages (CI passes the benchmark's and examples' ones).
set -eu
# The examples build against libuv and libevent and are tested against a real
# redis-server; the shim is tested under socat and python3, checked with ss.
pkgs="check pkg-config nftables mandoc redis-server socat python3 iproute2 libuv1-dev libevent-dev ${LIVENESS_DEPS_EXTRA:-}"
missing=""
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
# pkgconf provides pkg-config (a package build depends on pkgconf alone).
have() { have_pkg "$1" || { [ "$1" = pkg-config ] && have_pkg pkgconf; }; }
if command -v dpkg-query >/dev/null 2>&1; then
	for p in $pkgs; do have "$p" || missing="$missing $p"; done
else
	pkg-config --exists check 2>/dev/null || missing="$missing check"
	command -v nft >/dev/null 2>&1 || missing="$missing nftables"
	command -v mandoc >/dev/null 2>&1 || missing="$missing mandoc"
fi
[ -z "$missing" ] && exit 0
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
	exit 0
fi
if command -v apt-get >/dev/null 2>&1; then
	echo "deps: missing$missing; run: sudo apt-get install -y$missing" >&2
else
	echo "deps: missing$missing; install them with your system's package manager" >&2
fi
exit 1
