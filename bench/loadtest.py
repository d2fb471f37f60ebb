#!/usr/bin/env python3
"""
loadtest - how many TCP connections one Linux host holds, every one of them
watched, and what watching them costs (issue #14). `make loadtest` runs it.

  python3 bench/loadtest.py [--build DIR] [--out DIR] [--sizes N[,N...]]

For each size N (LOADTEST_SIZES, or CONNS for one size; default 1000000) it
makes two runs, each in a private network and PID namespace of its own
(unshare --net --pid --fork --mount-proc --kill-child): everything a run
starts dies with the namespace's first process, and the network namespace,
with its nftables table, goes with it. The whole harness is also run under
such a PID namespace, so that an interrupted run (Ctrl-C, SIGTERM, make
killed) leaves no process, namespace or nftables table behind.

  keepalive run   the epoll example with -i 0: no heartbeats, the kernel's
                  keepalive and TCP_USER_TIMEOUT planned for a 90 s budget
                  (-b 90000) alone; ramp up, then one keepalive idle time
                  (45 s) of steady state, so every connection is probed once
  heartbeats run  the same with heartbeats (-i 30000 -t 90000 -r 1000, the
                  socket options planned for the same 90 s as a backstop):
                  ramp up, one heartbeat interval (30 s) of steady state until
                  every connection was pinged, then faults in 1 % of the
                  connections, then teardown

The servers are `epoll -w S` (S worker processes sharing the port with
SO_REUSEPORT); the clients are `load` processes, each from several source
addresses in 127.0.0.0/8 (under 10000 connections each). The 1 % that is
faulted belongs to small load processes of its own, started in random order
among the others, each from its own source address: a third are frozen
(SIGSTOP: their kernel still ACKs, so heartbeat-timeout), a third dropped
both ways by nftables (a vanished host: vanished), a third killed (kill -9:
closed or reset). Every server verdict is matched by its peer's address:
each must come within its bound with the right cause, and a verdict on any
other connection is a healthy connection convicted. The run fails unless
every fault is detected in time and no healthy connection is convicted.

Memory is measured: /proc/meminfo and /proc/slabinfo before the servers start
and at the end of the steady state, each time just after dropping the
reclaimable slab objects nothing pins (echo 2 > /proc/sys/vm/drop_caches), and
each process's Pss_Anon (/proc/PID/smaps_rollup). Kernel bytes per connection
= (MemFree drop - growth of AnonPages - growth of Cached and Buffers) / N, the
kernel's own allocations, both sockets of each connection being on this host;
MemFree, not MemAvailable, which counts the open sockets' inodes and dentries
as reclaimable though they are not. User bytes per connection = the servers'
Pss_Anon growth since they listened / N (the watching side).
CPU is utime + stime per process (/proc/PID/stat) over the steady state, and
the machine's softirq time (/proc/stat), where the kernel's timers and
loopback packets are counted. `liveness doctor --connections N` is run in
the namespace and its per-connection estimate compared with the measurement.

Output, in --out (default BUILD/loadtest): report-N.txt (the text report of
size N), results-N.json (its figures), report.txt (this invocation's reports),
loadtest.dat and memory.svg, cpu.svg (gnuplot, bench/loadtest.gp) drawn from
every results-N.json in the directory, so sizes run one at a time add up;
logs-N-KIND/ holds each child's output (files, read as they grow: a child
never waits on the harness). From 100000 connections the run also fails when
the doctor's estimate is more than 10 % off the measurement.

Inside the namespaces it raises net.core.somaxconn and tcp_max_syn_backlog;
outside, for the whole run, net.core.netdev_max_backlog (global: the loopback
queue that bursts of keepalive probes overflow), restored when it ends.

Guards: a run stops, tearing everything down, with a message saying why, if
MemFree falls under 4 GiB, if the connection count stalls for 40 s during
ramp-up, or if a step takes too long. Needs root (namespaces, sysctls,
nftables), util-linux unshare, iproute2, nftables; gnuplot for the pictures.
"""

import ctypes
import json
import math
import os
import random
import signal
import statistics
import subprocess
import sys
import time

PORT = 7300
INTERVAL_MS = 30000  # heartbeat interval
TIMEOUT_MS = 90000  # heartbeat timeout
RES_MS = 1000  # the group's wheel resolution
BUDGET_MS = 90000  # liveness_tcp_plan() budget for the socket options, both runs
MARGIN_S = 2.0  # scheduling margin on every bound: 2 cores, ~130 processes
PER_PROC = 16667  # connections per process (the hard limit is 20000 descriptors)
PER_ADDR = 8000  # connections per source address (under the even half of the ports)
FAULT_PER_PROC = 1000  # fault connections per fault process (at least 2 per kind)
MEMFREE_FLOOR = 4 << 30  # stop under this
# Ramp-up: no progress for this long stops the run. Long enough for the SYN and
# SYN-ACK retransmissions' backoff (1 + 2 + 4 + 8 + 16 s): under load the loopback
# backlog (net.core.netdev_max_backlog, global, left alone) drops packets.
STALL_S = 40.0
DOCTOR_TOLERANCE = 0.10  # |doctor - measured| / measured
DOCTOR_MIN_CONNS = 100000  # under this the comparison is printed, not enforced
CLK_TCK = os.sysconf("SC_CLK_TCK")
HERE = os.path.dirname(os.path.abspath(__file__))


class Stop(Exception):
    """A guard tripped, a step failed or the run was interrupted: tear down, say why."""


# The signal that interrupted the run, set by its handler. The handler only
# records it: an exception raised from a handler can leave the middle of any
# call, subprocess's own locks held (its wait() would then never return), so
# the run's loops check it and stop from where they are (check_interrupt()).
INTERRUPTED = {"sig": None}


def check_interrupt(phase):
    sig = INTERRUPTED["sig"]
    if sig is not None:
        raise Stop(f"interrupted ({signal.Signals(sig).name}) during {phase}")


def say(msg):
    print(msg, flush=True)


