"""Your own design through the vectorized engine: ``sim.evaluate(scenario, design, runs=...)``.

A design is a table of parameter sets, one row per set: a column per parameter path
(``alliances.csto.credibility``, ``rules.escalation.base_down[3]``) and per lever
switched across sets (``lever:armenia.freeze_csto``, 0/1 or False/True). Any sampler
makes one — SALib's (eFAST, PAWN, delta, DGSM...), EMA Workbench's, Mesa's scenario
designs, a hand-written grid — and :func:`evaluate` runs all its sets × ``runs`` as one
Monte Carlo, exactly as :func:`sim.sweep` runs its own samples (:func:`run_sets`
is shared): the same sets with the same seed give the same numbers. The result is a
:class:`~sim.analysis.sweep.Sweep` with ``method == "design"``: its
:meth:`~sim.analysis.sweep.Sweep.experiments` and
:meth:`~sim.analysis.sweep.Sweep.outcomes_table` on one index (``set``), saved like a
sweep (``sim sweep --design FILE.csv``), read by ``sim discover``; SALib's analyses take
its :meth:`~sim.analysis.sweep.Sweep.outputs`.

A SALib ``ProblemSpec`` with samples (from ``scenario.problem()``) is a design too: its
samples are turned into the values the model gets as a sweep turns them (a beta or
choice uncertainty is sampled on its quantile).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..scenario.errors import InputError, Mark, Problem, suggest
from .design import LEVER, Input

SET = "set"
"""A design column that is ignored (the set's number, as ``sets.csv`` writes it)."""
DESIGN_KINDS = ("a DataFrame (or a mapping of columns) with one row per parameter set, the path of such a CSV, or a "
                "SALib ProblemSpec with samples")


def design_argument(v: Any) -> str | None:
    """What is wrong with ``v`` as :func:`evaluate`'s ``design`` (its kind only; its columns and
    values are checked by :func:`read_design` and :func:`from_frame`)."""
    from collections.abc import Mapping
    from os import PathLike

    from ..arguments import what

    if isinstance(v, str | PathLike | Mapping) or (hasattr(v, "columns") and hasattr(v, "to_numpy")):
        return None
    return f"expected {DESIGN_KINDS}, got {what(v)}"


def design_inputs(scn: Any, names: list[str], where: Mark) -> list[Input]:
    """The inputs a design's columns stand for, checked: numeric parameters of the scenario
    and ``lever:actor.lever`` levers it declares. One problem per bad column."""
    from ..montecarlo import parse_levers
    from ..scenario.values import Dist

    plan = scn.compiled()
    known = [e.path for e in plan.entries]
    unc = {u.path: u for u in scn.uncertainties()}
    out, problems = [], []
    for name in names:
        if name.startswith(LEVER):
            try:
                parse_levers(scn, [name[len(LEVER):]], "design")
            except InputError as exc:
                problems.append(Problem(where, name, exc.problems[0].message))
                continue
            out.append(Input(name, Dist("uniform", (0.0, 1.0))))
            continue
        ad = plan.address(name)
        if ad is None or ad.kind not in ("num", "int"):
            lever = name if "." in name and name.split(".", 1)[0] in scn.spec.levers else None
            hint = (f"; a lever is written lever:{name}" if lever else suggest(name, known) or
                    f"; a design's columns are parameter paths (`sim sources {scn.name}` lists them) and "
                    "lever:ACTOR.LEVER")
            problems.append(Problem(where, name, f"is not a numeric parameter of {scn.name}{hint}"))
            continue
        u = unc.get(name)
        out.append(Input(name, u.dist if u is not None else Dist("uniform", (ad.bounds.lo, ad.bounds.hi)),
                         ad.kind == "int", u.source if u is not None else None, from_design=True))
    if problems:
        raise InputError(problems)
    return out


def check_values(scn: Any, inputs: list[Input], values: np.ndarray, where: Any) -> list[Problem]:
    """Every value a number in its parameter's range (a whole number for a whole-number
    parameter, 0 or 1 for a lever). ``where(j, rows)`` gives the place of column j's bad rows."""
    plan = scn.compiled()
    problems = []
    for j, inp in enumerate(inputs):
        v = values[:, j]
        if inp.lever:
            bad = ~np.isin(v, (0.0, 1.0))
            meaning = "0 or 1 (off or on)"
        else:
            b = plan.address(inp.name).bounds
            bad = ~np.isfinite(v) | (v < b.lo) | (v > b.hi)
            meaning = f"a number from {b.lo:g} to {b.hi:g}"
            if inp.integer:
                bad |= np.isfinite(v) & (v != np.round(v))
                meaning = f"a whole number from {b.lo:g} to {b.hi:g}"
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            problems.append(where(j, bad, f"{values[i, j]:g} is not {meaning}; correct it or drop the set"))
    return problems


def read_design(scn: Any, path: str | Path) -> tuple[list[Input], np.ndarray]:
    """A design CSV (header: parameter paths and ``lever:ACTOR.LEVER``; an optional ``set``
    column is ignored): its inputs and values, every cell checked, each problem one line
    ``file:line:col`` naming the column and what to do."""
    import pandas as pd

    from .csvtable import _header, problem

    path = Path(path)
    header = _header(path, "a design", ["PATH"])
    names = [c for c in header if c != SET]
    inputs = design_inputs(scn, names, Mark(str(path), 1, 1))
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    if raw.empty:
        raise InputError([Problem(Mark(str(path), 1, 1), "", "has a header but no rows; a design needs at least "
                                  "one parameter set")])
    values = np.empty((len(raw), len(inputs)))
    problems = []
    lines = np.arange(2, len(raw) + 2)
    for j, inp in enumerate(inputs):
        cells = raw[inp.name].str.strip()
        if inp.lever:
            words = cells.str.lower().map({"1": 1.0, "0": 0.0, "true": 1.0, "false": 0.0, "on": 1.0, "off": 0.0,
                                           "1.0": 1.0, "0.0": 0.0})
            bad = words.isna().to_numpy()
            if bad.any():
                problems.append(problem(path, header, inp.name, lines[bad],
                                        f"'{cells[bad].iloc[0][:40]}' is not 0 or 1 (off or on, False or True)"))
            values[:, j] = words.fillna(0).to_numpy(dtype=float)
            continue
        num = pd.to_numeric(cells, errors="coerce")
        bad = num.isna().to_numpy()
        if bad.any():
            first = cells[bad].iloc[0]
            what = "the cell is empty" if not first else f"'{first[:40]}' is not a number"
            problems.append(problem(path, header, inp.name, lines[bad], f"{what}; every set needs a value"))
        values[:, j] = num.fillna(0).to_numpy(dtype=float)
    if problems:
        raise InputError(problems)
    problems = check_values(scn, inputs, values,
                            lambda j, rows, msg: problem(path, header, inputs[j].name, lines[rows], msg))
    if problems:
        raise InputError(problems)
    return inputs, values


def from_frame(scn: Any, design: Any) -> tuple[list[Input], np.ndarray, np.ndarray]:
    """Inputs, the sample as given (``X``) and the model's values for a design given as a
    DataFrame (or mapping of columns) or a SALib ``ProblemSpec`` with samples."""
    import pandas as pd

    where = Mark("<design>", option="design")
    if hasattr(design, "samples") and isinstance(design, dict) and "names" in design:  # a SALib ProblemSpec
        X = design.samples
        if X is None:
            raise InputError([Problem(where, "", "the ProblemSpec has no samples yet; draw them first "
                                      "(sp.sample_latin(N), sp.sample_sobol(N)...)")])
        names = list(design["names"])
        inputs = design_inputs(scn, names, where)
        X = np.asarray(X, dtype=float)
        unc = {u.path for u in scn.uncertainties()}
        values = np.column_stack([inp.values(X[:, j]) if (inp.name in unc or inp.lever) else
                                  (np.rint(X[:, j]) if inp.integer else X[:, j]) for j, inp in enumerate(inputs)])
        return inputs, X, values
    try:
        df = design if isinstance(design, pd.DataFrame) else pd.DataFrame(design)
    except (ValueError, TypeError) as exc:  # {"path": 0.3}: a value where a column of them goes
        raise InputError([Problem(where, "", f"expected {DESIGN_KINDS}; pandas cannot make a table of it ({exc})")]) \
            from None
    df = df.drop(columns=[c for c in df.columns if c == SET])
    if df.empty or not len(df.columns):
        raise InputError([Problem(where, "", "the design has no parameter sets (or no columns); give a table with "
                                  "one row per set and a column per parameter path or lever:ACTOR.LEVER")])
    inputs = design_inputs(scn, [str(c) for c in df.columns], where)
    try:
        values = df.astype(float).to_numpy()
    except (TypeError, ValueError) as exc:
        raise InputError([Problem(where, "", f"the design's values must be numbers ({exc})")]) from None
    problems = check_values(scn, inputs, values, lambda j, rows, msg: Problem(
        where, inputs[j].name, f"set {int(np.flatnonzero(rows)[0])}: {msg}"))
    if problems:
        raise InputError(problems)
    return inputs, values.copy(), values


def evaluate(
    scenario: Any,
    design: Any,
    runs: int = 200,
    *,
    pull: list[str] | None = None,
    seed: int | None = None,
    months: int | None = None,
    chunk_size: int | None = None,
    workers: int | None = None,
    backend: str = "auto",
    scheduler: str | None = None,
    dtype: str = "float32",
    ci_halfwidth: float | None = None,
    replicates: bool | str | Path = False,
    trajectories: bool | str | Path = False,
    progress: Any = None,
    oversubscribe: bool = False,
    worker_timeout: float | None = None,
) -> Any:
    """Run every parameter set of a design ``runs`` times, all in one vectorized Monte Carlo.

    Args:
        scenario: A loaded scenario, a path or a shipped name.
        design: One row per parameter set: a DataFrame (or a mapping of columns) whose
            columns are parameter paths and ``lever:ACTOR.LEVER`` (0/1, False/True), a
            path to such a CSV (``set`` column ignored), or a SALib ``ProblemSpec`` with
            samples (``scenario.problem()``).
        runs: Monte Carlo runs per set.
        pull: Levers pulled in every set.
        seed: The run's seed (default: the scenario's); common random numbers across sets.
        trajectories: Also keep every replicate's months (:mod:`sim.trajectories`, with
            a ``set`` column): True in memory or a Parquet path.

    Other arguments are those of :func:`sim.sweep`. Returns a
    :class:`~sim.analysis.sweep.Sweep` (``method == "design"``): ``experiments()`` and
    ``outcomes_table()`` on one index, ``table()`` both, ``outputs(problem)`` for SALib.
    """
    from .. import arguments as A
    from .. import montecarlo
    from ..api import LoadedScenario, load_scenario, run_option_problems
    from .sweep import Sweep, run_sets

    wrong = A.problems(scenario=(A.scenario, scenario), design=(design_argument, design),
                       pull=(A.levers, pull), replicates=(A.replicates, replicates),
                       trajectories=(A.replicates, trajectories), progress=(A.callback, progress),
                       oversubscribe=(A.flag, oversubscribe))
    wrong += run_option_problems(runs, workers, months, chunk_size, seed=seed, dtype=dtype, backend=backend,
                                 scheduler=scheduler, ci_halfwidth=ci_halfwidth, worker_timeout=worker_timeout)
    if wrong:
        raise InputError(wrong)
    scn = scenario if isinstance(scenario, LoadedScenario) else load_scenario(scenario)
    if isinstance(design, str | Path):
        inputs, values = read_design(scn, design)
        X = values.copy()
    else:
        inputs, X, values = from_frame(scn, design)
    montecarlo.parse_levers(scn, pull, "pull")
    seed_value = scn.spec.meta.seed if seed is None else seed
    tally, res = run_sets(scn, inputs, values, runs, pull=pull, seed=seed_value, months=months, chunk_size=chunk_size,
                          workers=workers, backend=backend, scheduler=scheduler, dtype=dtype,
                          ci_halfwidth=ci_halfwidth, replicates=replicates, trajectories=trajectories,
                          progress=progress, oversubscribe=oversubscribe, worker_timeout=worker_timeout)
    res.manifest["sweep"] = {"method": "design", "samples": len(values), "sets": len(values), "runs_per_set": runs,
                             "inputs": [i.name for i in inputs], "pulled": list(pull or []), "second_order": None,
                             "ci_halfwidth": ci_halfwidth, "rounds": -(-res.runs // max(len(values) * runs, 1))}
    if isinstance(design, str | Path):
        res.manifest["sweep"]["design"] = str(design)
    return Sweep(scn.name, "design", len(values), inputs, X, values, runs, tally, res, int(seed_value))


__all__ = ["design_inputs", "evaluate", "from_frame", "read_design"]
