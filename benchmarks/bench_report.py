"""What the figures and the report of ``sim run`` cost: each figure, the page, the data files.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_report.py              # karabakh, 10,000 runs
    .venv/bin/python benchmarks/bench_report.py --quick      # 1,000 runs, 2 repeats: a smoke test
    .venv/bin/python benchmarks/bench_report.py --profile 25 # and where the time goes (cProfile)

Runs the scenario once (seed fixed, in this process, as ``sim run`` does), then times only
what ``sim run`` does after the simulation, ``--repeats`` times into new folders (medians):
the data files (``Results.save`` without a report: summary, tables, manifest); the figures
one by one, each in this process (``SIM_FIGURES_FORK=0``); the report (figures and
``report.html``) as ``sim run`` draws it, its figures shared with a forked child; the
report drawn by a painter forked a moment before (:mod:`sim.report.early`, as ``sim run``
forks one before its set-up: the painter imports the figure module meanwhile, and the
report then costs sending it the results, its figures and the page); and what importing
the modules ``sim run``'s save imports costs a fresh process that has imported what ``sim
run`` has by then (``sim.cli``, ``sim.workflows`` and a run's modules): the modules a first
save of a small run adds to ``sys.modules`` (matplotlib and the figure module), imported in
that order (in-process repeats pay them once, so they are timed apart). ``--cli N`` also
runs ``sim run scenarios/SCENARIO.yaml --runs N`` itself N times and prints the split its
footer prints ("figures and report" is the manifest's ``timings_s.outputs``: data files,
figures, page, and whatever import is still pending).

The target of issue 25, "a report in under a second for 10,000 runs", is printed beside
the figures; figures, not assertions. The machine is shared: the load average is printed
at the start and at the end.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sim  # noqa: E402
from sim.report.forking import SHARE_ENV  # noqa: E402

SIM = str(Path(sys.executable).parent / "sim")
TARGET_S = 1.0

SAVED = ("import json, sys, tempfile, sim, sim.cli, sim.workflows\n"  # the modules a first save imports
         "res = sim.run(sys.argv[1], runs=200, seed=1)\n"
         "before = set(sys.modules)\n"
         "with tempfile.TemporaryDirectory() as d:\n"
         "    sim.workflows.save_run(res, d + '/run')\n"
         "print(json.dumps([m for m in sys.modules if m not in before]))\n")
IMPORT = ("import importlib, json, sys, time, sim, sim.cli, sim.workflows\n"  # and what they cost
          "res = sim.run(sys.argv[1], runs=200, seed=1)\n"
          "mods = json.loads(sys.argv[2])\n"
          "t = time.perf_counter()\n"
          "for m in mods:\n"
          "    try:\n"
          "        importlib.import_module(m)\n"
          "    except Exception:\n"
          "        pass\n"
          "print(time.perf_counter() - t)\n")


def import_cost(scenario: str, repeats: int) -> tuple[float, list[str]]:
    """Median seconds a fresh process takes to import what ``sim run``'s save imports (found
    by saving a small run, report included), after what ``sim run`` imports before it saves
    (sim.cli, sim.workflows, and a run's modules); and the packages among them."""
    p = subprocess.run([sys.executable, "-c", SAVED, scenario], capture_output=True, text=True, cwd=ROOT, check=True)
    mods = json.loads(p.stdout.splitlines()[-1])
    secs = []
    for _ in range(repeats):
        q = subprocess.run([sys.executable, "-c", IMPORT, scenario, json.dumps(mods)], capture_output=True, text=True,
                           cwd=ROOT, check=True)
        secs.append(float(q.stdout.split()[-1]))
    tops = sorted({m.split(".")[0] for m in mods if not m.startswith(("_", "sim."))} |
                  {m for m in mods if m.startswith("sim.")})
    return statistics.median(secs), tops


def timed_figures(F) -> tuple[dict[str, list[float]], object]:
    """Wrap each figure function of ``sim.report.figures`` so that its calls are timed by
    figure name (the file it writes); returns the record and an undo."""
    record: dict[str, list[float]] = {}

    def wrap(fn):
        def timed(res, path, *args):
            t = time.perf_counter()
            try:
                return fn(res, path, *args)
            finally:
                record.setdefault(Path(path).stem.removeprefix("fig_"), []).append(time.perf_counter() - t)
        return timed

    names = ["outcome_probabilities", "cumulative_incidence", "level_shares", "state_lines"]
    saved = {n: getattr(F, n) for n in names}
    drawn = dict(F.DRAWN)
    for n in names:
        setattr(F, n, wrap(saved[n]))
    for k, fn in drawn.items():
        F.DRAWN[k] = wrap(fn)

    def undo():
        for n, fn in saved.items():
            setattr(F, n, fn)
        F.DRAWN.update(drawn)

    return record, undo


def cli(scenario: str, runs: int, repeats: int) -> dict[str, float]:
    """``sim run`` in a subprocess, ``repeats`` times: medians of its wall time and its split."""
    split: dict[str, list[float]] = {"wall": [], "startup": [], "simulation": [], "outputs": []}
    path = ROOT / "scenarios" / f"{scenario}.yaml"
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as d:
            out = Path(d) / "run"
            t0 = time.perf_counter()
            p = subprocess.run([SIM, "run", str(path), "--runs", str(runs), "--seed", "1", "--out", str(out)],
                               capture_output=True, text=True)
            split["wall"].append(time.perf_counter() - t0)
            if p.returncode != 0:
                raise RuntimeError(p.stderr)
            tm = json.loads((out / "manifest.json").read_text())["timings_s"]
            split["startup"].append(tm["startup"])
            split["simulation"].append(tm["setup"] + tm["simulation"])
            split["outputs"].append(tm["outputs"])
    return {k: statistics.median(v) for k, v in split.items()}


GROUPS = [  # (what, how cProfile names it: file fragment, function), cumulative time of the outermost call
    ("tight_layout (figure.tight_layout)", "figure.py", "tight_layout"),
    ("bbox_inches='tight' (Figure.get_tightbbox)", "figure.py", "get_tightbbox"),
    ("drawing (Figure.draw, every pass)", "figure.py", "draw"),
    ("  in it (overlapping): text layout (Text._get_layout)", "text.py", "_get_layout"),
    ("  in it (overlapping): glyphs rasterised (RendererAgg.draw_text)", "backend_agg.py", "draw_text"),
    ("  in it (overlapping): ticks made and laid out (Axis._update_ticks)", "axis.py", "_update_ticks"),
    ("making the axes (Figure/GridSpec.subplots)", ".py", "subplots"),
    ("legends (Axes.legend)", "_axes.py", "legend"),
    ("PNG encoding (Pillow's encoder)", "~", "<method 'encode' of 'ImagingEncoder' objects>"),
    ("font lookup (font_manager.findfont)", "font_manager.py", "findfont"),
    ("report.html (html.render)", "html.py", "render"),
]


def profile(res, top: int) -> None:
    """One ``write_report`` under cProfile: the groups above, then the top functions."""
    from sim.report import write_report

    with tempfile.TemporaryDirectory() as d:
        pr = cProfile.Profile()
        pr.enable()
        write_report(res, Path(d))
        pr.disable()
    st = pstats.Stats(pr)
    total = st.total_tt
    print(f"\nPROFILE of one write_report (cProfile; {total:.2f} s under the profiler, which slows Python "
          "code more than C code): where the time goes")
    for what, file, func in GROUPS:
        # the largest cumulative time among matching entries (the outermost call of a recursion)
        cum = max((v[3] for (f, _, fn), v in st.stats.items() if fn == func and f.endswith(file)), default=0.0)
        print(f"  {what:66s} {cum:6.2f} s  {100 * cum / total:4.0f}%")
    buf = io.StringIO()
    pstats.Stats(pr, stream=buf).sort_stats("tottime").print_stats(top)
    print("\n  functions by own time:")
    lines = buf.getvalue().splitlines()
    start = next((i for i, ln in enumerate(lines) if "ncalls" in ln), len(lines))
    print("\n".join("  " + ln.replace(str(Path(sys.prefix)), "VENV") for ln in lines[start:] if ln.strip()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="karabakh")
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cli", type=int, default=0, metavar="N", help="also run `sim run` N times (its footer's split)")
    ap.add_argument("--profile", type=int, default=0, metavar="TOP", help="profile one report; print TOP functions")
    ap.add_argument("--quick", action="store_true", help="1,000 runs, 2 repeats")
    a = ap.parse_args()
    if a.quick:
        a.runs, a.repeats = 1000, 2
    load0 = os.getloadavg()
    print(f"load average at start: {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}; {os.cpu_count()} cores; "
          f"git {subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True, cwd=ROOT).stdout.strip()}")

    t0 = time.perf_counter()
    res = sim.run(a.scenario, runs=a.runs, seed=1)
    print(f"{a.scenario}: {res.runs:,} runs simulated in {time.perf_counter() - t0:.1f} s "
          f"({res.manifest.get('backend')}, {res.manifest.get('workers')} worker(s))")

    imp, imported = import_cost(a.scenario, a.repeats)
    from sim.report import figures as F
    from sim.report import write_report

    record, undo = timed_figures(F)
    data, alone = [], []
    was = os.environ.get(SHARE_ENV)
    os.environ[SHARE_ENV] = "0"  # each figure timed here, one after the other (no forked child)
    try:
        for _ in range(a.repeats):
            with tempfile.TemporaryDirectory() as d:
                res.save(Path(d) / "data")  # the data files and manifest, no report
                data.append(res.manifest["timings_s"]["outputs"])
                t = time.perf_counter()
                write_report(res, Path(d) / "data")
                alone.append(time.perf_counter() - t)
    finally:
        undo()
        if was is None:
            del os.environ[SHARE_ENV]
        else:
            os.environ[SHARE_ENV] = was
    report, cpu, painted = [], [], []
    for _ in range(a.repeats):  # as sim run draws them: shared with a forked child
        with tempfile.TemporaryDirectory() as d:
            t, c = time.perf_counter(), time.process_time()
            write_report(res, Path(d))
            report.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
    from sim.report import early

    for _ in range(a.repeats):  # and by a painter forked before (sim.report.early), its import done meanwhile
        with tempfile.TemporaryDirectory() as d:
            if early.start() is None:
                break
            time.sleep(1.5)  # the run's set-up and simulation, during which the painter imports the figure module
            t = time.perf_counter()
            write_report(res, Path(d))
            painted.append(time.perf_counter() - t)

    med = statistics.median
    figs = {k: med(v) for k, v in record.items()}
    print(f"\nAFTER THE SIMULATION (medians of {a.repeats}; seconds)")
    for k, v in figs.items():
        print(f"  figure {k:22s} {v:6.3f}   {[round(x, 3) for x in record[k]]}")
    print(f"  {'all figures, one process':29s} {sum(figs.values()):6.3f}")
    print(f"  {'report, one process':29s} {med(alone):6.3f}   (figures and report.html, SIM_FIGURES_FORK=0)")
    print(f"  {'report as sim run draws it':29s} {med(report):6.3f}   {[round(x, 3) for x in report]}  (the figures "
          "shared with a forked child)")
    print(f"  {'  CPU time of the process':29s} {med(cpu):6.3f}   (all its threads; less sensitive to the "
          "machine's other load)")
    if painted:
        print(f"  {'report with a painter':29s} {med(painted):6.3f}   {[round(x, 3) for x in painted]}  (forked "
              "before, its import done: the results sent, the figures drawn there, report.html here)")
    print(f"  {'data files and manifest':29s} {med(data):6.3f}")
    print(f"  {'importing what the save does':29s} {imp:6.3f}   (a fresh process, after what sim run imports first: "
          f"{', '.join(imported)}; with a painter, paid by it during the run)")
    whole = (med(painted) if painted else med(report) + imp) + med(data)
    print(f"  {'all of it, as sim run pays it':29s} {whole:6.3f}   target <= {TARGET_S:.1f} s: "
          f"{'met' if whole <= TARGET_S else f'missed by {whole - TARGET_S:.2f} s'}"
          f"{' (with a painter)' if painted else ''}")

    if a.cli:
        c = cli(a.scenario, a.runs, a.cli)
        print(f"\nsim run scenarios/{a.scenario}.yaml --runs {a.runs} (medians of {a.cli}): wall {c['wall']:.2f} s; "
              f"start-up {c['startup']:.2f}, simulation {c['simulation']:.2f}, figures and report {c['outputs']:.2f} "
              f"(target <= {TARGET_S:.1f} s: {'met' if c['outputs'] <= TARGET_S else 'missed'})")
    if a.profile:
        profile(res, a.profile)
    load1 = os.getloadavg()
    print(f"\nload average at the end: {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")


if __name__ == "__main__":
    main()
