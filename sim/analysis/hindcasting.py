"""The two panel studies the command line runs: ``sim hindcast`` and ``sim calibrate``.

:func:`hindcast_panel` forecasts every row of a panel file with a calibration (the shipped
one by default: the rules' own defaults), writes ``forecasts.csv`` so that anyone can score
it, and, when the file has outcome columns, scores it beside the statistical baseline (a
logistic regression on the same features, fitted on training years) and the base rate,
with a report page. :func:`calibrate_panel` fits a calibration on a panel's rows and
writes it with a report. Both write a new folder whole, with a manifest.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..scenario.errors import InputError, Mark, Problem, option_error
from . import calibration as C
from . import hindcast as H
from .panel import Panel, read_panel

SHIPPED = Path(__file__).resolve().parents[1] / "rules" / "calibration.json"


@dataclass
class HindcastRun:
    """What :func:`hindcast_panel` made: the forecasts, their scores (if the panel has outcomes)."""

    folder: Path
    forecasts: Any
    evaluation: Any = None
    notes: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)


def load_calibration(path: str | Path | None) -> C.Calibration:
    """A calibration file (``--calibration``), or the shipped one."""
    p = Path(path) if path is not None else SHIPPED
    try:
        return C.Calibration.read(p)
    except FileNotFoundError:
        raise option_error("--calibration", f"{p}: no such file; give a calibration.json `sim calibrate` wrote") from None
    except (json.JSONDecodeError, TypeError, KeyError) as exc:
        raise option_error("--calibration", f"{p}: not a calibration file ({type(exc).__name__}: {exc})") from None


def _split_train(panel: Panel, scored: tuple[int, int], train: str | None) -> Panel | None:
    """The baseline's training rows: ``train`` years of the same file, or the years before the scored ones."""
    if train is not None:
        return panel.select(train)
    lo = int(panel.frame["year"].min())
    if scored[0] <= lo:
        return None
    return panel.select(f"{lo}-{scored[0] - 1}")


def hindcast_panel(path: str | Path, *, years: str | None = None, train: str | None = None, runs: int = H.DEFAULT_RUNS,
                   seed: int = 1, calibration: str | Path | None = None, out: str | Path | None = None,
                   workers: int | None = None, backend: str = "auto", scheduler: str | None = None,
                   progress=None, method: str = "hybrid", baseline: bool = True) -> HindcastRun:
    """Forecast the rows of ``path`` (the years ``years``) and score them if it has outcome columns.

    The baseline regression (and the base rate the Brier skill is measured against) is fitted
    on ``train`` years of the same file — by default the years before the scored ones; a file
    with no earlier years is scored against the calibration's own base rates, without a baseline.
    """
    from ..outputs import check_out, new_folder

    if runs < 1:
        raise option_error("--runs", f"must be at least 1 (got {runs})")
    if out is not None:
        check_out(out)
    t0 = time.perf_counter()
    full = read_panel(path)
    panel = full.select(years) if years else full
    if len(panel.frame) == 0:
        raise option_error("--years", f"{path}: no rows in {years}")
    cal = load_calibration(calibration)
    yrs = (int(panel.frame["year"].min()), int(panel.frame["year"].max()))
    rules, ti = C.rules_of(cal), C.template_inputs(cal)
    hc = H.forecast(panel.frame.reset_index(drop=True), runs=runs, seed=seed, rules=rules,
                    persistence=ti["persistence"], force_share=ti["force_share"], workers=workers, backend=backend,
                    scheduler=scheduler, progress=progress, method=method)
    notes: list[str] = []
    ev = None
    if panel.outcomes:
        from .forecasts import base_rates, evaluate

        tr = _split_train(full, yrs, train) if baseline else None
        forecasters = {"model": hc.forecasts}
        if tr is not None and len(tr.frame):
            from .baseline import fit_baseline

            reg = fit_baseline(tr)
            forecasters["regression"] = reg.predict(panel)
            rates = base_rates(tr)
            notes.append(f"the regression and the base rates are fitted on {tr.frame['year'].min()}-"
                         f"{tr.frame['year'].max()} ({len(tr.frame):,} rows)")
        else:
            rates = dict(cal.panel.get("base_rates") or {})
            from .panel import FORECAST_OUTCOMES

            lacking = [k for k in panel.outcomes if k in FORECAST_OUTCOMES and k not in rates]
            if lacking:
                raise option_error("--train", f"{path}: no years before {yrs[0]} to fit the baseline and base rates on, "
                                   f"and the calibration has no base rate of {', '.join(lacking)}: give --train A-B")
            notes.append("no training years before the scored ones: no regression; Brier skill against the base rates "
                         f"of the calibration's panel ({cal.panel.get('years')})")
        ev = evaluate(panel, forecasters, rates, reference="regression" if "regression" in forecasters else None,
                      details={"calibration": str(calibration or SHIPPED), "runs": runs, "seed": seed,
                               "method": method, "scored_years": f"{yrs[0]}-{yrs[1]}"})
    folder = Path(out) if out is not None else new_folder(Path("outputs") / "hindcast")
    _save_hindcast(folder, hc, ev, {"panel": str(path), "years": f"{yrs[0]}-{yrs[1]}", "rows": len(panel.frame),
                                    "runs": runs, "seed": seed, "method": method,
                                    "calibration": str(calibration or SHIPPED), "notes": notes,
                                    "seconds": time.perf_counter() - t0, **{k: v for k, v in hc.meta.items()
                                                                            if k in ("replicates", "method")}})
    return HindcastRun(folder, hc.forecasts, ev, notes, hc.meta)


