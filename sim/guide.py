"""docs/SCENARIO-GUIDE.md: what each shipped scenario says, generated so it cannot go stale.

For every shipped scenario (:func:`sim.api.list_scenarios`) the page gives what it
represents (its description, start, horizon, actors, flashpoints, alliances), its
questions, the outcome table of its default run (the scenario's own ``meta.runs`` and
``meta.seed``, with the command that reproduces it), the outcomes decided at the start
(``sim validate``'s warnings), which inputs move the outcomes
(a Latin-hypercube sweep over its ``uncertainties:`` with RBD-FAST first-order indices,
:func:`sim.sweep`), and its caveats (``meta.caveats``, written by hand in the scenario
file). Everything is deterministic — fixed seeds, fixed formatting, no dates, times or
absolute paths — so the page regenerates byte for byte.

    python -m sim.guide            # write docs/SCENARIO-GUIDE.md
    python -m sim.guide --check    # exit 1 (with a diff) if the page is stale

``tests/test_guide.py`` regenerates the page and fails when it differs from the
committed one. The text of each scenario comes from :mod:`sim.report.guide_text` (pure
rendering, in the report layer); this module runs the scenarios and their sweeps, so it
sits above the studies (:mod:`sim.analysis`).
"""

from __future__ import annotations

import argparse
import difflib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .analysis.decided import decided_outcomes
from .analysis.sweep import sweep
from .api import list_scenarios, load_scenario, run
from .report.guide_text import COMMAND, RUNS_PER_SET, SETS, page

PAGE = Path(__file__).resolve().parents[1] / "docs" / "SCENARIO-GUIDE.md"
"""Where the page lives in a source checkout."""


@dataclass
class Entry:
    """One scenario's material: the loaded scenario, its default run and its sweep.

    Attributes:
        name: The shipped scenario's name (``karabakh``).
        scn: The loaded scenario (:class:`sim.api.LoadedScenario`).
        res: Its default run (:class:`sim.results.Results`): ``meta.runs`` runs, ``meta.seed``.
        sweep: The sweep over its uncertainties (:class:`sim.analysis.sweep.Sweep`),
            None when it declares none.
        decided: Its outcomes decided at the start (:func:`sim.analysis.decided.decided_outcomes`,
            what ``sim validate`` warns about).
    """

    name: str
    scn: Any
    res: Any
    sweep: Any = None
    decided: list = field(default_factory=list)


def compute(name: str, *, workers: int | None = None, log: Any = None) -> Entry:
    """Load shipped scenario ``name``, run it at its defaults and sweep its uncertainties.

    ``workers`` does not change any number (chunks are seeded and merged in order).
    """
    scn = load_scenario(name)
    meta = scn.spec.meta
    say = log or (lambda _text: None)
    say(f"{name}: default run, {meta.runs:,} runs, seed {meta.seed}")
    res = run(scn, workers=workers)
    sw = None
    inputs = scn.uncertainties()
    if inputs:
        say(f"{name}: sweep, {SETS} sets x {RUNS_PER_SET} runs")
        sw = sweep(scn, "lhs", SETS, RUNS_PER_SET, seed=meta.seed, workers=workers)
    return Entry(name, scn, res, sw, decided_outcomes(scn))


def build(names: list[str] | None = None, *, workers: int | None = None, log: Any = None) -> str:
    """The page's text for the shipped scenarios (or ``names`` of them, in that order)."""
    names = names or [s["name"] for s in list_scenarios()]
    return page([compute(n, workers=workers, log=log) for n in names])


def stale(committed: str, fresh: str, path: str = "docs/SCENARIO-GUIDE.md", lines: int = 40) -> str | None:
    """None when the committed page equals the fresh one; else what to do, with a diff."""
    if committed == fresh:
        return None
    diff = list(difflib.unified_diff(committed.splitlines(), fresh.splitlines(), f"{path} (committed)",
                                     f"{path} (regenerated)", lineterm="", n=1))
    more = f"\n... ({len(diff) - lines} more lines of diff)" if len(diff) > lines else ""
    return (f"{path} differs from what the scenarios and the model give now: run {COMMAND} "
            f"and commit the page.\n" + "\n".join(diff[:lines]) + more)


def main(argv: list[str] | None = None) -> int:
    """Write the page (or check it with ``--check``); exit status 0 ok, 1 stale, 2 bad use."""
    ap = argparse.ArgumentParser(prog=COMMAND, description="Regenerate docs/SCENARIO-GUIDE.md: every shipped "
                                 "scenario's default run and sweep, with its questions and caveats.")
    ap.add_argument("--check", action="store_true", help="compare with the page instead of writing it; "
                    "exit 1 with a diff if it is stale")
    ap.add_argument("--out", type=Path, default=None, help=f"the page (default: {PAGE.parent.name}/{PAGE.name} "
                    "of the source checkout)")
    ap.add_argument("--workers", type=int, default=None, help="worker processes (the numbers do not depend on it)")
    args = ap.parse_args(argv)
    out = args.out or PAGE
    if not out.parent.is_dir():
        print(f"error: {out.parent} is not a folder; give the page's path with --out", file=sys.stderr)
        return 2
    if args.check and not out.is_file():
        print(f"error: {out} does not exist; run {COMMAND} to write it", file=sys.stderr)
        return 2
    text = build(workers=args.workers, log=lambda t: print(t, file=sys.stderr, flush=True))
    if args.check:
        problem = stale(out.read_text(encoding="utf-8"), text)
        if problem:
            print(problem, file=sys.stderr)
            return 1
        print(f"{out.name} is up to date", file=sys.stderr)
        return 0
    out.write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
