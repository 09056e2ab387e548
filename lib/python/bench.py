# SPDX-License-Identifier: MIT
"""Throughput of atomic_dict from Python, against the original package.

The cases, on the same keys in both packages, every key already present:

  d[k].add(1)          the original API, a value object per call: 4,096
                       random 64-bit keys in AtomicDict(2**16)
  d.add(k, 1)          the direct method (this package only), same keys,
                       twice: with the method bound once outside the loop
                       (add = d.add; add(k, 1)) and looked up on every call
  d.add_many(keys)     one call for 50,000 random 64-bit keys in
                       AtomicDict(2**20) (the original README's size),
                       against a loop of d.add on the same keys (this
                       package only)
  d[(a, b)].add(1)     4,096 random two-word keys, AtomicDict(2**16, 2, 0, 1, 0)

The 4,096-key cases fit the caches and the TLB: they measure what the
Python binding costs per call.  Tables of many megabytes add the same
cache and TLB misses to both packages, which no binding removes and which
hide how much less work a call does; the add_many case is that regime,
where prefetching batches help.

Each package runs in its own worker process (both are named atomic_dict),
started once; the parent alternates them A B A B ... and takes each ratio
pair by pair, so a machine that speeds up or slows down during the run
moves both sides of a pair alike.  Both workers are pinned to one CPU
(--cpu, default the lowest this process may use): unpinned, whole runs
moved by about 1.5x either way, as the workers landed on different CPUs
(Documentation/python.rst, Performance).  Each sample is timed in the
worker's CPU time (time.process_time()), so time spent descheduled by
other jobs does not count.  It prints the median ratio of the pairs,
with their spread, against the targets:

  d[k].add(1), this package / the original      >= 3x
  d.add(k, 1) / d[k].add(1)                     >= 1.5x (both forms)
  d.add_many(50,000 keys) / a loop of d.add      >= 3x
  d[(a, b)].add(1), this package / the original >= 2x

The original is not part of this repository.  Give its directory (the one
holding its atomic_dict/ package, built) with --original DIR or
ATOMIC_DICT_ORIGINAL=DIR, or install it where the interpreter finds it;
otherwise its rows say "not available".  Each worker also checks its own
counts, so no figure comes from updates that were lost.
"""

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time

NKEYS = 4096
NMANY = 50_000
REPS = 40           # passes over the keys per timed sample (tens of ms)
CAPACITY = 1 << 16      # the 4,096-key cases
CAPACITY_MANY = 1 << 20  # the add_many case


# ---- worker: runs in a process that imports one of the two packages ---------

