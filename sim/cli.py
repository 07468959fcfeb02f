"""The ``sim`` command line: thin wrappers around :mod:`sim.api` (no model logic here).

Every command parses its options, calls one library function, and prints or saves
what it returns. Bad input is reported as ``file:line:col: path: message`` (or
``sim CMD: --option: message``) with exit status 2 and no traceback, unless
``--debug``.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperCommand

from . import __version__
from .scenario.errors import InputError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Scenario and wargame simulation kit for Eurasian security.\n\n"
    "Run a shipped scenario: sim run karabakh   (or a path: sim run scenarios/karabakh.yaml)",
    pretty_exceptions_enable=False,
)
_state = {"debug": False}


_clock = time.perf_counter
"""The clock of the run footer's times (a test injects its own)."""


def _startup(now: float) -> float:
    """Seconds from the program's own start to ``now``: from when the ``sim`` command began
    loading the package (``sim.STARTED``, recorded by :func:`main`), not from when the
    process started: a shell runs the last command of ``bash -c "pip install ... && sim run ..."``
    in its own process, which had been running pip all along. In-process (tests, a
    notebook driving the app) there is no program start: zero."""
    started = _state.get("started")
    return 0.0 if started is None else max(0.0, now - started)


def _console(min_width: int = 0):
    """A rich console for tables: as wide as the terminal (``COLUMNS`` if set); output to
    a file or a pipe is laid out 120 columns wide (or ``min_width``)."""
    import os

    from rich.console import Console

    if sys.stdout.isatty() or os.environ.get("COLUMNS"):
        return Console(highlight=False)
    return Console(width=max(120, min_width), highlight=False)


def _say(con, text: str) -> None:
    """A line of prose, wrapped at the console's width (paths and names are never split)."""
    import textwrap

    typer.echo(textwrap.fill(text, width=con.width, break_long_words=False, break_on_hyphens=False))


