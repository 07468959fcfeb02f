"""``sim sweep``: which inputs drive each outcome -- parameter sets sampled and run in one Monte
Carlo (:func:`sim.analysis.sweep.sweep`), the folder written (:func:`sim.workflows.save_sweep`),
the table of outcomes and their most influential inputs printed."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated

import typer

from ..scenario.errors import InputError
from . import common
from .common import FLAGS, WHOLE, SimCommand, StudyPluginOpt, StudyReplaceOpt, fail, stoppable

PLACE = 50

FLAGS_RESEARCH = {"ci_halfwidth": "--ci-halfwidth", "samples": "--samples", "method": "--method", "params": "--param",
                  "pull": "--pull", "a_levers": "--a-lever", "b_levers": "--b-lever", "switch": "--lever", "b": "B",
                  "second_order": "--second-order", "design": "--design"}
"""The flags of the study commands (sweep, compare, discover) for their library arguments."""


def sweep(
    scenario: Annotated[str, typer.Argument(help="A scenario file or a shipped scenario name.")],
    method: Annotated[str | None, typer.Option("--method", help="sobol (S1/ST; the default), morris (mu*/sigma), lhs (RBD-FAST S1), fast (eFAST S1/ST), delta (delta and S1) or grid.")] = None,
    samples: Annotated[int, typer.Option("--samples", "-N", help="Sobol base size N (a power of 2; N*(D+2) sets, N*(2D+2) with --second-order), Morris trajectories (N*(D+1) sets), LHS or delta sets, eFAST sets per input (N*D sets, N > 64), or grid levels per input.")] = 64,
    design: Annotated[Path | None, typer.Option("--design", help="Run your own parameter sets instead of sampling: a CSV with one row per set and a column per parameter path or lever:ACTOR.LEVER (0/1); a 'set' column is ignored. No indices: analyse the sets with any tool (sim.evaluate in Python).")] = None,
    runs: Annotated[int, typer.Option("--runs", "-n", help="Monte Carlo runs per parameter set.")] = 200,
    param: Annotated[list[str] | None, typer.Option("--param", help="Vary this parameter instead of the scenario's uncertainties: PATH=LO:HI (repeatable; a whole-number parameter takes whole bounds, its values then equally likely).")] = None,
    lever: Annotated[list[str] | None, typer.Option("--lever", help="A lever switched across sets (an input: on in about half of them): ACTOR.LEVER (repeatable).")] = None,
    pull: Annotated[list[str] | None, typer.Option("--pull", help="A lever pulled in every set: ACTOR.LEVER (repeatable).")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override a parameter in every set: PATH=VALUE (repeatable).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the Monte Carlo and of the sampler (default: the scenario's).")] = None,
    months: Annotated[int | None, typer.Option("--months", help="Horizon in months (default: the scenario's).")] = None,
    workers: Annotated[int | None, typer.Option("--workers", "-w", help="Worker processes (results do not depend on it).")] = None,
    chunk_size: Annotated[int | None, typer.Option("--chunk-size", help="Replicates per chunk (default 2000; per-replicate results do not depend on it, means over replicates only to rounding).")] = None,
    backend: Annotated[str, typer.Option("--backend", help="auto, local, processes or dask.")] = "auto",
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Dask scheduler address (implies --backend dask).")] = None,
    worker_timeout: Annotated[float | None, typer.Option("--worker-timeout", help="Dask: seconds to wait with no worker left before the sweep stops (default 60). A worker lost on the way is said at once and recorded in manifest.json.")] = None,
    precision: Annotated[str, typer.Option("--precision", help="float32 (default) or float64.")] = "float32",
    ci_halfwidth: Annotated[float | None, typer.Option("--ci-halfwidth", help="Add rounds of --runs per set until every set's 95% intervals are narrower than +/- this (at most 20 rounds).")] = None,
    second_order: Annotated[bool, typer.Option("--second-order", help="Sobol: also second-order indices, reported in interactions.csv (N*(2D+2) sets instead of N*(D+2)).")] = False,
    first_order_only: Annotated[bool, typer.Option("--first-order-only", hidden=True, help="The default now; kept so that older scripts run.")] = False,
    replicates: Annotated[bool, typer.Option("--replicates", help="Also write replicates.parquet (one row per run, with its set); needs sim\\[research].")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write the sweep folder here (must be new or empty).")] = None,
    no_report: Annotated[bool, typer.Option("--no-report", help="Skip figures and report.html.")] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print summary.json instead of the table.")] = False,
    plugin: StudyPluginOpt = None,
    replace_rule: StudyReplaceOpt = False,
) -> None:
    """Which inputs drive each outcome: sample parameter sets and run them all in one Monte Carlo.

    Varies the scenario's uncertainties: (or --param ranges) and --lever switches
    with SALib's samplers (or runs the sets of --design FILE.csv); all sets x runs are
    one vectorized Monte Carlo. Writes sets.csv (inputs and outcome probabilities per
    set), indices.csv (Sobol S1/ST, Morris mu*/sigma, RBD-FAST S1, eFAST S1/ST or delta
    with 95% intervals, and a flag where an index is not to be trusted: Monte Carlo
    noise over half the variance, or an index outside 0..1 beyond its interval; flagged
    indices are never named as drivers), noise.csv (the share of each outcome's
    variance that is Monte Carlo noise), summary.json, figures, report.html and a
    manifest to outputs/<scenario>/<timestamp>-<hash>/ (or --out).
    """
    common.state["replace_rule"] = replace_rule
    stoppable(sweep_and_save, SimpleNamespace(**locals()))  # the options, by name


def sweep_and_save(o: SimpleNamespace, rerun_of: Path | None = None) -> Path | None:
    """Check the options, run the sweep, write its folder, print the table (or the JSON) and
    say what went wrong; the folder (``sim rerun`` compares it with the original's)."""
    from ..analysis.evaluate import evaluate, read_design
    from ..analysis.sweep import sweep as run_sweep
    from ..arguments import check_run_options
    from ..files import OutputError, release
    from ..inputs import parse_ranges
    from ..interrupts import SignalDeferral
    from ..loading import load_scenario
    from ..outputs import check_out
    from ..replicates import require
    from ..runner import ChunkFailed
    from ..scenario.errors import option_error
    from ..workflows import save_sweep

    try:
        check_run_options(o.runs, o.workers, o.months, o.chunk_size, seed=o.seed, dtype=o.precision, backend=o.backend,
                          scheduler=o.scheduler, ci_halfwidth=o.ci_halfwidth, worker_timeout=o.worker_timeout)
        ranges = parse_ranges(o.param)
        if o.design is not None:
            clash = [f for f, v in (("--method", o.method), ("--param", o.param), ("--lever", o.lever),
                                    ("--second-order", o.second_order)) if v]
            if clash:
                raise option_error("--design", f"{', '.join(clash)} cannot go with --design: the design's columns "
                                   "say what varies and its rows are the sets")
        if o.replicates:
            require("pyarrow", "--replicates", option="--replicates")
        common.plugins("sweep", o.plugin, common.state.get("replace_rule", False))
        scn = load_scenario(o.scenario, overrides=o.set_ or None)
        if o.design is not None:
            read_design(scn, o.design)  # every cell checked before anything runs
        if o.out is not None:
            check_out(o.out)
        progress, finish = common.progress(o.json_, scn)
        rep_file = common.temp_parquet() if o.replicates else False
        failure = None
        save_error = None
        with SignalDeferral() as deferral, common.notices("sweep"):
            try:
                if o.design is not None:
                    sw = evaluate(scn, o.design, o.runs, pull=o.pull, seed=o.seed, months=o.months,
                                  chunk_size=o.chunk_size, workers=o.workers, backend=o.backend, scheduler=o.scheduler,
                                  dtype=o.precision, ci_halfwidth=o.ci_halfwidth, replicates=rep_file,
                                  progress=progress, worker_timeout=o.worker_timeout)
                else:
                    sw = run_sweep(scn, o.method or "sobol", o.samples, o.runs, params=ranges or None, levers=o.lever,
                                   pull=o.pull, seed=o.seed, months=o.months, chunk_size=o.chunk_size,
                                   workers=o.workers, backend=o.backend, scheduler=o.scheduler, dtype=o.precision,
                                   second_order=o.second_order, ci_halfwidth=o.ci_halfwidth, replicates=rep_file,
                                   progress=progress, worker_timeout=o.worker_timeout)
            except ChunkFailed as exc:
                failure = exc
            finish()
            if failure is not None:
                typer.echo(f"sim sweep: {failure} (nothing is analysed: a sweep needs every set)", err=True)
                raise typer.Exit(1)
            with deferral.hold():
                res = sw.results
                if rerun_of is not None:
                    res.manifest["rerun_of"] = str(rerun_of)
                try:
                    folder = common.out_folder(res, o.out, "sweep")
                    save_sweep(sw, folder, report=not o.no_report, replicates_file=rep_file or None)
                except OutputError as exc:  # shown after the results, as sim run does
                    if common.state["debug"]:
                        raise
                    save_error = exc
                finally:
                    if rep_file:
                        release(Path(rep_file).parent)
    except InputError as exc:
        fail(exc, "sweep")
        return None
    _tell(o, sw, folder, save_error)
    return folder


def _tell(o: SimpleNamespace, sw, folder: Path, save_error) -> None:
    """The table (or JSON), then one line and the exit status for whatever went wrong."""
    res = sw.results
    rep_error = res.replicates_error()
    if save_error is not None and not res.complete:
        typer.echo(f"sim sweep: {save_error}", err=True)
        raise typer.Exit(1)
    if not res.complete:
        how, code = common.STOPPED[res.stopped_by]
        rows = f" and their rows in {folder}/replicates.parquet" if o.replicates and rep_error is None else ""
        typer.echo(f"{how}: {res.runs:,} of {res.runs_requested:,} runs finished; the sets' runs so far are in "
                   f"{folder}/sets.csv{rows}; no indices (a sweep needs every set).", err=True)
        raise typer.Exit(code)
    if o.json_:
        from ..results import _clean

        typer.echo(json.dumps(_clean(sw.summary()), indent=2))
    else:
        _print_sweep(sw, folder if save_error is None else None)
    if sw.too_small():  # the sets ran and are saved; the design is too small for its indices
        where = f"; the sets ran and are saved in {folder}/sets.csv" if save_error is None else ""
        typer.echo(f"sim sweep: no indices: {sw.too_small()}{where}", err=True)
    if save_error is not None:
        typer.echo(f"sim sweep: {save_error}", err=True)
        raise typer.Exit(1)
    if rep_error is not None:
        typer.echo(f"sim sweep: --replicates: {rep_error}; the rest of the sweep is saved in {folder}/ without "
                   "replicates.parquet", err=True)
        raise typer.Exit(1)


def _print_sweep(sw, folder: Path | None) -> None:
    from rich.markup import escape
    from rich.table import Table

    from ..analysis.sweep import INDEX_WORDS

    pct = common.pct
    con = common.wide_console()
    what = "design of your own" if sw.method == "design" else f"{sw.method} sweep"
    t = Table(title=escape(f"{sw.results.title} — {what}: {sw.sets:,} parameter sets × {sw.runs_per_set:,} "
                           f"runs ({sw.results.runs:,} runs in one Monte Carlo)"), title_justify="left")
    t.add_column("Outcome", overflow="fold", min_width=28, max_width=50)
    t.add_column("Mean", justify="right")
    t.add_column("10–90% across sets", justify="right")
    t.add_column("MC noise share", justify="right")
    if sw.method != "design":
        t.add_column("Drivers (index ± 95%)", overflow="fold", max_width=60)
    nz = sw.noise()
    flagged_any = False
    for o in sw.outcomes:
        r = nz.loc[o]
        share = "-" if r["mc_share"] != r["mc_share"] else f"{100 * r['mc_share']:.0f}%"
        cells = [escape(sw.description(o)), pct(r["mean"]), f"{pct(r['p10'])} – {pct(r['p90'])}", share]
        if sw.method != "design":
            drivers = sw.drivers(o)[:2]
            infl = "; ".join(f"{n} {v:.2f}" + (f" ± {c:.2f}" if c == c else "") for n, v, c in drivers) or "none clearly"
            bad = sw.flagged(o)
            if bad:
                flagged_any = True
                infl += f" [{len(bad)} flagged]"
            cells.append(escape(infl))
        t.add_row(*cells)
    con.print(t)
    if sw.method != "design":
        typer.echo(f"Index: {INDEX_WORDS[sw.method]}. Drivers: inputs whose index is above zero beyond its 95% "
                   "interval and not flagged. MC noise share: the part of the variance across sets that is Monte "
                   "Carlo noise.")
        if flagged_any:
            typer.echo("Flagged: indices not to be trusted (noise share above 50%: raise --runs; or an index below 0 "
                       "or above 1 beyond its interval); see indices.csv (column flag) and report.html.")
    m = sw.results.manifest
    typer.echo(f"Seed {sw.seed}; {m['workers']} worker(s) ({m['backend']}); simulation "
               f"{m['timings_s']['simulation']:.1f} s ({m['replicate_months_per_s']:,.0f} replicate-months/s).")
    if folder is not None:  # None: the folder could not be written
        names = [n for n in ("report.html", "sets.csv", "indices.csv", "interactions.csv", "noise.csv", "summary.json",
                             "manifest.json") if (folder / n).exists()]
        typer.echo(f"Outputs: {folder}/  ({', '.join(names)})")
        typer.echo(f"Next: sim discover {folder} --outcome NAME")


def register(app: typer.Typer) -> None:
    FLAGS.update(FLAGS_RESEARCH)
    WHOLE.add("samples")
    app.command(cls=SimCommand)(sweep)
