"""``sim optimize``: the policies (lever combinations, policy parameters) that do best across a
scenario's uncertainties (:func:`sim.analysis.optimize.optimize`), the folder written
(:func:`sim.workflows.save_optimize`), the Pareto table printed with each policy in words."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Annotated

import typer

from ..scenario.errors import InputError
from . import common
from .common import FLAGS, WHOLE, SimCommand, StudyPluginOpt, StudyReplaceOpt, fail, stoppable

PLACE = 65

FLAGS_OPTIMIZE = {"minimize": "--minimize", "maximize": "--maximize", "robustness": "--robustness",
                  "actors": "--actor", "policy_params": "--policy-param", "worlds": "--worlds",
                  "population": "--population", "generations": "--generations", "exhaustive": "--exhaustive"}


def optimize(
    scenario: Annotated[str, typer.Argument(help="A scenario file or a shipped scenario name.")],
    minimize: Annotated[list[str] | None, typer.Option("--minimize", help="An outcome to make unlikely, e.g. new_war (repeatable).")] = None,
    maximize: Annotated[list[str] | None, typer.Option("--maximize", help="An outcome to make likely, e.g. peace_agreement (repeatable).")] = None,
    robustness: Annotated[str, typer.Option("--robustness", help="How each outcome's probabilities across the worlds count: mean, p10, p90 (percentiles across worlds), regret (minimax regret against the best policy evaluated in each world) or satisficing:T (share of worlds at most T for --minimize, at least T for --maximize).")] = "mean",
    lever: Annotated[list[str] | None, typer.Option("--lever", help="Search only these levers: ACTOR.LEVER (repeatable; default: all the scenario's).")] = None,
    actor: Annotated[list[str] | None, typer.Option("--actor", help="Search only this actor's levers (repeatable).")] = None,
    policy_param: Annotated[list[str] | None, typer.Option("--policy-param", help="A parameter the policy sets, searched as a continuous value: PATH=LO:HI (repeatable; not one of the uncertainties).")] = None,
    worlds: Annotated[int, typer.Option("--worlds", help="Uncertainty sets (Latin hypercube of the scenario's uncertainties:, fixed by --seed) every policy is evaluated on.")] = 30,
    runs: Annotated[int, typer.Option("--runs", "-n", help="Monte Carlo runs per policy and world.")] = 50,
    population: Annotated[int, typer.Option("--population", help="NSGA-II population (policies per generation).")] = 40,
    generations: Annotated[int, typer.Option("--generations", help="NSGA-II generations.")] = 20,
    exhaustive: Annotated[bool | None, typer.Option("--exhaustive/--search", help="Evaluate every lever combination, or search with NSGA-II (default: enumerate when there are at most 64 combinations and no --policy-param).", show_default=False)] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override a parameter in every world: PATH=VALUE (repeatable).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the worlds, the Monte Carlo and NSGA-II (default: the scenario's).")] = None,
    months: Annotated[int | None, typer.Option("--months", help="Horizon in months (default: the scenario's).")] = None,
    workers: Annotated[int | None, typer.Option("--workers", "-w", help="Worker processes (results do not depend on it).")] = None,
    chunk_size: Annotated[int | None, typer.Option("--chunk-size", help="Replicates per chunk within a policy's worlds x runs (default 2000; results do not depend on it, means only to rounding).")] = None,
    backend: Annotated[str, typer.Option("--backend", help="auto, local, processes or dask.")] = "auto",
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Dask scheduler address (implies --backend dask).")] = None,
    precision: Annotated[str, typer.Option("--precision", help="float32 (default) or float64.")] = "float32",
    out: Annotated[Path | None, typer.Option("--out", help="Write the folder here (must be new or empty; default outputs/optimize/<time>/).")] = None,
    no_report: Annotated[bool, typer.Option("--no-report", help="Skip figures and report.html.")] = False,
    plugin: StudyPluginOpt = None,
    replace_rule: StudyReplaceOpt = False,
) -> None:
    """Which policies do best across the scenario's uncertainties: a robust, multi-objective search over its levers.

    Every policy (a combination of levers, and values of --policy-param) is evaluated on
    the same --worlds uncertainty sets and the same random numbers (common random
    numbers), all its worlds x runs in one vectorized Monte Carlo. Objectives are
    --minimize/--maximize outcomes, each summarised across the worlds by --robustness.
    At most 64 lever combinations are all evaluated; more are searched with NSGA-II
    (pymoo, in the research extra). Writes pareto.csv (policies in words), policies.csv,
    per_world.csv (policy x world), worlds.csv, convergence.csv (hypervolume by
    generation), summary.json, fig_parallel.png, fig_convergence.png, report.html and a
    manifest to outputs/optimize/<timestamp>/ (or --out). The default budget (30 worlds x
    50 runs, population 40 x 20 generations) takes about ten minutes on karabakh
    (benchmarks/bench_optimize.py).
    """
    common.state["replace_rule"] = replace_rule
    stoppable(_optimize, SimpleNamespace(**locals()))


def _optimize(o: SimpleNamespace) -> None:
    from ..analysis.optimize import optimize as run_optimize
    from ..files import OutputError
    from ..interrupts import SignalDeferral
    from ..loading import load_scenario
    from ..outputs import check_out, new_folder
    from ..runner import ChunkFailed
    from ..workflows import save_optimize

    try:
        common.plugins("optimize", o.plugin, common.state.get("replace_rule", False))
        scn = load_scenario(o.scenario, overrides=o.set_ or None)
        if o.out is not None:
            check_out(o.out)
        progress, finish = common.progress(False, scn)
        save_error = None
        with SignalDeferral() as deferral, common.notices("optimize"):
            try:
                opt = run_optimize(scn, o.minimize, o.maximize, robustness=o.robustness, levers=o.lever,
                                   actors=o.actor, policy_params=o.policy_param, worlds=o.worlds, runs=o.runs,
                                   population=o.population, generations=o.generations, exhaustive=o.exhaustive,
                                   seed=o.seed, months=o.months, chunk_size=o.chunk_size, workers=o.workers,
                                   backend=o.backend, scheduler=o.scheduler, dtype=o.precision, progress=progress)
            except ChunkFailed as exc:
                finish()
                common.chunk_failed(exc, "optimize", "Nothing is saved: the policies of the failed batch lack "
                                    "some worlds.")
            finish()
            with deferral.hold():
                try:
                    folder = common.out_folder(opt.results, o.out, "optimize",
                                               default=lambda: new_folder(Path("outputs") / "optimize"))
                    save_optimize(opt, folder, report=not o.no_report)
                except OutputError as exc:
                    if common.state["debug"]:
                        raise
                    save_error = exc
    except InputError as exc:
        fail(exc, "optimize")
        return
    _tell(opt, folder if save_error is None else None)
    if save_error is not None:
        typer.echo(f"sim optimize: {save_error}", err=True)
        raise typer.Exit(1)
    if not opt.complete:
        how, code = common.STOPPED[opt.stopped_by]
        typer.echo(f"{how}: the table covers the {len(opt.X):,} policies evaluated before; saved in {folder}/",
                   err=True)
        raise typer.Exit(code)


def _tell(opt, folder: Path | None) -> None:
    from rich.markup import escape
    from rich.table import Table

    con = common.wide_console()
    if opt.method == "enumerated":
        how = f"every combination of {len(opt.genes)} levers evaluated ({len(opt.X):,} policies)"
    else:
        how = (f"NSGA-II, population {opt.budget['population']} × {opt.budget['generations']} generations, "
               f"{len(opt.X):,} distinct policies evaluated")
    where = (f"{opt.worlds.shape[0]} worlds" if opt.world_inputs else "1 world (no uncertainties declared)")
    par = opt.pareto(distinct=True)
    t = Table(title=escape(f"{opt.title} — Pareto front: {len(par)} distinct of {len(opt.X):,} policies ({how}; {where} × "
                           f"{opt.runs_per_world:,} runs each, common random numbers)"), title_justify="left")
    t.add_column("#", justify="right")
    t.add_column("Policy", overflow="fold", min_width=40)
    cols = [ob.column for ob in opt.objectives]
    extra = [c for c in par.columns if c.endswith("(mean)") and c not in cols]
    for c in cols + extra:
        t.add_column(escape(c), justify="right", overflow="fold", max_width=22)
    for i, r in par.iterrows():
        ties = f" (and {r['ties']} other policies with the same scores)" if r["ties"] else ""
        t.add_row(str(i), escape(r["policy"] + ties), *(_fmt(c, r[c]) for c in cols + extra))
    con.print(t)
    for ob in opt.objectives:
        typer.echo(f"  {ob.column}: {ob.words(opt.description(ob.outcome))}.")
    m = opt.results.manifest
    c = opt.convergence[-1] if opt.convergence else None
    if c is not None:
        typer.echo(f"Hypervolume of the front: {c['hypervolume']:.4f} (generation {c['generation']}; "
                   "convergence.csv has every generation).")
    typer.echo(f"Seed {opt.seed}; {m['optimize']['runs_total']:,} runs in {m['optimize']['batches']} Monte Carlo "
               f"batch(es); simulation {m['timings_s']['simulation']:.1f} s.")
    if folder is not None:
        names = [n for n in ("report.html", "pareto.csv", "policies.csv", "per_world.csv", "worlds.csv",
                             "convergence.csv", "fig_parallel.png", "summary.json", "manifest.json")
                 if (folder / n).exists()]
        typer.echo(f"Outputs: {folder}/  ({', '.join(names)})")


def _fmt(column: str, v: float) -> str:
    if "share of worlds" in column:
        return f"{100 * v:.0f}%"
    return common.pct(v)


def register(app: typer.Typer) -> None:
    FLAGS.update(FLAGS_OPTIMIZE)
    WHOLE.update({"worlds", "population", "generations"})
    app.command(cls=SimCommand)(optimize)
