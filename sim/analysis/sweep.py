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
Morris mu*/sigma, RBD-FAST S1 for Latin hypercubes, eFAST S1/ST, delta and S1 of the
delta method), each with its confidence interval, and the share of the variance across
sets that is Monte Carlo noise. :func:`sim.evaluate` runs a design of the user's own
through the same machinery (``method="design"``: no indices).

Indices are reported honestly (:meth:`Sweep.indices`, column ``flag``): an outcome
whose variance across sets is mostly Monte Carlo noise (share above
:data:`NOISE_SHARE`) has all its indices flagged, and so has an index outside [0, 1]
beyond its 95% interval (S1 < 0, ST > 1: estimates no true index can have). A flagged
index, or one whose interval reaches zero, is never named as a driver (``driver``),
in the words, the table or the figures.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

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
NOISE_SHARE = 0.5
"""An outcome whose variance across sets is more than this share Monte Carlo noise has
its indices flagged (they measure the noise more than the inputs)."""
INDEX_KEYS = {"sobol": ("S1", "ST"), "morris": ("mu_star", "sigma"), "lhs": ("S1",), "fast": ("S1", "ST"),
              "delta": ("delta", "S1")}
"""The indices each method gives (each with its ``_conf`` half-width, except sigma)."""
RANK_KEY = {"sobol": "ST", "morris": "mu_star", "lhs": "S1", "fast": "ST", "delta": "delta"}
"""The index inputs are ranked by, per method."""
INDEX_WORDS = {"sobol": "total Sobol index", "morris": "Morris mu*", "lhs": "first-order index (RBD-FAST)",
               "fast": "total index (eFAST)", "delta": "delta index", "grid": "range of its mean across levels"}
BOUNDED = ("S1", "ST", "delta")
"""Indices that are shares of variance (or, for delta, of a distance): between 0 and 1."""


