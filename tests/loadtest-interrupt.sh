#!/bin/sh
# tests/loadtest-interrupt.sh - `make loadtest` interrupted leaves nothing behind,
# and refuses, saying why, to start without root or without namespaces.
#
#   sh tests/loadtest-interrupt.sh [BUILD]     (as root; BUILD defaults to build)
#
# 1. make loadtest runs in a session of its own; as soon as its load clients
#    exist (ramp-up has begun) the whole process group gets SIGINT, as from
#    Ctrl-C at a terminal. CONNS=200000 makes ramp-up last a few seconds, so
#    the signal lands in it; the harness must say it was interrupted during
#    ramp-up. Afterwards no process of the run may be left, nor a network or
#    PID namespace it made (held by a process, or named in `ip netns list`),
#    nor its nftables table, and net.core.netdev_max_backlog, which it raises
#    for the run, must be back to what it was.
# 2. Run as nobody (setpriv), the harness refuses with status 2 and says it
#    needs root; as root without CAP_SYS_ADMIN (setpriv --bounding-set), it
#    says it cannot make namespaces.
set -eu
cd "$(dirname "$0")/.."
B=${1:-build}
ABS_B=$(cd "$B" && pwd)
tmp=$(mktemp -d)
pid=
# Whatever happens to this script, the run it started goes too.
trap '[ -z "$pid" ] || kill -KILL "-$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
fail() {
	echo "loadtest-interrupt: FAIL: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || fail "run it as root"
make -s BUILD="$B" "$B/examples/epoll" "$B/examples/load" "$B/liveness"

# Every namespace that a process holds, with the processes' own ones before the run.
held_ns() { for p in /proc/[0-9]*; do readlink "$p/ns/$1" 2>/dev/null || true; done | sort -u; }
ip netns list >"$tmp/netns.before" 2>/dev/null || true
backlog=$(cat /proc/sys/net/core/netdev_max_backlog)

# ---- 1. SIGINT during ramp-up -------------------------------------------------------
# Another run's clients would be taken for this one's.
if pgrep -f "^$ABS_B/examples/(epoll|load) " >/dev/null; then fail "epoll or load from $B runs already"; fi
start=$(date +%s)
setsid make -s BUILD="$B" loadtest CONNS=200000 LOADTEST_OUT="$tmp/out" >"$tmp/log" 2>&1 &
pid=$!
# pgid = pid: setsid made make the leader of a new session and process group.
i=0
until pgrep -f "^$ABS_B/examples/load " >/dev/null; do
	i=$((i + 1))
	[ $i -lt 600 ] || { kill -KILL "-$pid" 2>/dev/null; cat "$tmp/log"; fail "no load client after 60 s"; }
	kill -0 "$pid" 2>/dev/null || { cat "$tmp/log"; fail "make loadtest ended before ramp-up"; }
	sleep 0.1
done
# The run's namespaces, seen through one of its processes.
client=$(pgrep -f "^$ABS_B/examples/load " | head -n 1)
run_net=$(readlink "/proc/$client/ns/net" || true)
run_pid=$(readlink "/proc/$client/ns/pid" || true)
kill -INT "-$pid"
status=0
wait "$pid" || status=$?
pid=
sed 's/^/  | /' "$tmp/log"
echo "loadtest-interrupt: make loadtest ended with status $status $(($(date +%s) - start)) s after it started"
[ "$status" -ne 0 ] || fail "make loadtest succeeded although interrupted"
grep -q "interrupted (SIGINT) during ramp-up" "$tmp/log" || fail "the harness did not say it was interrupted during ramp-up"
grep -q "^loadtest: interrupted; every process of the run is gone" "$tmp/log" || fail "no final word from the harness"

# Nothing left: give the kernel a moment to finish killing the namespaces' processes.
i=0
while pgrep -f "^$ABS_B/examples/(epoll|load) |bench/loadtest\.py" >/dev/null; do
	i=$((i + 1))
	[ $i -lt 50 ] || { pgrep -af "^$ABS_B/examples/(epoll|load) |bench/loadtest\.py" >&2; fail "processes left behind"; }
	sleep 0.1
done
[ -n "$run_net" ] || fail "could not read the run's network namespace"
held_ns net | grep -qxF "$run_net" && fail "a process still holds the run's network namespace $run_net"
held_ns pid | grep -qxF "$run_pid" && fail "a process still holds the run's PID namespace $run_pid"
[ "$run_net" != "$(readlink /proc/self/ns/net)" ] || fail "the run was not in a network namespace of its own"
ip netns list >"$tmp/netns.after" 2>/dev/null || true
cmp -s "$tmp/netns.before" "$tmp/netns.after" || { diff "$tmp/netns.before" "$tmp/netns.after" >&2; fail "ip netns list changed"; }
if nft list tables 2>/dev/null | grep -q "loadtest"; then fail "an nftables table loadtest is left"; fi
[ "$(cat /proc/sys/net/core/netdev_max_backlog)" = "$backlog" ] ||
	fail "net.core.netdev_max_backlog is $(cat /proc/sys/net/core/netdev_max_backlog), was $backlog"
echo "loadtest-interrupt: ok: interrupted during ramp-up; no process, namespace ($run_net, $run_pid) or nftables table left; netdev_max_backlog $backlog again"

# ---- 2. Refusals ------------------------------------------------------------------
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)
status=0
setpriv --reuid=nobody --regid=nogroup --clear-groups "$py" bench/loadtest.py --build "$B" \
	--out "$tmp/nobody" --sizes 20000 >"$tmp/nobody.log" 2>&1 || status=$?
cat "$tmp/nobody.log"
[ "$status" -eq 2 ] || fail "as nobody: status $status, not 2"
grep -q "loadtest: needs root" "$tmp/nobody.log" || fail "as nobody: no 'needs root'"
status=0
setpriv --bounding-set=-sys_admin "$py" bench/loadtest.py --build "$B" --out "$tmp/nocap" \
	--sizes 20000 >"$tmp/nocap.log" 2>&1 || status=$?
cat "$tmp/nocap.log"
[ "$status" -eq 2 ] || fail "without CAP_SYS_ADMIN: status $status, not 2"
grep -q "loadtest: cannot make network and PID namespaces" "$tmp/nocap.log" ||
	fail "without CAP_SYS_ADMIN: no 'cannot make network and PID namespaces'"
echo "loadtest-interrupt: ok: refuses without root and without namespaces, saying why"
