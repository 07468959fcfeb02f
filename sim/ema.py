"""EMA Workbench interoperability: sim as an EMA model, and a sweep as EMA's results.

::

    from ema_workbench import perform_experiments
    import sim.ema

    model = sim.ema.model("karabakh", runs=1000)           # uncertainties from the scenario
    experiments, outcomes = perform_experiments(model, 50)  # 50 LHS points, one Monte Carlo each

    experiments, outcomes = sim.ema.from_sweep(sw)          # a finished sim sweep, as EMA returns it
    experiments, outcomes = sim.ema.from_trajectories(res)   # every run's months as TimeSeriesOutcomes

Each EMA experiment is one parameter set: a Monte Carlo of ``runs`` replicates with
the set's values fixed, returning each outcome's probability. (A :func:`sim.sweep`
evaluates all sets in one vectorized Monte Carlo instead, which is much faster: see
``benchmarks/bench_sweep.py``.)

EMA Workbench 3 requires parameter names that are Python identifiers, so a path is
renamed by :func:`ema_name` (``alliances.csto.credibility`` ->
``alliances__csto__credibility``); :func:`path_of` goes back. EMA samples each
uncertainty uniformly over a range: a uniform uncertainty keeps its range, a
triangular or beta one its support, a normal or lognormal one mean ± 3 sd (of the
logarithm for lognormal), and a choice becomes a categorical parameter.

Works with EMA Workbench 2.5 (Python 3.11) and 3.x (Python 3.12+).
"""

from __future__ import annotations

import math
import re
import warnings
from typing import Any

import numpy as np

from . import montecarlo
from .api import LoadedScenario, load_scenario
from .montecarlo import parse_levers
from .replicates import require

LEVER = "lever:"


def _ema() -> Any:
    with warnings.catch_warnings():  # EMA warns about optional parallel back-ends it does not find
        warnings.simplefilter("ignore")
        return require("ema_workbench", "the EMA Workbench adapter (sim.ema)")


def ema_name(path: str) -> str:
    """An EMA-safe (Python identifier) name for a parameter path or a lever."""
    if path.startswith(LEVER):
        path = "lever__" + path[len(LEVER):]
    name = re.sub(r"\W", "_", path.replace(".", "__"))
    return name if not name[:1].isdigit() else "_" + name


def path_of(name: str, paths: list[str]) -> str:
    """The path (or lever) an EMA name stands for, among ``paths``."""
    for p in paths:
        if ema_name(p) == name:
            return p
    raise KeyError(f"no parameter named {name!r}")


class Evaluate:
    """The function EMA calls: one parameter set -> outcome probabilities (and, with
    ``series``, the monthly series of the recorded states, averaged over the runs).

    Picklable (EMA's multiprocessing evaluator ships it to its workers): it holds the
    scenario reference and options, and loads and compiles the scenario once per process.
    """

    def __init__(self, scenario: Any, paths: list[str], outcomes: list[str], runs: int, seed: int | None,
                 overrides: dict[str, Any] | None, pulled: list[str] | None, chunk_size: int | None, dtype: str,
                 series: list[str] | None = None, months: int | None = None):
        self.ref = scenario if not hasattr(scenario, "path") else str(scenario.path)
        self.overrides = dict(overrides or {})
        self.paths, self.outcomes = paths, outcomes
        self.runs, self.seed, self.pulled = runs, seed, pulled
        self.chunk_size, self.dtype = chunk_size, dtype
        self.series, self.months = list(series or []), months
        self._scn: Any = scenario if hasattr(scenario, "path") else None

    def __getstate__(self) -> dict:
        d = dict(self.__dict__)
        d["_scn"] = None
        return d

    def __call__(self, **kwargs: Any) -> dict[str, float]:
        if self._scn is None:
            self._scn = load_scenario(self.ref, overrides=self.overrides or None)
        fixed, switch = {}, {}
        for name, value in kwargs.items():
            path = path_of(name, self.paths)
            v = np.full(self.runs, float(value))
            if path.startswith(LEVER):
                switch[path[len(LEVER):]] = v
            else:
                fixed[path] = v
        job = montecarlo.prepare(self._scn, runs=self.runs, seed=self.seed, chunk_size=self.chunk_size,
                                 dtype=self.dtype, levers=self.pulled, fixed=fixed, switch=switch,
                                 keep_trajectories=0, months=self.months, trajectories=bool(self.series))
        consumers = []
        if self.series:
            from .trajectories import TrajectoryTable

            consumers.append(TrajectoryTable())
        res = montecarlo.execute(job, *montecarlo.backend_for(job, backend="local"), consumers=consumers)
        probs = res.probabilities()["probability"]
        out: dict[str, Any] = {o: float(probs[o]) for o in self.outcomes}
        if self.series:
            means = res.trajectories().groupby("month")[self.series].mean()
            out["TIME"] = means.index.to_numpy(dtype=float)
            out.update({ema_name(c): means[c].to_numpy(dtype=float) for c in self.series})
        return out


