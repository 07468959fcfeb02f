"""Backtest: score the model's forecasts of questions with known answers.

::

    import sim
    bt = sim.backtest("questions.yaml", runs=5000, seed=1)
    bt.table()        # per question: forecast with its Monte Carlo interval, base rate, answer
    bt.scores         # Brier and log scores of the model, the base rate and 50%; skill
    bt.save("outputs/backtest/mine")

Each scenario the questions name is run once, with every question's outcome in it
(inline outcomes added to a copy of the scenario), for as many months as its longest
window. A question's forecast is the share of runs in which its outcome *first*
happened within the window, ``months 1 .. window`` (month 1 is the scenario's start
month). The forecasts are scored against the answers, next to two reference
forecasters: the question's reference-class base rate, and 50% for everything.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import api
from .. import arguments as A
from ..files import write_folder
from ..interrupts import Terminated
from ..paths import repo_root
from ..report.backtest import reliability_figure, summary_markdown
from ..results import wilson
from ..scenario.errors import InputError, option_error
from ..scenario.expr import month_index, month_text
from . import scores as S
from .questions import Group, QuestionSet, bind_questions, read_questions

if TYPE_CHECKING:
    import pandas as pd

FROZEN_TAG = "calibration-frozen"
"""The git tag of the model frozen before the question set was written (issue 11)."""
FORECASTERS = ("model", "base_rate", "half")
"""The forecasters scored: the model, the questions' base rates, 50% for everything."""
DEFAULT_BINS = 5
"""Reliability bins (of width 0.2): a question set has tens of questions, not hundreds."""


# --------------------------------------------------------------------------- git


