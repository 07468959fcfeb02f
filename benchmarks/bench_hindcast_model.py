"""How long the model's hindcast of a whole dyad-year panel takes (issue 21's target: the
shared panel, 60,008 rows x 200 runs, in at most 5 minutes on a 2-core machine).

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_hindcast_model.py                 # the shared panel, 200 runs
    .venv/bin/python benchmarks/bench_hindcast_model.py --rows 6000 --repeat 3

Prints the load average, then per repetition the wall time of
:func:`sim.analysis.hindcast.forecast` (the default hybrid method: onsets exact, disputes
simulated, on all cores) and the replicates it simulated (the rows in a dispute at the start have their year
simulated, the others their disputes), and the median. With
``--rows N`` a random sample of N rows is timed and the whole file's time extrapolated
linearly (said as such).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_hindcast import PANEL  # noqa: E402 - the shared panel, found as bench_hindcast finds it


def main() -> None:
    from sim.analysis import hindcast
    from sim.analysis.panel import read_panel

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("panel", nargs="?", default=str(PANEL))
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--rows", type=int, default=None, help="time a random sample of this many rows")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--workers", type=int, default=None)
    a = ap.parse_args()
    frame = read_panel(a.panel).frame.reset_index(drop=True)
    total = len(frame)
    if a.rows:
        frame = frame.sample(a.rows, random_state=0).reset_index(drop=True)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {len(frame):,} of {total:,} rows "
          f"({int((frame['mid_ongoing_prev'] > 0).sum()):,} in a dispute at the start) x {a.runs} runs")
    times = []
    for i in range(a.repeat):
        t = time.perf_counter()
        h = hindcast.forecast(frame, runs=a.runs, seed=1 + i, workers=a.workers)
        times.append(time.perf_counter() - t)
        m = h.meta
        print(f"  run {i + 1}: {times[-1]:.1f} s ({m.get('replicates', 0):,} replicates simulated; "
              f"workers {m.get('disputes', m.get('year', {})).get('workers')})")
    med = statistics.median(times)
    line = f"median {med:.1f} s for {len(frame):,} rows"
    if len(frame) < total:
        line += f"; the whole file extrapolated linearly: {med * total / len(frame):.0f} s"
    print(line)


if __name__ == "__main__":
    main()