def parameters(scn: Any) -> list[Any]:
    """EMA parameters for a scenario's uncertainties (see the module's note on ranges)."""
    ema = _ema()
    out = []
    for u in scn.uncertainties():
        f, a = u.dist.family, u.dist.args
        name = ema_name(u.path)
        if f == "choice":
            out.append(ema.CategoricalParameter(name, list(a)))
            continue
        if f == "uniform":
            lo, hi = a
        elif f == "triangular":
            lo, hi = a[0], a[2]
        elif f == "beta":
            lo, hi = 0.0, 1.0
        elif f == "normal":
            lo, hi = a[0] - 3 * a[1], a[0] + 3 * a[1]
        else:  # lognormal
            lo, hi = math.exp(a[0] - 3 * a[1]), math.exp(a[0] + 3 * a[1])
        lo, hi = max(lo, u.bounds[0]), min(hi, u.bounds[1])
        if u.kind == "int":
            out.append(ema.IntegerParameter(name, int(math.ceil(lo)), int(math.floor(hi))))
        else:
            out.append(ema.RealParameter(name, float(lo), float(hi)))
    return out


def model(
    scenario: Any,
    outcomes: list[str] | None = None,
    *,
    runs: int = 1000,
    seed: int | None = None,
    levers: list[str] | None = None,
    pull: list[str] | None = None,
    overrides: dict[str, Any] | None = None,
    chunk_size: int | None = None,
    dtype: str = "float32",
    name: str | None = None,
    series: list[str] | None = None,
    months: int | None = None,
) -> Any:
    """An EMA Workbench ``Model`` running the scenario.

    Args:
        scenario: A loaded scenario, a path or a shipped name.
        outcomes: Outcomes to return (default: all), each as a ``ScalarOutcome``
            holding its probability over the ``runs`` of the experiment.
        runs: Monte Carlo runs per experiment.
        seed: Seed of every experiment's Monte Carlo (default: the scenario's): the
            same seed in every experiment gives common random numbers across them.
        levers: Scenario levers offered to EMA as its levers (``BooleanParameter``:
            pulled from the start when True).
        pull: Levers pulled in every experiment.
        overrides: ``--set`` overrides applied to the scenario.
        series: Monthly series to return as EMA ``TimeSeriesOutcome`` outcomes (with a ``TIME``
            outcome, months 1..H): columns of the trajectories table (``level.lachin``,
            ``trust.armenia.csto``; :mod:`sim.trajectories`) or a recorded state's name for
            all its columns. Each is the month-by-month mean over the experiment's runs
            of the per-replicate values (for a ``counts`` record, the mean level); with
            ``runs=1``, the one replicate's trajectory. Named as EMA needs
            (:func:`ema_name`: ``level__lachin``).
        months: Horizon (default: the scenario's).
    """
    ema = _ema()
    scn = scenario if isinstance(scenario, LoadedScenario) else load_scenario(scenario, overrides=overrides)
    names = [o for o in scn.spec.outcomes]
    chosen = list(outcomes) if outcomes else names
    unknown = [o for o in chosen if o not in names]
    if unknown:
        from .scenario.errors import option_error, suggest

        raise option_error("outcomes", f"no outcome '{unknown[0]}'{suggest(unknown[0], names)}; outcomes are {', '.join(names)}")
    switched = [f"{a}.{lv}" for a, lv in parse_levers(scn, levers)]
    parse_levers(scn, pull, "pull")
    paths = [u.path for u in scn.uncertainties()] + [LEVER + lv for lv in switched]
    cols = series_columns(scn, series, months) if series else []
    fn = Evaluate(scn, paths, chosen, runs, seed, overrides, pull, chunk_size, dtype, cols, months)
    m = ema.Model(name or re.sub(r"[^0-9A-Za-z]", "", scn.name) or "sim", function=fn)
    m.uncertainties = parameters(scn)
    if switched:
        m.levers = [ema.BooleanParameter(ema_name(LEVER + lv)) for lv in switched]
    m.outcomes = [ema.ScalarOutcome(o) for o in chosen]
    if cols:
        m.outcomes += [ema.TimeSeriesOutcome("TIME")] + [ema.TimeSeriesOutcome(ema_name(c)) for c in cols]
    return m


