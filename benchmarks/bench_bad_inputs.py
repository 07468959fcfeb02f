"""How long `sim` takes to reject each input of the bad-input catalogue.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_bad_inputs.py              # every case
    .venv/bin/python benchmarks/bench_bad_inputs.py alias_bomb   # some cases

Runs each case of ``tests/bad_inputs/`` through the CLI in-process (as the catalogue
test does) ``--repeats`` times and prints the median time, slowest first, with the
hostile inputs (alias bomb, deep nesting, a device, an oversized file, a Python tag)
marked. The tests assert what the loader does with those inputs (how many nodes it
builds, how deep it composes, that it never opens a device); this script is where
their speed is looked at. Expect well under a second each: they are refused before any
expansion or read.
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

HOSTILE = {"alias_bomb", "deep_nesting", "deep_nesting_thousands", "device_not_file", "oversized", "python_tag"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cases", nargs="*", help="case names (default: all)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    from typer.testing import CliRunner

    from sim.cli import app
    from tests.test_bad_inputs import BY_NAME, CASES

    runner = CliRunner()
    cases = [BY_NAME[n] for n in args.cases] if args.cases else CASES
    runner.invoke(app, ["validate", str(ROOT / "tests" / "bad_inputs" / "_base.yaml")])  # warm
    rows = []
    for case in cases:
        times = []
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory() as tmp:
                argv = case.args(Path(tmp))
                t0 = time.perf_counter()
                r = runner.invoke(app, argv)
                times.append(time.perf_counter() - t0)
        rows.append((statistics.median(times), case.name, r.exit_code))
    rows.sort(reverse=True)
    print(f"{'seconds':>8}  {'exit':>4}  case  (median of {args.repeats}; * hostile input)")
    for t, name, code in rows:
        print(f"{t:8.3f}  {code:>4}  {name}{' *' if name in HOSTILE else ''}")
    hostile = [t for t, name, _ in rows if name in HOSTILE]
    if hostile:
        print(f"slowest hostile input: {max(hostile):.3f} s")


if __name__ == "__main__":
    main()
