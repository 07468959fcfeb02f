"""``sim hindcast`` and ``sim calibrate``: the model against the dyad-year panel
(:mod:`sim.analysis.hindcasting`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..scenario.errors import InputError
from . import common
from .common import SimCommand, fail

PLACE = 75


def hindcast(
    panel: Annotated[Path, typer.Argument(help="A dyad-year panel CSV (the columns of shared/data/dyad_years_1946_2002.csv).")],
    runs: Annotated[int, typer.Option("--runs", help="Disputes simulated per row (rows in a dispute at the start: runs of the whole year).")] = 200,
    years: Annotated[str | None, typer.Option("--years", help="Only these years, A-B (default: all the file's).")] = None,
    train: Annotated[str | None, typer.Option("--train", help="Years of the same file the regression baseline and the base rates are fitted on, A-B (default: the years before the scored ones).")] = None,
    calibration: Annotated[Path | None, typer.Option("--calibration", help="A calibration.json `sim calibrate` wrote (default: the shipped one, the rules' own defaults).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 1,
    method: Annotated[str, typer.Option("--method", help="hybrid (onsets exact, disputes simulated) or simulate (every year simulated).")] = "hybrid",
    out: Annotated[Path | None, typer.Option("--out", help="A new or empty folder (default: outputs/hindcast/<time>/).")] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="Worker processes (default: all cores for large panels).")] = None,
    backend: Annotated[str, typer.Option("--backend", help="auto, local, processes or dask.")] = "auto",
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="A Dask scheduler, tcp://HOST:8786.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Forecast every row of a dyad-year panel with the model and score it.

    Each row becomes the dyad-year template (docs/CALIBRATION.md): the
    probability that a militarized dispute starts in the year, and that one
    that starts reaches force, fatalities, war, an occupation or seizure, an
    occupation of territory; that a dispute runs at some time of the year.

    Writes forecasts.csv (ccode1, ccode2, year, one column per outcome) and,
    when the panel has outcome columns, scores: Brier, log score, AUC, Brier
    skill against the training base rate and reliability, beside a logistic
    regression on the same features and the base rate (scores.csv,
    comparisons.csv, report.html).
    """
    from ..analysis.hindcasting import hindcast_panel

    update, finish = common.progress(quiet)
    try:
        res = hindcast_panel(panel, years=years, train=train, runs=runs, seed=seed, calibration=calibration,
                             out=out, workers=workers, backend=backend, scheduler=scheduler, progress=update,
                             method=method)
    except InputError as exc:
        finish()
        fail(exc, "hindcast")
        return
    finish()
    if res.evaluation is not None:
        from ..report.hindcast import summary

        for line in summary(res.evaluation):
            typer.echo(line.replace("<b>", "").replace("</b>", "").replace("**", ""))
    for note in res.notes:
        typer.echo(f"({note})")
    typer.echo(f"Outputs: {res.folder}/  (forecasts.csv{', report.html, scores.csv' if res.evaluation is not None else ''}, manifest.json)")


def calibrate(
    panel: Annotated[Path, typer.Argument(help="A dyad-year panel CSV with outcome columns.")],
    years: Annotated[str | None, typer.Option("--years", help="Fit on these years only, A-B (default: all).")] = None,
    boot: Annotated[int, typer.Option("--boot", help="Bootstrap replicates over dyads for the intervals.")] = 1000,
    runs: Annotated[int, typer.Option("--runs", help="Disputes simulated per onset row (the corrections).")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (the same at every evaluation: common random numbers).")] = 1,
    out: Annotated[Path | None, typer.Option("--out", help="A new or empty folder (default: outputs/calibrate/<time>/).")] = None,
    ablation: Annotated[bool, typer.Option("--ablation", help="History terms only: the mechanisms' terms (contiguity, major powers, alliances, balance, deterrence; the offensive's slopes) held at 0, to score what they add.")] = False,
) -> None:
    """Fit the generic hazard coefficients to a dyad-year panel.

    How often disputes start (the record's and the setting's coefficients,
    deterrence, the persistence of disputes) by maximum likelihood of the exact
    onset probabilities; how far they go (up-rates, the offensive's rate, its
    slopes and war risk) by likelihood of the disputes' outcomes; 95% intervals
    from a bootstrap over dyads.

    Writes calibration.json (use it with `sim hindcast --calibration`, or copy
    it over sim/rules/calibration.json to make it the rules' defaults),
    parameters.md, and uncertainties.yaml (the declared uncertainties of the
    coefficients the panel does not identify: the block scenarios/base.yaml
    holds). A full fit takes about a quarter of an hour on two cores.
    """
    from ..analysis.calibration import MECHANISMS
    from ..analysis.hindcasting import calibrate_panel

    try:
        folder, cal = calibrate_panel(panel, years=years, out=out, boot=boot, seed=seed, runs=runs,
                                      fix=MECHANISMS if ablation else None)
    except InputError as exc:
        fail(exc, "calibrate")
        return
    for k, v in cal.values.items():
        flag = "" if cal.identified.get(k, True) else "  (not identified: a declared uncertainty)"
        typer.echo(f"{k:34s} {v: .4g}  [{cal.lo[k]:.4g}, {cal.hi[k]:.4g}]{flag}")
    typer.echo(f"Outputs: {folder}/  (calibration.json, parameters.md, uncertainties.yaml, manifest.json)")


def register(app: typer.Typer) -> None:
    app.command(cls=SimCommand)(hindcast)
    app.command(cls=SimCommand)(calibrate)
