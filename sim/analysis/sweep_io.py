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
    """A sweep folder's ``sets.csv`` (as a DataFrame indexed by set) and ``summary.json``;
    an :class:`~sim.scenario.errors.InputError` if it is not a sweep folder."""
    import pandas as pd

    from ..scenario.errors import InputError, Mark, Problem

    p = Path(folder)
    need = [p / "sets.csv", p / "summary.json"]
    missing = [f.name for f in need if not f.is_file()]
    if missing:
        raise InputError([Problem(Mark(str(p)), "", f"not a sweep folder (no {', '.join(missing)}); "
                                  "give a folder written by `sim sweep`")])
    try:
        summary = json.loads((p / "summary.json").read_text(encoding="utf-8"))
        sets = pd.read_csv(p / "sets.csv", index_col="set")
    except (ValueError, KeyError, UnicodeDecodeError) as exc:
        raise InputError([Problem(Mark(str(p)), "", f"cannot read the sweep ({type(exc).__name__}: {exc})")]) from None
    if "sweep_version" not in summary:
        raise InputError([Problem(Mark(str(p / "summary.json")), "", "not a sweep summary (a `sim run` folder?); "
                                  "give a folder written by `sim sweep`")])
    return sets, summary