def _version(value: bool) -> None:
    if value:
        typer.echo(f"sim {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Scenario and wargame simulation kit for Eurasian security."""
    _state["debug"] = debug


FLAGS = {"runs": "--runs", "seed": "--seed", "months": "--months", "workers": "--workers",
         "chunk_size": "--chunk-size", "dtype": "--precision", "backend": "--backend", "scheduler": "--scheduler",
         "levers": "--lever", "plugins": "--plugin", "seeds": "--seeds"}
"""The CLI flag for each argument of :func:`sim.api.run` (library errors name the argument)."""
WHOLE = {"runs", "seed", "months", "workers", "chunk_size"}
"""Options that take a whole number."""


def _fail(exc: InputError, command: str) -> None:
    if _state["debug"]:
        raise exc
    exc = InputError([replace(p, mark=replace(p.mark, option=FLAGS.get(p.mark.option, p.mark.option)))
                      if p.mark.option is not None else p for p in exc.problems])
    typer.echo(exc.format(f"sim {command}"), err=True)
    raise typer.Exit(2)


class SimCommand(TyperCommand):
    """A command whose option values that cannot be converted (``--seed 1.5``) are
    reported like every other bad option: ``sim run: --seed: message``, exit status 2."""

    def parse_args(self, ctx, args):
        given = list(args)  # the parser consumes ``args``
        try:
            return super().parse_args(ctx, args)
        except typer.BadParameter as exc:
            param = exc.param
            opts = [o for o in getattr(param, "opts", []) if o.startswith("--")]
            if param is None or not opts or _state["debug"]:
                raise
            flag = opts[0]
            if param.name in WHOLE:
                got = _given(given, param.opts)
                message = "must be a whole number" + (f" (got {got!r})" if got is not None else "")
            else:
                message = getattr(exc, "message", str(exc))
            typer.echo(f"sim {ctx.info_name}: {flag}: {message}", err=True)
            raise typer.Exit(2) from None


def _given(args: list[str], opts: list[str]) -> str | None:
    """The (last) value given on the command line for an option, as typed."""
    got = None
    for i, a in enumerate(args):
        for o in opts:
            if a == o and i + 1 < len(args):
                got = args[i + 1]
            elif a.startswith(o + "="):
                got = a[len(o) + 1:]
    return got


@contextmanager
def _notices(command: str):
    """Show the library's WorkersCapped warning as one line naming the CLI's flags."""
    from .runner import WorkersCapped

    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if isinstance(message, WorkersCapped):
            cores = f"{message.cores} core{'s' if message.cores != 1 else ''}"
            typer.echo(f"sim {command}: --workers: {message.requested} is more than the {cores} available; "
                       f"using {message.used} (--oversubscribe to use more)", err=True)
        else:
            shown(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():
        warnings.simplefilter("always", WorkersCapped)
        warnings.showwarning = show
        yield


ScenarioArg = Annotated[
    str, typer.Argument(help="A scenario file (scenarios/karabakh.yaml) or a shipped scenario name (karabakh).")
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a parameter: PATH=VALUE, e.g. flashpoints.lachin.level=3 (repeatable)."),
]


LeverOpt = Annotated[
    list[str] | None,
    typer.Option("--lever", help="Pull a lever from the start: ACTOR.LEVER, e.g. armenia.freeze_csto (repeatable)."),
]
PluginOpt = Annotated[
    list[str] | None,
    typer.Option("--plugin", help="Import a Python module that registers rules or outcome kinds (repeatable)."),
]
ReplaceOpt = Annotated[
    bool,
    typer.Option("--replace-rule", help="Let a --plugin replace the stock rule or outcome kind of the same name "
                                        "(refused otherwise: it would change results without a word)."),
]


def _plugins(command: str, plugin: list[str] | None, replace_rule: bool, allowed=()) -> None:
    """Import the --plugin modules (``api.load_plugins``); say on stderr each stock part one
    replaces, as asked with --replace-rule (the manifest and report.html record it too)."""
    from . import api

    for note in api.load_plugins(plugin, replace_rules=replace_rule, allowed=allowed, flag="add --replace-rule"):
        typer.echo(f"sim {command}: --plugin {note} (--replace-rule)", err=True)


@app.command(cls=SimCommand)
def run(
    scenario: Annotated[str | None, typer.Argument(
        help="A scenario file (scenarios/karabakh.yaml) or a shipped scenario name (karabakh); "
             "omitted with --from-game.")] = None,
    runs: Annotated[int | None, typer.Option("--runs", "-n", help="Number of replicates (default: the scenario's).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed, 0 or more (default: the scenario's).")] = None,
    months: Annotated[int | None, typer.Option("--months", help="Horizon in months (default: the scenario's); later events are ignored.")] = None,
    set_: SetOpt = None,
    given: Annotated[list[str] | None, typer.Option("--given", help="Also show probabilities conditional on this outcome (repeatable).")] = None,
    workers: Annotated[int | None, typer.Option("--workers", "-w", help="Worker processes (default: 1 for small runs, all cores for large; at most the cores available).")] = None,
    oversubscribe: Annotated[bool, typer.Option("--oversubscribe", help="Allow --workers above the number of cores available.")] = False,
    chunk_size: Annotated[int | None, typer.Option("--chunk-size", help="Replicates per chunk (default 2000; results depend on it).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the run folder here (must be new or empty).")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print summary.json to stdout instead of the table.")] = False,
    no_report: Annotated[bool, typer.Option("--no-report", help="Skip figures and report.html (data files only).")] = False,
    backend: Annotated[str, typer.Option("--backend", help="auto, local, processes or dask (results do not depend on it).")] = "auto",
    precision: Annotated[str, typer.Option("--precision", help="float32 (default, faster) or float64; they agree within Monte Carlo error.")] = "float32",
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786 (implies --backend dask).")] = None,
    lever: LeverOpt = None,
    plugin: PluginOpt = None,
    replace_rule: ReplaceOpt = False,
    ci_halfwidth: Annotated[float | None, typer.Option("--ci-halfwidth", help="Adaptive precision: add chunks until every outcome's 95% interval is narrower than +/- this (0.01 = one point); --runs is then the most runs (default 1,000,000).")] = None,
    replicates: Annotated[bool, typer.Option("--replicates", help="Also write replicates.parquet: one row per run (inputs drawn, outcomes, first-hit months, final values, events); needs sim[research].")] = False,
    uncertainty: Annotated[bool, typer.Option("--uncertainty", help="Also sweep the scenario's uncertainties: beside each probability, its 10-90%% range across plausible inputs and the inputs that move it most.")] = False,
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
    _state["replace_rule"] = replace_rule  # read by _plugins in the command's body
    _stoppable(_run, scenario, runs, seed, months, set_, given, workers, oversubscribe, chunk_size, out, json_,
               no_report, backend, precision, scheduler, lever, plugin,
               {"ci_halfwidth": ci_halfwidth, "replicates": replicates, "uncertainty": uncertainty,
                "uncertainty_sets": uncertainty_sets, "uncertainty_runs": uncertainty_runs},
               from_game, turn, stories)


def _run(scenario, runs, seed, months, set_, given, workers, oversubscribe, chunk_size, out, json_, no_report,
         backend, precision, scheduler, lever=None, plugin=None, research=None, from_game=None, turn=None,
         stories=False) -> None:
    research = research or {}
    from . import api
    from .interrupts import SignalDeferral, Terminated
    from .runner import ChunkFailed

    t0 = _clock()
    startup_before = _startup(t0)  # the program's start-up and imports, before this command ran
    run_fn = api.run
    try:
        api.check_run_options(runs, workers, months, chunk_size, seed=seed, dtype=precision, backend=backend,
                              scheduler=scheduler, ci_halfwidth=research.get("ci_halfwidth"))
        if research.get("uncertainty"):
            api.check_run_options(research["uncertainty_runs"], None, None, None)
            if research["uncertainty_sets"] < 8:
                from .scenario.errors import option_error

                raise option_error("--uncertainty-sets", f"must be at least 8 (got {research['uncertainty_sets']})")
        if research.get("replicates"):
            from .replicates import require

            require("pyarrow", "--replicates", option="--replicates")
        _plugins("run", plugin, _state.get("replace_rule", False))
        if from_game is not None or turn is not None:  # the state of a saved game (sim.play.replay)
            from .play import replay

            if from_game is None:
                from .scenario.errors import option_error

                raise option_error("--turn", "goes with --from-game SAVED_GAME")
            replay.check_from_game_options(SCENARIO=scenario, **{"--seed": seed, "--months": months, "--set": set_,
                                                                 "--lever": lever, "--precision": precision != "float32",
                                                                 "--stories": stories,
                                                                 "--replicates": research.get("replicates"),
                                                                 "--ci-halfwidth": research.get("ci_halfwidth"),
                                                                 "--uncertainty": research.get("uncertainty")})
            state = replay.game_state(from_game, turn)
            scn, run_fn, precision = state["scn"], replay.runner(state), state["dtype"]
        elif scenario is None:
            from .scenario.errors import option_error

            raise option_error("SCENARIO", "give a scenario (a file or a shipped name, e.g. karabakh), or --from-game SAVED_GAME")
        else:
            scn = api.load_scenario(scenario, overrides=set_ or None)
        from .montecarlo import parse_levers

        parse_levers(scn, lever)  # checked before anything runs
        outcomes = list(scn.spec.outcomes)
        for g in given or []:
            if g not in outcomes:
                from .scenario.errors import option_error, suggest

                raise option_error("--given", f"no outcome '{g}'{suggest(g, outcomes)}; outcomes are {', '.join(outcomes)}")
        if out is not None:
            api.check_out(out)  # the folder itself is made when the run is saved
    except InputError as exc:
        _fail(exc, "run")
        return

    progress, finish = _progress(json_, scn)
    t_start_run = t_ran = _clock()
    failure = None
    late = None  # Ctrl-C or SIGTERM after the run, while saving: acted on once the folder is whole
    from .results import OutputError

    save_error: OutputError | None = None
    folder: Path | None = None
    with SignalDeferral() as deferral:
        try:
            with _notices("run"):
                if run_fn is api.run:
                    rep_file = _temp_parquet() if research.get("replicates") else False
                    res = api.run(scn, runs=runs, seed=seed, months=months, workers=workers, chunk_size=chunk_size,
                                  progress=progress, backend=backend, scheduler=scheduler, dtype=precision,
                                  oversubscribe=oversubscribe, levers=lever, replicates=rep_file,
                                  ci_halfwidth=research.get("ci_halfwidth"))
                else:  # the continuations of a saved game
                    res = run_fn(scn, runs=runs, seed=seed, months=months, workers=workers, chunk_size=chunk_size,
                                 progress=progress, backend=backend, scheduler=scheduler, dtype=precision,
                                 oversubscribe=oversubscribe, levers=lever)
                if research.get("uncertainty") and res.complete:
                    from .analysis.headline import model_uncertainty

                    res.uncertainty = model_uncertainty(
                        res, scn, sets=research["uncertainty_sets"], runs=research["uncertainty_runs"], levers=lever,
                        workers=workers, backend=backend, scheduler=scheduler, dtype=precision, chunk_size=chunk_size,
                        oversubscribe=oversubscribe, progress=progress)
                    res.manifest["uncertainty"] = {"sets": research["uncertainty_sets"],
                                                   "runs": research["uncertainty_runs"]}
        except InputError as exc:
            finish()
            _fail(exc, "run")
            return
        except ChunkFailed as exc:
            failure = exc
            res = exc.partial  # type: ignore[attr-defined]
        try:
            with deferral.hold():
                finish()
                t_ran = _clock()  # the run and, with --uncertainty, its sweep: all the simulation
                res.manifest["timings_s"]["startup"] = startup_before + (t_start_run - t0)
                try:
                    folder = _out_folder(res, out)
                    report = None if no_report else _report_writer()
                    if stories and report is not None and res.complete:
                        report = _with_stories(scn, report)
                    res.save(folder, report=report)
                except OutputError as exc:
                    save_error = exc
        except KeyboardInterrupt:
            late = ("Interrupted", 130)
        except Terminated:
            late = ("Stopped by SIGTERM", 143)
    t_saved = _clock()
    if research.get("replicates") and rep_file:
        from .files import release

        release(Path(rep_file).parent)  # copied into the run folder by res.save
    where = f"{folder}/" if save_error is None or save_error.left == "kept" else \
        "nowhere (the run folder could not be written)"
    rep_error = res.replicates_error()
    if failure is not None:
        if _state["debug"]:
            typer.echo(failure.trace, err=True)
        typer.echo(f"sim run: {failure} (run with --debug for the traceback)", err=True)
        if save_error is None:
            typer.echo(f"The {res.runs:,} runs finished before it are saved in {folder}/ with complete=false.", err=True)
        else:
            typer.echo(f"sim run: {save_error}", err=True)
        raise typer.Exit(1)
    if late is not None:
        typer.echo(f"{late[0]} while saving; the run is saved in {where} "
                   f"({res.runs:,} of {res.runs_requested:,} runs, complete={str(res.complete).lower()}).", err=True)
        raise typer.Exit(late[1])
    if json_:
        from .results import _clean

        typer.echo(json.dumps(_clean(res.summary()), indent=2))  # from memory: the file may not exist
    else:
        con = _print_table(res, given or [])
        split = (startup_before + (t_start_run - t0), t_ran - t_start_run, t_saved - t_ran)  # the whole command
        _print_footer(res, folder if save_error is None else None, split, con)
    if save_error is not None:
        if _state["debug"]:
            raise save_error
        typer.echo(f"sim run: {save_error}", err=True)
        raise typer.Exit(1)
    if rep_error is not None:
        typer.echo(f"sim run: --replicates: {rep_error}; the rest of the run is saved in {where} without "
                   "replicates.parquet", err=True)
    stopped = res.manifest.get("stopped_by")
    if stopped is not None:
        how, code = {"interrupt": ("Interrupted", 130), "SIGTERM": ("Stopped by SIGTERM", 143)}[stopped]
        typer.echo(
            f"{how}: {res.runs:,} of {res.runs_requested:,} runs finished; they are saved in {where} "
            "with complete=false in manifest.json.",
            err=True,
        )
        raise typer.Exit(code)
    if rep_error is not None:
        raise typer.Exit(1)


def _temp_parquet() -> Path:
    """Where ``--replicates`` streams its Parquet file during a run (copied into the run folder):
    a scratch folder of this process (:func:`sim.files.private_dir`; those of killed runs are
    removed first)."""
    from .files import private_dir

    return private_dir("replicates") / "replicates.parquet"


def _out_folder(res, out: Path | None, command: str = "run") -> Path:
    """The run folder: ``--out`` (checked again: it may have filled up during the run;
    then a new folder under outputs/ is used, so that nothing computed is lost), or a
    new folder under outputs/."""
    from . import api

    if out is not None:
        try:
            return api.prepare_out(out)
        except InputError as exc:
            folder = api.default_output_dir(res)
            typer.echo(f"{exc.format(f'sim {command}')}; saving in {folder}/ instead", err=True)
            return folder
    return api.default_output_dir(res)


def _report_writer():
    from .report import write_report

    return write_report


def _progress(quiet: bool, scn=None):
    """A progress bar on a terminal (none otherwise). With ``scn``, the bar first says when
    the run will compile the model's kernels (the first run on a machine takes seconds more)."""
    if quiet or not sys.stderr.isatty():
        return None, lambda: None
    label = "simulating"
    if scn is not None:
        from . import api

        try:
            if api.kernels_to_compile(scn):
                label = "compiling the model's kernels (first run only)"
        except Exception:  # noqa: BLE001 - a notice only: never stop a run over it
            pass
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    prog = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("runs  ETA"),
        TimeRemainingColumn(), console=Console(stderr=True), transient=True,
    )
    prog.start()
    task = prog.add_task(label, total=None)

    def update(done: int, total: int) -> None:
        prog.update(task, completed=done, total=total, **({"description": "simulating"} if done else {}))

    return update, prog.stop


def _pct(x: float) -> str:
    if x != x:
        return "-"
    return f"{100 * x:.1f}%" if x >= 0.001 or x == 0 else "<0.1%"


def _print_table(res, given: list[str]):
    """Print the outcome table (and the --given tables) at the terminal's width; return the console."""
    from rich.markup import escape
    from rich.table import Table

    wide = 170 if res.uncertainty else 120
    con = _console(wide)
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
        cells = [escape(r["description"]), _pct(r["probability"]), f"{_pct(lo)} – {_pct(hi)}", when, iqr]
        if across:
            a = across.get(r["outcome"], {})
            cells += [f"{_pct(a.get('p10', float('nan')))} – {_pct(a.get('p90', float('nan')))}",
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
            ct.add_row(str(name), _pct(row["probability"]), f"{_pct(row['ci_low'])} – {_pct(row['ci_high'])}")
        con.print(ct)
    return con


def _print_footer(res, folder: Path | None, split: tuple[float, float, float], con) -> None:
    """Seed, workers and the command's time from the program's start (start-up, simulation
    with any --uncertainty sweep, outputs), and where the outputs are."""
    m = res.manifest
    _say(con, "When: the month the outcome first happened, over the runs where it did.")
    _say(con, f"Seed {res.seed}; {m['workers']} worker(s) ({m['backend']}); time {sum(split):.1f} s: start-up and "
              f"imports {split[0]:.1f} s, simulation {split[1]:.1f} s, figures and report {split[2]:.1f} s.")
    if folder is None:
        return
    names = [n for n in ("report.html", "summary.json", "outcomes.csv", "timeseries.csv", "manifest.json") if (folder / n).exists()]
    _say(con, f"Outputs: {folder}/  ({', '.join(names)})")


@app.command(cls=SimCommand)
def rerun(
    manifest: Annotated[str, typer.Argument(help="A run folder, or its manifest.json.")],
    force: Annotated[bool, typer.Option("--force", help="Rerun even if the sim version or the resolved scenario differ.")] = False,
    workers: Annotated[int | None, typer.Option("--workers", "-w", help="Worker processes (results do not depend on it).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the new run folder here (must be new or empty).")] = None,
    plugin: PluginOpt = None,
    replace_rule: ReplaceOpt = False,
) -> None:
    """Re-execute a run from its manifest and report whether the results match exactly.

    A run that used rules or outcome kinds from outside the package needs them
    registered: their modules are imported where they can be (or name one with
    --plugin); parts defined in a notebook cannot be, and the message says so.

    Uses the run's scenario.resolved.yaml, seed, runs, chunk size and horizon. Exits 0
    when summary.json, outcomes.csv and timeseries.csv are byte-identical, 1 when not
    (or when a chunk failed); 130 or 143 when Ctrl-C or SIGTERM stopped the rerun.
    """
    _state["replace_rule"] = replace_rule  # beyond what the original run replaced (its manifest)
    _stoppable(_rerun, manifest, force, workers, out, plugin)


def _stoppable(command, *args) -> None:
    """Run a command body with SIGTERM handled like Ctrl-C; a stop before the run started
    (or after it was saved) is one line and exit status 130 or 143."""
    from .interrupts import Terminated, stop_on_sigterm

    try:
        with stop_on_sigterm():
            command(*args)
    except (KeyboardInterrupt, Terminated) as exc:
        how, code = ("Interrupted", 130) if isinstance(exc, KeyboardInterrupt) else ("Stopped by SIGTERM", 143)
        typer.echo(f"{how}.", err=True)
        raise typer.Exit(code) from None


def _rerun(manifest, force, workers, out, plugin=None) -> None:
    from . import api
    from .interrupts import SignalDeferral
    from .runner import ChunkFailed

    try:
        m, folder = api.read_manifest(manifest)
        api.check_run_options(None, workers, None, None)
        _plugins("rerun", plugin, _state.get("replace_rule", False), allowed=api.replaced_by(m))
        scn, reasons = api.rerun_check(m, folder)
        for p in m.get("custom_parts") or []:
            if p["name"] in api.replaced_by(m):
                typer.echo(f"sim rerun: as in the original run, '{p['module']}' replaces the stock "
                           f"{'rule' if p['what'] == 'rules' else 'outcome kind'} '{p['name']}'", err=True)
        if reasons and not force:
            from .scenario.errors import option_error

            raise option_error(str(manifest), "; ".join(reasons) + ". Results may differ; use --force to rerun anyway")
        if out is not None:
            api.check_out(out)
    except InputError as exc:
        _fail(exc, "rerun")
        return
    for r in reasons:
        typer.echo(f"warning: {r} (--force)", err=True)
    deps = {k: v for k, v in m["versions"].items() if k not in ("sim",) and api.versions().get(k) != v}
    for k, v in deps.items():
        typer.echo(f"warning: {k} was {v} at the run, is {api.versions().get(k)} now; results may differ", err=True)
    failure = None
    from .results import OutputError

    with SignalDeferral() as deferral:
        try:
            with _notices("rerun"):
                res = api.run(scn, runs=m["runs_requested"], seed=m["seed"], months=m["horizon_months"], workers=workers,
                              chunk_size=m["chunk_size"], dtype=m.get("dtype", "float64"), levers=m.get("levers"),
                              ci_halfwidth=m.get("ci_halfwidth"))
                unc = m.get("uncertainty")
                if unc and res.complete:
                    from .analysis.headline import model_uncertainty

                    res.uncertainty = model_uncertainty(res, scn, sets=unc["sets"], runs=unc["runs"],
                                                        levers=m.get("levers"), workers=workers,
                                                        dtype=m.get("dtype", "float64"), chunk_size=m["chunk_size"])
                    res.manifest["uncertainty"] = unc
        except ChunkFailed as exc:
            failure = exc
            res = exc.partial  # type: ignore[attr-defined]
        with deferral.hold():  # a Ctrl-C now is acted on once the folder is whole
            res.manifest["rerun_of"] = str(folder)
            try:
                target = _out_folder(res, out, "rerun")
                res.save(target)
            except OutputError as exc:
                if _state["debug"]:
                    raise
                typer.echo(f"sim rerun: {exc}", err=True)
                raise typer.Exit(1) from None
    stopped = res.manifest.get("stopped_by")
    if failure is not None or stopped is not None:
        why = {"interrupt": ("Interrupted", 130), "SIGTERM": ("Stopped by SIGTERM", 143)}.get(stopped, (f"sim rerun: {failure}", 1))
        typer.echo(f"{why[0]}: the rerun stopped after {res.runs:,} of {res.runs_requested:,} runs, so nothing was "
                   f"compared; they are saved in {target}/ with complete=false.", err=True)
        raise typer.Exit(why[1])
    diff = api.compare_runs(folder, target)
    if not m.get("complete", True):
        typer.echo(f"The original run was incomplete ({m.get('runs_completed')} of {m['runs_requested']} runs); "
                   f"the rerun has all {res.runs:,}, so its results are expected to differ.")
    if diff:
        typer.echo(f"Results differ from {folder}/: {', '.join(diff)} (new run in {target}/)")
        raise typer.Exit(1)
    typer.echo(f"Reproduced: {', '.join(api.COMPARED)} are identical to {folder}/ (new run in {target}/).")


@app.command()
def validate(
    scenario: ScenarioArg,
    set_: SetOpt = None,
    plugin: PluginOpt = None,
    replace_rule: ReplaceOpt = False,
) -> None:
    """Check a scenario: schema, names, facts and derivations; print provenance coverage."""
    from . import api

    try:
        _plugins("validate", plugin, replace_rule)
        scn = api.load_scenario(scenario, overrides=set_ or None)
    except InputError as exc:
        _fail(exc, "validate")
        return
    from .evidence.sources import coverage, provenance_rows

    rows = provenance_rows(scn)
    cov = coverage(rows)
    kinds = cov["by_kind"]
    n = cov["parameters"]
    covered = cov["with_source"]
    typer.echo(f"{scn.path}: valid ({len(scn.spec.states)} states, {len(scn.spec.flashpoints)} flashpoints, {len(scn.spec.outcomes)} outcomes)")
    split = ", ".join(f"{kinds.get(k, 0)} {k}" for k in ("fact", "calibration", "assumption"))
    typer.echo(f"provenance: {covered}/{n} numeric parameters have a source ({100 * covered / max(n, 1):.0f}%): {split}")
    ks = cov["set_by_scenario_by_kind"]
    typer.echo(
        f"  set by the scenario: {cov['set_by_scenario']} ({ks['fact']} fact, {ks['calibration']} calibration, "
        f"{ks['assumption']} assumption); mechanism defaults: {n - cov['set_by_scenario']}; "
        f"fact cards cited: {len(cov['facts_cited'])}"
    )
    missing = [r["path"] for r in rows if r["kind"] == "none"]
    if missing:
        typer.echo("without provenance:")
        for p in missing:
            typer.echo(f"  {p}")


@app.command()
def sources(
    scenario: ScenarioArg,
    set_: SetOpt = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Only parameters of this source kind: fact, calibration, assumption, none.")] = None,
    scenario_only: Annotated[bool, typer.Option("--scenario-only", help="Leave out mechanism defaults the scenario does not set.")] = False,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """What every numeric input rests on: parameter, value, source kind, facts and citations."""
    from . import api
    from .evidence.sources import coverage, provenance_rows

    try:
        if fmt not in ("table", "csv", "json"):
            from .scenario.errors import option_error

            raise option_error("--format", f"must be table, csv or json (got {fmt!r})")
        if kind is not None and kind not in ("fact", "calibration", "assumption", "none"):
            from .scenario.errors import option_error

            raise option_error("--kind", f"must be fact, calibration, assumption or none (got {kind!r})")
        scn = api.load_scenario(scenario, overrides=set_ or None)
    except InputError as exc:
        _fail(exc, "sources")
        return
    rows = provenance_rows(scn)
    cov = coverage(rows)
    if kind:
        rows = [r for r in rows if r["kind"] == kind]
    if scenario_only:
        rows = [r for r in rows if r["origin"] != "default"]
    if fmt == "json":
        typer.echo(json.dumps({"scenario": scn.name, "coverage": cov, "parameters": rows}, indent=2, default=str))
        return
    if fmt == "csv":
        import csv

        w = csv.writer(sys.stdout)
        w.writerow(["path", "value", "kind", "origin", "facts", "note", "fact_statements", "citations"])
        for r in rows:
            refs = r["fact_refs"] + r["cited_refs"]
            w.writerow([r["path"], r["value"], r["kind"], r["origin"], " ".join(f["id"] for f in refs), r["derive"] or r["note"],
                        " | ".join(f["statement"] for f in refs), " | ".join(f["citation"] for f in refs)])
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    by = cov["by_kind"]
    t = Table(
        title=f"{scn.name}: sources of {cov['parameters']} numeric parameters — {by['fact']} fact, "
        f"{by['calibration']} calibration, {by['assumption']} assumption, {by['none']} without "
        f"({cov['set_by_scenario']} set by the scenario, the rest mechanism defaults)",
        title_justify="left",
        show_lines=True,
    )
    t.add_column("Parameter", overflow="fold", max_width=38)
    t.add_column("Value", justify="right", max_width=18)
    t.add_column("Kind")
    t.add_column("Source", overflow="fold")
    for r in rows:
        if r["kind"] == "fact":
            text = " ".join(
                f"[{f['id']}] {f['statement']} ({f.get('figure') or 'no figure'}; {f['citation']})" for f in r["fact_refs"]
            )
            if r["derive"]:
                text = f"derive: {r['derive']}\n" + text
        else:
            text = r["note"] or "-"
            for f in r["cited_refs"]:
                text += f"\n  [{f['id']}] {f['statement']} ({f['citation']})"
        origin = " (default)" if r["origin"] == "default" else ""
        t.add_row(escape(r["path"] + origin), escape(r["value"]), r["kind"], escape(text))
    Console(width=max(140, Console().width)).print(t)


@app.command("list")
def list_() -> None:
    """List the shipped scenarios."""
    from rich.console import Console
    from rich.table import Table

    from . import api

    t = Table(title="Shipped scenarios (run with: sim run NAME)", title_justify="left")
    for c in ("name", "title", "start", "months"):
        t.add_column(c)
    for s in api.list_scenarios():
        t.add_row(s["name"], s["title"], s["start"], s["horizon_months"])
    Console().print(t)


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editor validation and completion)."""
    from .scenario.schema import scenario_model

    s = scenario_model().model_json_schema()
    s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    s["title"] = "sim scenario"
    s.setdefault("properties", {})["extends"] = {"type": "string", "description": "Base file to deep-merge over (relative path)."}
    typer.echo(json.dumps(s, indent=2))


# --- sim seeds: fact cards from new articles -----------------------------------------
# (a separate block so that changes to the commands above merge without conflicts)

seeds_app = typer.Typer(
    no_args_is_help=True,
    help="Fact cards (seeds/): draft one from a new article, check a draft or a card.",
)
app.add_typer(seeds_app, name="seeds")


@seeds_app.callback()
def seeds_callback() -> None:
    """Fact cards (seeds/): draft one from a new article (extract), check one (check)."""


@seeds_app.command("extract")
def seeds_extract(
    article: Annotated[Path, typer.Argument(help="A plain-text article (UTF-8).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the draft card here (default: print it).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Also list figures already in a fact card as draft facts (marked known).")] = False,
    prefix: Annotated[str, typer.Option("--prefix", help="First word of the draft fact ids, e.g. kg.")] = "draft",
    seeds: Annotated[Path | None, typer.Option("--seeds", help="Fact cards to compare with (default: the shipped seeds/).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite --out if it exists.")] = False,
) -> None:
    """Propose a draft fact card from an article, for a person to confirm.

    Finds money (with the conversion the text gives), quantities with units,
    percentages, dates and periods, each with its character offsets and its
    sentence, and the actors and weapon systems named. Figures a fact card
    already holds (same figure, same actors) are listed apart. Fill in the
    values marked CONFIRM, delete the confirm: blocks, then run
    sim seeds check on the draft.
    """
    from .evidence.draft import extract_draft, slug_id

    try:
        if out is not None and out.exists() and not force:
            from .scenario.errors import option_error

            raise option_error("--out", f"{out} already exists; choose another file or add --force to overwrite it")
        card_id = slug_id(out.stem) if out is not None else None
        text, ex = extract_draft(article, seeds=seeds, prefix=prefix, card_id=card_id,
                                 out_name=str(out) if out is not None else None, include_known=all_)
    except InputError as exc:
        _fail(exc, "seeds extract")
        return
    known = len(ex.candidates) - len(ex.new)
    summary = (f"{article}: {len(ex.candidates)} figures found: {len(ex.new)} new, {known} already in fact cards"
               f"{' (listed as facts, marked known)' if all_ else ' (listed under confirm.known)'}.")
    if out is None:
        typer.echo(text, nl=False)
        typer.echo(summary, err=True)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        from .scenario.errors import option_error

        _fail(option_error("--out", f"cannot write {out}: {exc.strerror or exc}"), "seeds extract")
        return
    typer.echo(summary)
    typer.echo(f"Wrote {out}. Fill in the values marked CONFIRM, delete the confirm: blocks, then: sim seeds check {out}")


@seeds_app.command("check")
def seeds_check(
    card: Annotated[Path, typer.Argument(help="A draft from sim seeds extract, or a fact card.")],
    seeds: Annotated[Path | None, typer.Option("--seeds", help="Fact cards whose ids it must not reuse (default: the shipped seeds/).")] = None,
) -> None:
    """Check a draft or fact card: what is left to confirm, and other problems.

    Lists every value still marked CONFIRM, every confirm: block, and whatever
    else would stop the file loading as a fact card (schema, card id = file
    name, fact ids used by another card): one line each, file:line:col: path:
    message, and exit status 2. A file that passes is a valid fact card.
    """
    from .evidence.draftcheck import check_card_file

    try:
        c = check_card_file(card, seeds)
    except InputError as exc:
        if any(p.mark.option is not None for p in exc.problems):  # --seeds: not about the card
            _fail(exc, "seeds check")
        if _state["debug"]:
            raise
        typer.echo(exc.format("sim seeds check"), err=True)
        left = sum(p.message.startswith("to confirm:") for p in exc.problems)
        other = len(exc.problems) - left
        typer.echo(f"{card}: not yet a fact card: {left} to confirm, {other} other problem(s).", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{card}: a valid fact card ('{c.card}', {len(c.facts)} facts).")


# --- sim backtest: score the model's forecasts of questions with known answers --------
# (a separate block so that changes to the commands above merge without conflicts)

WHOLE.add("bins")
FLAGS.setdefault("bins", "--bins")


@app.command(cls=SimCommand)
def backtest(
    scenario: Annotated[str | None, typer.Argument(
        help="The scenario of questions that name none (a file or a shipped name); optional when they all do.")] = None,
    questions: Annotated[Path | None, typer.Option("--questions", "-q", help="The question file (YAML).")] = None,
    runs: Annotated[int | None, typer.Option("--runs", "-n", help="Replicates per scenario (default: each scenario's).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed of every scenario's run (default: each scenario's).")] = None,
    bins: Annotated[int, typer.Option("--bins", help="Forecast bins of the reliability table, of equal width (1 to 100).")] = 5,
    workers: Annotated[int | None, typer.Option("--workers", "-w", help="Worker processes (results do not depend on it).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the backtest folder here (must be new or empty).")] = None,
    no_figures: Annotated[bool, typer.Option("--no-figures", help="Skip the reliability diagram (PNG).")] = False,
    plugin: PluginOpt = None,
    replace_rule: ReplaceOpt = False,
) -> None:
    """Score the model's forecasts of questions with known answers (a backtest).

    Each scenario the questions name is run once with all their outcomes; a
    question's forecast is the share of runs in which its outcome first happens
    within its window. Prints each question's forecast with its Monte Carlo
    interval, its base rate and its answer, then the Brier and log scores of the
    model, of the base rates and of 50% for everything, and the model's Brier skill.
    Writes outputs/backtest/<timestamp>-<hash>/ (or --out): questions.csv,
    scores.json, reliability.csv, fig_reliability.png, summary.md, the question
    file and the resolved scenarios, manifest.json. Question file format:
    docs/CALIBRATION.md, "Backtest". Bad input exits 2 before anything runs.
    """
    _state["replace_rule"] = replace_rule
    _stoppable(_backtest, scenario, questions, runs, seed, bins, workers, out, no_figures, plugin)


def _backtest(scenario, questions, runs, seed, bins, workers, out, no_figures, plugin) -> None:
    from . import api
    from .analysis.backtest import backtest as run_backtest
    from .analysis.questions import read_questions
    from .interrupts import SignalDeferral
    from .results import OutputError
    from .runner import ChunkFailed
    from .scenario.errors import option_error

    try:
        if questions is None:
            raise option_error("--questions", "give the question file: sim backtest [SCENARIO] --questions FILE.yaml")
        if not 1 <= bins <= 100:
            raise option_error("--bins", f"must be from 1 to 100 (got {bins})")
        api.check_run_options(runs, workers, None, None, seed=seed)
        _plugins("backtest", plugin, _state.get("replace_rule", False))
        if out is not None:
            api.check_out(out)
        qset = read_questions(questions)
    except InputError as exc:
        _fail(exc, "backtest")
        return
    update, finish = _progress(False)
    try:
        with _notices("backtest"):
            bt = run_backtest(qset, scenario, runs=runs, seed=seed, bins=bins, workers=workers,
                              progress=None if update is None else (lambda _name, done, total: update(done, total)))
    except InputError as exc:
        finish()
        _fail(exc, "backtest")
        return
    except ChunkFailed as exc:
        finish()
        typer.echo(f"sim backtest: {exc}; nothing was scored (run with --debug for the traceback)", err=True)
        if _state["debug"]:
            typer.echo(exc.trace, err=True)
        raise typer.Exit(1) from None
    finally:
        finish()
    _print_backtest(bt)
    for w in bt.warnings:
        typer.echo(f"sim backtest: warning: {w}", err=True)
    with SignalDeferral() as deferral, deferral.hold():  # the folder is written whole
        try:
            folder = bt.save(_backtest_folder(out, bt), figures=not no_figures)
        except OutputError as exc:
            if _state["debug"]:
                raise
            typer.echo(f"sim backtest: {exc}", err=True)
            raise typer.Exit(1) from None
    names = [f.name for f in sorted(folder.iterdir()) if not f.name.startswith(".")]
    typer.echo(f"Outputs: {folder}/  ({', '.join(names)})")


def _backtest_folder(out: Path | None, bt) -> Path | None:
    """``--out`` if it is still usable (it may have filled up during the runs), else a new folder."""
    from . import api

    if out is None:
        return None
    try:
        api.check_out(out)
        return out
    except InputError as exc:
        folder = api.default_output_dir(bt._naming())
        typer.echo(f"{exc.format('sim backtest')}; saving in {folder}/ instead", err=True)
        return folder


def _print_backtest(bt) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    s = bt.scores
    con = Console(width=max(120, Console().width))
    runs = ", ".join(f"{sc['scenario']} {sc['runs']:,} runs" for sc in bt.manifest["scenarios"])
    t = Table(title=escape(f"Backtest of {bt.questions.path}: {s['questions']} questions, {s['yes']} resolved yes "
                           f"({runs})"), title_justify="left")
    for name, justify in (("Question", "left"), ("Scenario", "left"), ("Months", "left"), ("Forecast", "right"),
                          ("95% MC interval", "right"), ("Base rate", "right"), ("Answer", "left"),
                          ("Brier: model", "right"), ("base rate", "right")):
        t.add_column(name, justify=justify, overflow="fold", no_wrap=name not in ("Question", "Scenario"))
    for r in bt.rows:
        t.add_row(escape(r["id"]), escape(r["scenario"]), f"{r['window_months']} (to {r['window'][-7:]})",
                  _pct(r["forecast"]), f"{_pct(r['ci_low'])}–{_pct(r['ci_high'])}", _pct(r["base_rate"]),
                  f"{r['answer']} {r['resolved_on']}", f"{r['brier_model']:.3f}", f"{r['brier_base_rate']:.3f}")
    con.print(t)
    fc, sk = s["forecasters"], s["brier_skill"]
    st = Table(title="Scores (Brier: lower is better; log: higher is better)", title_justify="left")
    for name in ("Forecaster", "Brier", "Log score", "Model's Brier skill vs it"):
        st.add_column(name, justify="left" if name == "Forecaster" else "right")

    def num(x: float, fmt: str = ".3f") -> str:
        return "-" if x != x else format(x, fmt)

    st.add_row("the model", num(fc["model"]["brier"]), num(fc["model"]["log"]), "")
    st.add_row("base rate", num(fc["base_rate"]["brier"]), num(fc["base_rate"]["log"]), num(sk["vs_base_rate"], "+.3f"))
    st.add_row("50% for all", num(fc["half"]["brier"]), num(fc["half"]["log"]), num(sk["vs_half"], "+.3f"))
    con.print(st)
    typer.echo(f"Monte Carlo standard error of the model's Brier score: {s['brier_mc_se']:.4f}. "
               "Forecast: the share of runs where the outcome first happened within the window.")


# --- research: sim sweep, sim compare, sim discover (sim/cli_research.py) ------------
# (a separate block so that changes to the commands above merge without conflicts)

from .cli_research import register as _register_research  # noqa: E402

_register_research(app)


# --- sim story, sim play: narrated runs and classroom play (sim.play) ------------------
# (a separate block so that changes to the commands above merge without conflicts)


FLAGS.update({"replicate": "--replicate"})


def _with_stories(scn, report):
    """The report writer, telling a typical run's story per outcome into the run folder first
    (the report links them; written inside the save, so a full disk is handled as for any file)."""
    from .play.html import write_run_stories

    def write(res, folder: Path):
        res.manifest["stories"] = write_run_stories(scn, res, folder)
        return report(res, folder)

    return write


@app.command(cls=SimCommand)
def story(
    scenario: ScenarioArg,
    seed: Annotated[int | None, typer.Option("--seed", help="The run's seed (default: the scenario's).")] = None,
    replicate: Annotated[int, typer.Option("--replicate", "-k", help="Which run of `sim run --seed N` to tell (0 = the first).")] = 0,
    runs: Annotated[int | None, typer.Option("--runs", "-n", help="The run's number of replicates, if not the scenario's (it decides the chunks).")] = None,
    months: Annotated[int | None, typer.Option("--months", help="Horizon in months (default: the scenario's).")] = None,
    chunk_size: Annotated[int | None, typer.Option("--chunk-size", help="The run's chunk size, if not the default.")] = None,
    precision: Annotated[str, typer.Option("--precision", help="The run's precision: float32 (default) or float64.")] = "float32",
    set_: SetOpt = None,
    lever: LeverOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write story.html, story.txt and the timeline here (must be new or empty).")] = None,
) -> None:
    """Tell one run of a scenario month by month in plain language.

    The story of replicate K of `sim run SCENARIO --seed N` (the same seed, runs, chunk
    size and precision give the very run the Monte Carlo counted): what the rules made
    happen each month, in words, with a timeline figure and an HTML page. Same seed,
    same story.
    """
    from . import api
    from .play.story import check_story_options, tell

    try:
        api.check_run_options(runs, None, months, chunk_size, seed=seed, dtype=precision)
        check_story_options(replicate, runs)
        scn = api.load_scenario(scenario, overrides=set_ or None)
        from .montecarlo import parse_levers

        parse_levers(scn, lever)
        if out is not None:
            api.check_out(out)
        st = tell(scn, seed=seed, replicate=replicate, runs=runs, months=months, chunk_size=chunk_size,
                  dtype=precision, levers=lever)
    except InputError as exc:
        _fail(exc, "story")
        return
    from .play.html import write_story

    typer.echo(f"{st.title} — run {st.replicate} of seed {st.seed}\n")
    typer.echo(st.text())
    got = st.happened()
    typer.echo("\nOutcomes: " + ("; ".join(f"{o['description']} ({st.date(o['month'])})" for o in got) if got else "none happened") + ".")
    folder = api.prepare_out(out) if out is not None else _story_folder(scn.name, st.seed, st.replicate)
    files = write_story(st, folder)
    typer.echo(f"Story: {files['html']}  (timeline: {files['figure'].name}, text: {files['text'].name})")


def _story_folder(name: str, seed: int, replicate: int) -> Path:
    from .api import new_folder

    return new_folder(Path("outputs") / name, prefix=f"story-{seed}-{replicate}-")


@app.command(cls=SimCommand)
def play(
    scenario: Annotated[str | None, typer.Argument(help="A scenario file or shipped name, or an exercise pack (sim packs lists them; its scenario, deck and months); omitted with --resume.")] = None,
    as_: Annotated[list[str] | None, typer.Option("--as", help="An actor you play (repeatable): a state with levers.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="The game's seed (default: the scenario's). Same seed and moves, same game.")] = None,
    months: Annotated[int | None, typer.Option("--months", help="Months the game lasts (default: the scenario's horizon).")] = None,
    injects: Annotated[Path | None, typer.Option("--injects", help="The instructor's inject file (a deck of events; a pack's own by default).")] = None,
    moves: Annotated[Path | None, typer.Option("--moves", help="Play the moves of this file without prompts.")] = None,
    turns: Annotated[int | None, typer.Option("--turns", help="Stop after this many turns in all (saved; resume with --resume).")] = None,
    resume: Annotated[Path | None, typer.Option("--resume", help="Resume a saved game.")] = None,
    save: Annotated[Path | None, typer.Option("--save", help="Where to save the game (default: OUT/game.json; with --resume, the same file).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for the saved game and the debrief (default: outputs/play/...).")] = None,
    forecast_runs: Annotated[int | None, typer.Option("--forecast-runs", help="Continuations per forecast (default: the scenario's play.forecast_runs, 2000).")] = None,
    set_: SetOpt = None,
    serve: Annotated[bool, typer.Option("--serve", help="Hold the game on a server: each team joins from its own browser with a code or link for its seat, with a facilitator's and a projector's screen (needs the dashboard extra). Without SCENARIO: serve the class games already in --out.")] = False,
    host: Annotated[str, typer.Option("--host", help="With --serve: the address to listen on (default: this machine only; 0.0.0.0 lets the class's laptops reach it).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="With --serve: the port (0: a free one).")] = 8777,
    turn_minutes: Annotated[float | None, typer.Option("--turn-minutes", help="With --serve: minutes a team has to decide each turn (default: the pack's, else 6).")] = None,
) -> None:
    """Play a scenario turn by turn: you are some actors, the rules play the rest.

    Each turn (a month or a quarter, as the scenario says) shows the situation and your
    actors' levers; you choose moves; the months are simulated; you see what happened
    and a forecast (thousands of continuations from the state you created), with its
    change since the last turn and why it moved (your moves, the injects, chance). The
    game is saved after every turn; at the end (or when you stop) a debrief page is
    written. --moves plays a moves file without prompts. An exercise pack's name (sim
    packs) brings its scenario, deck and months. --serve holds the game on a server
    instead: each team plays from its own browser (its seat's link or join code), with a
    facilitator's and a projector's screen.
    """
    if serve:
        _serve_class(scenario, as_, seed, months, injects, out, forecast_runs, set_, host, port, turn_minutes,
                     moves=moves, turns=turns, resume=resume, save=save)
        return
    _stoppable(_play, scenario, as_, seed, months, injects, moves, turns, resume, save, out, forecast_runs, set_)


def _serve_class(scenario, as_, seed, months, injects, out, forecast_runs, set_, host, port, turn_minutes,
                 **other) -> None:
    """``sim play ... --serve``: a class game held by a server (sim.classroom)."""
    from .classroom.serve import announce, missing, open_classroom, serve, start_class
    from .play.game import check_forecast_runs
    from .scenario.errors import option_error

    lacking = missing()
    if lacking is not None:
        typer.echo(f"sim play: --serve needs the dashboard extra ({lacking} is not installed): "
                   'pip install "sim[dashboard]"', err=True)
        raise typer.Exit(2)
    try:
        bad = [flag for flag, v in (("--moves", other["moves"]), ("--turns", other["turns"]),
                                    ("--resume", other["resume"]), ("--save", other["save"])) if v]
        if bad:
            raise option_error("--serve", f"{', '.join(bad)} cannot be used with --serve (teams play from their browsers)")
        from .webserve import check_options

        check_options(port, host)
        check_forecast_runs(forecast_runs)
        outputs = out if out is not None else Path("outputs")
        svc = open_classroom(outputs)
        if scenario is not None:
            gid = start_class(svc, scenario, as_, injects=injects, months=months, seed=seed,
                              forecast_runs=forecast_runs, turn_minutes=turn_minutes, overrides=set_)
            typer.echo(f"sim play: class game {gid} started; its forecast before the first move is being made", err=True)
        elif as_ or injects or set_:
            raise option_error("--serve", "give the scenario or pack to start a game on (sim play PACK --serve)")

        def ready(url: str) -> None:
            typer.echo(f"sim play: serving class games on {url}/  (Ctrl-C stops it; the games are kept in "
                       f"{svc.store.path})", err=True)
            for line in announce(svc, url, host):
                typer.echo(line)

        serve(svc, host=host, port=port, ready=ready)
    except InputError as exc:
        _fail(exc, "play")
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def _play(scenario, as_, seed, months, injects, moves, turns, resume, save, out, forecast_runs, set_) -> None:
    from . import api
    from .play.debrief import write_debrief
    from .play.game import Game, check_forecast_runs
    from .play.moves import load_moves
    from .play.packs import game_setup
    from .play.savefile import load_game
    from .play.terminal import Session
    from .scenario.errors import option_error

    try:
        api.check_run_options(None, None, months, None, seed=seed)
        check_forecast_runs(forecast_runs)
        if turns is not None and turns < 1:
            raise option_error("--turns", f"must be at least 1 (got {turns})")
        if resume is not None:
            given = [f for f, v in (("SCENARIO", scenario), ("--as", as_), ("--seed", seed), ("--months", months),
                                    ("--injects", injects), ("--set", set_), ("--forecast-runs", forecast_runs)) if v]
            if given:
                raise option_error("--resume", f"{', '.join(given)} cannot be used with --resume: the saved game fixes them")
            game = load_game(resume)
            folder = out if out is not None else resume.parent
            save_to = save or resume
        else:
            if scenario is None:
                raise option_error("SCENARIO", "give a scenario (e.g. karabakh) or an exercise pack (sim packs lists "
                                   "them) and --as ACTOR, or --resume SAVED_GAME")
            setup = game_setup(scenario, as_, injects=injects, months=months, overrides=set_)
            scn = setup.scn
            if out is not None:
                api.check_out(out)
            game = Game(scn, setup.played, seed=seed, months=setup.months, deck=setup.deck, forecast_runs=forecast_runs)
            folder = out if out is not None else _play_folder(scn.name)
            save_to = save or folder / "game.json"
        script = load_moves(moves, game.scn, game.played, game.total_turns, game.deck) if moves is not None else None
    except InputError as exc:
        _fail(exc, "play")
        return
    from .files import OutputError

    session = Session(game, save_to, debrief=lambda g: write_debrief(g, folder))
    try:
        try:
            Path(folder).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError.from_os(Path(folder), exc) from exc
        typer.echo(f"{game.scn.spec.meta.title}\nYou play {', '.join(game.played)}; {game.total_turns} turns of "
                   f"{'a month' if game.turn_months == 1 else f'{game.turn_months} months'}; seed {game.seed}. "
                   f"The game is saved in {save_to} after every turn.")
        if script is not None:
            session.script(script, turns)
        else:
            session.interact(turns)
    except OutputError as exc:  # a full disk, a read-only folder: the last save stays whole
        if _state["debug"]:
            raise
        kept = ("nothing was saved" if session.saved_turn is None else
                f"the game as saved {f'after turn {session.saved_turn}' if session.saved_turn else 'before the first turn'} "
                f"is whole in {save_to} "
                f"(resume with: sim play --resume {save_to})")
        typer.echo(f"sim play: {exc}; {kept}", err=True)
        raise typer.Exit(1) from None


@app.command(cls=SimCommand)
def packs(
    name: Annotated[str | None, typer.Argument(help="A pack's name (omit to list the packs).")] = None,
    briefings: Annotated[Path | None, typer.Option("--briefings", help="Write the pack's printable briefings (briefings.html: a page per team, the facilitator's guide) into this folder.")] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="With --briefings: print them to briefings.pdf as well (needs Debian's chromium).")] = False,
    as_: Annotated[list[str] | None, typer.Option("--as", help="With --briefings: the teams (default: the pack's teams and optional teams).")] = None,
) -> None:
    """The classroom exercise packs that ship with sim, and their printable briefings.

    Without a name: each pack with its title, scenario and teams. With a name: the pack's
    files and teams; --briefings DIR writes its briefings, generated from the scenario
    (each team's levers and what they change in the model, who controls what, the deck
    with its timing), --pdf prints them to PDF too.
    """
    from .play.briefings import write_briefings
    from .play.packs import find_pack, list_packs, pack_names
    from .scenario.errors import option_error

    try:
        if name is None:
            if briefings is not None or pdf:
                raise option_error("--briefings", "give the pack's name: sim packs NAME --briefings DIR")
            for p in list_packs():
                teams = ", ".join(p["teams"]) + (f" (optional: {', '.join(p['optional_teams'])})" if p["optional_teams"] else "")
                typer.echo(f"{p['name']:<24} {p['title']}\n{'':<24} scenario {p['scenario']}; teams {teams}\n"
                           f"{'':<24} sim play {p['name']} {' '.join('--as ' + t for t in p['teams'])}")
            return
        pack = find_pack(name)
        if pack is None:
            from .scenario.errors import suggest

            raise option_error("NAME", f"no pack '{name}'{suggest(name, pack_names())}; sim packs lists them")
        if pdf and briefings is None:
            raise option_error("--pdf", "goes with --briefings DIR (where the briefings are written)")
        if briefings is None:
            sp = pack.spec
            typer.echo(f"{sp.title}\n  folder {pack.folder}\n  scenario {sp.scenario}; injects {sp.injects}; "
                       f"sample moves {sp.moves}\n  teams {', '.join(sp.teams)}"
                       + (f"; optional {', '.join(sp.optional_teams)}" if sp.optional_teams else "")
                       + f"\n  a turn lasts {sp.turn_minutes:g} minutes in a class game (sim play {pack.name} --serve)")
            return
        from .api import check_out

        check_out(briefings)
        try:
            files = write_briefings(pack, briefings, pdf=pdf, played=list(as_ or []) or None)
        except RuntimeError as exc:
            raise option_error("--pdf", str(exc)) from None
    except InputError as exc:
        _fail(exc, "packs")
        return
    typer.echo("Briefings: " + ", ".join(str(p) for p in files.values()))


def _play_folder(name: str) -> Path:
    from .api import new_folder

    return new_folder(Path("outputs") / "play", prefix=f"{name}-", create=False)


# --- dashboard: sim dashboard (sim/dashboard/) ------------------------------------------------


@app.command(cls=SimCommand)
def dashboard(
    scenario: Annotated[str | None, typer.Argument(help="A scenario to start with: a file or a shipped name (optional; every shipped scenario can be chosen in the page).")] = None,
    port: Annotated[int, typer.Option("--port", help="Port to serve on (0: a free one).")] = 8765,
    host: Annotated[str, typer.Option("--host", help="Address to listen on. The default serves this machine only; another address lets anyone who reaches it run the model and open the folders under --outputs (or --root).")] = "127.0.0.1",
    outputs: Annotated[Path, typer.Option("--outputs", help="Folder for runs, stories and games (as sim run's outputs/); sweeps and comparisons are looked for there too.")] = Path("outputs"),
    root: Annotated[Path | None, typer.Option("--root", help="Folder under which the page may open a path typed in it (a sweep or comparison folder, a saved game to resume in place); default: --outputs. Paths outside are refused.")] = None,
) -> None:
    """A browser dashboard: runs, studies and class play on one page.

    Run a scenario with controls made from its declarations (runs, seed, levers, --set
    overrides, model uncertainty) and see the outcome table, the report's figures and a
    run's story; open the folders sim sweep and sim compare write and find discovery
    boxes; play a game with a class on one screen. Needs the dashboard extra:
    pip install "sim\\[dashboard]". Stop it with Ctrl-C.
    """
    from .dashboard.server import missing, serve

    lacking = missing()
    if lacking is not None:
        typer.echo(f"sim dashboard: needs the dashboard extra ({lacking} is not installed): "
                   'pip install "sim[dashboard]"', err=True)
        raise typer.Exit(2)

    def ready(url: str) -> None:
        typer.echo(f"sim dashboard: serving {url}  (Ctrl-C stops it)", err=True)
        if host not in ("127.0.0.1", "localhost", "::1"):
            typer.echo(f"sim dashboard: {host} is not this machine only: anyone who reaches it can run the model "
                       f"and open the folders under {root or outputs}", err=True)

    try:
        serve(scenario, host=host, port=port, outputs=outputs, root=root, ready=ready)
    except InputError as exc:
        _fail(exc, "dashboard")
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def main() -> None:
    """Console-script entry point."""
    from . import STARTED

    _state["started"] = STARTED  # the program's own start, for the run footer
    try:
        app()
    except InputError as exc:  # raised with --debug after printing is skipped
        if _state["debug"]:
            raise
        typer.echo(exc.format("sim"), err=True)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
