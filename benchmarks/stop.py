"""How fast a run stops from outside: Ctrl-C, SIGTERM, and workers after a SIGKILL.

Usage (from the repository root)::

    .venv/bin/python benchmarks/stop.py              # 3 repeats of each case (a minute or two)
    .venv/bin/python benchmarks/stop.py --repeats 5

For each backend (in-process, process pool, Dask LocalCluster) and each signal, starts
``sim run karabakh`` as a real subprocess, waits until its progress bar shows a finished
chunk, sends the signal and prints the median seconds (over the repeats) from the signal
to the end of the process — for SIGINT and SIGTERM that includes saving the finished
chunks — and, after a SIGKILL, until the last worker process has gone. The tests assert
what happens (exit status, the saved folder, no process left), never these times.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.simproc import SimProcess, gone, wait_for  # noqa: E402

BACKENDS = {"in-process": ["--workers", "1"], "processes": ["--backend", "processes", "--workers", "2"],
            "dask": ["--backend", "dask", "--workers", "2"]}


def one(backend: str, sig: signal.Signals) -> tuple[float, float, int]:
    """Seconds from ``sig`` to the end of `sim run`, to the end of its last child, and its exit status."""
    tmp = Path(tempfile.mkdtemp(prefix="sim-stop-"))
    try:
        proc = SimProcess(["run", "karabakh", "--runs", "400000", "--months", "12", "--chunk-size", "500",
                           *BACKENDS[backend], "--out", str(tmp / "run"), "--no-report"], tmp)
        proc.wait_runs(500)
        children = proc.children()
        t0 = time.perf_counter()
        proc.signal(sig)
        proc.p.wait()
        t_main = time.perf_counter() - t0
        wait_for(lambda: all(gone(c) for c in children), every=0.01)
        t_all = time.perf_counter() - t0
        rc = proc.finish()[0]
        return t_main, t_all, rc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(f"median over {args.repeats} repeats; karabakh, 12 months, chunks of 500 runs\n")
    print(f"{'backend':<11} {'signal':<8} {'exit status':>11} {'main ends (s)':>14} {'all ended (s)':>14}")
    for backend in BACKENDS:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            if sig == signal.SIGKILL and backend == "in-process":
                continue  # no workers to outlive it
            rows = [one(backend, sig) for _ in range(args.repeats)]
            codes = sorted({r[2] for r in rows})
            print(f"{backend:<11} {sig.name:<8} {','.join(map(str, codes)):>11} "
                  f"{statistics.median(r[0] for r in rows):>14.2f} {statistics.median(r[1] for r in rows):>14.2f}")


if __name__ == "__main__":
    main()
