"""Sweeps: many parameter sets evaluated inside one vectorized Monte Carlo.

A sweep of S parameter sets x R runs is one Monte Carlo of S*R replicates: set s
holds replicates s*R .. s*R+R-1 (:class:`sim.runner.PerSet`), every replicate carries
its own parameter values (``montecarlo.prepare(fixed=...)``), levers switched across
sets are applied at the start to the replicates of the sets where they are on, and
chunks return per-replicate first-hit months that a :class:`~sim.replicates.SetTally`
adds up per set. So there is no per-set process start and no per-set compile, and the
chunk/seed scheme — hence the result — is the same on every backend.

:class:`Sweep` holds the sampled table (inputs and outcome probabilities on one
index) and computes, per outcome, the sensitivity indices with SALib (Sobol S1/ST,
Morris mu*/sigma, RBD-FAST S1 for Latin hypercubes), each with its confidence
interval, and the share of the variance across sets that is Monte Carlo noise.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import arguments as A
from .. import montecarlo
from ..api import LoadedScenario, load_scenario, run_option_problems
from ..replicates import ReplicateTable, SetTally
from ..results import wilson
from ..runner import PerSet
from ..scenario.errors import InputError, option_error
from .design import LEVER, METHODS, Input, inputs_for, parse_ranges, problem, sample, set_count
from .sweep_io import save_sweep

MAX_ROUNDS = 20
"""An adaptive sweep (``ci_halfwidth``) does at most this many rounds of R runs per set."""
MIN_RBD_SETS = 6
"""Fewest Latin-hypercube sets RBD-FAST can analyse (its bootstrap resamples half the sets,
which must outnumber twice the harmonics, at least one)."""


@dataclass
class Sweep:
    """A finished sweep: the sets, their outcome probabilities, and the analysis.

    Attributes:
        scenario: The scenario's name.
        method: ``sobol``, ``morris``, ``lhs`` or ``grid``.
        n: The base sample size (Sobol N, Morris trajectories, LHS sets, grid levels).
        inputs: What was varied.
        X: The sample as SALib drew it, (sets, inputs).
        values: The values the model got, (sets, inputs).
        runs_per_set: R (per round).
        tally: Per-set runs, hits, event counts (:class:`sim.replicates.SetTally`).
        results: The Monte Carlo of all S*R replicates (manifest, counts, timings).
        seed: The run's seed (also seeds SALib's sampler and bootstrap).
        second_order: Sobol sample with second-order terms (N*(2D+2) sets).
    """

    scenario: str
    method: str
    n: int
    inputs: list[Input]
    X: np.ndarray
    values: np.ndarray
    runs_per_set: int
    tally: Any
    results: Any
    seed: int
    second_order: bool = True
    _indices: dict[str, Any] = field(default_factory=dict, repr=False)

    # ---------------------------------------------------------------- tables

    @property
    def sets(self) -> int:
        return len(self.values)

    @property
    def outcomes(self) -> list[str]:
        return [o.name for o in self.results.outcomes]

    def description(self, outcome: str) -> str:
        return next(o.description for o in self.results.outcomes if o.name == outcome)

    def table(self) -> Any:
        """One row per parameter set: the inputs (levers as True/False), ``runs``,
        and each outcome's probability over the set's runs."""
        import pandas as pd

        cols: dict[str, Any] = {}
        for j, inp in enumerate(self.inputs):
            cols[inp.name] = self.values[:, j].astype(bool) if inp.lever else self.values[:, j]
        df = pd.DataFrame(cols)
        df.index.name = "set"
        return df.join(self.tally.probabilities(self.outcomes))

    def events(self) -> Any:
        """Per set: mean count of each reported event per run."""
        return self.tally.events()

    def problem(self) -> Any:
        return problem(self.inputs)

    # ------------------------------------------------------------- analysis

    def noise(self) -> Any:
        """Per outcome: variance of the probability across sets, the part of it that is
        Monte Carlo noise (binomial variance of a set's estimate, p(1-p)/(R-1) averaged
        over sets), and the noise share (near 1: R is too small to tell sets apart)."""
        import pandas as pd

        tab = self.table()
        n = tab["runs"].to_numpy(dtype=float)
        rows = []
        for o in self.outcomes:
            p = tab[o].to_numpy(dtype=float)
            total = float(np.var(p, ddof=1)) if len(p) > 1 else float("nan")
            with np.errstate(invalid="ignore", divide="ignore"):
                mc = float(np.mean(p * (1 - p) / np.maximum(n - 1, 1)))
            share = min(mc / total, 1.0) if total > 0 else float("nan")
            rows.append({"outcome": o, "mean": float(np.mean(p)), "p10": float(np.quantile(p, 0.1)),
                         "p90": float(np.quantile(p, 0.9)), "variance": total, "mc_variance": mc,
                         "mc_share": share})
        return pd.DataFrame(rows).set_index("outcome")

    def indices(self, outcome: str | None = None) -> Any:
        """Sensitivity indices with 95% confidence intervals, one row per outcome and input.

        Sobol: ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (SALib's bootstrap half-widths);
        Morris: ``mu_star``, ``mu_star_conf``, ``sigma``, ``mu``; LHS: RBD-FAST ``S1``,
        ``S1_conf``. A grid has no indices (its table and figures show the main effects).
        An outcome that does not vary across sets gets NaN.
        """
        import pandas as pd

        names = [outcome] if outcome else self.outcomes
        frames = [self._index_frame(o) for o in names]
        frames = [f for f in frames if f is not None]
        if not frames:
            return pd.DataFrame(columns=["outcome", "input"]).set_index(["outcome", "input"])
        return pd.concat(frames).set_index(["outcome", "input"])

    def _index_frame(self, outcome: str) -> Any:
        import pandas as pd

        if outcome in self._indices:
            return self._indices[outcome]
        if self.method == "grid":
            return None
        y = self.table()[outcome].to_numpy(dtype=float)
        names = [i.name for i in self.inputs]
        prob = {k: v for k, v in self.problem().items() if k in ("num_vars", "names", "bounds", "dists")}
        keys = {"sobol": ("S1", "S1_conf", "ST", "ST_conf"), "morris": ("mu_star", "mu_star_conf", "sigma", "mu"),
                "lhs": ("S1", "S1_conf")}[self.method]
        cols: dict[str, Any] = {k: np.full(len(names), np.nan) for k in keys}
        if np.all(np.isfinite(y)) and np.ptp(y) > 0 and self.too_small() is None:
            try:
                cols = self._analyse(prob, y)
            except (ZeroDivisionError, FloatingPointError, ValueError, IndexError) as exc:  # SALib on a design it cannot use
                self._failed = f"{type(exc).__name__}: {exc}"
        df = pd.DataFrame({"outcome": outcome, "input": names, **cols})
        self._indices[outcome] = df
        return df

    def _analyse(self, prob: dict[str, Any], y: np.ndarray) -> dict[str, Any]:
        """SALib's indices of one outcome's probabilities across sets."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if self.method == "sobol":
                from SALib.analyze import sobol

                r = sobol.analyze(prob, y, calc_second_order=self.second_order, seed=self.seed)
                return {k: np.asarray(r[k]) for k in ("S1", "S1_conf", "ST", "ST_conf")}
            if self.method == "morris":
                from SALib.analyze import morris

                r = morris.analyze(prob, self.X, y, seed=self.seed)
                return {k: np.asarray(r[k]) for k in ("mu_star", "mu_star_conf", "sigma", "mu")}
            from SALib.analyze import rbd_fast

            # M harmonics; the bootstrap resamples half the sets, and needs more of them than 2M
            M = max(1, min(10, (len(y) // 2 - 1) // 2))
            r = rbd_fast.analyze(prob, self.X, y, M=M, seed=self.seed)
            return {k: np.asarray(r[k]) for k in ("S1", "S1_conf")}

    def too_small(self) -> str | None:
        """Why the design gives no indices, in a sentence (None when it does): too few sets
        for the method (RBD-FAST needs :data:`MIN_RBD_SETS`), or SALib could not use it."""
        if self.method == "lhs" and self.sets < MIN_RBD_SETS:
            return (f"{self.sets} parameter set{'s are' if self.sets != 1 else ' is'} too few for RBD-FAST indices "
                    f"(it needs at least {MIN_RBD_SETS}: raise --samples)")
        failed = getattr(self, "_failed", None)
        if failed:
            return f"SALib could not compute {self.method} indices from {self.sets} parameter sets ({failed})"
        return None

    def ranking(self, outcome: str) -> list[tuple[str, float, float]]:
        """Inputs by influence on ``outcome``: ``(input, index, conf)`` (ST for Sobol,
        mu* for Morris, S1 for LHS; for a grid the range of the mean across levels)."""
        if self.method == "grid":
            tab = self.table()
            out = []
            for inp in self.inputs:
                means = tab.groupby(inp.name)[outcome].mean()
                out.append((inp.name, float(means.max() - means.min()), float("nan")))
            return sorted(out, key=lambda t: -t[1] if t[1] == t[1] else 0)
        df = self._index_frame(outcome)
        key = {"sobol": "ST", "morris": "mu_star", "lhs": "S1"}[self.method]
        rows = [(r["input"], float(r[key]), float(r[f"{key}_conf"])) for _, r in df.iterrows()]
        return sorted(rows, key=lambda t: -t[1] if t[1] == t[1] else 0)

    def words(self, outcome: str, top: int = 2) -> str:
        """The outcome's spread across sets and its main drivers, in a sentence."""
        nz = self.noise().loc[outcome]
        rank = [r for r in self.ranking(outcome) if r[1] == r[1]]
        lead = f"{self.description(outcome)}: {_pct(nz['p10'])}–{_pct(nz['p90'])} across parameter sets (10–90%)"
        if nz["variance"] != nz["variance"] or nz["variance"] == 0:
            return lead + "; it does not vary across the sets."
        if not rank and self.method != "grid" and self.too_small():
            return f"{lead}; no indices: {self.too_small()}."
        label = {"sobol": "total Sobol index", "morris": "Morris mu*", "lhs": "first-order index (RBD-FAST)",
                 "grid": "range of its mean across levels"}[self.method]
        drivers = ", ".join(f"{_name(n)} ({label} {v:.2f}" + (f" ± {c:.2f})" if c == c else ")") for n, v, c in rank[:top])
        noise = f"; Monte Carlo noise is {100 * nz['mc_share']:.0f}% of the variance across sets"
        if nz["mc_share"] > 0.5:
            noise += " — too much to tell sets apart: raise --runs"
        return f"{lead}, driven most by {drivers}{noise}."

    def summary(self) -> dict[str, Any]:
        """The sweep's ``summary.json``: what was varied, how, and per outcome its
        spread, noise share and indices."""
        nz = self.noise()
        outcomes = {}
        for o in self.outcomes:
            f = self._index_frame(o)
            outcomes[o] = {
                "description": self.description(o),
                **{k: float(v) for k, v in nz.loc[o].items()},
                "indices": [] if f is None else f.drop(columns="outcome").to_dict(orient="records"),
                "ranking": [{"input": n, "index": v, "conf": c} for n, v, c in self.ranking(o)],
                "words": self.words(o),
            }
        return {
            "sweep_version": 1,
            "scenario": self.scenario,
            "method": self.method,
            "samples": self.n,
            "sets": self.sets,
            "runs_per_set": self.runs_per_set,
            "runs": int(self.results.runs),
            "seed": self.seed,
            "second_order": self.second_order if self.method == "sobol" else None,
            "inputs": [{"name": i.name, "distribution": {"family": i.dist.family, "args": list(i.dist.args)},
                        "lever": i.lever, "describe": i.describe()} for i in self.inputs],
            "outcomes": outcomes,
            **({"no_indices": self.too_small()} if self.too_small() else {}),
        }

    def to_ema(self) -> tuple[Any, dict[str, np.ndarray]]:
        """The sweep as EMA Workbench's ``(experiments, outcomes)`` pair: a DataFrame of
        the inputs per set (plus ``scenario``, ``policy``, ``model`` columns as EMA
        writes them) and ``{outcome: probability per set}``."""
        tab = self.table()
        exp = tab[[i.name for i in self.inputs]].reset_index(drop=True).copy()
        exp["scenario"] = np.arange(len(exp))
        exp["policy"] = "none"
        exp["model"] = self.scenario
        return exp, {o: tab[o].to_numpy(dtype=float) for o in self.outcomes}

    def save(self, folder: str | Path, *, report: Any = None, replicates_file: str | Path | None = None) -> Path:
        """Write the sweep folder (see :func:`sim.analysis.sweep_io.save_sweep`)."""
        rep = replicates_file
        if rep is None:
            rep = next((c.path for c in self.results.consumers if getattr(c, "path", None) is not None), None)
        return save_sweep(self, Path(folder), report=report, replicates_file=rep)


def _pct(x: float) -> str:
    if x != x:
        return "-"
    return f"{100 * x:.1f}%" if x >= 0.001 or x == 0 else "<0.1%"


def _name(path: str) -> str:
    return f"lever {path[len(LEVER):]}" if path.startswith(LEVER) else path


def set_halfwidth_ok(tally: Any, target: float) -> bool:
    """Every set's every outcome has a 95% Wilson half-width below ``target``."""
    if tally.hits is None:
        return False
    for s in range(tally.sets):
        n = int(tally.runs[s])
        for k in tally.hits[s]:
            lo, hi = wilson(int(k), n)
            if (hi - lo) / 2 >= target:
                return False
    return True


def sweep(
    scenario: Any,
    method: str = "sobol",
    samples: int = 64,
    runs: int = 200,
    *,
    params: dict[str, tuple[float, float]] | list[str] | None = None,
    levers: list[str] | None = None,
    pull: list[str] | None = None,
    seed: int | None = None,
    months: int | None = None,
    chunk_size: int | None = None,
    workers: int | None = None,
    backend: str = "auto",
    scheduler: str | None = None,
    dtype: str = "float32",
    second_order: bool = True,
    ci_halfwidth: float | None = None,
    replicates: bool | str | Path = False,
    progress: Any = None,
    oversubscribe: bool = False,
) -> Sweep:
    """Sample parameter sets and evaluate them all in one vectorized Monte Carlo.

    Args:
        scenario: A loaded scenario, a path or a shipped name.
        method: ``sobol`` (Saltelli sample, Sobol S1/ST), ``morris`` (elementary
            effects, mu*/sigma), ``lhs`` (Latin hypercube, RBD-FAST S1) or ``grid``
            (every combination of ``samples`` levels per input).
        samples: Sobol base size N (a power of 2: N*(2D+2) sets), Morris
            trajectories (N*(D+1) sets), LHS sets, or grid levels per input.
        runs: Monte Carlo runs per parameter set (R).
        params: Ranges to vary instead of the scenario's ``uncertainties:``:
            ``{"alliances.csto.credibility": (0.1, 0.5)}`` or ``["PATH=LO:HI"]``.
        levers: Levers switched across sets (an input each: on in about half the sets).
        pull: Levers pulled in every set.
        seed: Seed of the Monte Carlo and of SALib's sampler (default: the scenario's).
        ci_halfwidth: Add rounds of ``runs`` per set until every set's outcome
            probabilities have 95% intervals narrower than +/- this (at most
            :data:`MAX_ROUNDS` rounds).
        replicates: Keep one row per replicate (True) or stream it to a Parquet file.

    Other arguments are those of :func:`sim.run`.
    """
    wrong = A.problems(scenario=(A.scenario, scenario), params=(A.params, params),
                       levers=(A.levers, levers), pull=(A.levers, pull), second_order=(A.flag, second_order),
                       replicates=(A.replicates, replicates), progress=(A.callback, progress),
                       oversubscribe=(A.flag, oversubscribe))
    wrong += run_option_problems(runs, workers, months, chunk_size, seed=seed, dtype=dtype, backend=backend,
                                 scheduler=scheduler, ci_halfwidth=ci_halfwidth)
    if method not in METHODS:
        wrong += option_error("method", f"must be one of {', '.join(METHODS)} (got {method!r})").problems
    if not isinstance(samples, int) or isinstance(samples, bool) or samples < 1:
        wrong += option_error("samples", f"must be a whole number, at least 1 (got {samples!r})").problems
    if wrong:
        raise InputError(wrong)
    scn = scenario if isinstance(scenario, LoadedScenario) else load_scenario(scenario)
    ranges = parse_ranges(params) if params else None
    inputs = inputs_for(scn, ranges, levers)
    montecarlo.parse_levers(scn, pull, "pull")
    seed_value = scn.spec.meta.seed if seed is None else seed
    X, values = sample(inputs, method, samples, int(seed_value) % (2**32), second_order=second_order)
    S = len(values)
    rounds = MAX_ROUNDS if ci_halfwidth is not None else 1
    tally = SetTally(S, runs)
    consumers: list[Any] = [tally]
    if replicates is not False and replicates is not None:
        consumers.append(ReplicateTable(None if replicates is True else replicates, runs_per_set=runs, sets=S))
    fixed = {i.name: PerSet(values[:, j], runs) for j, i in enumerate(inputs) if not i.lever}
    switch = {i.name[len(LEVER):]: PerSet(values[:, j], runs) for j, i in enumerate(inputs) if i.lever}
    job = montecarlo.prepare(scn, runs=S * runs * rounds, seed=seed_value, months=months, chunk_size=chunk_size,
                             dtype=dtype, levers=pull, fixed=fixed, switch=switch, per_replicate=True,
                             keep_trajectories=0)
    enough = None
    if ci_halfwidth is not None:
        block = S * runs
        enough = lambda res: res.runs % block == 0 and set_halfwidth_ok(tally, ci_halfwidth)  # noqa: E731
    engine, n_workers = montecarlo.backend_for(job, workers=workers, backend=backend, scheduler=scheduler,
                                              oversubscribe=oversubscribe)
    res = montecarlo.execute(job, engine, n_workers, progress, workers_requested=workers, oversubscribe=oversubscribe,
                             consumers=consumers, enough=enough)
    res.manifest["sweep"] = {"method": method, "samples": samples, "sets": S, "runs_per_set": runs,
                             "inputs": [i.name for i in inputs], "pulled": list(pull or []),
                             "second_order": second_order if method == "sobol" else None,
                             "ci_halfwidth": ci_halfwidth, "rounds": math.ceil(res.runs / max(S * runs, 1)),
                             "params": {k: list(v) for k, v in ranges.items()} if ranges else None}
    return Sweep(scn.name, method, samples, inputs, X, values, runs, tally, res, int(seed_value), second_order)


__all__ = ["Sweep", "sweep", "set_count", "MAX_ROUNDS"]
