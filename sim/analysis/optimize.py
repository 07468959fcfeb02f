"""Robust policy search: the combinations of a scenario's levers (and the values of policy
parameters a planner sets) that do best across the worlds its ``uncertainties:`` allow.

The worlds are a fixed Latin-hypercube sample of N uncertainty sets (seeded: the same
worlds every time). Every policy is evaluated on the same worlds and the same random
streams -- common random numbers -- in one vectorized Monte Carlo per batch of policies:
policy p, world w, run r is replicate ``(p*W + w)*R + r``, levers are switched on per
replicate, a world's uncertainties and a policy's parameters are per-replicate values
(``montecarlo.prepare(fixed=, switch=)``), and the run is cut into blocks of W*R
replicates, one per policy, whose chunks are seeded by their place in the block
(:attr:`sim.runner.RunSpec.block`). So replicate (w, r) of every policy draws the same
random numbers wherever the structure allows, exactly as ``sim compare`` pairs two
variants: a difference between two policies is the levers', not the dice's.

Objectives are outcomes to minimise or maximise, each summarised across the worlds by a
robustness measure (:data:`ROBUSTNESS`):

- ``mean``: the outcome's probability averaged over the worlds;
- ``p10`` / ``p90``: its 10th / 90th percentile across the worlds (for an outcome to
  minimise, p90 is the pessimistic one);
- ``regret``: minimax regret -- in each world, how much worse the policy does than the
  best policy evaluated in that world, and the largest of these over the worlds (to
  minimise). "Best evaluated" is over every policy the search evaluated: a search's
  regrets are re-scored as it finds better policies, and the final table is scored
  against all of them;
- ``satisficing:T``: the share of worlds where the probability is at most T (an outcome
  to minimise) or at least T (to maximise); to maximise.

Small lever spaces (at most :data:`MAX_ENUMERATE` combinations and no continuous
parameter) are enumerated exactly; larger ones are searched with NSGA-II (pymoo) over
binary lever genes and real genes for policy parameters, with the policy that pulls
nothing in the first generation. The hypervolume of the front found so far (objectives
scaled to [0, 1], worse = 1, reference point 1) is recorded by generation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import arguments as A
from .. import montecarlo
from ..api import LoadedScenario, load_scenario, run_option_problems
from ..inputs import Input, inputs_for, parse_levers, parse_ranges
from ..replicates import SetTally, require
from ..runner import DEFAULT_CHUNK, PerSet
from ..scenario.errors import InputError, Mark, Problem, option_error, suggest
from .design import sample

ROBUSTNESS = ("mean", "p10", "p90", "regret", "satisficing")
"""The robustness measures (``satisficing`` takes a threshold: ``satisficing:0.2``)."""
MAX_ENUMERATE = 64
"""Lever spaces of at most this many combinations (and no continuous parameter) are enumerated."""
DEFAULT_WORLDS = 30
DEFAULT_RUNS = 50
DEFAULT_POPULATION = 40
DEFAULT_GENERATIONS = 20


@dataclass(frozen=True)
class Robustness:
    """How an objective's probabilities across the worlds become one number."""

    measure: str
    threshold: float | None = None

    def label(self, sense: str) -> str:
        if self.measure == "satisficing":
            return f"share of worlds {'<=' if sense == 'minimize' else '>='} {self.threshold:g}"
        return {"regret": "max regret"}.get(self.measure, self.measure)

    def direction(self, sense: str) -> str:
        """Whether the measure's value is minimised or maximised."""
        return {"regret": "minimize", "satisficing": "maximize"}.get(self.measure, sense)


def parse_robustness(text: Any, argument: str = "robustness") -> Robustness:
    """``mean``, ``p10``, ``p90``, ``regret`` or ``satisficing:T`` (0 <= T <= 1), checked."""
    if isinstance(text, Robustness):
        return text
    if not isinstance(text, str):
        raise option_error(argument, f"expected one of {', '.join(ROBUSTNESS)} (a string), got {A.what(text)}")
    name, colon, rest = text.strip().partition(":")
    if name not in ROBUSTNESS:
        choices = [*ROBUSTNESS[:-1], "satisficing:THRESHOLD"]
        raise option_error(argument, f"unknown robustness measure {text!r}{suggest(name, ROBUSTNESS)}; use one of "
                           f"{', '.join(choices)}")
    if name != "satisficing":
        if colon:
            raise option_error(argument, f"{name!r} takes no threshold (got {text!r}); only satisficing:THRESHOLD does")
        return Robustness(name)
    try:
        t = float(rest)
        if not (colon and 0 <= t <= 1):
            raise ValueError
    except ValueError:
        raise option_error(argument, f"satisficing needs a threshold probability from 0 to 1, e.g. satisficing:0.2 "
                           f"(got {text!r})") from None
    return Robustness("satisficing", t)


