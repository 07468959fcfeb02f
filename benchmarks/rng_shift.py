"""How far the counter-based random numbers moved each shipped scenario's outcomes.

Runs every ``scenarios/*.yaml`` with the code of two trees (default: /work/main, the code
before, and this tree), each with its own ``.venv``, at the same number of runs, and
prints per outcome the difference of probabilities in standard errors,
``z = (p2 - p1) / sqrt(p1 (1 - p1) / n1 + p2 (1 - p2) / n2)``; then the largest |z| and how
many outcomes exceed 2 and 3. Under no change |z| > 2 for about 4.6% of outcomes and > 3 for
0.3% (outcomes of one scenario are correlated, so the counts vary more than a binomial's).
Outcomes that neither run ever (or always) saw have no standard error and are listed apart.

    .venv/bin/python benchmarks/rng_shift.py --runs 100000 [--old /work/main] [--new .]
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def probabilities(tree: Path, scenario: Path, runs: int, seed: int, workers: int, out: Path) -> dict[str, tuple[float, int]]:
    cmd = [str(tree / ".venv" / "bin" / "sim"), "run", str(scenario), "--runs", str(runs), "--seed", str(seed),
           "--workers", str(workers), "--no-report", "--out", str(out)]
    subprocess.run(cmd, cwd=tree, check=True, stdout=subprocess.DEVNULL)
    s = json.loads((out / "summary.json").read_text())
    return {k: (v["probability"], v["runs"]) for k, v in s["outcomes"].items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--old", type=Path, default=Path("/work/main"))
    ap.add_argument("--new", type=Path, default=HERE)
    ap.add_argument("--scenarios", nargs="*", default=None, help="scenario names (default: every scenarios/*.yaml)")
    a = ap.parse_args()
    # a file without meta: is a base others extend, not a scenario to run (scenarios/base.yaml)
    names = a.scenarios or sorted(p.stem for p in (a.new / "scenarios").glob("*.yaml")
                                  if any(line.startswith("meta:") for line in p.read_text().splitlines()))
    zs: list[tuple[float, str, str, float, float]] = []
    flat: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            old = probabilities(a.old.resolve(), a.old / "scenarios" / f"{name}.yaml", a.runs, a.seed, a.workers,
                                Path(tmp) / f"{name}-old")
            new = probabilities(a.new.resolve(), a.new / "scenarios" / f"{name}.yaml", a.runs, a.seed, a.workers,
                                Path(tmp) / f"{name}-new")
            print(f"\n{name}: {a.runs:,} runs each")
            print(f"  {'outcome':44} {'old':>9} {'new':>9} {'z':>7}")
            for k in sorted(set(old) | set(new)):
                if k not in old or k not in new:
                    print(f"  {k:44} only in {'new' if k in new else 'old'}")
                    continue
                (p1, n1), (p2, n2) = old[k], new[k]
                se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
                if se == 0:
                    flat.append(f"{name}.{k}")
                    print(f"  {k:44} {p1:9.5f} {p2:9.5f}       -")
                    continue
                z = (p2 - p1) / se
                zs.append((z, name, k, p1, p2))
                print(f"  {k:44} {p1:9.5f} {p2:9.5f} {z:7.2f}")
    if not zs:
        print("no outcome with a standard error")
        return 1
    big = max(zs, key=lambda t: abs(t[0]))
    print(f"\n{len(zs)} outcomes compared ({len(flat)} without a standard error: p = 0 or 1 in both)")
    print(f"largest |z| = {abs(big[0]):.2f} ({big[1]}.{big[2]}: {big[3]:.5f} -> {big[4]:.5f})")
    for t in (2, 3):
        n = sum(abs(z[0]) > t for z in zs)
        print(f"|z| > {t}: {n} of {len(zs)} ({n / len(zs):.1%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
