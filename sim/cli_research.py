"""Research commands of the ``sim`` command line: ``sweep``, ``compare``, ``discover``.

Thin wrappers like the rest of :mod:`sim.cli`: parse options, call one library
function (:func:`sim.analysis.sweep.sweep`, :func:`sim.analysis.compare.compare`,
:func:`sim.analysis.discover.discover`), print and save what it returns. Registered
on the main app by :func:`register` (called at the end of :mod:`sim.cli`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .scenario.errors import InputError

FLAGS_RESEARCH = {"ci_halfwidth": "--ci-halfwidth", "samples": "--samples", "method": "--method", "params": "--param",
                  "pull": "--pull", "a_levers": "--a-lever", "b_levers": "--b-lever", "switch": "--lever", "b": "B"}


def register(app: typer.Typer) -> None:
    """Add ``sim sweep``, ``sim compare`` and ``sim discover`` to the app."""
    from . import cli

    cli.FLAGS.update(FLAGS_RESEARCH)
    cli.WHOLE.add("samples")
    app.command(cls=cli.SimCommand)(sweep)
    app.command(cls=cli.SimCommand)(compare)
    app.command(cls=cli.SimCommand)(discover)


def _pct(x: float) -> str:
    from .cli import _pct as pct

    return pct(x)


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
    chunk_size: Annotated[int | None, typer.Option("--chunk-size", help="Replicates per chunk (default 2000; results depend on it).")] = None,
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
    plugin: Annotated[list[str] | None, typer.Option("--plugin", help="Import a module that registers rules or outcome kinds (repeatable).")] = None,
    replace_rule: Annotated[bool, typer.Option("--replace-rule", help="Let a --plugin replace the stock rule or outcome kind of the same name.")] = False,
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
    from .cli import _state, _stoppable

    _state["replace_rule"] = replace_rule
    _stoppable(_sweep, scenario, method, samples, runs, param, lever, pull, set_, seed, months, workers, chunk_size,
               backend, scheduler, precision, ci_halfwidth, second_order, replicates, out, no_report, json_, plugin,
               design, worker_timeout)


def _sweep(scenario, method, samples, runs, param, lever, pull, set_, seed, months, workers, chunk_size, backend,
           scheduler, precision, ci_halfwidth, second_order, replicates, out, no_report, json_, plugin,
           design=None, worker_timeout=None) -> None:
    from . import api
    from .analysis.design import parse_ranges
    from .analysis.evaluate import evaluate
    from .analysis.sweep import sweep as run_sweep
    from .cli import _fail, _notices, _out_folder, _plugins, _progress, _state, _temp_parquet
    from .interrupts import SignalDeferral
    from .results import OutputError
    from .runner import ChunkFailed

    try:
        api.check_run_options(runs, workers, months, chunk_size, seed=seed, dtype=precision, backend=backend,
                              scheduler=scheduler, ci_halfwidth=ci_halfwidth, worker_timeout=worker_timeout)
        ranges = parse_ranges(param)
        if design is not None:
            from .scenario.errors import option_error

            clash = [f for f, v in (("--method", method), ("--param", param), ("--lever", lever),
                                    ("--second-order", second_order)) if v]
            if clash:
                raise option_error("--design", f"{', '.join(clash)} cannot go with --design: the design's columns "
                                   "say what varies and its rows are the sets")
        if replicates:
            from .replicates import require

            require("pyarrow", "--replicates", option="--replicates")
        _plugins("sweep", plugin, _state.get("replace_rule", False))
        scn = api.load_scenario(scenario, overrides=set_ or None)
        if design is not None:
            from .analysis.evaluate import read_design

            read_design(scn, design)  # every cell checked before anything runs
        if out is not None:
            api.check_out(out)
        progress, finish = _progress(json_, scn)
        rep_file = _temp_parquet() if replicates else False
        failure = None
        save_error = None
        with SignalDeferral() as deferral, _notices("sweep"):
            try:
                if design is not None:
                    sw = evaluate(scn, design, runs, pull=pull, seed=seed, months=months, chunk_size=chunk_size,
                                  workers=workers, backend=backend, scheduler=scheduler, dtype=precision,
                                  ci_halfwidth=ci_halfwidth, replicates=rep_file, progress=progress,
                                  worker_timeout=worker_timeout)
                else:
                    sw = run_sweep(scn, method or "sobol", samples, runs, params=ranges or None, levers=lever, pull=pull,
                                   seed=seed, months=months, chunk_size=chunk_size, workers=workers, backend=backend,
                                   scheduler=scheduler, dtype=precision, second_order=second_order,
                                   ci_halfwidth=ci_halfwidth, replicates=rep_file, progress=progress,
                                   worker_timeout=worker_timeout)
            except ChunkFailed as exc:
                failure = exc
            finish()
            if failure is not None:
                typer.echo(f"sim sweep: {failure} (nothing is analysed: a sweep needs every set)", err=True)
                raise typer.Exit(1)
            with deferral.hold():
                res = sw.results
                try:
                    folder = _out_folder(res, out, "sweep")
                    if not res.complete:
                        from .analysis.sweep_io import save_partial

                        save_partial(sw, folder, replicates_file=rep_file or None)
                    else:
                        from .report.sweep import write_sweep_report

                        sw.save(folder, report=None if no_report else write_sweep_report,
                                replicates_file=rep_file or None)
                except OutputError as exc:  # shown after the results, as sim run does
                    if _state["debug"]:
                        raise
                    save_error = exc
                finally:
                    if rep_file:
                        from .files import release

                        release(Path(rep_file).parent)
    except InputError as exc:
        _fail(exc, "sweep")
        return
    rep_error = res.replicates_error()
    if save_error is not None and not res.complete:
        typer.echo(f"sim sweep: {save_error}", err=True)
        raise typer.Exit(1)
    if not res.complete:
        how, code = {"interrupt": ("Interrupted", 130), "SIGTERM": ("Stopped by SIGTERM", 143)}[res.stopped_by]
        rows = f" and their rows in {folder}/replicates.parquet" if replicates and rep_error is None else ""
        typer.echo(f"{how}: {res.runs:,} of {res.runs_requested:,} runs finished; the sets' runs so far are in "
                   f"{folder}/sets.csv{rows}; no indices (a sweep needs every set).", err=True)
        raise typer.Exit(code)
    if json_:
        from .results import _clean

        typer.echo(json.dumps(_clean(sw.summary()), indent=2))
    else:
        _print_sweep(sw, folder if save_error is None else None)
    if save_error is not None:
        typer.echo(f"sim sweep: {save_error}", err=True)
        raise typer.Exit(1)
    if rep_error is not None:
        typer.echo(f"sim sweep: --replicates: {rep_error}; the rest of the sweep is saved in {folder}/ without "
                   "replicates.parquet", err=True)
        raise typer.Exit(1)


def _print_sweep(sw, folder: Path | None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from .analysis.sweep import INDEX_WORDS

    con = Console(width=max(120, Console().width))
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
        cells = [escape(sw.description(o)), _pct(r["mean"]), f"{_pct(r['p10'])} – {_pct(r['p90'])}", share]
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
        inter = ", interactions.csv" if sw.second_order and sw.method == "sobol" else ""
        typer.echo(f"Outputs: {folder}/  (report.html, sets.csv, indices.csv{inter}, noise.csv, summary.json, "
                   "manifest.json)")
        typer.echo(f"Next: sim discover {folder} --outcome NAME")


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
    plugin: Annotated[list[str] | None, typer.Option("--plugin", help="Import a module that registers rules or outcome kinds (repeatable).")] = None,
    replace_rule: Annotated[bool, typer.Option("--replace-rule", help="Let a --plugin replace the stock rule or outcome kind of the same name.")] = False,
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
    from .cli import _state, _stoppable

    _state["replace_rule"] = replace_rule
    _stoppable(_compare, a, b, set_, a_set, b_set, a_lever, b_lever, runs, seed, months, workers, chunk_size, backend,
               independent, out, no_report, json_, plugin)


def _compare(a, b, set_, a_set, b_set, a_lever, b_lever, runs, seed, months, workers, chunk_size, backend, independent,
             out, no_report, json_, plugin) -> None:
    from . import api
    from .analysis.compare import compare as run_compare
    from .cli import _fail, _notices, _plugins, _progress, _state
    from .results import OutputError
    from .runner import ChunkFailed

    try:
        api.check_run_options(runs, workers, months, chunk_size, seed=seed, backend=backend)
        _plugins("compare", plugin, _state.get("replace_rule", False))
        sa = api.load_scenario(a, overrides=set_ or None)
        sb = api.load_scenario(b, overrides=set_ or None) if b is not None else None
        if b is None and not (a_set or b_set or a_lever or b_lever):
            typer.echo("sim compare: A and B are the same (give B, or --b-set / --b-lever); the difference will be zero.",
                       err=True)
        if out is not None:
            api.check_out(out)
        progress, finish = _progress(json_, sa)
        with _notices("compare"):
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
        _fail(exc, "compare")
        return
    if not (cmp.a.complete and cmp.b.complete):
        typer.echo("Interrupted: nothing compared.", err=True)
        raise typer.Exit(130)
    try:
        folder = _compare_folder(cmp, out)
        from .report.compare import write_compare_report

        cmp.save(folder, report=None if no_report else write_compare_report)
    except OutputError as exc:
        if _state["debug"]:
            raise
        typer.echo(f"sim compare: {exc}", err=True)
        raise typer.Exit(1) from None
    if json_:
        from .results import _clean

        typer.echo(json.dumps(_clean(cmp.summary()), indent=2))
        return
    _print_compare(cmp, folder)


def _compare_folder(cmp, out: Path | None) -> Path:
    from . import api

    if out is not None:
        return api.prepare_out(out)
    return api.new_folder(Path("outputs") / "compare", prefix=f"{cmp.a.scenario}-")


def _print_compare(cmp, folder: Path) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    con = Console(width=max(120, Console().width))
    df = cmp.outcomes()
    t = Table(title=escape(f"A: {cmp.label_a}   B: {cmp.label_b}   ({cmp.a.runs:,} runs each, "
                           + ("common random numbers)" if cmp.paired else "independent)")), title_justify="left")
    t.add_column("Outcome", overflow="fold", min_width=28, max_width=56)
    for c in ("A", "B", "B − A (95% interval)", "adj. p", ""):
        t.add_column(c, justify="right")
    for _name, r in df.iterrows():
        t.add_row(escape(r["description"]), _pct(r["p_a"]), _pct(r["p_b"]),
                  f"{100 * r['diff']:+.1f} ({100 * r['ci_low']:+.1f} to {100 * r['ci_high']:+.1f}) pts",
                  f"{r['p_adjusted']:.2g}", "different" if r["significant"] else "")
    con.print(t)
    for s in cmp.words()[1:]:
        con.print(escape(s))
    typer.echo(f"Outputs: {folder}/  (report.html, comparison.csv, counts.csv, summary.json, manifest.json)")


def discover(
    sweep_dir: Annotated[Path, typer.Argument(help="A folder written by sim sweep.")],
    outcome: Annotated[str, typer.Option("--outcome", help="The outcome to explain (its name in the scenario).")],
    method: Annotated[str, typer.Option("--method", help="prim, cart or both.")] = "both",
    likely: Annotated[float, typer.Option("--likely", help="PRIM: a set counts as one where the outcome is likely at this probability or more.")] = 0.5,
    density: Annotated[float, typer.Option("--density", help="PRIM: the least share of likely sets the box taken by default must hold.")] = 0.8,
    box: Annotated[int | None, typer.Option("--box", help="PRIM: take this box of the peeling trajectory (its index in the table shown) instead of the default choice.")] = None,
    alpha: Annotated[float, typer.Option("--alpha", help="PRIM: drop restrictions whose quasi-p values are all above this (they do not matter).")] = 0.05,
    out: Annotated[Path | None, typer.Option("--out", help="Write the peeling trajectory (prim_trajectory_OUTCOME.csv, fig_prim_OUTCOME.png) here (default: the sweep folder).")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print the boxes and rules as JSON.")] = False,
) -> None:
    """Where an outcome is likely: PRIM boxes and CART rules over a sweep's inputs, in words.

    Each box or rule is stated with the probability of the outcome over the runs
    inside it (density), the share of all runs with the outcome that fall inside
    (coverage), and the share of parameter sets inside. PRIM shows its peeling
    trajectory (a table here, a CSV and a figure in the sweep folder or --out); --box
    takes another box of it; each restriction is given its quasi-p value, and those
    above --alpha are dropped as not mattering.
    """
    from .analysis.discover import discover as run_discover
    from .cli import _fail
    from .results import OutputError

    try:
        if not 0 < alpha < 1:
            from .scenario.errors import option_error

            raise option_error("--alpha", f"must be between 0 and 1 (got {alpha})")
        found = run_discover(sweep_dir, outcome, method=method, likely=likely, density=density, box=box, alpha=alpha)
    except InputError as exc:
        _fail(exc, "discover")
        return
    written: list[Path] = []
    if found["prim"] is not None:
        from .report.discover import write_discovery

        try:
            written = write_discovery(found, out if out is not None else sweep_dir)
        except OutputError as exc:
            typer.echo(f"sim discover: {exc}", err=True)
            raise typer.Exit(1) from None
    if json_:
        b = found["prim"]
        prim_json = None if b is None else b.plain() | {
            "trajectory": b.trajectory.reset_index().to_dict(orient="records")}
        typer.echo(json.dumps({"outcome": outcome, "base": found["base"], "prim": prim_json,
                               "cart": [f.plain() for f in found["cart"]], "words": found["words"]}, indent=2,
                              default=str))
        return
    typer.echo(f"{found['description']} ({outcome}): {_pct(found['base'])} of all runs in the sweep.")
    for s in found["words"]:
        typer.echo("- " + s)
    if found["prim"] is not None:
        _print_trajectory(found["prim"])
    if written:
        typer.echo(f"Peeling trajectory: {', '.join(str(p) for p in written)}")


def _print_trajectory(b) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title="PRIM's peeling trajectory (pick another box with --box I)", title_justify="left")
    for c in ("box", "coverage", "density", "mass", "restricted", ""):
        t.add_column(c, justify="right")
    for i, r in b.trajectory.iterrows():
        t.add_row(str(i), f"{r['coverage']:.2f}", f"{r['density']:.2f}", f"{r['mass']:.2f}", str(int(r["restricted"])),
                  "← taken" if i == b.box else "")
    Console(width=max(80, Console().width)).print(t)