def measure(Y: np.ndarray, sense: str, rob: Robustness) -> np.ndarray:
    """The robustness value of each policy: ``Y`` is (policies, worlds) probabilities of one
    outcome. Regret is against the best of these policies in each world."""
    Y = np.asarray(Y, dtype=float)
    if rob.measure == "mean":
        return Y.mean(axis=1)
    if rob.measure in ("p10", "p90"):
        return np.quantile(Y, 0.1 if rob.measure == "p10" else 0.9, axis=1)
    if rob.measure == "regret":
        return regret(Y, sense).max(axis=1)
    assert rob.threshold is not None
    ok = Y <= rob.threshold if sense == "minimize" else Y >= rob.threshold
    return ok.mean(axis=1)


def regret(Y: np.ndarray, sense: str) -> np.ndarray:
    """Per policy and world, how much worse the policy's probability is than the best
    policy's in that world (0 for the best): (policies, worlds)."""
    Y = np.asarray(Y, dtype=float)
    return Y - Y.min(axis=0) if sense == "minimize" else Y.max(axis=0) - Y


@dataclass(frozen=True)
class Objective:
    """An outcome to minimise or maximise, summarised by a robustness measure."""

    outcome: str
    sense: str  # "minimize" or "maximize"
    robustness: Robustness

    @property
    def column(self) -> str:
        return f"{self.outcome} ({self.robustness.label(self.sense)})"

    def words(self, description: str) -> str:
        verb = "lowest" if self.robustness.direction(self.sense) == "minimize" else "highest"
        what = {"mean": "mean probability across the worlds", "p10": "10th percentile across the worlds",
                "p90": "90th percentile across the worlds", "regret": "largest regret across the worlds",
                "satisficing": self.robustness.label(self.sense)}[self.robustness.measure]
        return f"{self.sense} {description}: {verb} {what}"


@dataclass(frozen=True)
class Gene:
    """One choice of a policy: a lever (on/off) or a policy parameter (a value in [lo, hi])."""

    name: str  # "actor.lever", or a parameter path
    lever: bool
    lo: float = 0.0
    hi: float = 1.0
    integer: bool = False


def policy_words(genes: list[Gene], x: np.ndarray) -> str:
    """A policy in words: ``pull a.x, a.y; do not pull a.z; set PATH to V``."""
    on = [g.name for g, v in zip(genes, x, strict=True) if g.lever and v >= 0.5]
    off = [g.name for g, v in zip(genes, x, strict=True) if g.lever and v < 0.5]
    parts = []
    if any(g.lever for g in genes):
        parts.append(f"pull {', '.join(on)}" if on else "pull nothing")
        if off:
            parts.append(f"do not pull {', '.join(off)}")
    for g, v in zip(genes, x, strict=True):
        if not g.lever:
            parts.append(f"set {g.name} to {int(round(v)) if g.integer else float(f'{v:.4g}'):g}")
    return "; ".join(parts)


