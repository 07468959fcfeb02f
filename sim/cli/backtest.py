"""``sim backtest``: the model's forecasts of questions with known answers, scored
(:func:`sim.analysis.backtest.backtest`), printed as tables and saved with their figure."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..scenario.errors import InputError
from . import common
from .common import FLAGS, WHOLE, PluginOpt, ReplaceOpt, SimCommand, fail, stoppable

PLACE = 40


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
    common.state["replace_rule"] = replace_rule
    stoppable(_backtest, scenario, questions, runs, seed, bins, workers, out, no_figures, plugin)


def _backtest(scenario, questions, runs, seed, bins, workers, out, no_figures, plugin) -> None:
    from ..analysis.backtest import backtest as run_backtest
    from ..analysis.questions import read_questions
    from ..arguments import check_run_options
    from ..files import OutputError
    from ..interrupts import SignalDeferral
    from ..outputs import check_out
    from ..runner import ChunkFailed
    from ..scenario.errors import option_error

    try:
        if questions is None:
            raise option_error("--questions", "give the question file: sim backtest [SCENARIO] --questions FILE.yaml")
        if not 1 <= bins <= 100:
            raise option_error("--bins", f"must be from 1 to 100 (got {bins})")
        check_run_options(runs, workers, None, None, seed=seed)
        common.plugins("backtest", plugin, common.state.get("replace_rule", False))
        if out is not None:
            check_out(out)
        qset = read_questions(questions)
    except InputError as exc:
        fail(exc, "backtest")
        return
    update, finish = common.progress(False)
    try:
        with common.notices("backtest"):
            bt = run_backtest(qset, scenario, runs=runs, seed=seed, bins=bins, workers=workers,
                              progress=None if update is None else (lambda _name, done, total: update(done, total)))
    except InputError as exc:
        finish()
        fail(exc, "backtest")
        return
    except ChunkFailed as exc:
        finish()
        typer.echo(f"sim backtest: {exc}; nothing was scored (run with --debug for the traceback)", err=True)
        if common.state["debug"]:
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
            common.failed_output(exc, "backtest")
    names = [f.name for f in sorted(folder.iterdir()) if not f.name.startswith(".")]
    typer.echo(f"Outputs: {folder}/  ({', '.join(names)})")


def _backtest_folder(out: Path | None, bt) -> Path | None:
    """``--out`` if it is still usable (it may have filled up during the runs), else a new folder."""
    from ..outputs import check_out, default_output_dir

    if out is None:
        return None
    try:
        check_out(out)
        return out
    except InputError as exc:
        folder = default_output_dir(bt._naming())
        typer.echo(f"{exc.format('sim backtest')}; saving in {folder}/ instead", err=True)
        return folder


def _print_backtest(bt) -> None:
    from rich.markup import escape
    from rich.table import Table

    pct = common.pct
    s = bt.scores
    con = common.wide_console()
    runs = ", ".join(f"{sc['scenario']} {sc['runs']:,} runs" for sc in bt.manifest["scenarios"])
    t = Table(title=escape(f"Backtest of {bt.questions.path}: {s['questions']} questions, {s['yes']} resolved yes "
                           f"({runs})"), title_justify="left")
    for name, justify in (("Question", "left"), ("Scenario", "left"), ("Months", "left"), ("Forecast", "right"),
                          ("95% MC interval", "right"), ("Base rate", "right"), ("Answer", "left"),
                          ("Brier: model", "right"), ("base rate", "right")):
        t.add_column(name, justify=justify, overflow="fold", no_wrap=name not in ("Question", "Scenario"))
    for r in bt.rows:
        t.add_row(escape(r["id"]), escape(r["scenario"]), f"{r['window_months']} (to {r['window'][-7:]})",
                  pct(r["forecast"]), f"{pct(r['ci_low'])}–{pct(r['ci_high'])}", pct(r["base_rate"]),
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


def register(app: typer.Typer) -> None:
    WHOLE.add("bins")
    FLAGS.setdefault("bins", "--bins")
    app.command(cls=SimCommand)(backtest)