def worker():
    os.sched_setaffinity(0, {int(os.environ["BENCH_CPU"])})
    import atomic_dict

    rng = random.Random(int(os.environ["BENCH_SEED"]))
    many = [rng.getrandbits(64) | 1 for _ in range(NMANY)]
    keys = many[:NKEYS]
    pairs = [(k, rng.getrandbits(64) | 1) for k in keys]
    d = atomic_dict.AtomicDict(CAPACITY)
    for k in keys:
        d[k].add(0)
    big = atomic_dict.AtomicDict(CAPACITY_MANY)
    for k in many:
        big[k].add(0)
    try:
        d2 = atomic_dict.AtomicDict(CAPACITY, 2, 0, 1, 0)
        for p in pairs:
            d2[p].add(0)
    except ValueError as e:         # this package before table format v2
        d2, why2 = None, str(e)
    done = {"value": 0, "direct": 0, "lookup": 0, "many": 0, "loop": 0,
            "pair": 0}

    def value_add():
        for _ in range(REPS):
            for k in keys:
                d[k].add(1)

    def direct_add():
        add = d.add
        for _ in range(REPS):
            for k in keys:
                add(k, 1)

    def lookup_add():
        for _ in range(REPS):
            for k in keys:
                d.add(k, 1)

    def add_many():
        for _ in range(REPS // 10):
            big.add_many(many)

    def loop_add():
        add = big.add
        for _ in range(REPS // 10):
            for k in many:
                add(k, 1)

    def pair_add():
        for _ in range(REPS):
            for p in pairs:
                d2[p].add(1)

    cases = {"value": value_add, "direct": direct_add, "lookup": lookup_add,
             "many": add_many,
             "loop": loop_add, "pair": pair_add}
    count = {"many": NMANY * (REPS // 10), "loop": NMANY * (REPS // 10)}
    print(json.dumps({"version": atomic_dict.__version__,
                      "file": atomic_dict.__file__}), flush=True)
    for line in sys.stdin:
        case = line.strip()
        if case == "check":
            # Every timed add landed: each key's count is exactly the runs.
            bad = [k for k in keys[:1000] if d[k].load() != done["value"] +
                   done["direct"] + done["lookup"]]
            bad += [k for k in many[:1000] if big[k].load() != done["many"] +
                    done["loop"]]
            if d2 is not None:
                bad += [p for p in pairs[:1000] if d2[p].load() != done["pair"]]
            print(json.dumps({"lost": len(bad)}), flush=True)
            continue
        if case == "pair" and d2 is None:
            print(json.dumps({"na": why2}), flush=True)
            continue
        if case not in ("value", "pair") and not hasattr(d, "add_many"):
            # the original has neither d.add(k, n) nor d.add_many()
            print(json.dumps({"na": "not in this package"}), flush=True)
            continue
        # CPU time of this worker, not wall time: on a shared machine a
        # worker that is descheduled mid-sample would otherwise count the
        # other jobs' time as its own.
        t0 = time.process_time()
        cases[case]()
        dt = time.process_time() - t0
        done[case] += REPS // 10 if case in count else REPS
        print(json.dumps({"rate": count.get(case, NKEYS * REPS) / dt}), flush=True)


# ---- parent ---------------------------------------------------------------

class Worker:
    def __init__(self, label, pythonpath, seed, cpu):
        env = dict(os.environ, BENCH_SEED=str(seed), BENCH_CPU=str(cpu))
        if pythonpath is None:
            env.pop("PYTHONPATH", None)
        else:       # the workers run in /: make the entries absolute
            env["PYTHONPATH"] = os.pathsep.join(
                os.path.abspath(x) for x in pythonpath.split(os.pathsep) if x)
        self.label = label
        self.p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker"],
                                  env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, cwd="/")
        self.info = self.read()

    def read(self):
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError("bench worker %s died" % self.label)
        return json.loads(line)

    def run(self, case):
        self.p.stdin.write(case + "\n")
        self.p.stdin.flush()
        return self.read()

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def find_original(arg):
    """PYTHONPATH for the original package, or None and why not."""
    path = arg or os.environ.get("ATOMIC_DICT_ORIGINAL")
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if path:
        path = os.path.abspath(path)
        env["PYTHONPATH"] = path
    r = subprocess.run([sys.executable, "-c",
                        "import atomic_dict; print(atomic_dict.__version__)"],
                       env=env, capture_output=True, text=True, cwd="/")
    version = r.stdout.strip()
    if r.returncode == 0 and version.startswith("0."):
        return (path if path else None), version, None
    if path:
        return None, None, "no original atomic_dict 0.x importable from %s" % path
    return None, None, ("not installed; give its directory with --original DIR "
                        "or ATOMIC_DICT_ORIGINAL")


def pairs_of(a, b, case, rounds):
    """Ratios a/b of case, pair by pair, the order alternating per round."""
    ratios = []
    for r in range(rounds):
        first, second = (a, b) if r % 2 == 0 else (b, a)
        x, y = first.run(case), second.run(case)
        for res in (x, y):
            if "na" in res:
                return None, res["na"]
        ra, rb = (x, y) if first is a else (y, x)
        ratios.append(ra["rate"] / rb["rate"])
    return ratios, None


def same_worker_pairs(w, case_a, case_b, rounds):
    ratios = []
    for r in range(rounds):
        order = (case_a, case_b) if r % 2 == 0 else (case_b, case_a)
        res = {c: w.run(c) for c in order}
        for x in res.values():
            if "na" in x:
                return None, x["na"]
        ratios.append(res[case_a]["rate"] / res[case_b]["rate"])
    return ratios, None


def report(name, ratios, why, target):
    if ratios is None:
        print("  %-46s not available: %s" % (name, why))
        return True
    med = statistics.median(ratios)
    ok = med >= target
    print("  %-46s %6.2fx  (min %.2f, max %.2f, %d pairs)  target >= %gx: %s"
          % (name, med, min(ratios), max(ratios), len(ratios), target,
             "met" if ok else "MISSED"))
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--original", metavar="DIR",
                    help="directory holding the original atomic_dict package")
    ap.add_argument("--rounds", type=int, default=7, help="pairs per ratio (7)")
    ap.add_argument("--quick", action="store_true", help="3 pairs per ratio")
    ap.add_argument("--cpu", type=int, metavar="N",
                    help="the CPU both workers run on (default: the lowest "
                    "this process may use)")
    args = ap.parse_args()
    if args.worker:
        return worker()
    rounds = 3 if args.quick else args.rounds
    seed = 20261201
    allowed = os.sched_getaffinity(0)
    cpu = min(allowed) if args.cpu is None else args.cpu
    if cpu not in allowed:
        ap.error("--cpu %d: this process may use CPUs %s only"
                 % (cpu, ",".join(map(str, sorted(allowed)))))

    print("atomic_dict Python bench: python %s on %s, %d CPUs online, load "
          "average %.2f; %d keys in tables of %d entries (add_many: %d in %d); "
          "both workers on CPU %d; CPU time, ratios pair by pair (shared "
          "machine: see the spread)"
          % (platform.python_version(), platform.machine(), os.cpu_count() or 0,
             os.getloadavg()[0], NKEYS, CAPACITY, NMANY, CAPACITY_MANY, cpu))
    ours = Worker("this package", os.environ.get("PYTHONPATH"), seed, cpu)
    print("  this package: atomic_dict %s from %s" % (ours.info["version"],
                                                      os.path.dirname(ours.info["file"])))
    opath, oversion, why = find_original(args.original)
    orig = None
    if oversion:
        orig = Worker("original", opath, seed, cpu)
        print("  the original: atomic_dict %s from %s" % (orig.info["version"],
                                                          os.path.dirname(orig.info["file"])))
    else:
        print("  the original: not available (%s)" % why)

    print("ratios (median of the pairs):")
    good = True
    if orig:
        r, w = pairs_of(ours, orig, "value", rounds)
    else:
        r, w = None, "the original is not available"
    good &= report("d[k].add(1), this package / the original", r, w, 3)
    r, w = same_worker_pairs(ours, "direct", "value", rounds)
    good &= report("add(k, 1), add = d.add / d[k].add(1)", r, w, 1.5)
    r, w = same_worker_pairs(ours, "lookup", "value", rounds)
    good &= report("d.add(k, 1) / d[k].add(1)", r, w, 1.5)
    r, w = same_worker_pairs(ours, "many", "loop", rounds)
    good &= report("d.add_many(%d keys) / loop of d.add" % NMANY, r, w, 3)
    if orig:
        r, w = pairs_of(ours, orig, "pair", rounds)
    else:
        r, w = None, "the original is not available"
    good &= report("d[(a, b)].add(1), this package / the original", r, w, 2)

    for wk in (ours, orig):
        if wk:
            lost = wk.run("check")["lost"]
            if lost:
                sys.exit("bench: %s lost updates on %d keys" % (wk.label, lost))
            wk.close()
    print("no lost updates (every timed add of 1,000 sampled keys landed)")
    if not good:
        print("some targets were missed (figures above)")


if __name__ == "__main__":
    main()
