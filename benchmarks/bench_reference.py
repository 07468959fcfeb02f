"""Throughput of the vectorized world against the per-replicate reference model.

Runs, on ``tests/data/diff_small.yaml`` and on the shipped ``karabakh`` scenario, the
vectorized world (``sim.run`` with ``workers=1``: one process, R replicates in lockstep in
one ``mesa.Model``) and the reference (``benchmarks/reference.py``: one ``mesa.Model`` per
replicate, plain Python), each ``--repeats`` times, and prints the median throughput in
replicate-months per second and the ratio vectorized / reference. Times are wall-clock
for the whole call with the scenario already loaded (so they include each side's set-up,
outcome detection and result merging, as a user sees them).

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_reference.py              # defaults below, ~1 minute
    .venv/bin/python benchmarks/bench_reference.py --quick      # fewer runs, a few seconds
    .venv/bin/python benchmarks/bench_reference.py --vec-runs 10000 --ref-runs 2000 --repeats 5

Defaults: 5,000 vectorized runs per scenario; 1,000 reference runs on diff_small and 300
on karabakh; 3 repeats; seed 1; each scenario's own horizon.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(ROOT))

import sim  # noqa: E402
from benchmarks.reference import run_reference  # noqa: E402

DIFF_SMALL = ROOT / "tests" / "data" / "diff_small.yaml"


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def bench(label: str, scn, vec_runs: int, ref_runs: int, repeats: int, seed: int) -> dict:
    H = scn.spec.meta.horizon_months
    t_vec = timed(lambda: sim.run(scn, runs=vec_runs, seed=seed, workers=1), repeats)
    t_ref = timed(lambda: run_reference(scn, runs=ref_runs, seed=seed), repeats)
    vec = vec_runs * H / statistics.median(t_vec)
    ref = ref_runs * H / statistics.median(t_ref)
    return {
        "scenario": label,
        "months": H,
        "vec_runs": vec_runs,
        "vec_s": statistics.median(t_vec),
        "vec_rm_s": vec,
        "ref_runs": ref_runs,
        "ref_s": statistics.median(t_ref),
        "ref_rm_s": ref,
        "ratio": vec / ref,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vec-runs", type=int, default=5000, help="vectorized runs per scenario")
    ap.add_argument("--ref-runs", type=int, default=1000, help="reference runs on diff_small")
    ap.add_argument("--ref-runs-karabakh", type=int, default=300, help="reference runs on karabakh")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="1,000 / 200 / 100 runs, for a smoke test")
    a = ap.parse_args(argv)
    if a.quick:
        a.vec_runs, a.ref_runs, a.ref_runs_karabakh = 1000, 200, 100
    cases = [
        ("diff_small", sim.load_scenario(DIFF_SMALL), a.ref_runs),
        ("karabakh", sim.load_scenario("karabakh"), a.ref_runs_karabakh),
    ]
    rows = [bench(label, scn, a.vec_runs, n_ref, a.repeats, a.seed) for label, scn, n_ref in cases]
    print(f"Throughput in replicate-months per second (median of {a.repeats} repeats; "
          f"vectorized: sim.run, workers=1; reference: one mesa.Model per replicate)")
    head = f"{'scenario':<11} {'months':>6} | {'vec runs':>8} {'vec s':>7} {'vec rm/s':>10} | " \
           f"{'ref runs':>8} {'ref s':>7} {'ref rm/s':>10} | {'vec/ref':>7}"
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['scenario']:<11} {r['months']:>6} | {r['vec_runs']:>8,} {r['vec_s']:>7.2f} {r['vec_rm_s']:>10,.0f} | "
              f"{r['ref_runs']:>8,} {r['ref_s']:>7.2f} {r['ref_rm_s']:>10,.0f} | {r['ratio']:>6.1f}x")


if __name__ == "__main__":
    main()