@dataclass
class Optimization:
    """A finished (or stopped) policy search.

    Attributes:
        scenario, title: The scenario's name and title.
        objectives: What was minimised or maximised, and how robustly.
        genes: The choices a policy makes (levers, then policy parameters).
        world_inputs: The uncertainties the worlds sample; ``worlds`` their values (W, U).
        runs_per_world: Monte Carlo runs of each policy in each world.
        X: Every policy evaluated, (policies, genes); ``Y`` its probabilities, (policies,
            worlds, outcomes), every policy on the same worlds and random numbers.
        outcomes: The scenario's outcomes (name, description).
        method: ``enumerated`` or ``nsga2``.
        convergence: Per generation: policies evaluated so far, front size, hypervolume.
        results: The first batch's Monte Carlo (its manifest is the folder's, with totals).
    """

    scenario: str
    title: str
    objectives: list[Objective]
    genes: list[Gene]
    world_inputs: list[Input]
    worlds: np.ndarray
    runs_per_world: int
    seed: int
    method: str
    X: np.ndarray
    Y: np.ndarray
    outcomes: list[Any]
    convergence: list[dict[str, Any]] = field(default_factory=list)
    results: Any = None
    budget: dict[str, Any] = field(default_factory=dict)
    stopped_by: str | None = None

    @property
    def complete(self) -> bool:
        return self.stopped_by is None

    def _o(self, name: str) -> int:
        return [o.name for o in self.outcomes].index(name)

    def description(self, outcome: str) -> str:
        return self.outcomes[self._o(outcome)].description

    def values(self) -> np.ndarray:
        """Each policy's robustness value per objective, (policies, objectives), scored
        against every policy evaluated (regret)."""
        return np.column_stack([measure(self.Y[:, :, self._o(ob.outcome)], ob.sense, ob.robustness)
                                for ob in self.objectives]) if len(self.X) else np.zeros((0, len(self.objectives)))

    def scaled(self) -> np.ndarray:
        return scaled(self.values(), self.objectives)

    def front(self) -> np.ndarray:
        """Indices of the policies no other policy beats on every objective."""
        return front(self.scaled())

    def scores(self) -> Any:
        """One row per policy evaluated: in words, its genes, each objective's robustness
        value, the mean probability of each objective's outcome, and whether it is on the
        Pareto front."""
        import pandas as pd

        vals = self.values()
        rows = {"policy": [policy_words(self.genes, x) for x in self.X]}
        for j, g in enumerate(self.genes):
            rows[g.name] = self.X[:, j] >= 0.5 if g.lever else self.X[:, j]
        for k, ob in enumerate(self.objectives):
            rows[ob.column] = vals[:, k]
        for name in dict.fromkeys(ob.outcome for ob in self.objectives):
            col = f"{name} (mean)"
            if col not in rows:
                rows[col] = self.Y[:, :, self._o(name)].mean(axis=1)
        df = pd.DataFrame(rows)
        df.index.name = "id"
        df["pareto"] = False
        df.loc[self.front(), "pareto"] = True
        # policies whose robustness values are all the same: the one pulling fewest levers stands for them
        pulled = sum(self.X[:, j] >= 0.5 for j, g in enumerate(self.genes) if g.lever) if len(self.X) else 0
        key = [tuple(r) for r in np.round(vals, 12)]
        order = sorted(range(len(self.X)), key=lambda i: (key[i], int(np.asarray(pulled)[i]) if len(self.X) else 0, i))
        first: dict[tuple, int] = {}
        same = np.zeros(len(self.X), dtype=int)
        for i in order:
            first.setdefault(key[i], i)
            same[i] = first[key[i]]
        df["same_scores_as"] = same
        df["ties"] = df.groupby("same_scores_as")["policy"].transform("size") - 1
        return df

    def pareto(self, distinct: bool = False) -> Any:
        """The Pareto front, sorted by the first objective (best first). ``distinct``: one
        policy per set of equal scores (the one that pulls fewest levers; ``ties`` says how
        many others score the same)."""
        df = self.scores()
        df = df[df["pareto"]].drop(columns="pareto")
        if distinct:
            df = df[df["same_scores_as"] == df.index]
        first = self.objectives[0]
        return df.sort_values(first.column, ascending=first.robustness.direction(first.sense) == "minimize",
                              kind="stable")

    def per_world(self) -> Any:
        """Policy x world: each objective outcome's probability (long table)."""
        import pandas as pd

        P, W = len(self.X), self.worlds.shape[0]
        df = pd.DataFrame({"id": np.repeat(np.arange(P), W), "world": np.tile(np.arange(W), P)})
        for name in dict.fromkeys(ob.outcome for ob in self.objectives):
            df[name] = self.Y[:, :, self._o(name)].reshape(-1)
        return df

    def world_table(self) -> Any:
        import pandas as pd

        df = pd.DataFrame(self.worlds, columns=[i.name for i in self.world_inputs])
        df.index.name = "world"
        return df

    def summary(self) -> dict[str, Any]:
        par = self.pareto(distinct=True)
        return {
            "optimize_version": 1,
            "scenario": self.scenario,
            "method": self.method,
            "objectives": [{"outcome": o.outcome, "sense": o.sense, "robustness": o.robustness.measure,
                            "threshold": o.robustness.threshold, "column": o.column,
                            "description": self.description(o.outcome)} for o in self.objectives],
            "genes": [{"name": g.name, "lever": g.lever, "lo": g.lo, "hi": g.hi, "integer": g.integer}
                      for g in self.genes],
            "worlds": int(self.worlds.shape[0]),
            "uncertainties": [i.name for i in self.world_inputs],
            "runs_per_world": self.runs_per_world,
            "policies_evaluated": int(len(self.X)),
            "runs": int(len(self.X) * self.worlds.shape[0] * self.runs_per_world),
            "seed": self.seed,
            "budget": self.budget,
            "complete": self.complete,
            "stopped_by": self.stopped_by,
            "pareto": [{"id": int(i), "policy": r["policy"], "ties": int(r["ties"]),
                        **{o.column: float(r[o.column]) for o in self.objectives}} for i, r in par.iterrows()],
            "convergence": self.convergence,
        }

    def save(self, folder: str | Path, *, report: Callable[[Any, Path], Any] | None = None) -> Path:
        """Write the folder: pareto.csv, policies.csv, per_world.csv, worlds.csv,
        convergence.csv, summary.json, scenario.resolved.yaml, then ``report(opt,
        folder)`` (figures, report.html) if given, manifest.json last."""
        import json
        import time

        import pandas as pd

        from ..files import write_folder
        from ..results import _clean, atomic_write

        t0 = time.perf_counter()
        res = self.results

        def files(folder: Path) -> None:
            atomic_write(folder / "scenario.resolved.yaml", res.resolved_yaml)
            atomic_write(folder / "pareto.csv", self.pareto().to_csv(float_format="%.6g"))
            atomic_write(folder / "policies.csv", self.scores().to_csv(float_format="%.6g"))
            atomic_write(folder / "per_world.csv", self.per_world().to_csv(index=False, float_format="%.6g"))
            atomic_write(folder / "worlds.csv", self.world_table().to_csv(float_format="%.10g"))
            atomic_write(folder / "convergence.csv", pd.DataFrame(self.convergence).to_csv(index=False,
                                                                                           float_format="%.6g"))
            atomic_write(folder / "summary.json", json.dumps(_clean(self.summary()), indent=2) + "\n")
            if report is not None and len(self.X):
                report(self, folder)
            res.manifest.setdefault("timings_s", {})["outputs"] = time.perf_counter() - t0

        return write_folder(Path(folder), files, res.write_manifest)