def _save_hindcast(folder: Path, hc: H.Hindcast, ev, manifest: dict) -> None:
    from ..provenance import git_commit, versions
    from ..report.hindcast import write_report
    from .forecasts import write_forecasts

    folder.mkdir(parents=True, exist_ok=True)
    write_forecasts(hc.forecasts, folder / "forecasts.csv")
    if ev is not None:
        ev.scores.to_csv(folder / "scores.csv", index=False)
        if len(ev.comparisons):
            ev.comparisons.to_csv(folder / "comparisons.csv", index=False)
        write_report(ev, folder)
    from ..files import atomic_write

    m = {**manifest, "versions": versions(), "git_commit": git_commit()}
    atomic_write(folder / "manifest.json", json.dumps(m, indent=1, default=str) + "\n")


def calibrate_panel(path: str | Path, *, years: str | None = None, out: str | Path | None = None, boot: int = 1000,
                    seed: int = 1, runs: int = 200, verbose: bool = False,
                    fix: dict | None = None) -> tuple[Path, C.Calibration]:
    """Fit a calibration on the rows of ``path`` (``years``); write ``calibration.json`` and a manifest.
    ``fix``: parameters held fixed, as :func:`sim.analysis.calibration.calibrate` takes them."""
    from ..files import atomic_write
    from ..outputs import check_out, new_folder
    from ..provenance import git_commit, versions

    if out is not None:
        check_out(out)
    panel = read_panel(path, years=years)
    missing = [c for c in ("onset", "onset_force", "onset_fatal", "onset_war", "onset_occupation", "onset_occupy",
                           "ongoing") if c not in panel.outcomes]
    if missing:
        raise InputError([Problem(Mark(str(path), 1, 1), "", f"has no outcome column {', '.join(missing)}: a "
                                  "calibration fits the model to what MID codes; give a panel with outcome columns")])
    t0 = time.perf_counter()
    cal = C.calibrate(panel.frame.reset_index(drop=True), boot=boot, seed=seed, runs=runs, verbose=verbose, fix=fix)
    cal.panel["file"] = str(path)
    folder = Path(out) if out is not None else new_folder(Path("outputs") / "calibrate")
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(folder / "calibration.json", cal.to_json())
    atomic_write(folder / "parameters.md", C.markdown(cal))
    atomic_write(folder / "uncertainties.yaml", C.uncertainties_yaml(cal))  # scenarios/base.yaml's block
    atomic_write(folder / "manifest.json", json.dumps({"panel": str(path), "years": cal.panel.get("years"),
                                                       "boot": boot, "seed": seed, "runs": runs, "fixed": fix or {},
                                                       "seconds": time.perf_counter() - t0, "versions": versions(),
                                                       "git_commit": git_commit()}, indent=1, default=str) + "\n")
    return folder, cal