def series_columns(scn: Any, series: list[str], months: int | None = None) -> list[str]:
    """The trajectory columns ``series`` names (a column, or a recorded state for all of its
    columns), checked against the scenario (an InputError with a suggestion otherwise)."""
    from . import montecarlo
    from .scenario.errors import option_error, suggest
    from .trajectories import columns

    job = montecarlo.prepare(scn, runs=1, months=months or 1, keep_trajectories=0)
    by_state = columns(montecarlo.new_results(job))
    every = [c for cs in by_state.values() for c in cs]
    out: list[str] = []
    for item in [series] if isinstance(series, str) else series:
        if item in by_state:
            out += by_state[item]
        elif item in every:
            out.append(item)
        else:
            raise option_error("series", f"no recorded series '{item}'{suggest(item, [*by_state, *every])}; "
                               f"recorded states are {', '.join(by_state)} (a column is STATE.ACTOR..., e.g. "
                               f"{every[0] if every else 'level.lachin'})")
    return list(dict.fromkeys(out))


def from_trajectories(source: Any, series: list[str] | None = None) -> tuple[Any, dict[str, np.ndarray]]:
    """Per-replicate trajectories as EMA's ``(experiments, outcomes)``: one experiment per
    replicate (``replicate``, ``set`` when there is one, and EMA's ``scenario``, ``policy``,
    ``model`` columns), and per series (all of them, or ``series``: columns or state names)
    an array (replicates, months), as EMA returns ``TimeSeriesOutcome`` outcomes, with ``TIME``.
    EMA's envelope and line plots, time-series clustering and the like take them as they are.

    ``source``: a :class:`~sim.results.Results` of a run made with ``trajectories=``, its
    ``trajectories()`` DataFrame, or a ``trajectories.parquet`` path.
    """
    import pandas as pd

    from .replicates import parquet_metadata
    from .trajectories import read

    scenario = "sim"
    if isinstance(source, pd.DataFrame):
        df = source
    elif hasattr(source, "trajectories"):
        df, scenario = source.trajectories(), source.scenario
    else:
        df = read(source)
        scenario = (parquet_metadata(source).get("provenance") or {}).get("scenario", scenario)
    keys = [c for c in ("replicate", "set", "month") if c in df.columns]
    cols = [c for c in df.columns if c not in keys]
    if series:
        def named(item: str, col: str) -> bool:  # a column, or every column of a state
            return col == item or col.split(".", 1)[0] == item

        items = [series] if isinstance(series, str) else list(series)
        states = {c.split(".", 1)[0] for c in cols}
        want = [c for item in items for c in cols if named(item, c)]
        missing = [item for item in items if not any(named(item, c) for c in cols)]
        if missing:
            from .scenario.errors import option_error, suggest

            raise option_error("series", f"no series '{missing[0]}' in the trajectories"
                               f"{suggest(missing[0], [*states, *cols])}")
        cols = list(dict.fromkeys(want))
    df = df.sort_values(["replicate", "month"])
    months = np.sort(df["month"].unique())
    n, H = df["replicate"].nunique(), len(months)
    first = df[df["month"] == months[0]]
    exp = first[[k for k in ("replicate", "set") if k in first.columns]].reset_index(drop=True)
    exp["scenario"] = exp["replicate"]
    exp["policy"] = "none"
    exp["model"] = scenario
    out = {"TIME": np.tile(months.astype(float), (n, 1))}
    for c in cols:
        out[ema_name(c)] = df[c].to_numpy().reshape(n, H)
    return exp, out


def from_sweep(sw: Any) -> tuple[Any, dict[str, np.ndarray]]:
    """A finished :class:`~sim.analysis.sweep.Sweep` as EMA's ``(experiments, outcomes)``:
    the inputs per set (EMA names; levers as True/False) with ``scenario``, ``policy``
    and ``model`` columns, and ``{outcome: probability per set}``."""
    exp, out = sw.to_ema()
    exp = exp.rename(columns={i.name: ema_name(i.name) for i in sw.inputs})
    return exp, out