def scaled(values: np.ndarray, objectives: list[Objective]) -> np.ndarray:
    """Robustness values in minimisation form on [0, 1] (0 best): a value to maximise
    becomes 1 - value (every measure is a probability, a regret or a share)."""
    out = np.array(values, dtype=float, copy=True)
    for k, ob in enumerate(objectives):
        if ob.robustness.direction(ob.sense) == "maximize":
            out[:, k] = 1.0 - out[:, k]
    return out


def front(F: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated rows of ``F`` (minimisation)."""
    if len(F) == 0:
        return np.zeros(0, dtype=int)
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    return np.sort(np.asarray(NonDominatedSorting().do(F, only_non_dominated_front=True), dtype=int))


def hypervolume(F: np.ndarray) -> float:
    """Hypervolume of the non-dominated rows of ``F`` (scaled to [0, 1]) up to the point (1, ..., 1)."""
    from pymoo.indicators.hv import HV

    pts = F[front(F)]
    return float(HV(ref_point=np.ones(F.shape[1]))(pts)) if len(pts) else 0.0


# ---------------------------------------------------------------- the search


class _Evaluator:
    """Evaluates batches of policies: one Monte Carlo of policies x worlds x runs each,
    common random numbers across policies (blocks of W*R replicates)."""

    def __init__(self, scn: Any, genes: list[Gene], world_inputs: list[Input], worlds: np.ndarray, runs: int,
                 seed: int, *, months: int | None, chunk_size: int | None, dtype: str, workers: int | None,
                 backend: str, scheduler: str | None, oversubscribe: bool, progress: Any, expected: int):
        self.scn, self.genes, self.world_inputs, self.worlds, self.runs = scn, genes, world_inputs, worlds, runs
        self.seed, self.months, self.dtype = seed, months, dtype
        self.block = worlds.shape[0] * runs
        self.chunk = min(int(chunk_size or DEFAULT_CHUNK), self.block)
        self.workers, self.backend, self.scheduler, self.oversubscribe = workers, backend, scheduler, oversubscribe
        self.progress, self.expected = progress, expected
        self.done = 0  # runs in finished batches
        self.first: Any = None
        self.simulation_s = 0.0
        self.batches = 0

    def __call__(self, X: np.ndarray) -> tuple[np.ndarray | None, Any]:
        """(policies, worlds, outcomes) probabilities, or None when the run was stopped."""
        P, W, R = len(X), self.worlds.shape[0], self.runs
        fixed: dict[str, Any] = {inp.name: PerSet(np.tile(self.worlds[:, j], P), R)
                                 for j, inp in enumerate(self.world_inputs)}
        switch: dict[str, Any] = {}
        for g_i, g in enumerate(self.genes):
            per_set = np.repeat(X[:, g_i], W)
            if g.lever:
                switch[g.name] = PerSet(per_set, R)
            else:
                fixed[g.name] = PerSet(np.rint(per_set) if g.integer else per_set, R)
        tally = SetTally(P * W, R)
        job = montecarlo.prepare(self.scn, runs=P * W * R, seed=self.seed, months=self.months, chunk_size=self.chunk,
                                 dtype=self.dtype, fixed=fixed, switch=switch, per_replicate=True,
                                 keep_trajectories=0, block=self.block)
        engine, n = montecarlo.backend_for(job, workers=self.workers, backend=self.backend, scheduler=self.scheduler,
                                          oversubscribe=self.oversubscribe)
        before = self.done
        total = max(self.expected, before + P * W * R)
        prog = None if self.progress is None else (lambda d, _t: self.progress(before + d, total))
        res = montecarlo.execute(job, engine, n, prog, workers_requested=self.workers,
                                 oversubscribe=self.oversubscribe, consumers=[tally])
        self.batches += 1
        self.simulation_s += res.manifest["timings_s"]["simulation"]
        if self.first is None:
            self.first = res
        if not res.complete:
            return None, res
        self.done += res.runs
        names = [o.name for o in res.outcomes]
        probs = tally.probabilities(names)[names].to_numpy(dtype=float)
        return probs.reshape(P, W, len(names)), res


def _genes(scn: Any, levers: list[str] | None, actors: list[str] | None,
           policy_params: dict[str, tuple[float, float]] | None, world_names: set[str]) -> list[Gene]:
    declared = scn.spec.levers
    problems: list[Problem] = []
    where = Mark("<options>", option="actors")
    for a in actors or []:
        if a not in declared:
            hint = suggest(a, declared) or (f"; actors with levers are {', '.join(declared)}" if declared else "")
            problems.append(Problem(where, "", f"'{a}' has no levers in {scn.name}{hint}"))
    if problems:
        raise InputError(problems)
    if levers:
        chosen = parse_levers(scn, levers, "levers")
    else:
        chosen = [(a, lv) for a, lvs in declared.items() if not actors or a in actors for lv in lvs]
    genes = [Gene(f"{a}.{lv}", True) for a, lv in chosen]
    if policy_params:
        for inp in inputs_for(scn, policy_params, argument="policy_params"):
            if inp.name in world_names:
                raise option_error("policy_params", f"'{inp.name}' is one of the scenario's uncertainties (the worlds "
                                   "vary it), so a policy cannot set it")
            a = inp.dist.args
            lo, hi = (min(a), max(a)) if inp.integer else (a[0], a[1])
            genes.append(Gene(inp.name, False, float(lo), float(hi), inp.integer))
    if not genes:
        raise InputError([Problem(Mark(str(scn.path)), "levers", "nothing to search: the scenario declares no levers; "
                                  "declare some under levers:, or give policy parameters with --policy-param "
                                  "PATH=LO:HI")])
    return genes


def optimize(
    scenario: Any,
    minimize: list[str] | None = None,
    maximize: list[str] | None = None,
    *,
    robustness: str | Robustness = "mean",
    levers: list[str] | None = None,
    actors: list[str] | None = None,
    policy_params: dict[str, tuple[float, float]] | list[str] | None = None,
    worlds: int = DEFAULT_WORLDS,
    runs: int = DEFAULT_RUNS,
    population: int = DEFAULT_POPULATION,
    generations: int = DEFAULT_GENERATIONS,
    exhaustive: bool | None = None,
    seed: int | None = None,
    months: int | None = None,
    chunk_size: int | None = None,
    workers: int | None = None,
    backend: str = "auto",
    scheduler: str | None = None,
    dtype: str = "float32",
    progress: Any = None,
    oversubscribe: bool = False,
) -> Optimization:
    """Search a scenario's levers for the policies that do best across its uncertainties.

    Args:
        scenario: A loaded scenario, a path or a shipped name.
        minimize, maximize: Outcomes to minimise / maximise (at least one in all).
        robustness: How each outcome's probabilities across the worlds are summarised:
            ``mean``, ``p10``, ``p90``, ``regret`` (minimax regret) or ``satisficing:T``.
        levers: The levers to search, ``["actor.lever", ...]`` (default: all the
            scenario's, or those of ``actors``).
        actors: Search only these actors' levers.
        policy_params: Continuous policy parameters, ``{path: (lo, hi)}`` or
            ``["PATH=LO:HI"]`` (real genes; a whole-number parameter takes whole values).
        worlds: Uncertainty sets, a Latin hypercube of the scenario's ``uncertainties:``
            drawn with ``seed`` (one world, the scenario as written, when it has none).
        runs: Monte Carlo runs per policy and world.
        population, generations: NSGA-II's budget.
        exhaustive: True: evaluate every lever combination; False: NSGA-II; None (default):
            enumerate when there are at most :data:`MAX_ENUMERATE` combinations and no
            policy parameter.
        seed: Seed of the worlds, the Monte Carlo and NSGA-II (default: the scenario's).
        progress: Called with (runs done, runs expected) as chunks finish.

    Other arguments are those of :func:`sim.run`. Returns an :class:`Optimization`; a
    search stopped by Ctrl-C or SIGTERM returns the policies evaluated whole before it
    (``stopped_by`` set).
    """
    wrong = A.problems(scenario=(A.scenario, scenario), minimize=(A.outcomes, minimize),
                       maximize=(A.outcomes, maximize), levers=(A.levers, levers), actors=(A.played, actors),
                       policy_params=(A.params, policy_params), worlds=(A.count(1), worlds),
                       population=(A.count(4), population), generations=(A.count(1), generations),
                       progress=(A.callback, progress), oversubscribe=(A.flag, oversubscribe))
    wrong += run_option_problems(runs, workers, months, chunk_size, seed=seed, dtype=dtype, backend=backend,
                                 scheduler=scheduler)
    if exhaustive not in (None, True, False):
        wrong += option_error("exhaustive", f"expected True, False or None, got {A.what(exhaustive)}").problems
    if not (minimize or maximize) and not wrong:
        wrong += option_error("minimize", "nothing to optimise: give an outcome to minimise or maximise "
                              "(--minimize OUTCOME, --maximize OUTCOME)").problems
    rob = None
    try:
        rob = parse_robustness(robustness)
    except InputError as exc:
        wrong += exc.problems
    if wrong:
        raise InputError(wrong)
    assert rob is not None
    require("pymoo", "a policy search", option="install")
    scn = scenario if isinstance(scenario, LoadedScenario) else load_scenario(scenario)
    objectives = _objectives(scn, minimize, maximize, rob)
    world_inputs = inputs_for(scn)
    genes = _genes(scn, levers, actors, parse_ranges(policy_params, "policy_params") if policy_params else None,
                   {i.name for i in world_inputs})
    seed_value = int(scn.spec.meta.seed if seed is None else seed)
    if world_inputs:
        _, W_values = sample(world_inputs, "lhs", worlds, seed_value % (2**32))
    else:
        W_values = np.zeros((1, 0))
    all_levers = all(g.lever for g in genes)
    combos = 2 ** len(genes) if all_levers else math.inf
    if exhaustive and not all_levers:
        raise option_error("exhaustive", "policy parameters take continuous values: they cannot be enumerated "
                           "(drop --exhaustive, or the --policy-param)")
    if exhaustive and combos > 2 ** 16:
        raise option_error("exhaustive", f"{len(genes)} levers make {combos:,} combinations, too many to enumerate "
                           "(at most 65,536); search them with NSGA-II (drop --exhaustive)")
    enumerate_all = exhaustive if exhaustive is not None else combos <= MAX_ENUMERATE
    block = W_values.shape[0] * runs
    expected = (combos if enumerate_all else population * generations) * block
    ev = _Evaluator(scn, genes, world_inputs, W_values, runs, seed_value, months=months, chunk_size=chunk_size,
                    dtype=dtype, workers=workers, backend=backend, scheduler=scheduler, oversubscribe=oversubscribe,
                    progress=progress, expected=int(min(expected, 2**62)))
    if enumerate_all:
        X, Y, conv, stopped = _enumerate(ev, genes, objectives, scn)
        budget = {"method": "enumerated", "combinations": int(combos)}
    else:
        X, Y, conv, stopped = _nsga2(ev, genes, objectives, population, generations, seed_value)
        budget = {"method": "nsga2", "population": population, "generations": generations}
    budget.update(worlds=int(W_values.shape[0]), runs_per_world=runs)
    res = ev.first
    outcomes = list(res.outcomes)
    res.manifest["optimize"] = {
        **budget, "objectives": [{"outcome": o.outcome, "sense": o.sense, "robustness": o.robustness.measure,
                                  "threshold": o.robustness.threshold} for o in objectives],
        "genes": [g.name for g in genes], "uncertainties": [i.name for i in world_inputs],
        "policies_evaluated": int(len(X)), "batches": ev.batches, "runs_total": int(ev.done),
    }
    res.manifest["timings_s"]["simulation"] = ev.simulation_s
    res.manifest["runs_requested"] = int(ev.done)
    res.complete = stopped is None
    res.stopped_by = stopped
    res.manifest["stopped_by"] = stopped
    return Optimization(scn.name, scn.spec.meta.title, objectives, genes, world_inputs, W_values, runs, seed_value,
                        "enumerated" if enumerate_all else "nsga2", X, Y, outcomes, conv, res, budget, stopped)


def _objectives(scn: Any, minimize: list[str] | None, maximize: list[str] | None, rob: Robustness) -> list[Objective]:
    from ..outcomes import compile_outcomes

    names = [d.name for d in compile_outcomes(scn.compiled())]
    problems = []
    out = []
    for sense, items, arg in (("minimize", minimize, "minimize"), ("maximize", maximize, "maximize")):
        for name in items or []:
            if name not in names:
                hint = suggest(name, names) or f"; its outcomes are {', '.join(names)}"
                problems.append(Problem(Mark("<options>", option=arg), "", f"'{name}' is not an outcome of "
                                        f"{scn.name}{hint}"))
            elif any(o.outcome == name for o in out):
                problems.append(Problem(Mark("<options>", option=arg), "", f"'{name}' is given twice"))
            else:
                out.append(Objective(name, sense, rob))
    if problems:
        raise InputError(problems)
    return out


def _enumerate(ev: _Evaluator, genes: list[Gene], objectives: list[Objective], scn: Any):
    import itertools

    X = np.array(list(itertools.product([0.0, 1.0], repeat=len(genes))), dtype=float).reshape(-1, len(genes))
    Y, res = ev(X)
    if Y is None:
        return X[:0], np.zeros((0, ev.worlds.shape[0], len(res.outcomes))), [], res.stopped_by
    F = scaled(_values(Y, objectives, res), objectives)
    conv = [{"generation": 0, "policies": len(X), "front": int(len(front(F))), "hypervolume": hypervolume(F)}]
    return X, Y, conv, None


def _values(Y: np.ndarray, objectives: list[Objective], res: Any) -> np.ndarray:
    names = [o.name for o in res.outcomes]
    return np.column_stack([measure(Y[:, :, names.index(ob.outcome)], ob.sense, ob.robustness) for ob in objectives])


def _nsga2(ev: _Evaluator, genes: list[Gene], objectives: list[Objective], population: int, generations: int,
           seed: int):
    """NSGA-II (pymoo, ask and tell) over mixed genes; every policy evaluated once (cached)."""
    from pymoo.algorithms.moo.nsga2 import NSGA2, binary_tournament
    from pymoo.core.evaluator import Evaluator
    from pymoo.core.mixed import (
        MixedVariableDuplicateElimination,
        MixedVariableMating,
        MixedVariableSampling,
    )
    from pymoo.core.problem import Problem as PymooProblem
    from pymoo.core.variable import Binary, Integer, Real
    from pymoo.operators.selection.tournament import TournamentSelection
    from pymoo.problems.static import StaticProblem

    names = [f"g{i}" for i in range(len(genes))]
    variables = {n: (Binary() if g.lever else Integer(bounds=(int(g.lo), int(g.hi))) if g.integer
                     else Real(bounds=(g.lo, g.hi))) for n, g in zip(names, genes, strict=True)}

    class WithBaseline(MixedVariableSampling):
        """The random first generation, its first policy replaced by the one that pulls nothing
        (parameters at their lower bounds): the status quo is always among those compared."""

        def _do(self, problem, n_samples, random_state=None, **kwargs):
            X = super()._do(problem, n_samples, random_state=random_state, **kwargs)
            X[0] = {n: (False if g.lever else type(X[0][n])(g.lo)) for n, g in zip(names, genes, strict=True)}
            return X

    problem = PymooProblem(vars=variables, n_obj=len(objectives))
    dup = MixedVariableDuplicateElimination()
    algorithm = NSGA2(pop_size=population, sampling=WithBaseline(),
                      mating=MixedVariableMating(selection=TournamentSelection(func_comp=binary_tournament),
                                                 eliminate_duplicates=dup),
                      eliminate_duplicates=dup)
    algorithm.setup(problem, termination=("n_gen", generations), seed=seed % (2**32), verbose=False)

    def vector(d: dict) -> tuple:
        return tuple(float(d[n]) for n in names)

    cache: dict[tuple, int] = {}
    X_all: list[tuple] = []
    Y_all: list[np.ndarray] = []
    conv: list[dict[str, Any]] = []
    stopped = None
    res0 = None
    gen = 0
    while algorithm.has_next():
        if gen > 0 and any(o.robustness.measure == "regret" for o in objectives):
            # regret is against the best policy evaluated so far: re-score the survivors
            pop = algorithm.pop
            pop.set("F", _F_of([cache[vector(x)] for x in pop.get("X")], Y_all, objectives, res0))
        pop = algorithm.ask()
        keys = [vector(x) for x in pop.get("X")]
        new = list(dict.fromkeys(k for k in keys if k not in cache))
        if new:
            Y, res = ev(np.array(new, dtype=float))
            res0 = res0 or res
            if Y is None:
                stopped = res.stopped_by
                break
            for k, y in zip(new, Y, strict=True):
                cache[k] = len(X_all)
                X_all.append(k)
                Y_all.append(y)
        F = _F_of([cache[k] for k in keys], Y_all, objectives, res0)
        Evaluator().eval(StaticProblem(problem, F=F), pop)
        algorithm.tell(infills=pop)
        Fa = _F_of(list(range(len(X_all))), Y_all, objectives, res0)
        conv.append({"generation": gen, "policies": len(X_all), "front": int(len(front(Fa))),
                     "hypervolume": hypervolume(Fa)})
        gen += 1
    X = np.array(X_all, dtype=float).reshape(-1, len(genes))
    Y = np.array(Y_all) if Y_all else np.zeros((0, ev.worlds.shape[0], len(ev.first.outcomes)))
    return X, Y, conv, stopped


def _F_of(rows: list[int], Y_all: list[np.ndarray], objectives: list[Objective], res: Any) -> np.ndarray:
    """Scaled objectives of the policies ``rows``, regret against every policy evaluated."""
    Y = np.array(Y_all)
    F = scaled(_values(Y, objectives, res), objectives)
    return F[rows]


__all__ = ["Gene", "Objective", "Optimization", "ROBUSTNESS", "Robustness", "measure", "optimize",
           "parse_robustness", "policy_words", "regret"]
