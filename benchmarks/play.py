"""How long a turn of ``sim play`` takes: the months of the turn and the forecast after it.

Usage (from the repository root)::

    .venv/bin/python benchmarks/play.py                 # karabakh, 2,000 continuations, 3 repeats
    .venv/bin/python benchmarks/play.py --runs 5000 --scenario kyrgyz_tajik

Prints the median seconds (over the repeats) of: the forecast before the first move
(2,000 continuations over the whole horizon), the no-player baseline, one quarterly
turn with its forecast, and saving the game. The tests assert what a game does (same
seed and moves, same game; the forecast equals ``sim run --from-game``), never these times.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sim  # noqa: E402
from sim.play.game import Game  # noqa: E402
from sim.play.savefile import save_game  # noqa: E402


def once(scn, actor: str, runs: int, seed: int) -> dict[str, float]:
    g = Game(scn, [actor], seed=seed, forecast_runs=runs)
    t = {}
    t0 = time.perf_counter()
    g.forecasts.append(g.forecast(0))
    t["forecast before the first move"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    g.baseline = g.run_baseline()
    t["baseline (the scenario's own Monte Carlo)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    g.play_turn([])
    t["a turn and its forecast"] = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        path = save_game(g, Path(tmp) / "game.json")
        t["saving the game"] = time.perf_counter() - t0
        t["saved game size (kB)"] = path.stat().st_size / 1000
    return t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="karabakh")
    ap.add_argument("--actor", default=None, help="the actor played (default: the first with levers)")
    ap.add_argument("--runs", type=int, default=2000, help="continuations per forecast")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    scn = sim.load_scenario(args.scenario)
    actor = args.actor or next(a for a, lv in scn.spec.levers.items() if lv)
    rows: dict[str, list[float]] = {}
    for r in range(args.repeats):
        for k, v in once(scn, actor, args.runs, seed=r + 1).items():
            rows.setdefault(k, []).append(v)
    print(f"{args.scenario}, playing {actor}: {args.runs:,} continuations over {scn.spec.meta.horizon_months} months, "
          f"turns of a {scn.spec.play.turn}; median of {args.repeats}")
    for k, v in rows.items():
        unit = "" if "kB" in k else " s"
        print(f"  {k:45s} {statistics.median(v):8.2f}{unit}")


if __name__ == "__main__":
    main()
