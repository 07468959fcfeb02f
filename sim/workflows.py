"""What the command line and the dashboard both do with a run, written once.

``sim run`` (and ``sim rerun``) and the dashboard's Run button do the same things around
:func:`sim.run`: with model uncertainty, a sweep over the scenario's ``uncertainties:`` beside
the headline (:func:`run_with_uncertainty`); the run folder with its report and, if asked,
the story of a typical run per outcome (:func:`save_run`); the story of one of the run's
replicates (:func:`run_story`). A sweep's folder is written whole or, for a sweep stopped
before every set ran, as far as it got (:func:`save_sweep`).

This module sits above the studies (:mod:`sim.analysis`) and play (:mod:`sim.play`), whose
functions it combines; the command line (:mod:`sim.cli`) and the dashboard
(:mod:`sim.dashboard`) sit on it. Nothing here prints: the callers say what happened.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import api
from .analysis import headline
from .analysis.sweep_io import save_partial
from .play.html import write_run_stories
from .play.story import Story, tell
from .report import write_report
from .results import Results

UNCERTAINTY_STAGE = "Model uncertainty (sweep over the scenario's uncertainties)"
"""What a progress display calls the uncertainty sweep (the second stage of such a run)."""

SWEEP_OPTIONS = ("workers", "backend", "scheduler", "dtype", "chunk_size", "oversubscribe", "progress",
                 "worker_timeout")
"""The options of a run that its uncertainty sweep runs with too (the sweep's results do not
depend on the workers or the backend; its chunk size and precision are the run's)."""


def run_with_uncertainty(
    scn: Any,
    *,
    uncertainty: tuple[int, int] | None = None,
    run: Callable[..., Results] | None = None,
    stage: Callable[[str, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    **options: Any,
) -> Results:
    """A run and, with ``uncertainty=(sets, runs)``, its model-uncertainty headline.

    The run is :func:`sim.run` (or ``run``, a function with its arguments: a saved game's
    continuations, :func:`sim.play.replay.runner`) with ``options``. When it completes and
    ``uncertainty`` is given, a Latin hypercube of ``sets`` parameter sets x ``runs`` runs over
    the scenario's uncertainties runs with the same levers, workers, backend, precision and
    chunk size (:func:`sim.analysis.headline.model_uncertainty`); its ranges go to
    ``res.uncertainty`` and the design to ``res.manifest["uncertainty"]``.

    A sweep stopped by Ctrl-C or SIGTERM (which :func:`sim.run` turns into a stopped run)
    adds no ranges: the run is returned complete, without ``res.uncertainty``, and its
    manifest's ``uncertainty`` says ``stopped_by`` and the sweep's ``runs_finished`` of
    ``runs_requested`` (:func:`uncertainty_stopped`).

    Args:
        stage: Called with (what, total runs) when the uncertainty sweep begins (a
            progress display's new stage).
        cancelled: Asked before and after the sweep (the dashboard's Cancel button): when
            it says True the run is returned without the uncertainty, as it is when the
            sweep is interrupted (a ``KeyboardInterrupt`` from the progress callback) --
            only with ``cancelled`` given; without it an interrupt is the caller's.

    Raises what :func:`sim.run` raises (:class:`~sim.scenario.errors.InputError`,
    :class:`~sim.runner.ChunkFailed`, also from the sweep).
    """
    res = (run or api.run)(scn, **options)
    if uncertainty is None or not res.complete or (cancelled is not None and cancelled()):
        return res
    sets, runs = uncertainty
    if stage is not None:
        stage(UNCERTAINTY_STAGE, sets * runs)
    same = {k: options[k] for k in SWEEP_OPTIONS if k in options}
    try:
        ranges = headline.model_uncertainty(res, scn, sets=sets, runs=runs, levers=options.get("levers"), **same)
    except KeyboardInterrupt:
        if cancelled is None:
            raise
        return res
    if cancelled is not None and cancelled():
        return res
    res.manifest["uncertainty"] = {"sets": sets, "runs": runs}
    if "stopped_by" in ranges:  # the sweep was stopped: the run is kept, without a range from part of the design
        res.manifest["uncertainty"].update(ranges)
        return res
    res.uncertainty = ranges
    return res


def uncertainty_stopped(res: Results) -> str | None:
    """What stopped a run's uncertainty sweep (``interrupt``, ``SIGTERM``), or None (it ran
    whole, or none was asked)."""
    return (res.manifest.get("uncertainty") or {}).get("stopped_by")


def save_run(res: Results, folder: str | Path, *, report: bool = True, stories: Any = None) -> Path:
    """Write a run's folder (a new or empty folder: :func:`sim.outputs.out_or_new`): its data
    files, and with ``report`` its figures and ``report.html``; with ``stories`` (the loaded
    scenario) and a complete run, the story of a typical run per outcome too
    (``story_replicate_K.html``, linked from the report). An
    :class:`~sim.files.OutputError` if the disk refuses (what is left is as
    :func:`sim.files.write_folder` says)."""
    writer = write_report if report else None
    if stories is not None and writer is not None and res.complete:
        writer = _with_stories(stories, writer)
    return res.save(Path(folder), report=writer)


def _with_stories(scn: Any, report: Callable[[Results, Path], Any]) -> Callable[[Results, Path], Any]:
    """The report writer, telling a typical run's story per outcome into the run folder first
    (the report links them; written inside the save, so a full disk is handled as for any file)."""

    def write(res: Results, folder: Path) -> Any:
        res.manifest["stories"] = write_run_stories(scn, res, folder)
        return report(res, folder)

    return write


def run_story(scn: Any, res: Results, replicate: int) -> Story:
    """The story of replicate ``replicate`` of the run ``res`` of ``scn``: its seed, runs and
    levers, so that it is the very run the Monte Carlo counted (:func:`sim.play.story.tell`)."""
    return tell(scn, seed=res.seed, replicate=replicate, runs=res.runs_requested, levers=list(res.levers) or None)


def save_sweep(sw: Any, folder: str | Path, *, report: bool = True, replicates_file: str | Path | None = None) -> Path:
    """Write a sweep's folder: with every set run, its tables, indices, figures and report
    (:meth:`sim.analysis.sweep.Sweep.save`); stopped before (Ctrl-C), the sets so far and the
    rows of the runs that finished, without indices (:func:`sim.analysis.sweep_io.save_partial`)."""
    folder = Path(folder)
    rep = Path(replicates_file) if replicates_file else None
    if not sw.results.complete:
        return save_partial(sw, folder, replicates_file=rep)
    from .report.sweep import write_sweep_report  # lazy: matplotlib only for a report

    return sw.save(folder, report=write_sweep_report if report else None, replicates_file=rep)


def save_optimize(opt: Any, folder: str | Path, *, report: bool = True) -> Path:
    """Write a policy search's folder (:meth:`sim.analysis.optimize.Optimization.save`): its
    tables, and with ``report`` the parallel-coordinates and convergence figures and
    report.html. A search stopped early is written as far as it got (its manifest says so)."""
    from .report.optimize import write_optimize_report  # lazy: matplotlib only for a report

    return opt.save(Path(folder), report=write_optimize_report if report else None)