@dataclass
class Sweep:
    """A finished sweep: the sets, their outcome probabilities, and the analysis.

    Attributes:
        scenario: The scenario's name.
        method: ``sobol``, ``morris``, ``lhs``, ``grid``, ``fast``, ``delta``, or
            ``design`` (the user's own sets, :func:`sim.evaluate`).
        n: The base sample size (Sobol N, Morris trajectories, LHS sets, grid levels).
        inputs: What was varied.
        X: The sample as SALib drew it, (sets, inputs).
        values: The values the model got, (sets, inputs).
        runs_per_set: R (per round).
        tally: Per-set runs, hits, event counts (:class:`sim.replicates.SetTally`).
        results: The Monte Carlo of all S*R replicates (manifest, counts, timings).
        seed: The run's seed (also seeds SALib's sampler and bootstrap).
        second_order: Sobol sample with second-order terms (N*(2D+2) sets), whose
            indices are then reported (:meth:`interactions`).
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
    second_order: bool = False
    _indices: dict[str, Any] = field(default_factory=dict, repr=False)
    _interactions: dict[str, Any] = field(default_factory=dict, repr=False)
    noise_share: ClassVar[float] = NOISE_SHARE
    """The noise share above which an outcome's indices are flagged (what the report says)."""

    @property
    def index_keys(self) -> tuple[str, ...]:
        """The indices this sweep's method gives (:data:`INDEX_KEYS`; none for a grid or a design)."""
        return INDEX_KEYS.get(self.method, ())

    # ---------------------------------------------------------------- tables

    @property
    def sets(self) -> int:
        return len(self.values)

    @property
    def outcomes(self) -> list[str]:
        return [o.name for o in self.results.outcomes]

    def description(self, outcome: str) -> str:
        return next(o.description for o in self.results.outcomes if o.name == outcome)

    def experiments(self) -> Any:
        """One row per parameter set (index ``set``): the inputs' values (levers as True/False)."""
        import pandas as pd

        cols: dict[str, Any] = {}
        for j, inp in enumerate(self.inputs):
            cols[inp.name] = self.values[:, j].astype(bool) if inp.lever else self.values[:, j]
        df = pd.DataFrame(cols)
        df.index.name = "set"
        return df

    def outcomes_table(self) -> Any:
        """One row per parameter set (index ``set``): ``runs`` and each outcome's probability."""
        return self.tally.probabilities(self.outcomes)

    def table(self) -> Any:
        """One row per parameter set: the inputs (levers as True/False), ``runs``,
        and each outcome's probability over the set's runs (:meth:`experiments` and
        :meth:`outcomes_table` on one index)."""
        return self.experiments().join(self.outcomes_table())

    def outputs(self, problem: Any = None) -> np.ndarray:
        """The outcome probabilities per set as SALib wants its results, (sets, outputs): the
        columns in the order of ``problem["outputs"]`` (a ProblemSpec from
        ``scenario.problem()``), or of the scenario's outcomes. ``sp.set_results(ev.outputs(sp))``."""
        names = list((problem or {}).get("outputs") or self.outcomes) if problem is not None else self.outcomes
        tab = self.outcomes_table()
        y = tab[names].to_numpy(dtype=float)
        return y[:, 0] if y.shape[1] == 1 else y

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
        ``S1_conf``; eFAST: ``S1``, ``ST`` with their half-widths; delta: ``delta``,
        ``S1`` with theirs. Then ``flag`` (why an index is not to be trusted: the outcome's
        Monte Carlo noise share above :data:`NOISE_SHARE`, an index below 0 or above 1
        beyond its interval; empty when none) and ``driver`` (unflagged, and its ranking
        index above zero beyond its interval: the only ones named as drivers). A grid or
        a design of your own has no indices; an outcome that does not vary across sets
        gets NaN.
        """
        import pandas as pd

        names = [outcome] if outcome else self.outcomes
        frames = [self._index_frame(o) for o in names]
        frames = [f for f in frames if f is not None]
        if not frames:
            return pd.DataFrame(columns=["outcome", "input"]).set_index(["outcome", "input"])
        return pd.concat(frames).set_index(["outcome", "input"])

    def interactions(self, outcome: str | None = None) -> Any:
        """Second-order Sobol indices (a sweep made with ``second_order=True``): one row per
        outcome and pair of inputs, ``S2`` and ``S2_conf``, with ``flag`` as for
        :meth:`indices`. Empty otherwise."""
        import pandas as pd

        names = [outcome] if outcome else self.outcomes
        frames = []
        for o in names:
            self._index_frame(o)
            if self._interactions.get(o) is not None:
                frames.append(self._interactions[o])
        if not frames:
            return pd.DataFrame(columns=["outcome", "input_a", "input_b", "S2", "S2_conf", "flag"]).set_index(
                ["outcome", "input_a", "input_b"])
        return pd.concat(frames).set_index(["outcome", "input_a", "input_b"])

    def _index_frame(self, outcome: str) -> Any:
        import pandas as pd

        if outcome in self._indices:
            return self._indices[outcome]
        if self.method in ("grid", "design"):
            return None
        y = self.table()[outcome].to_numpy(dtype=float)
        names = [i.name for i in self.inputs]
        prob = {k: v for k, v in self.problem().items() if k in ("num_vars", "names", "bounds", "dists")}
        keys = [c for k in INDEX_KEYS[self.method] for c in ((k, f"{k}_conf") if k != "sigma" else (k,))]
        if self.method == "morris":
            keys.append("mu")
        s2 = None
        cols: dict[str, Any] = {k: np.full(len(names), np.nan) for k in keys}
        if np.all(np.isfinite(y)) and np.ptp(y) > 0 and self.too_small() is None:
            try:
                cols, s2 = analyze(self.method, prob, self.X, y, self.seed, self.second_order)
            except (ZeroDivisionError, FloatingPointError, ValueError, IndexError) as exc:  # SALib on a design it cannot use
                self._failed = f"{type(exc).__name__}: {exc}"
        df = pd.DataFrame({"outcome": outcome, "input": names, **{k: cols[k] for k in keys}})
        share = float(self.noise().loc[outcome, "mc_share"])
        flags = [_flags(self.method, r, share) for _, r in df.iterrows()]
        df["flag"] = ["; ".join(f) for f in flags]
        key = RANK_KEY[self.method]
        with np.errstate(invalid="ignore"):
            clear = (df[key] - df[f"{key}_conf"]).to_numpy(dtype=float) > 0
        df["driver"] = clear & (df["flag"] == "")
        self._indices[outcome] = df
        if s2 is not None:
            rows = []
            for i in range(len(names)):
                for j in range(i + 1, len(names)):
                    v, c = float(s2[0][i, j]), float(s2[1][i, j])
                    flag = [f for f in _flags("sobol", {"S2": v, "S2_conf": c}, share)]
                    rows.append({"outcome": outcome, "input_a": names[i], "input_b": names[j], "S2": v, "S2_conf": c,
                                 "flag": "; ".join(flag)})
            self._interactions[outcome] = pd.DataFrame(rows)
        return df

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
        """Inputs by influence on ``outcome``: ``(input, index, conf)`` (ST for Sobol and
        eFAST, mu* for Morris, S1 for LHS, delta for delta; for a grid the range of the mean
        across levels; none for a design), flagged ones included (see :meth:`drivers`)."""
        if self.method == "grid":
            tab = self.table()
            out = []
            for inp in self.inputs:
                means = tab.groupby(inp.name)[outcome].mean()
                out.append((inp.name, float(means.max() - means.min()), float("nan")))
            return sorted(out, key=lambda t: -t[1] if t[1] == t[1] else 0)
        if self.method == "design":
            return []
        df = self._index_frame(outcome)
        key = RANK_KEY[self.method]
        rows = [(r["input"], float(r[key]), float(r[f"{key}_conf"])) for _, r in df.iterrows()]
        return sorted(rows, key=lambda t: -t[1] if t[1] == t[1] else 0)

    def drivers(self, outcome: str) -> list[tuple[str, float, float]]:
        """The inputs that may be named as driving ``outcome``: :meth:`ranking` without the
        flagged indices and those whose interval reaches zero (a grid: its ranking)."""
        if self.method == "grid":
            return [r for r in self.ranking(outcome) if r[1] == r[1] and r[1] > 0]
        if self.method == "design":
            return []
        ok = set(self._index_frame(outcome).query("driver")["input"])
        return [r for r in self.ranking(outcome) if r[0] in ok]

    def flagged(self, outcome: str) -> list[tuple[str, str]]:
        """``(input, why)`` for each flagged index of ``outcome``."""
        df = self._index_frame(outcome)
        if df is None:
            return []
        return [(r["input"], r["flag"]) for _, r in df.iterrows() if r["flag"]]

    def words(self, outcome: str, top: int = 2) -> str:
        """The outcome's spread across sets and its main drivers, in a sentence: only
        unflagged indices clearly above zero are named; flagged ones are said to be so."""
        nz = self.noise().loc[outcome]
        lead = f"{self.description(outcome)}: {_pct(nz['p10'])}–{_pct(nz['p90'])} across parameter sets (10–90%)"
        if nz["variance"] != nz["variance"] or nz["variance"] == 0:
            return lead + "; it does not vary across the sets."
        noise = f"Monte Carlo noise is {100 * nz['mc_share']:.0f}% of the variance across sets"
        if self.method == "design":
            return f"{lead}; {noise} (a design of your own: analyse it with SALib, `sp.set_results(ev.outputs(sp))`)."
        self._index_frame(outcome)  # computed first: SALib failing on the design is a reason too
        if self.method != "grid" and self.too_small():
            return f"{lead}; no indices: {self.too_small()}."
        if nz["mc_share"] > NOISE_SHARE:
            return (f"{lead}; {noise} — too much to tell sets apart, so no input is named as a driver and every "
                    f"index is flagged: raise --runs.")
        label = INDEX_WORDS[self.method]
        drivers = self.drivers(outcome)[:top]
        bad = self.flagged(outcome)
        flagged = ("; flagged as not reliable: " + ", ".join(f"{_name(n)} ({why})" for n, why in bad)) if bad else ""
        if not drivers:
            return f"{lead}; no input's {label} is clearly above zero (beyond its 95% interval){flagged}; {noise}."
        named = ", ".join(f"{_name(n)} ({label} {v:.2f}" + (f" ± {c:.2f})" if c == c else ")") for n, v, c in drivers)
        return f"{lead}, driven most by {named}{flagged}; {noise}."

    def summary(self) -> dict[str, Any]:
        """The sweep's ``summary.json``: what was varied, how, and per outcome its
        spread, noise share, indices (with their flags), drivers and a sentence."""
        nz = self.noise()
        outcomes = {}
        for o in self.outcomes:
            f = self._index_frame(o)
            inter = self.interactions(o)
            outcomes[o] = {
                "description": self.description(o),
                **{k: float(v) for k, v in nz.loc[o].items()},
                "indices": [] if f is None else f.drop(columns="outcome").to_dict(orient="records"),
                "ranking": [{"input": n, "index": v, "conf": c} for n, v, c in self.ranking(o)],
                "drivers": [n for n, _, _ in self.drivers(o)],
                "words": self.words(o),
            }
            if len(inter):
                outcomes[o]["interactions"] = inter.reset_index().drop(columns="outcome").to_dict(orient="records")
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
            "noise_share_flag": NOISE_SHARE,
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


def analyze(method: str, prob: dict, X: np.ndarray, y: np.ndarray, seed: int,
            second_order: bool = False) -> tuple[dict[str, np.ndarray], tuple[np.ndarray, np.ndarray] | None]:
    """A method's SALib analysis of outputs ``y`` of the sample ``X``: the indices with
    their 95% half-widths (:data:`INDEX_KEYS`), and Sobol's second-order ``(S2, S2_conf)``
    when asked for. SALib's warnings (a degenerate bootstrap, eFAST's note that its
    bootstrap intervals are indicative) are silenced here: the flags say what matters."""
    s2 = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        if method == "sobol":
            from SALib.analyze import sobol

            r = sobol.analyze(prob, y, calc_second_order=second_order, seed=seed)
            cols = {k: np.asarray(r[k]) for k in ("S1", "S1_conf", "ST", "ST_conf")}
            if second_order:
                s2 = (np.asarray(r["S2"]), np.asarray(r["S2_conf"]))
        elif method == "morris":
            from SALib.analyze import morris

            r = morris.analyze(prob, X, y, seed=seed)
            cols = {k: np.asarray(r[k]) for k in ("mu_star", "mu_star_conf", "sigma", "mu")}
        elif method == "fast":
            from SALib.analyze import fast

            from .design import FAST_M

            r = fast.analyze(prob, y, M=FAST_M, seed=seed)
            cols = {k: np.asarray(r[k], dtype=float) for k in ("S1", "S1_conf", "ST", "ST_conf")}
        elif method == "delta":
            from SALib.analyze import delta

            r = delta.analyze(prob, X, y, seed=seed)
            d = "delta" if "delta" in r else "delta_raw"  # SALib < 1.5 / 1.5+ (which adds other estimators)
            cols = {"delta": np.asarray(r[d]), "delta_conf": np.asarray(r[f"{d}_conf"]),
                    "S1": np.asarray(r["S1"]), "S1_conf": np.asarray(r["S1_conf"])}
        else:
            from SALib.analyze import rbd_fast

            # M harmonics; the bootstrap resamples half the sets, and needs more of them than 2M
            M = max(1, min(10, (len(y) // 2 - 1) // 2))
            r = rbd_fast.analyze(prob, X, y, M=M, seed=seed)
            cols = {k: np.asarray(r[k]) for k in ("S1", "S1_conf")}
    return cols, s2


def _flags(method: str, row: Any, mc_share: float) -> list[str]:
    """Why an index (a row of :meth:`Sweep.indices`) is not to be trusted, in words."""
    out = []
    if mc_share == mc_share and mc_share > NOISE_SHARE:
        out.append(f"Monte Carlo noise is {100 * mc_share:.0f}% of the variance")
    for k in (*BOUNDED, "S2"):
        if k not in row or f"{k}_conf" not in row:
            continue
        v, c = float(row[k]), float(row[f"{k}_conf"])
        if v != v or c != c:
            continue
        if v + c < 0:
            out.append(f"{k} {v:.2f} ± {c:.2f} is below 0")
        if v - c > 1:
            out.append(f"{k} {v:.2f} ± {c:.2f} is above 1")
    return out


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
    second_order: bool = False,
    ci_halfwidth: float | None = None,
    replicates: bool | str | Path = False,
    progress: Any = None,
    oversubscribe: bool = False,
    worker_timeout: float | None = None,
) -> Sweep:
    """Sample parameter sets and evaluate them all in one vectorized Monte Carlo.

    Args:
        scenario: A loaded scenario, a path or a shipped name.
        method: ``sobol`` (Saltelli sample, Sobol S1/ST), ``morris`` (elementary
            effects, mu*/sigma), ``lhs`` (Latin hypercube, RBD-FAST S1), ``fast``
            (eFAST S1/ST), ``delta`` (Latin hypercube, Borgonovo's delta and S1) or
            ``grid`` (every combination of ``samples`` levels per input).
        samples: Sobol base size N (a power of 2: N*(D+2) sets, N*(2D+2) with
            ``second_order``), Morris trajectories (N*(D+1) sets), LHS or delta sets,
            eFAST sets per input (N*D, N > 64), or grid levels per input.
        runs: Monte Carlo runs per parameter set (R).
        params: Ranges to vary instead of the scenario's ``uncertainties:``:
            ``{"alliances.csto.credibility": (0.1, 0.5)}`` or ``["PATH=LO:HI"]``.
        levers: Levers switched across sets (an input each: on in about half the sets).
        pull: Levers pulled in every set.
        seed: Seed of the Monte Carlo and of SALib's sampler (default: the scenario's).
        second_order: Sobol only: also second-order indices (the sample grows from
            N*(D+2) to N*(2D+2) sets), reported by :meth:`Sweep.interactions`.
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
                                 scheduler=scheduler, ci_halfwidth=ci_halfwidth, worker_timeout=worker_timeout)
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
    tally, res = run_sets(scn, inputs, values, runs, pull=pull, seed=seed_value, months=months, chunk_size=chunk_size,
                          workers=workers, backend=backend, scheduler=scheduler, dtype=dtype,
                          ci_halfwidth=ci_halfwidth, replicates=replicates, progress=progress,
                          oversubscribe=oversubscribe, worker_timeout=worker_timeout)
    res.manifest["sweep"] = {"method": method, "samples": samples, "sets": len(values), "runs_per_set": runs,
                             "inputs": [i.name for i in inputs], "pulled": list(pull or []),
                             "second_order": second_order if method == "sobol" else None,
                             "ci_halfwidth": ci_halfwidth, "rounds": math.ceil(res.runs / max(len(values) * runs, 1)),
                             "params": {k: list(v) for k, v in ranges.items()} if ranges else None}
    return Sweep(scn.name, method, samples, inputs, X, values, runs, tally, res, int(seed_value), second_order)


