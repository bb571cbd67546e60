#!/usr/bin/env python3
"""report.py -- the speed benchmark's tables (bench/run.sh, issue #7).

Usage: report.py RESULTS_TSV OUT_MD

RESULTS_TSV holds the lines bench/run.sh collected, tab-separated:
  meta   KEY VALUE
  rate   ID LABEL MESSAGES CPUS "wall_s=.. cpu_s=.. maxrss_kb=.. ..."
  helper MODE LINE        (a line of bench/helperload's output)
  swap   TEXT             (why (e) has no figure)
  note   TEXT
Prints the tables in Markdown and writes them to OUT_MD as well.
Figures only: nothing here fails on a number.
"""
import sys

TARGETS = {"bogo": 20.0, "spamd": 100.0, "p99_ms": 2.0, "rss_mb": 100.0,
           "startup_ms": 100.0}


def kvs(text):
    out = {}
    for tok in text.split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            out[k] = v
    return out


def num(d, k):
    try:
        return float(d.get(k, ""))
    except ValueError:
        return None


def fmt(v, digits=1):
    if v is None:
        return "-"
    if abs(v) >= 100:
        return "%.0f" % v
    return ("%%.%df" % digits) % v


def ratio(a, b):
    if a is None or b is None or b <= 0:
        return None
    return a / b


def verdict(value, target, higher_is_better=True):
    if value is None:
        return "not measured"
    ok = value >= target if higher_is_better else value <= target
    return "met" if ok else "NOT met"


def load(path):
    meta, rates, helper, swap, notes = {}, [], [], [], []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            kind = cols[0]
            if kind == "meta" and len(cols) >= 3:
                meta[cols[1]] = cols[2]
            elif kind == "rate" and len(cols) >= 6:
                d = kvs(cols[5])
                row = {"id": cols[1], "label": cols[2], "n": int(cols[3]),
                       "cpus": int(cols[4]), "wall": num(d, "wall_s"),
                       "cpu": (num(d, "cpu_s") or 0.0) +
                              (num(d, "server_cpu_s") or 0.0),
                       "rss_kb": num(d, "maxrss_kb"),
                       "errors": d.get("errors"), "rc": d.get("rc")}
                row["mps"] = ratio(row["n"], row["wall"])
                row["mpc"] = ratio(row["n"], row["cpu"])
                rates.append(row)
            elif kind == "helper" and len(cols) >= 3:
                helper.append((cols[1], cols[2]))
            elif kind == "swap" and len(cols) >= 2:
                swap.append(cols[1])
            elif kind == "note" and len(cols) >= 2:
                notes.append(cols[1])
    return meta, rates, helper, swap, notes