def prctl_pdeathsig(sig):
    """Have the kernel send sig to this process when its parent dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(sig), 0, 0, 0)  # PR_SET_PDEATHSIG
    except OSError:
        pass


# ---- /proc -----------------------------------------------------------------


def meminfo():
    m = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":", 1)
            m[k] = int(v.split()[0]) * 1024
    return m


def sockstat():
    with open("/proc/net/sockstat") as f:
        for line in f:
            if line.startswith("TCP:"):
                w = line.split()[1:]
                return {w[i]: int(w[i + 1]) for i in range(0, len(w) - 1, 2)}
    return {}


def cpu_ticks(pid):
    """utime + stime of a process, in clock ticks; None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return int(rest[11]) + int(rest[12])
    except (OSError, IndexError, ValueError):
        return None


def machine_ticks():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...
    return {"busy": sum(v) - v[3] - v[4], "softirq": v[6], "all": sum(v)}


def pss_anon(pid):
    """Anonymous memory of a process (heap, anonymous mappings, stack), bytes,
    shared copy-on-write pages divided among their sharers; 0 once gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss_Anon:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def slabinfo():
    """Bytes of each slab cache: its slabs' pages (what MemFree loses), needs root."""
    d = {}
    try:
        with open("/proc/slabinfo") as f:
            for line in f.readlines()[2:]:
                w = line.split()
                d[w[0]] = int(w[14]) * int(w[5]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        pass
    return d


def read_sysctl(name):
    try:
        with open("/proc/sys/" + name.replace(".", "/")) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def write_sysctl(name, value):
    with open("/proc/sys/" + name.replace(".", "/"), "w") as f:
        f.write(str(value))


def fmt_b(b):
    for unit, div in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(b) >= div:
            return f"{b / div:.2f} {unit}"
    return f"{b:.0f} B"


def spread(values):
    """min / median / max of a list, formatted, % of a core."""
    if not values:
        return "-"
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"


# ---- one run, inside its namespaces ------------------------------------------


class Proc:
    """A child whose output goes to a file, read as it grows. Never a pipe: a
    server blocked on a full pipe while the harness is busy (drop_caches takes
    seconds at a million sockets) stops its loop, and a heartbeat loop that
    stops convicts healthy peers when it resumes."""

    def __init__(self, name, argv, logdir, role=None, addrs=(), conns=0):
        self.name, self.role, self.addrs, self.conns = name, role, list(addrs), conns
        path = os.path.join(logdir, name + ".log")
        with open(path, "wb") as out:
            self.popen = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, start_new_session=True)
        self.reader = open(path, "rb")
        self.done = False
        self.pid = self.popen.pid
        self.buf = b""
        self.connected = self.pinged = None  # when it said so
        self.fault_at = None