def run_sets(scn: Any, inputs: list[Input], values: np.ndarray, runs: int, *, pull: list[str] | None = None,
             seed: int | None = None, months: int | None = None, chunk_size: int | None = None,
             workers: int | None = None, backend: str = "auto", scheduler: str | None = None, dtype: str = "float32",
             ci_halfwidth: float | None = None, replicates: bool | str | Path = False,
             trajectories: bool | str | Path = False, progress: Any = None,
             oversubscribe: bool = False, worker_timeout: float | None = None) -> tuple[Any, Any]:
    """Evaluate parameter sets (``values``, (sets, inputs)) in one vectorized Monte Carlo:
    set s holds replicates s*R .. s*R+R-1 (:class:`sim.runner.PerSet`), levers among the
    inputs are switched on in the sets where their value is 1. Returns the per-set tally
    (:class:`sim.replicates.SetTally`) and the run's :class:`~sim.results.Results`. What
    :func:`sweep` and :func:`sim.evaluate` share: the same sets give the same numbers."""
    S = len(values)
    rounds = MAX_ROUNDS if ci_halfwidth is not None else 1
    tally = SetTally(S, runs)
    consumers: list[Any] = [tally]
    if replicates is not False and replicates is not None:
        consumers.append(ReplicateTable(None if replicates is True else replicates, runs_per_set=runs, sets=S))
    if trajectories is not False and trajectories is not None:
        from ..trajectories import TrajectoryTable

        consumers.append(TrajectoryTable(None if trajectories is True else trajectories, runs_per_set=runs, sets=S))
    fixed = {i.name: PerSet(values[:, j], runs) for j, i in enumerate(inputs) if not i.lever}
    switch = {i.name[len(LEVER):]: PerSet(values[:, j], runs) for j, i in enumerate(inputs) if i.lever}
    job = montecarlo.prepare(scn, runs=S * runs * rounds, seed=seed, months=months, chunk_size=chunk_size,
                             dtype=dtype, levers=pull, fixed=fixed, switch=switch, per_replicate=True,
                             keep_trajectories=0, trajectories=trajectories is not False and trajectories is not None)
    enough = None
    if ci_halfwidth is not None:
        block = S * runs
        enough = lambda res: res.runs % block == 0 and set_halfwidth_ok(tally, ci_halfwidth)  # noqa: E731
    engine, n_workers = montecarlo.backend_for(job, workers=workers, backend=backend, scheduler=scheduler,
                                              oversubscribe=oversubscribe, worker_timeout=worker_timeout)
    res = montecarlo.execute(job, engine, n_workers, progress, workers_requested=workers, oversubscribe=oversubscribe,
                             consumers=consumers, enough=enough)
    return tally, res


__all__ = ["MAX_ROUNDS", "NOISE_SHARE", "Sweep", "analyze", "run_sets", "set_count", "sweep"]
