#!/usr/bin/env python3
"""measure.py -- run one command and print what it cost (bench/run.sh).

Usage: measure.py [--in FILE] [--out FILE] [--err FILE] [--tree PID]...
                  -- CMD [ARG]...

Runs CMD (stdin from --in, stdout to --out, else /dev/null; stderr to
--err, else passed through) and prints one line:

  wall_s=<s> cpu_s=<s> maxrss_kb=<kB> server_cpu_s=<s> rc=<exit status>

wall_s is elapsed monotonic time; cpu_s is the user + system time of CMD
and every descendant it waited for (getrusage RUSAGE_CHILDREN); maxrss_kb
the largest resident set of any one of them.  server_cpu_s is the CPU time
the process trees rooted at the --tree PIDs (spamd, rspamd, redis-server:
servers the command talks to) used while CMD ran: utime + stime + cutime
+ cstime summed over every live process of each tree, read from /proc
before and after, so workers that exited and were reaped in between are
still counted through their parent.
"""
import os
import resource
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def stat_fields(pid):
    with open("/proc/%d/stat" % pid, "rb") as f:
        data = f.read().decode("ascii", "replace")
    # The command name may hold spaces: fields count from the last ')'.
    rest = data[data.rindex(")") + 2:].split()
    # rest[0] is field 3 (state): field n is rest[n - 3].
    return int(rest[1]), sum(int(rest[n - 3]) for n in (14, 15, 16, 17))


def tree_ticks(root):
    parents = {}
    ticks = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            ppid, t = stat_fields(int(name))
        except (OSError, ValueError, IndexError):
            continue
        parents[int(name)] = ppid
        ticks[int(name)] = t
    total = 0
    for pid, t in ticks.items():
        p = pid
        seen = 0
        while p in parents and p != root and seen < 64:
            p = parents[p]
            seen += 1
        if p == root:
            total += t
    return total


def main():
    args = sys.argv[1:]
    stdin_path = None
    stdout_path = None
    stderr_path = None
    trees = []
    while args and args[0] != "--":
        if args[0] == "--in":
            stdin_path = args[1]
        elif args[0] == "--out":
            stdout_path = args[1]
        elif args[0] == "--err":
            stderr_path = args[1]
        elif args[0] == "--tree":
            trees.append(int(args[1]))
        else:
            print(__doc__, file=sys.stderr)
            return 2
        args = args[2:]
    cmd = args[1:]
    if not cmd:
        print(__doc__, file=sys.stderr)
        return 2
    fin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    fout = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    ferr = open(stderr_path, "wb") if stderr_path else None
    before = sum(tree_ticks(p) for p in trees)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    rc = subprocess.call(cmd, stdin=fin, stdout=fout, stderr=ferr)
    t1 = time.monotonic()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    after = sum(tree_ticks(p) for p in trees)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    print("wall_s=%.3f cpu_s=%.3f maxrss_kb=%d server_cpu_s=%.2f rc=%d"
          % (t1 - t0, cpu, ru1.ru_maxrss, (after - before) / TICK, rc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
