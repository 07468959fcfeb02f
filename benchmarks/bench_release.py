"""Memory over many sequential runs in one process: are finished worlds freed?

Usage (from the repository root, with any of the project's venvs)::

    .venv/bin/python benchmarks/bench_release.py                  # 200 runs of karabakh
    .venv/bin/python benchmarks/bench_release.py --runs 400 --replicates 500
    .venv/bin/python benchmarks/bench_release.py --no-release     # what happens without World.release()
    .venv/bin/python benchmarks/bench_release.py --reference 2000 # also: reference models (benchmarks/reference.py)

Runs ``sim.run(SCENARIO, runs=REPLICATES, months=MONTHS, workers=1)`` (in-process, one chunk
of worlds per run) ``--runs`` times in a row and prints, every ``--every`` runs, the
resident memory of the process (after a full garbage collection) and how many
``World`` objects are still alive. Mesa 3.3 (Python 3.11) keeps every model it has seen
unless it is released (mesa#3179); Mesa 3.5 (Python 3.12+) keeps none. With
``--no-release`` ``World.release()`` is replaced by a no-op for the whole run, to show
what it guards against on the Mesa installed. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    """Current resident memory of this process, MB (Linux /proc; peak elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        from sim.runner import peak_rss_mb

        return peak_rss_mb()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario", nargs="?", default="karabakh")
    ap.add_argument("--runs", type=int, default=200, help="sequential runs (default 200)")
    ap.add_argument("--replicates", type=int, default=200, help="replicates per run (default 200)")
    ap.add_argument("--months", type=int, default=12, help="horizon of each run (default 12)")
    ap.add_argument("--every", type=int, default=25, help="print every N runs (default 25)")
    ap.add_argument("--no-release", action="store_true", help="replace World.release() by a no-op")
    ap.add_argument("--reference", type=int, default=0, metavar="N",
                    help="then build and run N reference models (one mesa.Model each), released as run_reference does")
    args = ap.parse_args()

    import mesa
    import numpy as np

    import sim
    from sim.world.model import World, forget_model

    if args.no_release:
        World.release = lambda self: None  # type: ignore[method-assign]

    def alive(kind: type) -> int:
        return sum(isinstance(o, kind) for o in gc.get_objects())

    print(f"Python {platform.python_version()}, Mesa {mesa.__version__}, numpy {np.__version__}; "
          f"{args.runs} runs of {args.scenario} x {args.replicates} replicates x {args.months} months, in-process"
          + (", World.release() disabled" if args.no_release else ""))
    scn = sim.load_scenario(args.scenario)
    sim.run(scn, runs=args.replicates, seed=0, months=args.months, workers=1, backend="local")  # imports, kernels
    gc.collect()
    base = rss_mb()
    print(f"{'runs':>6} {'RSS MB':>8} {'growth MB':>10} {'worlds alive':>13} {'s':>6}")
    print(f"{0:>6} {base:8.1f} {0.0:10.1f} {alive(World):13d} {0.0:6.1f}")
    t0 = time.perf_counter()
    for i in range(1, args.runs + 1):
        sim.run(scn, runs=args.replicates, seed=i, months=args.months, workers=1, backend="local")
        if i % args.every == 0 or i == args.runs:
            gc.collect()
            r = rss_mb()
            print(f"{i:>6} {r:8.1f} {r - base:10.1f} {alive(World):13d} {time.perf_counter() - t0:6.1f}")

    if args.reference:
        from benchmarks.reference import ReferenceModel, ScenarioData

        data = ScenarioData(scn, args.months)
        seeds = np.random.SeedSequence(0).spawn(args.reference)
        gc.collect()
        base = rss_mb()
        print(f"\nreference models (benchmarks/reference.py), {args.months} months each"
              + (", not released" if args.no_release else ", released with forget_model"))
        print(f"{'models':>6} {'RSS MB':>8} {'growth MB':>10} {'models alive':>13}")
        every = max(1, args.reference // 8)
        for i, ss in enumerate(seeds, 1):
            m = ReferenceModel(data, ss)
            m.run_months()
            if not args.no_release:
                forget_model(m)
            del m
            if i % every == 0 or i == args.reference:
                gc.collect()
                r = rss_mb()
                print(f"{i:>6} {r:8.1f} {r - base:10.1f} {alive(ReferenceModel):13d}")


if __name__ == "__main__":  # pragma: no cover - a benchmark
    main()
