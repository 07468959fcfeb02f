"""The shipped kernels (the processor family's baseline) against the same kernels tuned for
this machine's processor (``python -m sim.precompile --tune``): throughput side by side.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_tuning.py [--scenario karabakh] [--rounds 7]

Builds two numba caches in temporary folders: one where a first run copied the shipped
kernels in (``SIM_TUNE_KERNELS=0``: left as shipped), one tuned after that copy. Then, in
``--rounds`` interleaved rounds, runs ``benchmarks/profile_rules.py`` on each (two chunks of
2,000 replicates in one process, CPU time) and prints each round's replicate-months per CPU
second, the medians, and the median of the rounds' ratios (tuned / shipped). Also checks
that both give the same results (the probabilities of a 2,000-run, 12-month run).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RESULT = """
import json, sys, sim
res = sim.run(sim.load_scenario(sys.argv[1]), runs=2000, seed=3, months=12, workers=1, backend="local")
print(json.dumps({"p": res.probabilities()["hits"].tolist(), "kernels": res.manifest["kernels"]}))
"""


def env_for(cache: str, **more: str) -> dict[str, str]:
    e = {**os.environ, "NUMBA_CACHE_DIR": cache, "SIM_COMPILE_AHEAD": "0", "SIM_TUNE_KERNELS": "0", **more}
    e.pop("SIM_PRECOMPILING", None)
    return e


def rate(cache: str, scenario: str) -> float:
    p = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "profile_rules.py"), scenario], cwd=ROOT,
                       capture_output=True, text=True, env=env_for(cache), check=True)
    m = re.search(r"([\d,]+) replicate-months per CPU second", p.stdout)
    if m is None:
        raise RuntimeError(p.stdout + p.stderr)
    return float(m.group(1).replace(",", ""))


def result(cache: str, scenario: str) -> str:
    p = subprocess.run([sys.executable, "-c", RESULT, scenario], cwd=ROOT, capture_output=True, text=True,
                       env=env_for(cache), check=True)
    return p.stdout.strip().splitlines()[-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", default="karabakh")
    ap.add_argument("--rounds", type=int, default=7)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="sim-bench-tuning-") as tmp:
        caches = {"shipped": str(Path(tmp) / "shipped"), "tuned": str(Path(tmp) / "tuned")}
        outs = {k: result(c, a.scenario) for k, c in caches.items()}  # each copies the shipped kernels in
        p = subprocess.run([sys.executable, "-m", "sim.precompile", "--tune"], cwd=ROOT, capture_output=True,
                           text=True, env=env_for(caches["tuned"], SIM_TUNE_KERNELS="1"), check=True)
        print(p.stdout.strip())
        outs["tuned"] = result(caches["tuned"], a.scenario)
        same = outs["tuned"].split('"kernels"')[0] == outs["shipped"].split('"kernels"')[0]
        print(f"{a.scenario}: same hits from both (2,000 runs, 12 months): {same}")
        print(f"load average {os.getloadavg()[0]:.1f} at start; {a.rounds} interleaved rounds; "
              "replicate-months per CPU second")
        got: dict[str, list[float]] = {k: [] for k in caches}
        for i in range(a.rounds):
            order = list(caches) if i % 2 == 0 else list(reversed(caches))
            for k in order:
                got[k].append(rate(caches[k], a.scenario))
            print(f"  round {i + 1}: shipped {got['shipped'][-1]:>9,.0f}   tuned {got['tuned'][-1]:>9,.0f}   "
                  f"ratio {got['tuned'][-1] / got['shipped'][-1]:.3f}", flush=True)
        ratios = [t / s for t, s in zip(got["tuned"], got["shipped"], strict=True)]
        print(f"median: shipped {statistics.median(got['shipped']):,.0f}, tuned {statistics.median(got['tuned']):,.0f}; "
              f"median ratio {statistics.median(ratios):.3f}; load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
