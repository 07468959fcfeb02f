"""``sim run``: a scenario's Monte Carlo (or a saved game's continuations), its table, its folder.

The library does the work -- :func:`sim.workflows.run_with_uncertainty` runs it (with the
uncertainty headline if asked), :func:`sim.workflows.save_run` writes the folder -- and this
module checks the options first, shows progress, and says what happened: the outcome table,
the footer (seed, workers, where the time went, where the outputs are) and, for a run that
stopped early or could not be saved whole, one line and the exit status.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any

import typer

from ..scenario.errors import InputError
from . import common
from .common import (
    LeverOpt,
    PluginOpt,
    ReplaceOpt,
    SetOpt,
    SimCommand,
    WorkerTimeoutOpt,
    fail,
    say,
    stoppable,
)

PLACE = 10


def run(
    scenario: Annotated[str | None, typer.Argument(
        help="A scenario file (scenarios/karabakh.yaml) or a shipped scenario name (karabakh); "
             "omitted with --from-game.")] = None,
    runs: Annotated[int | None, typer.Option("--runs", "-n", help="Number of replicates (default: the scenario's).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed, 0 or more (default: the scenario's).")] = None,
    months: Annotated[int | None, typer.Option("--months", help="Horizon in months (default: the scenario's); later events are ignored.")] = None,
    set_: SetOpt = None,
    given: Annotated[list[str] | None, typer.Option("--given", help="Also show probabilities conditional on this outcome (repeatable).")] = None,
    workers: Annotated[int | None, typer.Option("--workers", "-w", help="Worker processes (default: 1 for small runs; for middling ones (from 100,000 runs x months, 3 chunks) one worker per idle core forked once the run is set up, the first chunk in-process beside them, where it can (SIM_FORK=0: never); all cores for large ones (1,000,000); at most the cores available).")] = None,
    oversubscribe: Annotated[bool, typer.Option("--oversubscribe", help="Allow --workers above the number of cores available.")] = False,
    chunk_size: Annotated[int | None, typer.Option("--chunk-size", help="Replicates per chunk (default 2000; per-replicate results do not depend on it, means over replicates only to rounding).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the run folder here (must be new or empty).")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print summary.json to stdout instead of the table.")] = False,
    no_report: Annotated[bool, typer.Option("--no-report", help="Skip figures and report.html (data files only).")] = False,
    backend: Annotated[str, typer.Option("--backend", help="auto, local, processes or dask (results do not depend on it).")] = "auto",
    precision: Annotated[str, typer.Option("--precision", help="float32 (default, faster) or float64; they agree within Monte Carlo error.")] = "float32",
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786 (implies --backend dask).")] = None,
    worker_timeout: WorkerTimeoutOpt = None,
    lever: LeverOpt = None,
    plugin: PluginOpt = None,
    replace_rule: ReplaceOpt = False,
    ci_halfwidth: Annotated[float | None, typer.Option("--ci-halfwidth", help="Adaptive precision: add chunks until every outcome's 95% interval is narrower than +/- this (0.01 = one point); --runs is then the most runs (default 1,000,000).")] = None,
    replicates: Annotated[bool, typer.Option("--replicates", help="Also write replicates.parquet: one row per run (inputs drawn, outcomes, first-hit months, final values, events); needs sim\\[research].")] = False,
    trajectories: Annotated[bool, typer.Option("--trajectories", help="Also write trajectories.parquet: every run's month-by-month values of the recorded states (rungs, deaths, trust, shares...), one row per run and month, streamed chunk by chunk; needs sim\\[research].")] = False,
    uncertainty: Annotated[bool, typer.Option("--uncertainty", help="Also sweep the scenario's uncertainties: beside each probability, its 10-90% range across plausible inputs and the inputs that move it most.")] = False,
    uncertainty_sets: Annotated[int, typer.Option("--uncertainty-sets", help="Parameter sets of the --uncertainty sweep (Latin hypercube).")] = 64,
    uncertainty_runs: Annotated[int, typer.Option("--uncertainty-runs", help="Runs per parameter set of the --uncertainty sweep.")] = 500,
    from_game: Annotated[Path | None, typer.Option("--from-game", help="Run the Monte Carlo from a saved game's state (sim play --save): its continuations after --turn, seeded from the game's seed and the turn.")] = None,
    turn: Annotated[int | None, typer.Option("--turn", help="With --from-game: the turn whose state to continue (default: the last played; 0 = before any move).")] = None,
    stories: Annotated[bool, typer.Option("--stories", help="Also tell the story of a typical run for each outcome (story_replicate_K.html, linked from the report).")] = False,
) -> None:
    """Run a scenario's Monte Carlo: outcome probabilities with 95% intervals and timing.

    Writes outputs/<scenario>/<timestamp>-<hash>/ (or --out): manifest.json,
    scenario.resolved.yaml, summary.json, outcomes.csv, timeseries.csv, figures
    and report.html. Ctrl-C or SIGTERM stop the run and save the finished chunks
    (exit status 130 or 143); a failed chunk exits 1, bad input 2.

    With --from-game SAVED_GAME: the forecast a game showed after a turn, as a run
    (same continuations, same seed; --runs changes their number).
    """
    common.state["replace_rule"] = replace_rule  # read by the plugins in the command's body
    stoppable(_run, SimpleNamespace(**locals()))  # the options, by name


def register(app: typer.Typer) -> None:
    app.command(cls=SimCommand)(run)


@dataclass
class Prepared:
    """A run checked and ready: its scenario, the function that runs it (:func:`sim.run`, or a
    saved game's continuations), its precision, and a line to show first (a large run)."""

    scn: Any
    run: Any = None
    dtype: str = "float32"
    notice: str | None = None


def _run(o: SimpleNamespace) -> None:
    t0 = common.clock()
    startup_before = common.startup(t0)  # the program's start-up and imports, before this command ran
    try:
        p = _prepare(o)
    except InputError as exc:
        fail(exc, "run")
        return
    if p.notice:
        typer.echo(f"sim run: {p.notice}", err=True)
    done = _simulate_and_save(o, p, t0, startup_before)
    _tell(o, done)


def _prepare(o: SimpleNamespace) -> Prepared:
    """Every option checked before anything runs (an :class:`InputError` for the first bad ones)."""
    from .. import api
    from ..budget import check_size
    from ..inputs import parse_levers
    from ..replicates import require
    from ..scenario.errors import option_error, suggest

    api.check_run_options(o.runs, o.workers, o.months, o.chunk_size, seed=o.seed, dtype=o.precision, backend=o.backend,
                          scheduler=o.scheduler, ci_halfwidth=o.ci_halfwidth, worker_timeout=o.worker_timeout)
    if o.uncertainty:
        api.check_run_options(o.uncertainty_runs, None, None, None)
        if o.uncertainty_sets < 8:
            raise option_error("--uncertainty-sets", f"must be at least 8 (got {o.uncertainty_sets})")
    for flag in ("replicates", "trajectories"):
        if getattr(o, flag):
            require("pyarrow", f"--{flag}", option=f"--{flag}")
    common.plugins("run", o.plugin, common.state.get("replace_rule", False))
    p = Prepared(None, dtype=o.precision)
    if o.from_game is not None or o.turn is not None:  # the state of a saved game (sim.play.replay)
        from ..play import replay

        if o.from_game is None:
            raise option_error("--turn", "goes with --from-game SAVED_GAME")
        replay.check_from_game_options(SCENARIO=o.scenario, **{
            "--seed": o.seed, "--months": o.months, "--set": o.set_, "--lever": o.lever,
            "--precision": o.precision != "float32", "--stories": o.stories, "--replicates": o.replicates,
            "--trajectories": o.trajectories, "--ci-halfwidth": o.ci_halfwidth, "--uncertainty": o.uncertainty})
        state = replay.game_state(o.from_game, o.turn)
        p = Prepared(state["scn"], replay.runner(state), state["dtype"])
        for note in state["notes"]:
            typer.echo(f"sim run: note: {note}", err=True)
    elif o.scenario is None:
        raise option_error("SCENARIO", "give a scenario (a file or a shipped name, e.g. karabakh), or --from-game SAVED_GAME")
    else:
        p.scn = api.load_scenario(o.scenario, overrides=o.set_ or None)
    parse_levers(p.scn, o.lever)  # checked before anything runs
    outcomes = list(p.scn.spec.outcomes)
    for g in o.given or []:
        if g not in outcomes:
            raise option_error("--given", f"no outcome '{g}'{suggest(g, outcomes)}; outcomes are {', '.join(outcomes)}")
    if o.out is not None:
        api.check_out(o.out)  # the folder itself is made when the run is saved
    else:
        api.check_writable(Path("outputs"))
    if p.run is None:  # a large run is estimated (time, memory, disk) first; an absurd one refused
        adaptive = o.ci_halfwidth is not None
        p.notice = check_size(p.scn, api.ADAPTIVE_MAX_RUNS if adaptive and o.runs is None else o.runs, months=o.months,
                              workers=o.workers, dtype=o.precision, levers=o.lever, chunk_size=o.chunk_size,
                              replicates=o.replicates, trajectories=o.trajectories, where=o.out, scheduler=o.scheduler, adaptive=adaptive,
                              oversubscribe=o.oversubscribe)
    return p


@dataclass
class Done:
    """How a run went: its results, what stopped it or its saving, where it is, the times."""

    res: Any
    failure: Any = None
    late: tuple[str, int] | None = None  # Ctrl-C or SIGTERM while saving: acted on once the folder is whole
    save_error: Any = None
    folder: Path | None = None
    split: tuple[float, float, float] = (0.0, 0.0, 0.0)


def _simulate_and_save(o: SimpleNamespace, p: Prepared, t0: float, startup_before: float) -> Done:
    """Run (with the uncertainty sweep if asked) and write the folder, with Ctrl-C and SIGTERM
    deferred while the folder is written."""
    from ..files import OutputError, release
    from ..interrupts import SignalDeferral, Terminated
    from ..runner import ChunkFailed
    from ..workflows import run_with_uncertainty, save_run

    if not o.no_report:  # the figure module imported on the idle core while the run sets up (sim.report.early)
        from ..report import early

        early.start()
    update, finish = common.progress(o.json_, p.scn)
    t_start_run = t_ran = common.clock()
    options: dict[str, Any] = dict(runs=o.runs, seed=o.seed, months=o.months, workers=o.workers,
                                   chunk_size=o.chunk_size, progress=update, backend=o.backend,
                                   scheduler=o.scheduler, dtype=p.dtype, oversubscribe=o.oversubscribe,
                                   levers=o.lever)
    rep_file = common.temp_parquet() if o.replicates and p.run is None else False
    traj_file = common.temp_parquet("trajectories.parquet") if o.trajectories and p.run is None else False
    if p.run is None:
        options.update(replicates=rep_file, trajectories=traj_file, ci_halfwidth=o.ci_halfwidth,
                       worker_timeout=o.worker_timeout)
    unc = (o.uncertainty_sets, o.uncertainty_runs) if o.uncertainty else None
    done = Done(None)
    with SignalDeferral() as deferral:
        try:
            with common.notices("run"):
                done.res = run_with_uncertainty(p.scn, uncertainty=unc, run=p.run, **options)
        except InputError as exc:
            finish()
            fail(exc, "run")
        except ChunkFailed as exc:
            done.failure, done.res = exc, exc.partial  # type: ignore[attr-defined]
            if done.res is None:  # it failed before any chunk finished: nothing to save
                finish()
                common.chunk_failed(exc, "run", "No chunk finished, so nothing was saved.")
        res = done.res
        try:
            with deferral.hold():
                finish()
                t_ran = common.clock()  # the run and, with --uncertainty, its sweep: all the simulation
                res.manifest["timings_s"]["startup"] = startup_before + (t_start_run - t0)
                try:
                    done.folder = common.out_folder(res, o.out)
                    save_run(res, done.folder, report=not o.no_report, stories=p.scn if o.stories else None)
                except OutputError as exc:
                    done.save_error = exc
        except KeyboardInterrupt:
            done.late = ("Interrupted", 130)
        except Terminated:
            done.late = ("Stopped by SIGTERM", 143)
    t_saved = common.clock()
    if not o.no_report:
        from ..report import early

        early.stop()  # not asked for its figures (no chunk finished, the folder not written): ended
    for scratch in (rep_file, traj_file):
        if scratch:
            release(Path(scratch).parent)  # copied into the run folder by the save
    done.split = (startup_before + (t_start_run - t0), t_ran - t_start_run, t_saved - t_ran)  # the whole command
    return done


def _tell(o: SimpleNamespace, d: Done) -> None:
    """The table and footer, then one line and the exit status for whatever went wrong."""
    from ..workflows import uncertainty_stopped

    res = d.res
    where = f"{d.folder}/" if d.save_error is None or d.save_error.left == "kept" else \
        "nowhere (the run folder could not be written)"
    rep_error = res.replicates_error()
    traj_error = res.stream_error("trajectories")
    if d.failure is not None:
        common.chunk_failed(d.failure, "run", f"The {res.runs:,} runs finished before it are saved in {d.folder}/ with "
                            "complete=false." if d.save_error is None else f"sim run: {d.save_error}")
    if d.late is not None:
        typer.echo(f"{d.late[0]} while saving; the run is saved in {where} "
                   f"({res.runs:,} of {res.runs_requested:,} runs, complete={str(res.complete).lower()}).", err=True)
        raise typer.Exit(d.late[1])
    if o.json_:
        from ..results import _clean

        typer.echo(json.dumps(_clean(res.summary()), indent=2))  # from memory: the file may not exist
    else:
        con = print_table(res, o.given or [])
        print_footer(res, d.folder if d.save_error is None else None, d.split, con)
    if d.save_error is not None:
        common.failed_output(d.save_error, "run")
    for flag, error in (("replicates", rep_error), ("trajectories", traj_error)):
        if error is not None:
            typer.echo(f"sim run: --{flag}: {error}; the rest of the run is saved in {where} without "
                       f"{flag}.parquet", err=True)
    stopped = res.manifest.get("stopped_by")
    if stopped is not None:
        how, code = common.STOPPED[stopped]
        typer.echo(f"{how}: {res.runs:,} of {res.runs_requested:,} runs finished; they are saved in {where} "
                   "with complete=false in manifest.json.", err=True)
        raise typer.Exit(code)
    if uncertainty_stopped(res) is not None:
        how, code = common.STOPPED[uncertainty_stopped(res)]
        u = res.manifest["uncertainty"]
        typer.echo(f"{how}: the --uncertainty sweep stopped after {u['runs_finished']:,} of {u['runs_requested']:,} runs; the "
                   f"run is saved in {where} without its range across inputs.", err=True)
        raise typer.Exit(code)
    if rep_error is not None or traj_error is not None:
        raise typer.Exit(1)


def print_table(res, given: list[str]):
    """Print the outcome table (and the --given tables) at the terminal's width; return the console."""
    from rich.markup import escape
    from rich.table import Table

    pct = common.pct
    wide = 170 if res.uncertainty else 120
    con = common.console(wide)
    narrow = con.width < wide  # a terminal narrower than the table: its numbers wrap, the outcome gets the rest
    whole = not narrow or con.width >= (80 if res.uncertainty else 72)  # room for the first headers unbroken
    pulled = f"; levers pulled: {', '.join(res.levers)}" if res.levers else ""
    t = Table(title=escape(f"{res.title} — {res.runs:,} runs, {res.horizon} months from {res.date(1)}{pulled}"),
              title_justify="left")
    t.add_column("Outcome", overflow="fold", max_width=64, **({"ratio": 1} if narrow else {"min_width": 30}))
    t.add_column("Probability", justify="right", min_width=11 if whole else None)
    t.add_column("95% interval", justify="right", min_width=12 if whole else None,
                 max_width=(12 if whole else 8) if narrow else None)
    t.add_column("When (median)", justify="right", max_width=8 if narrow else None)
    t.add_column("Middle half", justify="right", max_width=9 if narrow else None)
    across = (res.uncertainty or {}).get("outcomes")
    if across:
        t.add_column("Across inputs (10–90%)", justify="right", max_width=8 if narrow else None)
        if not narrow:  # (on a narrow terminal the lines below the table name them)
            t.add_column("Moved most by", overflow="fold", max_width=40)
    for r in res.outcome_rows():
        lo, hi = r["ci95"]
        when = r["median_date"] or "-"
        iqr = f"{r['q1_date']} – {r['q3_date']}" if r["q1_date"] else "-"
        cells = [escape(r["description"]), pct(r["probability"]), f"{pct(lo)} – {pct(hi)}", when, iqr]
        if across:
            a = across.get(r["outcome"], {})
            cells += [f"{pct(a.get('p10', float('nan')))} – {pct(a.get('p90', float('nan')))}",
                      escape(", ".join(d["input"] for d in a.get("drivers", [])[:2]) or "-")][:2 if not narrow else 1]
        t.add_row(*cells)
    con.print(t)
    if res.uncertainty is not None:
        con.print(escape(res.uncertainty["words"]))
        for name, a in (across or {}).items():
            con.print(escape(f"  {name}: {a['words']}"))
    for g in given:
        df = res.conditional(g)
        ct = Table(title=f"Given: {g} (happened in {int(df['given_runs'].iloc[0]):,} runs)", title_justify="left")
        ct.add_column("Outcome")
        ct.add_column("P(outcome | given)", justify="right")
        ct.add_column("95% interval", justify="right")
        for name, row in df.iterrows():
            ct.add_row(str(name), pct(row["probability"]), f"{pct(row['ci_low'])} – {pct(row['ci_high'])}")
        con.print(ct)
    return con


def print_footer(res, folder: Path | None, split: tuple[float, float, float], con) -> None:
    """Seed, workers and the command's time from the program's start (start-up, simulation
    with any --uncertainty sweep, outputs), and where the outputs are."""
    m = res.manifest
    say(con, "When: the month the outcome first happened, over the runs where it did.")
    say(con, f"Seed {res.seed}; {m['workers']} worker(s) ({m['backend']}); time {sum(split):.1f} s: start-up and "
             f"imports {split[0]:.1f} s, simulation {split[1]:.1f} s, figures and report {split[2]:.1f} s.")
    if folder is None:
        return
    names = [n for n in ("report.html", "summary.json", "outcomes.csv", "timeseries.csv", "replicates.parquet",
                         "trajectories.parquet", "manifest.json") if (folder / n).exists()]
    say(con, f"Outputs: {folder}/  ({', '.join(names)})")