def git_ref(name: str) -> str | None:
    """The commit a tag, branch or commit id names in this checkout (None if none, or no git)."""
    root = repo_root()
    if root is None or not name or name.startswith("-"):
        return None
    try:
        r = subprocess.run(["git", "-C", str(root), "rev-parse", "--verify", "--quiet", f"{name}^{{commit}}"],
                           capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if r.returncode != 0:
        return None
    return r.stdout.strip() or None


def model_check(model: str, commit: str | None) -> tuple[str | None, list[str]]:
    """The commit the question file's ``model`` names, and warnings if this code is not it."""
    if commit is None:
        return None, [f"the questions are to be scored against '{model}', and this is not a git checkout, "
                      "so which model scored them cannot be checked"]
    target = git_ref(model)
    if target is None:
        return None, [f"the questions are to be scored against '{model}', which is not a tag or commit of this "
                      f"checkout; scored with commit {commit[:12]}"]
    warnings = []
    if commit.split("-")[0] != target:
        warnings.append(f"the questions are to be scored against '{model}' (commit {target[:12]}); "
                        f"this is commit {commit[:12]}")
    if commit.endswith("-dirty"):
        warnings.append("the checkout has uncommitted changes, so the model scored is not exactly any commit")
    return target, warnings


# ----------------------------------------------------------------------- results


@dataclass
class Backtest:
    """A scored question set.

    Attributes:
        questions: The question file.
        rows: One dict per question (file order): forecast, interval, base rate, answer,
            Brier and log terms of each forecaster.
        scores: Brier and log score of each forecaster, Brier skill of the model against
            the others, counts, the Monte Carlo error of the model's Brier score.
        reliability: The model's reliability table (:func:`sim.analysis.scores.reliability`).
        manifest: What was run: commits, seed, runs, scenarios, versions, timings.
        resolved: The resolved scenario as run, YAML text, by output file name.
        warnings: What the reader should know (the model scored is not the one named...).
    """

    questions: QuestionSet
    rows: list[dict[str, Any]]
    scores: dict[str, Any]
    reliability: pd.DataFrame
    manifest: dict[str, Any]
    resolved: dict[str, str] = field(default_factory=dict, repr=False)
    warnings: list[str] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        """The per-question table (``questions.csv``), indexed by question id."""
        import pandas as pd

        return pd.DataFrame(self.rows).set_index("id")

    def save(self, folder: str | Path | None = None, *, figures: bool = True) -> Path:
        """Write the backtest folder; ``folder`` must be new or empty (default: a new one
        under ``outputs/backtest/``). Every file is written whole or not at all, the
        manifest last.

        Files: ``questions.csv``, ``scores.json``, ``reliability.csv``, ``summary.md``,
        ``fig_reliability.png`` (unless ``figures=False``), ``questions.yaml`` (the file
        scored), ``scenario.<name>.resolved.yaml`` per scenario, ``manifest.json``.
        """
        from ..results import _clean, atomic_write

        t0 = time.perf_counter()
        target = api.prepare_out(folder) if folder is not None else api.default_output_dir(self._naming())

        def files(target: Path) -> None:
            atomic_write(target / "questions.yaml", self.questions.text)
            for name, text in self.resolved.items():
                atomic_write(target / name, text)
            atomic_write(target / "questions.csv", self.table().to_csv(float_format="%.6g"))
            atomic_write(target / "reliability.csv", self.reliability.to_csv(index=False, float_format="%.6g"))
            atomic_write(target / "scores.json", json.dumps(_clean(self.summary()), indent=2) + "\n")
            fig = reliability_figure(self, target / "fig_reliability.png") if figures else None
            atomic_write(target / "summary.md", summary_markdown(self, fig.name if fig else None))

        def manifest(target: Path, extra: dict[str, Any]) -> None:
            m = {**self.manifest, **extra}
            m.setdefault("timings_s", {})["outputs"] = time.perf_counter() - t0
            atomic_write(target / "manifest.json", json.dumps(_clean(m), indent=2) + "\n")

        return write_folder(target, files, manifest)

    def summary(self) -> dict[str, Any]:
        """``scores.json``: the scores, the questions' ids and answers, the model scored."""
        return {
            "questions_file": str(self.questions.path),
            "selection": self.questions.selection,
            "model": self.questions.model,
            "model_commit": self.manifest.get("model_commit"),
            "git_commit": self.manifest.get("git_commit"),
            "calibration_frozen": self.manifest.get("calibration_frozen"),
            **self.scores,
            "reliability": self.reliability.to_dict(orient="records"),
            "warnings": self.warnings,
        }

    def _naming(self) -> Any:
        """What :func:`sim.api.default_output_dir` names a folder by."""
        from types import SimpleNamespace

        m = self.manifest
        return SimpleNamespace(scenario="backtest", seed=m["seed"], runs_requested=m["runs"],
                               horizon=max((s["horizon_months"] for s in m["scenarios"]), default=0),
                               manifest={"scenario_sha256": m["questions_sha256"]})


# ----------------------------------------------------------------------- running


def forecast_rows(group: Group, res: Any) -> list[dict[str, Any]]:
    """Each question's forecast from its scenario's run: the share of runs whose outcome
    first happened in months 1..window, with its Wilson 95% interval."""
    start = month_index(group.scenario.spec.meta.start)
    names = [o.name for o in res.outcomes]
    rows = []
    for q in group.questions:
        i = names.index(q.outcome_name)
        hits = int(res.hist[i, 1:q.window + 1].sum())
        lo, hi = wilson(hits, res.runs)
        rows.append({
            "id": q.id,
            "scenario": group.scenario.name,
            "question": q.text,
            "outcome": q.outcome_name,
            "outcome_description": res.outcomes[i].description,
            "window_months": q.window,
            "window": f"{month_text(start)} to {month_text(start + q.window - 1)}",
            "forecast": hits / res.runs,
            "ci_low": lo,
            "ci_high": hi,
            "hits": hits,
            "runs": res.runs,
            "base_rate": q.base_rate,
            "answer": "yes" if q.answer else "no",
            "resolved": int(q.answer),
            "resolved_on": q.resolved_on,
            "resolution_source": q.resolution_source,
            "base_rate_source": q.base_rate_source,
        })
    return rows


def score(rows: list[dict[str, Any]], bins: int = DEFAULT_BINS) -> tuple[dict[str, Any], pd.DataFrame]:
    """Add each forecaster's Brier and log terms to ``rows``; return the scores and the
    model's reliability table."""
    o = [r["resolved"] for r in rows]
    forecasts = {"model": [r["forecast"] for r in rows], "base_rate": [r["base_rate"] for r in rows],
                 "half": [0.5] * len(rows)}
    out: dict[str, Any] = {"questions": len(rows), "yes": sum(o), "no": len(o) - sum(o), "forecasters": {}}
    for name, f in forecasts.items():
        b, lg = S.brier_terms(f, o), S.log_terms(f, o)
        for r, bi, li in zip(rows, b, lg, strict=True):
            r[f"brier_{name}"] = float(bi)
            r[f"log_{name}"] = float(li)
        out["forecasters"][name] = {"brier": float(b.mean()), "log": float(lg.mean())}
    fc = out["forecasters"]
    out["brier_skill"] = {"vs_base_rate": S.skill(fc["model"]["brier"], fc["base_rate"]["brier"]),
                          "vs_half": S.skill(fc["model"]["brier"], fc["half"]["brier"])}
    out["brier_mc_se"] = S.brier_mc_se(forecasts["model"], o, [r["runs"] for r in rows])
    out["log_floor"] = S.LOG_FLOOR
    out["bins"] = bins
    return out, S.reliability(forecasts["model"], o, bins)


def backtest(
    questions: str | Path | QuestionSet,
    scenario: Any = None,
    *,
    runs: int | None = None,
    seed: int | None = None,
    bins: int = DEFAULT_BINS,
    workers: int | None = None,
    chunk_size: int | None = None,
    dtype: str = "float32",
    progress: Callable[[str, int, int], None] | None = None,
) -> Backtest:
    """Forecast and score a question file.

    Args:
        questions: A question file (YAML), or one already read (:func:`read_questions`).
        scenario: The scenario of questions that name none (a name, a path or a
            :class:`~sim.api.LoadedScenario`), when the file names none either.
        runs: Replicates per scenario (default: each scenario's ``meta.runs``).
        seed: Random seed of every scenario's run (default: each scenario's).
        bins: Bins of the reliability table, of equal width over 0..1.
        workers, chunk_size, dtype: As for :func:`sim.run`.
        progress: Called with (scenario name, replicates done, total).

    Returns:
        The scored :class:`Backtest` (nothing is written: :meth:`Backtest.save`).

    Raises:
        InputError: A bad question file, scenario or option, every problem at once.
        KeyboardInterrupt, sim.interrupts.Terminated: A run was stopped; nothing scored.
        sim.runner.ChunkFailed: A run failed.
    """
    t0 = time.perf_counter()
    wrong = A.problems(
        questions=(lambda v: None if isinstance(v, QuestionSet | str | os.PathLike) else
                   f"expected a question file's path (or read_questions(path)), got {A.what(v)}", questions),
        scenario=(A.optional_scenario, scenario), progress=(A.callback, progress))
    wrong += api.run_option_problems(runs, workers, None, chunk_size, seed=seed, dtype=dtype)
    if not isinstance(bins, int) or isinstance(bins, bool) or not 1 <= bins <= 100:
        wrong += option_error("bins", f"must be a whole number from 1 to 100 (got {bins!r})").problems
    if wrong:
        raise InputError(wrong)
    qset = questions if isinstance(questions, QuestionSet) else read_questions(questions)
    groups = bind_questions(qset, scenario)
    commit = api.git_commit()
    model_commit, warnings = model_check(qset.model, commit)
    frozen = git_ref(FROZEN_TAG)
    rows_by_id: dict[str, dict[str, Any]] = {}
    scen_manifest, resolved = [], {}
    for gi, g in enumerate(groups):
        cb = None if progress is None else (lambda done, total, _n=g.scenario.name: progress(_n, done, total))
        res = api.run(g.scenario, runs=runs, seed=seed, months=g.months, workers=workers, chunk_size=chunk_size,
                      dtype=dtype, progress=cb)
        if res.stopped_by == "interrupt":
            raise KeyboardInterrupt
        if res.stopped_by == "SIGTERM":
            raise Terminated
        for r in forecast_rows(g, res):
            rows_by_id[r["id"]] = r
        fname = f"scenario.{g.scenario.name}.resolved.yaml"
        if fname in resolved:
            fname = f"scenario.{g.scenario.name}.{gi + 1}.resolved.yaml"
        resolved[fname] = res.resolved_yaml
        rm = res.manifest
        scen_manifest.append({
            "scenario": g.scenario.name, "scenario_file": str(g.scenario.path), "resolved_file": fname,
            "scenario_sha256": rm["scenario_sha256"], "overrides": rm["overrides"], "seed": rm["seed"],
            "runs": res.runs, "horizon_months": rm["horizon_months"], "chunk_size": rm["chunk_size"],
            "dtype": rm["dtype"], "workers": rm["workers"], "backend": rm["backend"],
            "questions": [q.id for q in g.questions], "timings_s": rm["timings_s"],
        })
    rows = [rows_by_id[q.id] for q in qset.questions]
    scores, table = score(rows, bins)
    manifest = {
        "kind": "backtest",
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "questions_file": str(qset.path),
        "questions_sha256": hashlib.sha256(qset.text.encode()).hexdigest(),
        "selection": qset.selection,
        "model": qset.model,
        "model_commit": model_commit,
        "git_commit": commit,
        "calibration_frozen": {"tag": FROZEN_TAG, "commit": frozen} if frozen else None,
        "seed": seed,
        "runs": runs,
        "bins": bins,
        "scenarios": scen_manifest,
        "versions": api.versions(),
        "platform": platform.platform(),
        "command": sys.argv if sys.argv and sys.argv[0].endswith("sim") else None,
        "warnings": warnings,
        "timings_s": {"total_before_outputs": time.perf_counter() - t0},
    }
    return Backtest(qset, rows, scores, table, manifest, resolved, warnings)


__all__ = ["DEFAULT_BINS", "FROZEN_TAG", "Backtest", "backtest", "forecast_rows", "git_ref", "model_check", "score"]
