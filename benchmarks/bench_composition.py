"""What composing a month's kernels into one compiled pass could buy, measured.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_composition.py [scenario] [--runs 2000] [--rounds 15]

Prints, for ``--runs`` replicates (one chunk), in CPU time of this process:

1. a month's time in the stock rules' kernels (the random draws' among them) and between
   them (the Python and numpy each rule runs around its kernels, and the recorder's), by
   rule: what one compiled pass would remove;
2. the kernels of one month run as the month runs them (each over every replicate, one
   after the other) against the same kernels run block by block (every kernel over
   replicates 0-249, then 250-499, ...), which keeps a block's arrays in the cache from
   one rule to the next, as a loop over replicates that calls each rule's step would; and
   the cost of the extra calls, measured on one-replicate blocks, so that what is left is
   the cache's gain. Medians of ``--rounds`` interleaved rounds.

A benchmark, not a test: the machine is shared and noisy; compare figures of one run.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import sim  # noqa: E402

KERNELS = (("procurement_kernel", "procure"), ("blockade_kernel", "siege"), ("common_kernel", "respond"),
           ("common_kernel", "deter"), ("spells_kernel", "month"), ("spells_kernel", "finish"),
           ("offensive_kernel", "offend"), ("talks_kernel", "negotiate"), ("alliance_kernel", "respond"),
           ("patronage_kernel", "judge"), ("alignment_kernel", "drift"), ("alliance_kernel", "transitions"),
           ("tally_kernel", "column_sums"), ("tally_kernel", "level_counts"), ("tally_kernel", "add_rows"),
           ("seeding_kernel", "uniform"), ("seeding_kernel", "open_uniform"), ("seeding_kernel", "normal"),
           ("seeding_kernel", "bits16"))
"""The month's kernels: the rules' (in the order the pipeline calls them), the tallies (the
recorder's and ``emit``'s) and the random draws of the streams' whole calls."""


def _module(name: str):
    prefix = {"tally_kernel": "sim.world.", "seeding_kernel": "sim."}.get(name, "sim.rules.")
    return importlib.import_module(prefix + name)


def glue(scn, runs: int) -> None:
    """Section 1: kernels and what runs between them, per rule (a kernel's time is its
    caller's: the rule running, else the recorder)."""
    import sim.rules
    from benchmarks.profile_rules import timed_chunks

    spent: dict[str, float] = defaultdict(float)
    current = ["(recorder)"]
    originals = {}
    for mod_name, fn in KERNELS:
        mod = _module(mod_name)
        f = originals[(mod_name, fn)] = getattr(mod, fn)

        def timed(*a, _f=f, **kw):
            t0 = time.process_time()
            out = _f(*a, **kw)
            spent[current[0]] += time.process_time() - t0
            return out

        setattr(mod, fn, timed)
    build = sim.rules.build_pipeline

    def pipeline(plan):
        def tagged(kind, rule):
            def step(w):
                current[0] = kind
                try:
                    rule(w)
                finally:
                    current[0] = "(recorder)"
            return step
        return [(kind, tagged(kind, rule)) for kind, rule in build(plan)]

    sim.rules.build_pipeline = pipeline  # timed_chunks imports it by name when it runs
    try:
        rules, months = timed_chunks(scn, runs, 2)
    finally:
        sim.rules.build_pipeline = build
        for (mod_name, fn), f in originals.items():
            setattr(_module(mod_name), fn, f)
    total, kern = sum(rules.values()), sum(spent.values())
    print(f"1. {runs:,} replicates: {1e3 * total / months:.2f} ms a month, of which kernels "
          f"{1e3 * kern / months:.2f} ms and between them {1e3 * (total - kern) / months:.2f} ms "
          f"({100 * (total - kern) / total:.0f}%)")
    print(f"   {'rule':14s} {'ms/month':>9s} {'kernels':>8s} {'between':>8s}")
    for rule, v in sorted(rules.items(), key=lambda kv: -kv[1]):
        k = spent.get(rule, 0.0)
        print(f"   {rule:14s} {1e3 * v / months:9.3f} {1e3 * k / months:8.3f} {1e3 * (v - k) / months:8.3f}")


