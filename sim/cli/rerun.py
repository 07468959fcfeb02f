"""``sim rerun``: re-execute a run (or a sweep) from its folder and say whether it reproduced.

The manifest is read and checked (:func:`sim.manifests.read_manifest`, :func:`sim.manifests.rerun_check`);
a run is made again by :func:`sim.workflows.run_with_uncertainty` and written by
:func:`sim.workflows.save_run`, a sweep by ``sim sweep``'s own body; then the result files are
compared byte for byte (:func:`sim.manifests.compare_runs`).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Annotated

import typer

from ..scenario.errors import InputError
from . import common
from .common import PluginOpt, ReplaceOpt, SimCommand, fail, stoppable

PLACE = 20


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
    common.state["replace_rule"] = replace_rule  # beyond what the original run replaced (its manifest)
    stoppable(_rerun, manifest, force, workers, out, plugin)


def register(app: typer.Typer) -> None:
    app.command(cls=SimCommand)(rerun)


def _rerun(manifest, force, workers, out, plugin=None) -> None:
    from .. import manifests
    from ..arguments import check_run_options
    from ..loading import replaced_by
    from ..outputs import check_out
    from ..scenario.errors import Mark, Problem

    try:
        m, folder = manifests.read_manifest(manifest)
        if m.get("optimize"):  # not a run: rerunning it as one would compare different things
            raise InputError([Problem(Mark(str(folder / "manifest.json")), "optimize", "a policy search's folder "
                                      "(sim optimize) is not rerun; run sim optimize again with the options in its "
                                      "summary.json (same seed: same worlds, same random numbers)")])
        check_run_options(None, workers, None, None)
        common.plugins("rerun", plugin, common.state.get("replace_rule", False), allowed=replaced_by(m))
        scn, reasons = manifests.rerun_check(m, folder)
        for p in m.get("custom_parts") or []:
            if p["name"] in replaced_by(m):
                typer.echo(f"sim rerun: as in the original run, '{p['module']}' replaces the stock "
                           f"{'rule' if p['what'] == 'rules' else 'outcome kind'} '{p['name']}'", err=True)
        if reasons and not force:
            raise InputError([Problem(Mark(str(folder / "manifest.json")), field, f"{why}. Results may differ; use "
                                      "--force to rerun anyway") for field, why in reasons])
        if out is not None:
            check_out(out)
    except InputError as exc:
        fail(exc, "rerun")
        return
    for _, why in reasons:
        typer.echo(f"warning: {why} (--force)", err=True)
    if m.get("sweep"):  # a sweep's folder is rerun as a sweep
        rerun_sweep(m, folder, scn, workers, out)
        return
    _rerun_run(m, folder, scn, workers, out)


def _rerun_run(m: dict, folder: Path, scn, workers, out) -> None:
    from ..files import OutputError
    from ..interrupts import SignalDeferral
    from ..manifests import COMPARED, compare_runs
    from ..provenance import versions
    from ..runner import ChunkFailed
    from ..workflows import run_with_uncertainty, save_run, uncertainty_stopped

    deps = {k: v for k, v in m["versions"].items() if k not in ("sim",) and versions().get(k) != v}
    for k, v in deps.items():
        typer.echo(f"warning: {k} was {v} at the run, is {versions().get(k)} now; results may differ", err=True)
    failure = None
    with SignalDeferral() as deferral:
        try:
            with common.notices("rerun"):
                try:
                    res = run_with_uncertainty(
                        scn, uncertainty=(m["uncertainty"]["sets"], m["uncertainty"]["runs"]) if m.get("uncertainty") else None,
                        runs=m["runs_requested"], seed=m["seed"], months=m["horizon_months"], workers=workers,
                        chunk_size=m["chunk_size"], dtype=m.get("dtype", "float64"), levers=m.get("levers"),
                        ci_halfwidth=m.get("ci_halfwidth"))
                except InputError as exc:  # checked with the manifest; a dead scheduler, say
                    fail(exc, "rerun")
                    return
        except ChunkFailed as exc:
            failure = exc
            res = exc.partial  # type: ignore[attr-defined]
            if res is None:
                common.chunk_failed(failure, "rerun", "No chunk finished, so nothing was saved or compared.")
        with deferral.hold():  # a Ctrl-C now is acted on once the folder is whole
            res.manifest["rerun_of"] = str(folder)
            try:
                target = common.out_folder(res, out, "rerun")
                save_run(res, target, report=False)
            except OutputError as exc:
                common.failed_output(exc, "rerun")
    stopped = res.manifest.get("stopped_by") or uncertainty_stopped(res)
    if failure is not None or stopped is not None:
        why = common.STOPPED.get(stopped, (f"sim rerun: {failure}", 1))
        typer.echo(f"{why[0]}: the rerun stopped after {res.runs:,} of {res.runs_requested:,} runs, so nothing was "
                   f"compared; they are saved in {target}/ with complete=false.", err=True)
        raise typer.Exit(why[1])
    diff = compare_runs(folder, target)
    if not m.get("complete", True):
        typer.echo(f"The original run was incomplete ({m.get('runs_completed')} of {m['runs_requested']} runs); "
                   f"the rerun has all {res.runs:,}, so its results are expected to differ.")
    if diff:
        typer.echo(f"Results differ from {folder}/: {', '.join(diff)} (new run in {target}/)")
        raise typer.Exit(1)
    typer.echo(f"Reproduced: {', '.join(COMPARED)} are identical to {folder}/ (new run in {target}/).")


SWEEP_COMPARED = ("sets.csv", "sample.csv", "indices.csv", "noise.csv", "summary.json")
"""The files of a sweep folder a rerun must reproduce byte for byte."""


def rerun_sweep(m: dict, folder: Path, scn, workers, out) -> None:
    """``sim rerun`` of a sweep's folder: the same design, seed and runs, as ``sim sweep``
    made it (from its manifest); the sweep's data files compared byte for byte."""
    from ..manifests import sweep_arguments
    from .sweep import sweep_and_save

    try:
        a = sweep_arguments(m, folder, scn)
    except InputError as exc:
        fail(exc, "rerun")
        return
    target = sweep_and_save(SimpleNamespace(
        scenario=str(folder / "scenario.resolved.yaml"), method=a["method"], samples=a["samples"], runs=a["runs"],
        param=a["params"], lever=a["levers"], pull=a["pull"], set_=None, seed=a["seed"], months=a["months"],
        workers=workers, chunk_size=a["chunk_size"], backend="auto", scheduler=None, precision=a["dtype"],
        ci_halfwidth=a["ci_halfwidth"], second_order=a["second_order"], first_order_only=False, design=None,
        worker_timeout=None, replicates=False, out=out, no_report=True, json_=False, plugin=None), rerun_of=folder)
    diff = [f for f in SWEEP_COMPARED if not ((folder / f).is_file() and (target / f).is_file()
                                              and (folder / f).read_bytes() == (target / f).read_bytes())]
    if not m.get("complete", True):
        typer.echo(f"The original sweep was incomplete ({m.get('runs_completed')} of {m['runs_requested']} runs); "
                   "the rerun has all its runs, so its results are expected to differ.")
    if diff:
        typer.echo(f"Results differ from {folder}/: {', '.join(diff)} (new sweep in {target}/)")
        raise typer.Exit(1)
    typer.echo(f"Reproduced: {', '.join(SWEEP_COMPARED)} are identical to {folder}/ (new sweep in {target}/).")