class Run:
    def __init__(self, kind, conns, build, logdir):
        self.kind, self.n, self.build, self.logdir = kind, conns, build, logdir
        self.procs = []
        self.server = None
        self.clients = []
        self.workers = {}  # worker index -> pid
        self.worker_conns = {}  # worker index -> last stats conns=
        self.verdicts = []  # (at_s, peer address, cause, silent_ms, worker line)
        self.addr_role = {}  # source address -> client Proc
        self.lost = []  # client "lost" lines
        self.phase = "setup"
        self.res = {"kind": kind, "conns": conns}

    # -- output of the children
    def add(self, proc):
        self.procs.append(proc)
        return proc

    def pump(self, timeout):
        """Read what the children printed, for up to timeout seconds; check the guards."""
        end = time.monotonic() + timeout
        while True:
            for proc in self.procs:
                if proc.done:
                    continue
                gone = proc.popen.poll() is not None  # before the read: nothing after it
                data = proc.reader.read()
                if data:
                    proc.buf += data
                    *lines, proc.buf = proc.buf.split(b"\n")
                    for line in lines:
                        self.line(proc, line.decode(errors="replace"))
                if gone:
                    proc.done = True
                    self.ended(proc)
            self.guard()
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.1))

    def ended(self, proc):
        if proc.fault_at is not None and proc.role == "killed":
            return  # we killed it
        if self.phase != "teardown":
            proc.popen.wait()
            raise Stop(f"{proc.name} ended during {self.phase} (status {proc.popen.returncode})")

    def line(self, proc, line):
        now = time.monotonic()
        w = line.split()
        if not w:
            return
        kv = dict(x.split("=", 1) for x in w[1:] if "=" in x)
        if proc is self.server:
            if w[0] == "listening":
                self.workers[int(kv["worker"])] = int(kv["pid"])
                self.listening = kv
            elif w[0] == "stats":
                self.worker_conns[int(kv["worker"])] = int(kv["conns"])
            elif w[0] == "disconnect":
                self.verdicts.append((int(kv["at_ns"]) / 1e9, kv["peer"].rsplit(":", 1)[0],
                                      kv["cause"], int(kv["silent_ms"]), self.phase))
            else:
                say(f"  server: {line}")
        else:
            if w[0] == "connected":
                proc.connected = now
            elif w[0] == "pinged":
                proc.pinged = now
            elif w[0] == "lost":
                self.lost.append((proc.name, proc.role, line))
            else:
                raise Stop(f"{proc.name}: {line}")

    def guard(self):
        check_interrupt(self.phase)
        free = meminfo()["MemFree"]
        if free < MEMFREE_FLOOR:
            raise Stop(f"MemFree {fmt_b(free)} is under {fmt_b(MEMFREE_FLOOR)} during "
                       f"{self.phase}: stopping before the machine runs out of memory "
                       f"(try a smaller CONNS)")

    def accepted(self):
        return sum(self.worker_conns.values())

    # -- the plan of processes and addresses
    def layout(self):
        n = self.n
        faults = n // 100 if n >= 300 else 0
        kinds = {"frozen": faults // 3, "dropped": faults // 3}
        kinds["killed"] = faults - 2 * (faults // 3)
        healthy = n - faults
        servers = max(2, math.ceil(n / PER_PROC))
        hprocs = max(2, math.ceil(healthy / PER_PROC))
        plan, addr = [], [1, 0, 1]  # 127.1.0.1 upwards for healthy clients

        def next_addr(block):
            a = block
            a[2] += 1
            if a[2] > 250:
                a[1], a[2] = a[1] + 1, 1
            return f"127.{a[0]}.{a[1]}.{a[2] - 1}"

        for i in range(hprocs):
            k = healthy // hprocs + (1 if i < healthy % hprocs else 0)
            addrs = [next_addr(addr) for _ in range(max(1, math.ceil(k / PER_ADDR)))]
            plan.append(("healthy", f"client{i}", addrs, k))
        faddr = [2, 0, 1]  # 127.2.0.1 upwards for the fault processes, one address each
        for role, total in kinds.items():
            if total == 0:
                continue
            procs = max(2, math.ceil(total / FAULT_PER_PROC)) if total >= 2 else 1
            for i in range(procs):
                k = total // procs + (1 if i < total % procs else 0)
                plan.append((role, f"{role}{i}", [next_addr(faddr)], k))
        return servers, plan, kinds

    # -- the phases
    def setup_netns(self):
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        write_sysctl("net.core.somaxconn", 65535)
        write_sysctl("net.ipv4.tcp_max_syn_backlog", 262144)
        # conntrack is not loaded in a fresh namespace: nothing to raise there.

    def doctor(self):
        r = subprocess.run([os.path.join(self.build, "liveness"), "doctor", "--json",
                            "--connections", str(self.n), "--budget", "90s"],
                           capture_output=True, text=True, timeout=120)
        try:
            mem = json.loads(r.stdout)["memory"]
            return {"bytes_per_connection": mem.get("bytes_per_connection"),
                    "pairs": mem.get("pairs"), "method": mem.get("method")}
        except (ValueError, KeyError, TypeError):
            return {"error": (r.stdout + r.stderr)[-300:]}

    def start_servers(self, servers):
        argv = [os.path.join(self.build, "examples", "epoll"), "-a", "127.0.0.1", "-p", str(PORT),
                "-w", str(servers), "-s", "-b", str(BUDGET_MS), "-r", str(RES_MS)]
        if self.kind == "heartbeats":
            argv += ["-i", str(INTERVAL_MS), "-t", str(TIMEOUT_MS)]
        else:
            argv += ["-i", "0"]
        self.server = self.add(Proc("server", argv, self.logdir))
        deadline = time.monotonic() + 20
        while len(self.workers) < servers:
            if time.monotonic() > deadline:
                raise Stop(f"only {len(self.workers)} of {servers} server workers listening "
                           f"after 20 s")
            self.pump(0.1)
        ka = self.listening["keepalive"].split("/")
        self.keepalive_idle = int(ka[0])
        self.res["keepalive"] = self.listening["keepalive"]
        self.res["user_timeout_ms"] = int(self.listening["user_timeout_ms"])

    def ramp(self, plan):
        self.phase = "ramp-up"
        load = os.path.join(self.build, "examples", "load")
        order = list(plan)
        random.shuffle(order)  # the fault processes start among the others
        t0 = time.monotonic()
        for role, name, addrs, k in order:
            argv = [load, "-b", ",".join(addrs), "-n", str(k), "127.0.0.1", str(PORT)]
            p = self.add(Proc(name, argv, self.logdir, role, addrs, k))
            self.clients.append(p)
            for a in addrs:
                self.addr_role[a] = p
        last_n, last_t, next_print, t99 = -1, t0, t0 + 2, None
        while True:
            self.pump(0.25)
            now = time.monotonic()
            ss = sockstat()
            # Both ends of an established connection are "inuse"; the listeners too.
            progress = max(self.accepted(), (ss.get("inuse", 0) - len(self.workers)) // 2)
            if progress > last_n:
                last_n, last_t = progress, now
            if t99 is None and progress >= 0.99 * self.n:
                t99 = now - t0
            elif now - last_t > STALL_S:
                raise Stop(f"ramp-up stalled: {progress} of {self.n} connections, none more "
                           f"for {STALL_S:.0f} s")
            if now >= next_print:
                say(f"  ramp-up: {progress} of {self.n} connections in {now - t0:.1f} s, "
                    f"MemFree {fmt_b(meminfo()['MemFree'])}")
                next_print = now + 5
            # The servers' counts come once a second from each, and late from a busy
            # one: the sockets the namespace holds say as much.
            if all(c.connected for c in self.clients) and progress >= self.n:
                break
        up = max(c.connected for c in self.clients) - t0
        limit = time.monotonic() + 30
        while self.accepted() < self.n or len(self.worker_conns) < len(self.workers):
            if time.monotonic() > limit:
                raise Stop(f"the servers hold {self.accepted()} of {self.n} connections "
                           f"30 s after the clients had them all")
            self.pump(0.2)
        per = sorted(self.worker_conns.values())
        self.res.update(ramp_s=up, rate=self.n / up, worker_conns=[per[0], per[-1]],
                        ramp99_s=t99 or up)
        say(f"  ramp-up: {self.n} connections up in {up:.2f} s ({self.n / up:.0f}/s), "
            f"{len(self.workers)} servers, {len(self.clients)} clients")

    def mem_snapshot(self):
        # Reclaimable slab objects that nothing pins go first (echo 2 > drop_caches):
        # what stays is what the open connections hold. Without it, a process that
        # reads every /proc/PID/fd (this VM's init does, every few seconds) leaves a
        # proc inode and a dentry per socket, about 1.8 KB a connection, that the
        # kernel would reclaim at need and that the connections do not cost.
        write_sysctl("vm.drop_caches", 2)
        m, ss = meminfo(), sockstat()
        return {"MemFree": m["MemFree"], "MemAvailable": m["MemAvailable"],
                "AnonPages": m["AnonPages"], "Cached": m["Cached"], "Buffers": m["Buffers"],
                "slabinfo": slabinfo(),
                "Slab": m["Slab"], "SUnreclaim": m["SUnreclaim"],
                "SReclaimable": m["SReclaimable"], "PageTables": m.get("PageTables", 0),
                "tcp_mem_pages": ss.get("mem", 0)}

    def all_pids(self):
        return [self.server.pid] + list(self.workers.values()) + [c.pid for c in self.clients]

    def steady(self, seconds, until=None):
        self.phase = f"steady state ({self.kind})"
        before = {pid: cpu_ticks(pid) for pid in self.all_pids()}
        m0, t0 = machine_ticks(), time.monotonic()
        limit = t0 + seconds + 30
        while time.monotonic() < t0 + seconds or (until and not until()):
            if time.monotonic() > limit:
                raise Stop(f"steady state: not every client was pinged within "
                           f"{seconds + 30:.0f} s")
            self.pump(0.5)
        elapsed = time.monotonic() - t0
        m1 = machine_ticks()
        cores = os.cpu_count() or 1

        def pct(pid):
            a, b = before.get(pid), cpu_ticks(pid)
            return 100.0 * (b - a) / CLK_TCK / elapsed if a is not None and b else 0.0

        servers = [pct(pid) for pid in self.workers.values()]
        clients = [pct(c.pid) for c in self.clients]
        soft = 100.0 * (m1["softirq"] - m0["softirq"]) / CLK_TCK / elapsed
        busy = 100.0 * (m1["busy"] - m0["busy"]) / CLK_TCK / elapsed
        self.res["steady"] = {
            "seconds": elapsed, "servers_pct": servers, "clients_pct": clients,
            "supervisor_pct": pct(self.server.pid), "softirq_pct": soft,
            "machine_busy_pct": busy, "cores": cores,
            "watch_pct": sum(servers) + soft,
            "verdicts": len(self.verdicts)}

    def memory(self, base, server_base):
        m = self.mem_snapshot()
        anon_servers = sum(pss_anon(p) for p in [self.server.pid] + list(self.workers.values()))
        anon_clients = sum(pss_anon(c.pid) for c in self.clients)
        n = self.n
        drop = base["MemFree"] - m["MemFree"]
        # What MemFree lost that is neither anonymous memory (any process's: ours are
        # most of it) nor the page cache: the kernel's own allocations.
        delta = {k: m[k] - base[k] for k in ("AnonPages", "Cached", "Buffers")}
        kernel = drop - delta["AnonPages"] - delta["Cached"] - delta["Buffers"]
        caches = {k: v - base["slabinfo"].get(k, 0) for k, v in m["slabinfo"].items()}
        top = sorted(caches.items(), key=lambda kv: -kv[1])[:8]
        base = dict(base, slabinfo=None)
        m = dict(m, slabinfo=None)
        self.res["memory"] = {
            "before": base, "after": m, "memfree_drop": drop,
            "slab_delta": m["Slab"] - base["Slab"],
            "sunreclaim_delta": m["SUnreclaim"] - base["SUnreclaim"],
            "sreclaimable_delta": m["SReclaimable"] - base["SReclaimable"],
            "anon_servers": anon_servers, "anon_servers_at_listen": server_base,
            "anon_clients": anon_clients, "anon_delta": delta["AnonPages"],
            "cache_delta": delta["Cached"] + delta["Buffers"],
            "caches_per_conn": [(k, v / n) for k, v in top],
            "kernel_per_conn": kernel / n,
            "slab_per_conn": (m["Slab"] - base["Slab"]) / n,
            "user_per_conn": (anon_servers - server_base) / n,
            "clients_per_conn": anon_clients / n}

    def faults(self, kinds):
        self.phase = "faults"
        frozen = [c for c in self.clients if c.role == "frozen"]
        dropped = [c for c in self.clients if c.role == "dropped"]
        killed = [c for c in self.clients if c.role == "killed"]
        if dropped:
            addrs = ", ".join(a for c in dropped for a in c.addrs)
            rules = ("add table inet loadtest\n"
                     "add chain inet loadtest in { type filter hook input priority 0; }\n"
                     f"add rule inet loadtest in ip saddr {{ {addrs} }} drop\n"
                     f"add rule inet loadtest in ip daddr {{ {addrs} }} drop\n")
            subprocess.run(["nft", "-f", "-"], input=rules, text=True, check=True)
            t = time.monotonic()
            for c in dropped:
                c.fault_at = t
        for c in frozen:
            c.fault_at = time.monotonic()
            os.kill(c.pid, signal.SIGSTOP)
        exit_took = 0.0
        for c in killed:
            c.fault_at = time.monotonic()
            os.kill(c.pid, signal.SIGKILL)
            c.popen.wait()  # its kernel closes the sockets as the process exits
            c.exit_took = time.monotonic() - c.fault_at
            exit_took = max(exit_took, c.exit_took)
        faulted = {a: c for c in frozen + dropped + killed for a in c.addrs}
        total = sum(kinds.values())
        say(f"  faults: {total} connections in {len(faulted)} processes: "
            f"{kinds['frozen']} frozen (SIGSTOP), {kinds['dropped']} dropped (nftables), "
            f"{kinds['killed']} killed (kill -9)")
        hb_bound = TIMEOUT_MS / 1e3 + RES_MS / 1e3 + MARGIN_S
        deadline = time.monotonic() + hb_bound + 10  # late verdicts are counted, not waited for
        first = len(self.verdicts)
        while time.monotonic() < deadline:
            self.pump(0.5)
            got = sum(1 for v in self.verdicts[first:] if v[1] in faulted)
            if got >= total:
                break
        # A little longer, for any verdict on a healthy connection this caused.
        self.pump(2.0)
        expect = {"frozen": ("heartbeat-timeout",), "dropped": ("vanished",),
                  "killed": ("closed", "reset")}
        out = {}
        for role in ("frozen", "dropped", "killed"):
            procs = [c for c in self.clients if c.role == role]
            vs = [v for v in self.verdicts[first:] if v[1] in faulted
                  and faulted[v[1]].role == role]
            causes = {}
            for v in vs:
                causes[v[2]] = causes.get(v[2], 0) + 1
            after = [v[0] - faulted[v[1]].fault_at for v in vs]
            silent = [v[3] / 1e3 for v in vs]
            if role == "killed":
                bound = exit_took + MARGIN_S
                ok = [v for v, a in zip(vs, after) if v[2] in expect[role] and a <= bound]
            else:
                bound = hb_bound
                ok = [v for v, a in zip(vs, after) if v[2] in expect[role] and a <= bound
                      and TIMEOUT_MS / 1e3 <= v[3] / 1e3 <= bound]
            out[role] = {"injected": kinds[role], "processes": len(procs),
                         "verdicts": len(vs), "causes": causes, "expected": expect[role],
                         "within_bound": len(ok), "bound_s": bound,
                         "after_s": [min(after), max(after)] if after else None,
                         "silent_s": [min(silent), max(silent)] if silent else None}
        self.res["faults"] = {"roles": out, "injected": total,
                              "detected": sum(r["within_bound"] for r in out.values()),
                              "exit_took_s": exit_took, "margin_s": MARGIN_S,
                              "hb_bound_s": hb_bound}

    def convicted(self):
        faulted = {a for c in self.clients if c.fault_at is not None for a in c.addrs}
        bad = [v for v in self.verdicts if v[1] not in faulted]
        self.res["convicted"] = len(bad)
        self.res["convicted_examples"] = [f"{v[1]} {v[2]} silent {v[3]} ms during {v[4]}"
                                          for v in bad[:5]]
        self.res["client_lost"] = [f"{n} ({r}): {l}" for n, r, l in self.lost
                                   if r == "healthy"][:5]
        self.res["client_lost_healthy"] = sum(1 for _, r, _ in self.lost if r == "healthy")

    def teardown(self):
        self.phase = "teardown"
        t0 = time.monotonic()
        # Let the dropped clients' closing packets through, or their sockets would
        # linger retransmitting FINs until the namespace goes.
        subprocess.run(["nft", "delete", "table", "inet", "loadtest"], capture_output=True)
        procs = ([c.popen for c in self.clients] + ([self.server.popen] if self.server else []))
        pids = list(self.workers.values()) + [p.pid for p in procs]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for p in procs:
            p.wait()
        # Reap the workers too (orphans come to us, the namespace's first process).
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            pass
        gone = time.monotonic() - t0
        # The sockets close as their processes exit; wait for the kernel to free them.
        while time.monotonic() - t0 < 60:
            ss = sockstat()
            if ss.get("inuse", 0) == 0:  # this namespace's sockets, every state but TIME_WAIT
                break
            time.sleep(0.2)
        self.res["teardown_s"] = time.monotonic() - t0
        self.res["teardown_procs_s"] = gone


def settle():
    """Wait (up to 60 s) until MemFree holds still: a namespace torn down just
    before frees its sockets in the background, which would skew the baseline."""
    t0, last = time.monotonic(), meminfo()["MemFree"]
    while time.monotonic() - t0 < 60:
        for _ in range(20):
            check_interrupt("setup")
            time.sleep(0.1)
        now = meminfo()["MemFree"]
        if abs(now - last) < (16 << 20):
            return
        last = now


def run_inside(kind, conns, build, result):
    """One run: we are the first process of fresh network and PID namespaces."""
    logdir = os.path.join(os.path.dirname(result), f"logs-{conns}-{kind}")
    os.makedirs(logdir, exist_ok=True)
    for name in os.listdir(logdir):
        os.unlink(os.path.join(logdir, name))
    run = Run(kind, conns, build, logdir)

    def on_signal(sig, frame):
        if INTERRUPTED["sig"] is None:  # once is enough (Ctrl-C comes directly and forwarded)
            INTERRUPTED["sig"] = sig

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    status = 0
    try:
        run.setup_netns()
        settle()
        check_interrupt("setup")
        servers, plan, kinds = run.layout()
        if kind == "heartbeats":
            run.res["doctor"] = run.doctor()
        time.sleep(0.5)
        base = run.mem_snapshot()
        run.res["machine"] = {"MemTotal": meminfo()["MemTotal"], "cores": os.cpu_count(),
                              "kernel": os.uname().release}
        run.start_servers(servers)
        server_base = sum(pss_anon(p) for p in [run.server.pid] + list(run.workers.values()))
        run.res.update(servers=servers, clients=len(plan),
                       healthy_clients=sum(1 for p in plan if p[0] == "healthy"),
                       addresses=sum(len(p[2]) for p in plan))
        run.ramp(plan)
        if kind == "heartbeats":
            run.steady(INTERVAL_MS / 1e3 + 1,
                       until=lambda: all(c.pinged for c in run.clients))
        else:
            run.steady(run.keepalive_idle + 1)
        run.memory(base, server_base)
        st = run.res["steady"]
        say(f"  steady state: {st['seconds']:.1f} s, servers {sum(st['servers_pct']):.2f} % of "
            f"a core, clients {sum(st['clients_pct']):.2f} %, softirq {st['softirq_pct']:.2f} %; "
            f"kernel {run.res['memory']['kernel_per_conn']:.0f} B/conn, "
            f"user {run.res['memory']['user_per_conn']:.0f} B/conn")
        if kind == "heartbeats" and sum(kinds.values()) > 0:
            run.faults(kinds)
        run.convicted()
    except Stop as e:
        say(f"loadtest: {e}; tearing down")
        run.res["error"] = str(e)
        status = 130 if INTERRUPTED["sig"] else 1
    except Exception as e:  # noqa: BLE001 - any failure must still tear down
        say(f"loadtest: {type(e).__name__}: {e}; tearing down")
        run.res["error"] = f"{type(e).__name__}: {e}"
        status = 1
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    causes = {}
    for v in run.verdicts:
        causes[v[2]] = causes.get(v[2], 0) + 1
    run.res["verdict_causes"] = causes
    if "error" in run.res and run.verdicts:
        say(f"  server verdicts so far: {causes}; the first: {run.verdicts[0]}")
    run.teardown()
    say(f"  teardown: {run.res['teardown_s']:.1f} s")
    with open(result, "w") as f:
        json.dump(run.res, f, indent=1)
    return status


# ---- the report ---------------------------------------------------------------------


def report(n, ka, hb):
    L = []
    mach = hb.get("machine", {})
    L.append(f"loadtest report: {n} connections; Linux {mach.get('kernel', '?')}, "
             f"{mach.get('cores', '?')} cores, MemTotal {fmt_b(mach.get('MemTotal', 0))}")
    L.append(f"  servers: build/examples/epoll -w {hb.get('servers')} (SO_REUSEPORT), socket "
             f"options planned for {BUDGET_MS / 1e3:.0f} s (keepalive {hb.get('keepalive')}, "
             f"TCP_USER_TIMEOUT {hb.get('user_timeout_ms')} ms)")
    L.append(f"  clients: {hb.get('clients')} load processes ({hb.get('healthy_clients')} "
             f"healthy, the rest holding the fault set), {hb.get('addresses')} source addresses")
    for name, r in (("keepalive only (-i 0)", ka), ("heartbeats (-i 30000 -t 90000 -r 1000)", hb)):
        L.append("")
        L.append(f"run: {name}")
        if "ramp_s" in r:
            L.append(f"  ramp-up: {r['ramp_s']:.2f} s, {r['rate']:.0f} connections/s (99 % up "
                     f"in {r.get('ramp99_s', r['ramp_s']):.2f} s, the rest waiting out SYN "
                     f"retransmissions); "
                     f"{r['worker_conns'][0]} to {r['worker_conns'][1]} connections a server "
                     f"process (SO_REUSEPORT's spread)")
        m = r.get("memory")
        if m:
            L.append(f"  memory (steady state against before the servers started):")
            L.append(f"    MemFree dropped {fmt_b(m['memfree_drop'])}: {m['memfree_drop'] / n:.0f} "
                     f"B/conn; Slab +{fmt_b(m['slab_delta'])} ({m['slab_per_conn']:.0f} B/conn; "
                     f"SUnreclaim +{fmt_b(m['sunreclaim_delta'])}, SReclaimable "
                     f"+{fmt_b(m['sreclaimable_delta'])}); TCP buffers "
                     f"{m['after']['tcp_mem_pages']} pages")
            L.append(f"    kernel {m['kernel_per_conn']:.0f} B/conn, two sockets a connection: "
                     f"the MemFree drop less the growth of anonymous memory "
                     f"({fmt_b(m['anon_delta'])}) and of the page cache "
                     f"({fmt_b(m['cache_delta'])})")
            if m.get("caches_per_conn"):
                L.append("    slab caches that grew, B/conn: " + ", ".join(
                    f"{k} {v:.0f}" for k, v in m["caches_per_conn"] if v >= 8))
            L.append(f"    user: servers {m['user_per_conn']:.0f} B/conn (Pss_Anon growth "
                     f"since listening, {fmt_b(m['anon_servers'])} in all); clients "
                     f"{m['clients_per_conn']:.0f} B/conn")
        s = r.get("steady")
        if s:
            L.append(f"  steady state, {s['seconds']:.1f} s, CPU as % of one core "
                     f"(min / median / max per process, total):")
            L.append(f"    servers ({len(s['servers_pct'])}): {spread(s['servers_pct'])}, "
                     f"total {sum(s['servers_pct']):.2f} %")
            L.append(f"    clients ({len(s['clients_pct'])}): {spread(s['clients_pct'])}, "
                     f"total {sum(s['clients_pct']):.2f} %")
            L.append(f"    softirq, whole machine (timers, loopback packets): "
                     f"{s['softirq_pct']:.2f} %; machine busy {s['machine_busy_pct']:.2f} % "
                     f"(includes anything else running)")
            L.append(f"    watching: servers + softirq = {s['watch_pct']:.2f} % of a core")
        f = r.get("faults")
        if f:
            L.append(f"  faults: {f['injected']} connections (1 %); kill -9 exits took "
                     f"{f['exit_took_s']:.3f} s; margin {f['margin_s']:.1f} s")
            names = {"frozen": "frozen (SIGSTOP)", "dropped": "dropped (nftables)",
                     "killed": "killed (kill -9)"}
            for role, x in f["roles"].items():
                causes = ", ".join(f"{k} {v}" for k, v in sorted(x["causes"].items())) or "none"
                line = (f"    {names[role]:<19} {x['injected']:>6} in {x['processes']} "
                        f"processes: {x['verdicts']} verdicts ({causes}); expected "
                        f"{' or '.join(x['expected'])}; {x['within_bound']} within the bound "
                        f"{x['bound_s']:.2f} s")
                if x["after_s"]:
                    line += f"; {x['after_s'][0]:.2f}..{x['after_s'][1]:.2f} s after the fault"
                if x["silent_s"] and role != "killed":
                    line += f", silent {x['silent_s'][0]:.2f}..{x['silent_s'][1]:.2f} s"
                L.append(line)
            L.append(f"    bounds: frozen and dropped: timeout {TIMEOUT_MS / 1e3:.0f} s + "
                     f"resolution {RES_MS / 1e3:.0f} s + margin; never under the timeout; "
                     f"killed: the exit + margin")
        if "convicted" in r:
            L.append(f"  healthy connections convicted: {r['convicted']}"
                     + (f" ({'; '.join(r['convicted_examples'])})" if r["convicted"] else ""))
            if r.get("client_lost_healthy"):
                L.append(f"  healthy clients lost {r['client_lost_healthy']} connections: "
                         + "; ".join(r["client_lost"]))
        if "teardown_s" in r:
            L.append(f"  teardown: processes gone in {r['teardown_procs_s']:.1f} s, sockets "
                     f"freed in {r['teardown_s']:.1f} s")
        if "error" in r:
            L.append(f"  FAILED: {r['error']}")
    failures = [f"{k} run: {r['error']}" for k, r in (("keepalive", ka), ("heartbeats", hb))
                if "error" in r]
    # The doctor against the measurement, per socket.
    d = hb.get("doctor", {})
    m = hb.get("memory")
    L.append("")
    doc_diff = None
    if d.get("bytes_per_connection") and m:
        per_socket = m["kernel_per_conn"] / 2
        doc_diff = (d["bytes_per_connection"] - per_socket) / per_socket
        L.append(f"liveness doctor --connections {n}: {d['bytes_per_connection']} B of kernel "
                 f"memory per connection (per socket: a server's peer is elsewhere; "
                 f"{d.get('pairs')} loopback pairs, {d.get('method')}); measured here "
                 f"{per_socket:.0f} B per socket (kernel {m['kernel_per_conn']:.0f} B/conn "
                 f"/ 2): {100 * doc_diff:+.1f} %")
        if abs(doc_diff) > DOCTOR_TOLERANCE:
            if n >= DOCTOR_MIN_CONNS:
                failures.append(f"the doctor's estimate is {100 * doc_diff:+.1f} % off the "
                                f"measurement (tolerance {100 * DOCTOR_TOLERANCE:.0f} %)")
            else:
                L.append(f"  (more than {100 * DOCTOR_TOLERANCE:.0f} % apart; held to it "
                         f"from {DOCTOR_MIN_CONNS} connections, where the measurement is "
                         f"large against the machine's noise)")
    elif d:
        L.append(f"liveness doctor: no estimate: {d.get('error', '?')}")
    f = hb.get("faults", {"injected": 0, "detected": 0})
    F, D, X = f["injected"], f["detected"], hb.get("convicted", -1)
    if "error" in hb:
        pass  # said above; the rest would only repeat it
    elif "faults" in hb:
        for role, x in f["roles"].items():
            if x["within_bound"] != x["injected"]:
                failures.append(f"{role}: {x['within_bound']} of {x['injected']} faults "
                                f"detected within the bound with the expected cause")
    elif n >= 300:
        failures.append("no faults injected")
    if X != 0 and "error" not in hb:
        failures.append(f"{X} healthy connections convicted")
    if ka.get("convicted", 0):
        failures.append(f"keepalive run: {ka['convicted']} healthy connections convicted")
    for msg in failures:
        L.append(f"FAIL: {msg}")
    mem = m or {}
    summary = (f"loadtest: {n} connections, {hb.get('servers', '?')} servers, "
               f"{hb.get('clients', '?')} clients; up in {hb.get('ramp_s', float('nan')):.1f} s "
               f"({hb.get('rate', 0):.0f}/s); kernel {mem.get('kernel_per_conn', 0):.0f} B/conn, "
               f"user {mem.get('user_per_conn', 0):.0f} B/conn; heartbeats "
               f"{hb.get('steady', {}).get('watch_pct', float('nan')):.1f} % of a core, "
               f"keepalive only {ka.get('steady', {}).get('watch_pct', float('nan')):.1f} % of "
               f"a core; faults {F} injected, {D} detected within bound, {X} healthy "
               f"connections convicted")
    L.append(summary)
    results = {"conns": n, "servers": hb.get("servers"), "clients": hb.get("clients"),
               "ramp_s": hb.get("ramp_s"), "rate": hb.get("rate"),
               "kernel_per_conn": mem.get("kernel_per_conn"),
               "slab_per_conn": mem.get("slab_per_conn"),
               "user_per_conn": mem.get("user_per_conn"),
               "clients_per_conn": mem.get("clients_per_conn"),
               "hb_pct": hb.get("steady", {}).get("watch_pct"),
               "hb_servers_pct": sum(hb.get("steady", {}).get("servers_pct", [])),
               "ka_pct": ka.get("steady", {}).get("watch_pct"),
               "ka_servers_pct": sum(ka.get("steady", {}).get("servers_pct", [])),
               "faults": F, "detected": D, "convicted": X,
               "doctor_per_socket": d.get("bytes_per_connection"),
               "doctor_diff": doc_diff, "ok": not failures,
               "keepalive_run": ka, "heartbeats_run": hb}
    return "\n".join(L) + "\n", results, not failures


def plot(out):
    """loadtest.dat from every results-N.json in out, then the SVGs."""
    rows = []
    for name in os.listdir(out):
        if name.startswith("results-") and name.endswith(".json"):
            with open(os.path.join(out, name)) as f:
                r = json.load(f)
            if r.get("kernel_per_conn") is not None and r.get("hb_pct") is not None:
                rows.append(r)
    rows.sort(key=lambda r: r["conns"])
    dat = os.path.join(out, "loadtest.dat")
    with open(dat, "w") as f:
        f.write("# conns kernel_B_per_conn user_B_per_conn heartbeats_pct keepalive_pct "
                "heartbeats_servers_pct keepalive_servers_pct clients_B_per_conn\n")
        for r in rows:
            f.write(f"{r['conns']} {r['kernel_per_conn']:.1f} {r['user_per_conn']:.1f} "
                    f"{r['hb_pct']:.3f} {r['ka_pct'] or 0:.3f} {r['hb_servers_pct']:.3f} "
                    f"{r['ka_servers_pct']:.3f} {r['clients_per_conn']:.1f}\n")
    if not rows:
        return "no results to plot"
    if subprocess.run(["sh", "-c", "command -v gnuplot"], capture_output=True).returncode:
        return "plots skipped: gnuplot is not installed (Debian: apt-get install gnuplot-nox)"
    r = subprocess.run(["gnuplot", "-e", f"data='{dat}'; outdir='{out}'",
                        os.path.join(HERE, "loadtest.gp")], capture_output=True, text=True)
    if r.returncode:
        return f"gnuplot failed: {r.stderr.strip()}"
    return f"plots: {out}/memory.svg, {out}/cpu.svg (from {len(rows)} sizes in {dat})"


# ---- the outer harness ---------------------------------------------------------------

NS = ["unshare", "--net", "--pid", "--fork", "--mount-proc", "--kill-child"]


def refuse(msg):
    print(f"loadtest: {msg}", file=sys.stderr, flush=True)
    sys.exit(2)


def preflight(build):
    if os.geteuid() != 0:
        refuse("needs root: it makes private network and PID namespaces, sets sysctls in them "
               "and injects faults with nftables; run it as root (sudo make loadtest)")
    for tool, pkg in (("unshare", "util-linux"), ("ip", "iproute2"), ("nft", "nftables")):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode:
            refuse(f"needs {tool} (apt-get install {pkg})")
    r = subprocess.run(NS + ["true"], capture_output=True, text=True)
    if r.returncode:
        refuse(f"cannot make network and PID namespaces here ({' '.join(NS)} true: "
               f"{r.stderr.strip() or 'status %d' % r.returncode})")
    for prog in ("examples/epoll", "examples/load", "liveness"):
        if not os.access(os.path.join(build, prog), os.X_OK):
            refuse(f"no {build}/{prog}: build it first (make loadtest does)")


def signal_children(p, sig):
    """Send sig to the children of process p (unshare: the namespace's first process)."""
    try:
        for k in open(f"/proc/{p.pid}/task/{p.pid}/children").read().split():
            os.kill(int(k), sig)
    except OSError:
        pass


def run_outside(args):
    """In the harness's own PID namespace: one child namespace per run."""
    os.makedirs(args.out, exist_ok=True)
    me = os.path.abspath(__file__)
    child = {"p": None}

    def on_signal(sig, frame):
        # Passed on, and recorded; never raised from here (see INTERRUPTED). The
        # run's first process cleans up and reports, and unshare waits for it.
        INTERRUPTED["sig"] = INTERRUPTED["sig"] or sig
        p = child["p"]
        if p is not None:
            signal_children(p, sig)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    texts, ok = [], True
    try:
        for n in args.sizes:
            if INTERRUPTED["sig"]:
                raise KeyboardInterrupt
            say(f"loadtest: {n} connections")
            res = {}
            for kind in args.kinds:
                say(f"run: {kind}")
                path = os.path.join(args.out, f".run-{kind}-{n}.json")
                if os.path.exists(path):
                    os.unlink(path)
                if INTERRUPTED["sig"]:
                    raise KeyboardInterrupt
                child["p"] = subprocess.Popen(NS + [sys.executable, me, "--inside", kind,
                                                    "--conns", str(n), "--build", args.build,
                                                    "--result", path])
                if INTERRUPTED["sig"]:  # came while it started: it did not get it
                    signal_children(child["p"], INTERRUPTED["sig"])
                status = child["p"].wait()
                child["p"] = None
                try:
                    with open(path) as f:
                        res[kind] = json.load(f)
                    os.unlink(path)
                except (OSError, ValueError):
                    res[kind] = {"error": f"the run ended with status {status} and no result"}
                if status == 130 or INTERRUPTED["sig"]:
                    raise KeyboardInterrupt
                if "error" in res[kind]:
                    break
            text, results, passed = report(n, res.get("keepalive", {"error": "not run"}),
                                           res.get("heartbeats", {"error": "not run"}))
            ok = ok and passed
            with open(os.path.join(args.out, f"report-{n}.txt"), "w") as f:
                f.write(text)
            with open(os.path.join(args.out, f"results-{n}.json"), "w") as f:
                json.dump(results, f, indent=1)
            texts.append(text)
            print("\n" + text, end="", flush=True)
    except KeyboardInterrupt:
        p = child["p"]
        if p is not None:
            try:
                p.wait(timeout=90)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        say("loadtest: interrupted; every process of the run is gone with its namespaces")
        return 130
    with open(os.path.join(args.out, "report.txt"), "w") as f:
        f.write("\n".join(texts))
    say(plot(args.out))
    say(f"loadtest: report in {args.out}/report.txt (per size: report-N.txt, results-N.json)")
    return 0 if ok else 1


def main():
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--out")
    ap.add_argument("--sizes", default=os.environ.get("LOADTEST_SIZES") or "1000000")
    ap.add_argument("--inside", choices=("keepalive", "heartbeats"), help=argparse.SUPPRESS)
    ap.add_argument("--conns", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    ap.add_argument("--ns", action="store_true", help=argparse.SUPPRESS)
    # Debugging: one kind of run only (the report then lacks the other).
    ap.add_argument("--kinds", default="keepalive,heartbeats", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    kinds = args.kinds
    args.kinds = [k for k in kinds.split(",") if k in ("keepalive", "heartbeats")]
    if args.inside:
        sys.exit(run_inside(args.inside, args.conns, args.build, args.result))
    try:
        args.sizes = [int(x) for x in args.sizes.replace(",", " ").split()]
        if not args.sizes or min(args.sizes) < 10:
            raise ValueError
    except ValueError:
        refuse(f"bad sizes '{args.sizes}': numbers of connections, at least 10, commas between")
    args.out = os.path.abspath(args.out or os.path.join(args.build, "loadtest"))
    if not args.ns:
        preflight(args.build)
        # Everything from here on is in a PID namespace of ours: when its first
        # process (us, re-executed) ends, however it ends, the kernel kills the rest.
        prctl_pdeathsig(signal.SIGTERM)
        argv = NS[:1] + ["--pid", "--fork", "--mount-proc", "--kill-child", sys.executable,
                         os.path.abspath(__file__), "--ns", "--build", args.build, "--out",
                         args.out, "--sizes", ",".join(map(str, args.sizes)), "--kinds", kinds]
        # The one global setting: loopback packets wait in a per-CPU queue of
        # net.core.netdev_max_backlog (1000) that no namespace has its own of.
        # Keepalive timers due in the same tick of the kernel's timer wheel (its
        # slots are seconds wide that far out) send their probes in one burst,
        # and at a million connections the queue drops nearly all of them and
        # the kernel kills healthy connections. A real NIC has no such queue on
        # the way out; the queue is lengthened for the run and restored after.
        old_backlog = read_sysctl("net.core.netdev_max_backlog")
        want = min(max(args.sizes), 1000000)
        if old_backlog is not None and old_backlog < want:
            write_sysctl("net.core.netdev_max_backlog", want)
            say(f"loadtest: net.core.netdev_max_backlog {old_backlog} -> {want} for the run")
        p = subprocess.Popen(argv, preexec_fn=lambda: prctl_pdeathsig(signal.SIGKILL))

        def forward(sig, frame):
            signal_children(p, sig)

        signal.signal(signal.SIGINT, forward)
        signal.signal(signal.SIGTERM, forward)
        try:
            status = p.wait()
        finally:
            if old_backlog is not None and old_backlog < want:
                write_sysctl("net.core.netdev_max_backlog", old_backlog)
                say(f"loadtest: net.core.netdev_max_backlog {old_backlog} again")
        sys.exit(status)
    sys.exit(run_outside(args))


if __name__ == "__main__":
    main()
