"""How fast the model-independent half of a hindcast is: reading the panel, fitting the
regression baseline, the paired bootstrap, scoring and the report (issue 21).

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_hindcast.py                       # the shared panel
    .venv/bin/python benchmarks/bench_hindcast.py PANEL.csv --train 1946-1992 --test 1993-2002

Prints the median wall time of ``read_panel`` over five reads of the whole file, the
regression's fit (time-ordered CV of C per outcome), the forecasts, one paired bootstrap
of 1,000 replicates over dyads (one outcome, two forecasters), the whole evaluation
(every outcome) and the report; then the regression's scores on the test years against
the training base rates, with 95% bootstrap intervals. Needs the research extra.
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

PANEL = ROOT.parent / "shared" / "data" / "dyad_years_1946_2002.csv"


def main() -> None:
    import numpy as np

    from sim.analysis import scores as S
    from sim.analysis.baseline import fit_baseline
    from sim.analysis.forecasts import evaluate
    from sim.analysis.panel import read_panel, scored_rows
    from sim.report.hindcast import write_report

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("panel", nargs="?", default=str(PANEL))
    ap.add_argument("--train", default="1946-1992")
    ap.add_argument("--test", default="1993-2002")
    ap.add_argument("--replicates", type=int, default=1000)
    a = ap.parse_args()
    import os

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    reads = []
    for _ in range(5):
        t = time.perf_counter()
        panel = read_panel(a.panel)
        reads.append(time.perf_counter() - t)
    print(f"read_panel: {len(panel.frame):,} rows x {panel.frame.shape[1]} columns, median {statistics.median(reads):.3f} s "
          f"(min {min(reads):.3f}, max {max(reads):.3f})")
    train, test = panel.select(a.train), panel.select(a.test)
    t = time.perf_counter()
    reg = fit_baseline(train)
    print(f"fit_baseline on {a.train}: {len(train.frame):,} rows, {len(reg.fits)} outcomes, {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    fc = reg.predict(test)
    print(f"predict {a.test}: {len(test.frame):,} rows, {time.perf_counter() - t:.3f} s")

    keep = scored_rows(test.frame, "onset")
    o = test.frame["onset"].to_numpy(dtype=float)[keep]
    f = fc["onset"].to_numpy()[keep]
    other = np.clip(f * np.random.default_rng(0).lognormal(0, 0.5, f.size), 0, 1)
    t = time.perf_counter()
    S.paired_bootstrap(f, other, o, test.dyads()[keep], reg.base_rates["onset"], replicates=a.replicates, seed=0)
    print(f"paired_bootstrap, onset, {a.replicates:,} replicates over {len(np.unique(test.dyads())):,} dyads, "
          f"{keep.sum():,} rows: {time.perf_counter() - t:.2f} s")

    t = time.perf_counter()
    ev = evaluate(test, {"regression": fc}, reg.base_rates, replicates=a.replicates, seed=0,
                  details={"train_years": train.years})
    print(f"evaluate (every outcome, bootstrap and reliability): {time.perf_counter() - t:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        write_report(ev, Path(tmp))
        print(f"write_report: {time.perf_counter() - t:.1f} s")

    print(f"\nRegression fitted on {a.train}, scored on {a.test} against the {a.train} base rates "
          "(95% intervals: paired bootstrap over dyads)")
    print(f"{'outcome':18s} {'C':>6s} {'events':>7s} {'rows':>7s} {'Brier skill':>22s} {'AUC':>22s}")
    s = ev.scores[(ev.scores["period"] == "all") & (ev.scores["forecaster"] == "regression")]
    for _, r in s.iterrows():
        print(f"{r['outcome']:18s} {reg.fits[r['outcome']].C:6g} {r['events']:7,} {r['n']:7,} "
              f"{r['brier_skill']:7.3f} ({r['brier_skill_low']:6.3f}, {r['brier_skill_high']:6.3f}) "
              f"{r['auc']:7.3f} ({r['auc_low']:6.3f}, {r['auc_high']:6.3f})")
    rel = ev.reliability[(ev.reliability["forecaster"] == "regression") & (ev.reliability["period"] == "all")]
    out = rel[~rel["inside"]]
    print("\nDeciles whose observed rate is outside the 95% interval of their mean forecast: "
          + (", ".join(f"{k} {b}" for k, b in zip(out["outcome"], out["bin"], strict=True)) or "none"))


if __name__ == "__main__":
    main()
