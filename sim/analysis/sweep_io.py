"""Writing and reading a sweep's folder.

``sim sweep`` writes, like ``sim run``, a new folder ``outputs/<scenario>/sweep-...``:

| file | what |
|---|---|
| ``sets.csv`` | one row per parameter set: inputs, runs, each outcome's probability, events per run |
| ``indices.csv`` | sensitivity indices per outcome and input, with 95% confidence half-widths, ``flag`` (why an index is not to be trusted) and ``driver`` |
| ``interactions.csv`` | with ``--second-order``: Sobol S2 per outcome and pair of inputs |
| ``noise.csv`` | per outcome: spread across sets and the share of its variance that is Monte Carlo noise |
| ``sample.csv`` | the sample as SALib drew it (for re-analysis) |
| ``summary.json`` | the sweep in one file: method, inputs, per outcome spread, indices, a sentence |
| ``manifest.json``, ``scenario.resolved.yaml`` | as for ``sim run`` (with a ``sweep`` entry) |
| ``fig_*.png``, ``report.html`` | index bars and outcome-vs-input plots; the page |
| ``replicates.parquet`` | with ``--replicates``: one row per replicate |
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..files import write_folder
from ..results import _clean, atomic_write
from ..scenario.errors import InputError, Mark, Problem, json_cut_short
from ..scenario.validation import validate_model
from .design import SWEEP_METHODS


def save_sweep(sw: Any, folder: Path, *, report: Any = None, replicates_file: Path | None = None) -> Path:
    """Write the sweep's data files, then ``report(sw, folder)`` if given, manifest last
    (a folder that cannot be written whole: :func:`sim.files.write_folder`)."""
    import time

    t0 = time.perf_counter()
    res = sw.results

    def files(folder: Path) -> None:
        import pandas as pd

        atomic_write(folder / "scenario.resolved.yaml", res.resolved_yaml)
        atomic_write(folder / "sets.csv", sw.table().join(sw.events()).to_csv(float_format="%.6g"))
        atomic_write(folder / "indices.csv", sw.indices().to_csv(float_format="%.6g"))
        if sw.method == "sobol" and sw.second_order:
            atomic_write(folder / "interactions.csv", sw.interactions().to_csv(float_format="%.6g"))
        atomic_write(folder / "noise.csv", sw.noise().to_csv(float_format="%.6g"))
        atomic_write(folder / "sample.csv", pd.DataFrame(sw.X, columns=[i.name for i in sw.inputs]).to_csv(
            index_label="set", float_format="%.10g"))
        atomic_write(folder / "summary.json", json.dumps(_clean(sw.summary()), indent=2) + "\n")
        res.save_replicates(folder, replicates_file)
        if report is not None and res.runs > 0:
            report(sw, folder)
        res.manifest.setdefault("timings_s", {})["outputs"] = time.perf_counter() - t0

    return write_folder(folder, files, res.write_manifest)


def save_partial(sw: Any, folder: Path, *, replicates_file: Path | None = None) -> Path:
    """A sweep stopped before every set had its runs: the sets so far, the per-run rows of the
    runs that finished (with ``--replicates``, as a stopped ``sim run`` keeps them) and the
    manifest; no analysis."""
    res = sw.results

    def files(folder: Path) -> None:
        atomic_write(folder / "scenario.resolved.yaml", res.resolved_yaml)
        atomic_write(folder / "sets.csv", sw.table().to_csv(float_format="%.6g"))
        res.save_replicates(folder, replicates_file)

    return write_folder(folder, files, res.write_manifest)


def read_sweep(folder: str | Path) -> tuple[Any, dict]:
    """A sweep folder's ``sets.csv`` (as a DataFrame indexed by set) and ``summary.json``, checked.

    An :class:`~sim.scenario.errors.InputError` names the file (and the line or field) of
    every problem: not a sweep folder, a sweep stopped before every set ran, a summary
    that is not a sweep's, a ``sets.csv`` that is garbled, lacks a column, or is cut
    short (fewer rows than the sweep's sets, or a last line cut). A cut ``sets.csv`` is
    refused rather than analysed: the rows lost are the last sets of the design, not a
    random sample of them, so boxes, coverage and the base rate over what is left would
    describe a design nobody ran. ``sim rerun FOLDER`` makes the sweep again.
    """
    p = Path(folder)
    if not p.is_dir():
        what = "no such folder" if not p.exists() else "not a folder"
        raise InputError([Problem(Mark(str(p)), "", f"{what}; give a folder written by `sim sweep`")])
    sets_file, summary_file = p / "sets.csv", p / "summary.json"
    if not summary_file.is_file():
        raise InputError([Problem(Mark(str(p)), "", _no_summary(p))])
    summary = _summary(summary_file)
    if not sets_file.is_file():
        what = "not a file" if sets_file.exists() else "missing"
        raise InputError([Problem(Mark(str(sets_file)), "", f"{what}: the sweep's table of sets is gone; "
                                  f"run the sweep again (sim rerun {p})")])
    return _sets(sets_file, summary, p), summary


def _no_summary(p: Path) -> str:
    """Why a folder without ``summary.json`` is not a sweep to analyse (a stopped sweep says so)."""
    try:
        m = json.loads((p / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        m = None
    if isinstance(m, dict) and isinstance(m.get("sweep"), dict) and m.get("complete") is False:
        return (f"this sweep stopped before every set had its runs (manifest.json: stopped_by "
                f"{m.get('stopped_by')}), so it has no summary.json and nothing to analyse; run it again "
                f"(sim rerun {p})")
    missing = [f for f in ("sets.csv", "summary.json") if not (p / f).is_file()]
    return f"not a sweep folder (no {', '.join(missing)}); give a folder written by `sim sweep`"


def _summary(path: Path) -> dict:
    from pydantic import BaseModel, ConfigDict, Field


    where = Mark(str(path))
    try:
        text = path.read_text(encoding="utf-8")
        summary = json.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(where, "", f"cannot read it ({getattr(exc, 'strerror', None) or exc})")]) from None
    except json.JSONDecodeError as exc:
        why = ("the file is cut short (its JSON ends early)" if json_cut_short(text, exc) else f"not valid JSON at line {exc.lineno} column {exc.colno} ({exc.msg})")
        raise InputError([Problem(where, "", f"{why}; run the sweep again (sim rerun {path.parent})")]) from None
    if not isinstance(summary, dict) or "sweep_version" not in summary:
        raise InputError([Problem(where, "", "not a sweep summary (a `sim run` folder?); give a folder written by "
                                  "`sim sweep`")])

    class Loose(BaseModel):
        model_config = ConfigDict(extra="allow")

    class InputEntry(Loose):
        name: str
        lever: bool = False

    class OutcomeEntry(Loose):
        description: str

    class Summary(Loose):
        sweep_version: int
        method: str
        sets: int = Field(ge=1)
        runs_per_set: int = Field(ge=1)
        runs: int = Field(ge=0)
        inputs: list[InputEntry] = Field(min_length=1)
        outcomes: dict[str, OutcomeEntry] = Field(min_length=1)

    checked = validate_model(Summary, summary, file=str(path))
    if checked.method not in SWEEP_METHODS:
        raise InputError([Problem(where, "method", f"unknown method {checked.method!r}; sweeps use "
                                  f"{', '.join(SWEEP_METHODS)}")])
    return summary


def _sets(path: Path, summary: dict, folder: Path) -> Any:
    """``sets.csv`` checked against the summary: columns, values, and every set there."""
    import numpy as np
    import pandas as pd


    again = f"run the sweep again (sim rerun {folder})"
    try:
        raw = path.read_bytes()
        sets = pd.read_csv(path, index_col="set")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(Mark(str(path)), "", f"cannot read it ({getattr(exc, 'strerror', None) or exc})")]) from None
    except (ValueError, TypeError, KeyError, IndexError, pd.errors.ParserError) as exc:  # pandas on a garbled file
        header = raw.split(b"\n", 1)[0].decode("utf-8", "replace").strip().split(",")
        why = ("it is empty" if not raw.strip() else "no column 'set', the number of each parameter set"
               if "set" not in header else str(exc).strip().splitlines()[0])
        raise InputError([Problem(Mark(str(path)), "", f"not a table of a sweep's sets ({why}); {again}")]) from None
    problems: list[Problem] = []
    inputs = [i["name"] for i in summary["inputs"]]
    levers = {i["name"] for i in summary["inputs"] if i.get("lever")}
    outcomes = list(summary["outcomes"])
    need = [*inputs, "runs", *outcomes]
    missing = [c for c in need if c not in sets.columns]
    if missing:
        problems.append(Problem(Mark(str(path), 1, 1), "", f"no column {', '.join(repr(c) for c in missing)}, which the "
                                f"sweep has (summary.json); the file was edited or is another sweep's: {again}"))
        raise InputError(problems)
    n, want = len(sets), int(summary["sets"])
    cut = not raw.endswith(b"\n")
    if cut:
        problems.append(Problem(Mark(str(path), n + 1, 1), "", f"the last line (set {sets.index[-1] if n else '?'}) is "
                                f"cut short: the file does not end where sim wrote it; {again}"))
    if list(sets.index) != list(range(n)) or n != want:
        have = set(sets.index) if sets.index.dtype.kind in "iu" else set()
        lost = [s for s in range(want) if s not in have]
        span = f"set {lost[0]}" if len(lost) == 1 else f"sets {lost[0]} to {lost[-1]}" if lost else "none"
        problems.append(Problem(Mark(str(path)), "", f"{n} rows, but the sweep had {want:,} parameter sets "
                                f"(summary.json); missing: {span if lost else 'none, but the rows are not sets 0 to ' + str(want - 1)}. "
                                f"A cut table would describe a design nobody ran, so it is not analysed: {again}"))
    for col in need if not cut else []:  # a cut last line is the one problem worth saying
        values = pd.to_numeric(sets[col].map({True: 1, False: 0, "True": 1, "False": 0}) if col in levers else sets[col],
                               errors="coerce")
        bad = values.isna() | ~np.isfinite(values.astype(float))
        if col == "runs":
            bad |= (values < 0) | (values % 1 != 0)
        elif col in outcomes:
            bad |= (values < 0) | (values > 1)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            got = sets[col].iloc[row]
            got = got.item() if isinstance(got, np.generic) else got
            what = {"runs": "a whole number of runs"}.get(col, "a probability from 0 to 1" if col in outcomes else
                                                          "true or false" if col in levers else "a number")
            problems.append(Problem(Mark(str(path), row + 2, 1), col, f"expected {what}, got "
                                    f"{'nothing' if pd.isna(got) else repr(got)} (set {sets.index[row]}); {again}"))
    if not problems and int(sets["runs"].sum()) != int(summary["runs"]):
        problems.append(Problem(Mark(str(path)), "runs", f"the sets' runs add up to {int(sets['runs'].sum()):,}, but "
                                f"the sweep ran {int(summary['runs']):,} (summary.json): the file was edited; {again}"))
    if problems:
        raise InputError(problems)
    for c in levers:
        sets[c] = sets[c].map({True: True, False: False, "True": True, "False": False}).astype(bool)
    return sets
