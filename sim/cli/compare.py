"""``sim compare``: two variants with common random numbers (:func:`sim.analysis.compare.compare`):
the differences with their intervals and tests, the folder with its report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ..scenario.errors import InputError
from . import common
from .common import SimCommand, StudyPluginOpt, StudyReplaceOpt, fail, stoppable

PLACE = 60


def compare(
    a: Annotated[str, typer.Argument(help="Scenario A: a file or a shipped name.")],
    b: Annotated[str | None, typer.Argument(help="Scenario B (default: A again, varied by --b-set / --b-lever).")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override in both: PATH=VALUE (repeatable).")] = None,
    a_set: Annotated[list[str] | None, typer.Option("--a-set", help="Override in A only: PATH=VALUE (repeatable).")] = None,
    b_set: Annotated[list[str] | None, typer.Option("--b-set", help="Override in B only: PATH=VALUE (repeatable).")] = None,
    a_lever: Annotated[list[str] | None, typer.Option("--a-lever", help="Lever pulled from the start in A (repeatable).")] = None,
    b_lever: Annotated[list[str] | None, typer.Option("--b-lever", help="Lever pulled from the start in B (repeatable).")] = None,
    runs: Annotated[int | None, typer.Option("--runs", "-n", help="Runs of each variant (default: A's scenario's).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of both (default: A's scenario's).")] = None,
    months: Annotated[int | None, typer.Option("--months", help="Horizon in months.")] = None,
    workers: Annotated[int | None, typer.Option("--workers", "-w", help="Worker processes.")] = None,
    chunk_size: Annotated[int | None, typer.Option("--chunk-size", help="Replicates per chunk (the same for both).")] = None,
    backend: Annotated[str, typer.Option("--backend", help="auto, local, processes or dask.")] = "auto",
    independent: Annotated[bool, typer.Option("--independent", help="Give B its own seed (no common random numbers; unpaired test, Newcombe's hybrid score interval).")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write the comparison folder here (must be new or empty).")] = None,
    no_report: Annotated[bool, typer.Option("--no-report", help="Skip figures and report.html.")] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print summary.json instead of the table.")] = False,
    plugin: StudyPluginOpt = None,
    replace_rule: StudyReplaceOpt = False,
) -> None:
    """Compare two variants with common random numbers: differences, intervals, tests, and why.

    Two scenario files, or one scenario with two variants (--a-set/--b-set,
    --a-lever/--b-lever). Both run with the same seed, runs and chunking, so
    replicate i of A and of B share their random numbers where the structure allows;
    per outcome: B - A with Newcombe's paired score 95% interval (always within
    +/-100 points) and McNemar's exact test (Benjamini-Hochberg adjusted), and the
    event counts that differ most. Only outcomes both define the same way are
    compared (the others are listed); none in common exits 2. Writes
    comparison.csv, counts.csv, summary.json, figures and report.html.
    """
    common.state["replace_rule"] = replace_rule
    stoppable(_compare, a, b, set_, a_set, b_set, a_lever, b_lever, runs, seed, months, workers, chunk_size, backend,
               independent, out, no_report, json_, plugin)


def _compare(a, b, set_, a_set, b_set, a_lever, b_lever, runs, seed, months, workers, chunk_size, backend, independent,
             out, no_report, json_, plugin) -> None:
    from ..analysis.compare import compare as run_compare
    from ..arguments import check_run_options
    from ..files import OutputError
    from ..loading import load_scenario
    from ..outputs import check_out
    from ..report.compare import write_compare_report
    from ..runner import ChunkFailed

    try:
        check_run_options(runs, workers, months, chunk_size, seed=seed, backend=backend)
        common.plugins("compare", plugin, common.state.get("replace_rule", False))
        sa = load_scenario(a, overrides=set_ or None)
        sb = load_scenario(b, overrides=set_ or None) if b is not None else None
        if b is None and not (a_set or b_set or a_lever or b_lever):
            typer.echo("sim compare: A and B are the same (give B, or --b-set / --b-lever); the difference will be zero.",
                       err=True)
        if out is not None:
            check_out(out)
        progress, finish = common.progress(json_, sa)
        with common.notices("compare"):
            try:
                cmp = run_compare(sa, sb, a_set=a_set, b_set=b_set, a_levers=a_lever, b_levers=b_lever, runs=runs,
                                  seed=seed, months=months, chunk_size=chunk_size, workers=workers, backend=backend,
                                  independent=independent, progress=progress)
            except ChunkFailed as exc:
                finish()
                typer.echo(f"sim compare: {exc}", err=True)
                raise typer.Exit(1) from None
            except InputError:
                finish()
                raise
        finish()
    except InputError as exc:
        fail(exc, "compare")
        return
    if not (cmp.a.complete and cmp.b.complete):
        typer.echo("Interrupted: nothing compared.", err=True)
        raise typer.Exit(130)
    try:
        folder = _compare_folder(cmp, out)
        cmp.save(folder, report=None if no_report else write_compare_report)
    except OutputError as exc:
        common.failed_output(exc, "compare")
    if json_:
        from ..results import _clean

        typer.echo(json.dumps(_clean(cmp.summary()), indent=2))
        return
    _print_compare(cmp, folder)


def _compare_folder(cmp, out: Path | None) -> Path:
    from ..outputs import new_folder, prepare_out

    if out is not None:
        return prepare_out(out)
    return new_folder(Path("outputs") / "compare", prefix=f"{cmp.a.scenario}-")


def _print_compare(cmp, folder: Path) -> None:
    from rich.markup import escape
    from rich.table import Table

    pct = common.pct
    con = common.wide_console()
    df = cmp.outcomes()
    t = Table(title=escape(f"A: {cmp.label_a}   B: {cmp.label_b}   ({cmp.a.runs:,} runs each, "
                           + ("common random numbers)" if cmp.paired else "independent)")), title_justify="left")
    t.add_column("Outcome", overflow="fold", min_width=28, max_width=56)
    for c in ("A", "B", "B − A (95% interval)", "adj. p", ""):
        t.add_column(c, justify="right")
    for _name, r in df.iterrows():
        t.add_row(escape(r["description"]), pct(r["p_a"]), pct(r["p_b"]),
                  f"{100 * r['diff']:+.1f} ({100 * r['ci_low']:+.1f} to {100 * r['ci_high']:+.1f}) pts",
                  f"{r['p_adjusted']:.2g}", "different" if r["significant"] else "")
    con.print(t)
    for s in cmp.words()[1:]:
        con.print(escape(s))
    typer.echo(f"Outputs: {folder}/  (report.html, comparison.csv, counts.csv, summary.json, manifest.json)")


def register(app: typer.Typer) -> None:
    app.command(cls=SimCommand)(compare)