def locality(scn, runs: int, rounds: int, block: int = 250) -> None:
    """Section 2: the month's kernels rule by rule, against block by block."""
    captured: dict[tuple[str, str], dict] = {}
    originals = {}
    rule_kernels = [k for k in KERNELS if k[0] not in ("tally_kernel", "seeding_kernel")]
    for mod_name, fn in rule_kernels:
        mod = _module(mod_name)
        f = originals[(mod_name, fn)] = getattr(mod, fn)

        def spy(*a, _f=f, _k=(mod_name, fn), **kw):
            captured[_k] = kw  # the last month's arguments (keyword arguments: how the rules call them)
            return _f(*a, **kw)

        setattr(mod, fn, spy)
    try:
        sim.run(scn, runs=runs, seed=0, workers=1, backend="local", chunk_size=runs, months=6)
    finally:
        for (mod_name, fn), f in originals.items():
            setattr(_module(mod_name), fn, f)
    order = [k for k in rule_kernels if k in captured]

    def per_replicate(kw: dict) -> set[str]:
        return {a for a, v in kw.items() if isinstance(v, np.ndarray) and v.ndim and v.shape[0] == runs}

    rows = {k: per_replicate(captured[k]) for k in order}
    state = {k: {a: (v.copy() if isinstance(v, np.ndarray) else v) for a, v in captured[k].items()} for k in order}

    def blocks(size: int):
        views = [[{a: (v[i:i + size] if a in rows[k] else v) for a, v in state[k].items()} for k in order]
                 for i in range(0, runs, size)]

        def run() -> None:
            for blk in views:
                for k, kw in zip(order, blk, strict=True):
                    originals[k](**kw)

        return run, len(views)

    def whole() -> None:
        for k in order:
            originals[k](**state[k])

    by_block, n_blocks = blocks(block)
    ones = [{a: (v[:1] if a in rows[k] else v) for a, v in state[k].items()} for k in order]

    def calls() -> None:  # the calls alone: one block of one replicate, n_blocks - 1 times
        for _ in range(n_blocks - 1):
            for k, kw in zip(order, ones, strict=True):
                originals[k](**kw)

    times: dict[str, list[float]] = {"whole": [], "blocks": [], "calls": []}
    for _ in range(rounds):
        for name, f in (("whole", whole), ("blocks", by_block), ("calls", calls)):
            t0 = time.process_time()
            f()
            times[name].append(time.process_time() - t0)
    med = {k: 1e3 * statistics.median(v) for k, v in times.items()}
    print(f"2. {len(order)} kernels of a month, {runs:,} replicates (medians of {rounds} rounds):")
    print(f"   rule by rule                 {med['whole']:7.3f} ms")
    print(f"   in blocks of {block:<4d}            {med['blocks']:7.3f} ms  ({n_blocks} blocks)")
    print(f"   the {n_blocks - 1} extra calls of each   {med['calls']:7.3f} ms")
    gain = med["whole"] - (med["blocks"] - med["calls"])
    print(f"   the cache's gain             {gain:7.3f} ms  ({100 * gain / med['whole']:.1f}% of the kernels)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario", nargs="?", default="karabakh")
    ap.add_argument("--runs", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=15)
    a = ap.parse_args()
    import os

    from threadpoolctl import threadpool_limits

    scn = sim.load_scenario(a.scenario)
    sim.run(scn, runs=200, seed=0, workers=1, backend="local")  # imports, kernels loaded
    with threadpool_limits(limits=1, user_api="blas"):
        print(f"{a.scenario}; load average {os.getloadavg()[0]:.1f}")
        glue(scn, a.runs)
        locality(scn, a.runs, a.rounds)


if __name__ == "__main__":
    main()