def kernel_share(p):
    """'N% of it in the kernel' for a helperload 'helper' line's values."""
    cpu = num(p, "cpu_ms")
    sys_ms = num(p, "sys_ms")
    if not cpu or sys_ms is None:
        return ""
    return "%.0f%% of it in the kernel" % (100.0 * sys_ms / cpu)


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    meta, rates, helper, swap, notes = load(sys.argv[1])
    lines = []
    w = lines.append
    by_id = {r["id"]: r for r in rates}
    ours = {1: by_id.get("ours1"), 2: by_id.get("ours2")}

    w("# CGPCloudmark speed benchmark")
    w("")
    w("Machine: %s; load average %s at start, %s at the end. Other "
      "processes may have been using the CPUs: wall-clock figures depend "
      "on them, CPU-time figures much less."
      % (meta.get("machine", "?"), meta.get("load_at_start", "?"),
         meta.get("load_at_end", "?")))
    w("")
    w("Mix: %s (%s)." % (meta.get("mix", "?"), meta.get("sets", "")))
    w("")
    w("## (a) Messages per second, same files, same training set")
    w("")
    w("CPU s is the user + system time of the client and of the server "
      "processes it talks to. Ratios compare with the CGPCloudmark row "
      "that uses as many CPUs (RATE --threads 1 with one bogofilter or "
      "crm114 process, --threads 2 with the rest).")
    w("")
    w("| filter, setup | messages | wall s | msgs/s | CPU s | msgs/CPU-s "
      "| ours/this msgs/s | ours/this per CPU-s |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rates:
        ref = None if r["id"].startswith("ours") else ours.get(r["cpus"])
        label = r["label"]
        if r.get("errors") not in (None, "0"):
            label += " (%s errors)" % r["errors"]
        if r["id"].startswith("ours") and r.get("rc") not in (None, "0"):
            label += " (exit %s)" % r["rc"]
        w("| %s | %d | %s | %s | %s | %s | %s | %s |" % (
            label, r["n"], fmt(r["wall"], 2), fmt(r["mps"]),
            fmt(r["cpu"], 2), fmt(r["mpc"]),
            fmt(ratio(ref["mps"], r["mps"])) + "x" if ref else "",
            fmt(ratio(ref["mpc"], r["mpc"])) + "x" if ref else ""))
    for n in notes:
        w("")
        w("Note: %s" % n)
    w("")

    phases = [(m, kvs(l[len("phase "):])) for m, l in helper
              if l.startswith("phase ")]
    procs = {m: kvs(l[len("helper "):]) for m, l in helper
             if l.startswith("helper ")}
    startup = [kvs(l[len("startup "):]) for m, l in helper
               if l.startswith("startup runs=")]
    events = [(m, kvs(l[len("event "):].split(" text=")[0]),
               l.split(" text=", 1)[1] if " text=" in l else "")
              for m, l in helper if l.startswith("event ")]

    w("## (b) Helper latency (FILE requests, open loop)")
    w("")
    w("Helper: %s. Latency runs from when a request was due to when its "
      "answer was read. \"as is\": driver and helper at normal priority, "
      "sharing the CPUs with whatever else runs; \"isolated\": both under "
      "SCHED_FIFO (chrt -f 10), which keeps other processes from "
      "preempting them. \"floor\": right after each, the same requests "
      "to bench/floorhelper.c, which reads each file and answers without "
      "scoring: what the machine, the driver and the pipes cost at that "
      "moment, under any helper's figures." % meta.get("helper_cartridge", "?"))
    w("")
    w("| run | requests/s | requests | fail-open | p50 ms | p90 ms | p99 ms "
      "| p99.9 ms | max ms | answers/s |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    names = {"shared": "as is", "isolated": "isolated",
             "floor-shared": "floor, as is",
             "floor-isolated": "floor, isolated"}
    for mode, p in phases:
        if mode.startswith("swap"):
            continue
        w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            names.get(mode, mode),
            "flat out" if p.get("rate", "").startswith("flat") else
            p.get("rate"), p.get("answered"), p.get("fail_open"),
            p.get("p50_ms"), p.get("p90_ms"), p.get("p99_ms"),
            p.get("p999_ms"), p.get("max_ms"), p.get("throughput")))
    w("")
    w("Load average right after the runs: as is %s; isolated %s. Flat out "
      "keeps at most 64 requests in flight; its latency is mostly queueing."
      % (meta.get("load_shared", "-"), meta.get("load_isolated", "-")))
    for mode in ("floor-shared", "floor-isolated"):
        p = procs.get(mode)
        if p:
            w("")
            w("The floor helper (%s) used %s us CPU per request, %s." % (
                names[mode], p.get("cpu_us_per_req"), kernel_share(p)))
    w("")

    w("## (c) Peak memory")
    w("")
    w("| process | peak RSS MB | note |")
    w("|---|---:|---|")
    for mode in ("shared", "isolated"):
        p = procs.get(mode)
        if p:
            w("| helper (%s), VmHWM after every phase | %s | %s us CPU per "
              "request, %s |" % (names[mode],
                                 fmt(num(p, "vmhwm_kb") / 1024.0),
                                 p.get("cpu_us_per_req"), kernel_share(p)))
    for t in (2, 1):
        r = ours.get(t)
        if r and r["rss_kb"]:
            w("| RATE --threads %d (bench cartridge) | %s | getrusage |"
              % (t, fmt(r["rss_kb"] / 1024.0)))
    w("")

    w("## (d) Start-up: spawn to the answer to the first FILE request")
    w("")
    if startup:
        s = startup[-1]
        w("Median of %s runs: %s ms (min %s, max %s)." % (
            s.get("runs"), s.get("median_ms"), s.get("min_ms"),
            s.get("max_ms")))
    else:
        w("not measured")
    w("")

    w("## (e) Cartridge swap under load (200 requests/s)")
    w("")
    w("The helper's updater installs cartridge 1 from a local update "
      "server at start and cartridge 2 (published 3 s into the load) "
      "after its 10 s interval. \"longest answer\" covers the requests "
      "answered within 1 s of the helper's log line.")
    w("")
    any_swap = False
    for mode in ("shared", "isolated"):
        key = "swap-" + mode
        ph = [p for m, p in phases if m == key]
        evs = [(e, text) for m, e, text in events if m == key]
        proc = procs.get(key)
        if not ph:
            continue
        any_swap = True
        w("%s: whole run p99 %s ms, max %s ms; helper VmHWM %s MB." % (
            names[mode], ph[0].get("p99_ms", "-"), ph[0].get("max_ms", "-"),
            fmt(num(proc, "vmhwm_kb") / 1024.0) if proc else "-"))
        w("")
        if evs:
            w("| swap (helper log line) | at s | requests within 1 s | "
              "longest answer ms |")
            w("|---|---:|---:|---:|")
            for e, text in evs:
                w("| %s | %s | %s | %s |" % (
                    text.replace("|", "/"),
                    fmt(num(e, "t_ms") / 1000.0, 1), e.get("window_n"),
                    e.get("window_max_ms")))
            w("")
    for s in swap:
        w(s)
        w("")
    if not any_swap and not swap:
        w("not measured")
        w("")

    w("## Targets (SPEC §10)")
    w("")
    w("| target | measured | |")
    w("|---|---|---|")
    for peer, key, label in (("bogo", "bogo", "bogofilter"),
                             ("spamd", "spamd", "spamd")):
        rows = [r for r in rates if r["id"].startswith(key)]
        for r in rows:
            ref = ours.get(r["cpus"])
            if not ref:
                continue
            a = ratio(ref["mps"], r["mps"])
            b = ratio(ref["mpc"], r["mpc"])
            w("| RATE >= %gx %s (%s) | %sx msgs/s, %sx per CPU-s | %s / %s |"
              % (TARGETS[peer], label, r["label"], fmt(a), fmt(b),
                 verdict(a, TARGETS[peer]), verdict(b, TARGETS[peer])))
    for mode in ("shared", "isolated"):
        floor = [p.get("p99_ms") for m, p in phases
                 if m == "floor-" + mode and p.get("rate") == "200"]
        for m, p in phases:
            if m == mode and p.get("rate") == "200":
                v = num(p, "p99_ms")
                w("| helper p99 <= 2 ms at 200/s (%s) | %s ms%s | %s |"
                  % (names[mode], p.get("p99_ms"),
                     " (floor helper: %s ms)" % floor[0] if floor else "",
                     verdict(v, TARGETS["p99_ms"], False)))
    for mode in ("shared",):
        p = procs.get(mode)
        if p:
            v = num(p, "vmhwm_kb") / 1024.0
            w("| helper RSS <= 100 MB | %s MB | %s |"
              % (fmt(v), verdict(v, TARGETS["rss_mb"], False)))
    if startup:
        v = num(startup[-1], "median_ms")
        w("| first answer <= 100 ms after start | %s ms | %s |"
          % (startup[-1].get("median_ms"),
             verdict(v, TARGETS["startup_ms"], False)))
    w("")
    w("Reproduce: `make bench` (5 to 15 minutes; needs root the first "
      "time to install the peers).")

    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    with open(sys.argv[2], "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
