"""The inputs of a run or a study: levers pulled or switched, parameters given a range, and
the SALib problem they make.

:func:`parse_levers` checks ``ACTOR.LEVER`` names against the scenario's ``levers:``. An
:class:`Input` of a study is a scenario parameter given a range (the scenario's
``uncertainties:``, or ``PATH=lo:hi`` from the command line; for a whole-number parameter,
the whole numbers from lo to hi, equally likely, as a file's ``{choice: [...]}``), or a lever
switched on in some parameter sets and off in others (:func:`inputs_for`); :func:`problem`
turns inputs into a SALib ``ProblemSpec`` (``LoadedScenario.problem``). The sampling of a
study's parameter sets is :mod:`sim.analysis.design`'s.

Distributions SALib knows (uniform, triangular, normal, lognormal) are passed to it
as they are; beta and choice are sampled by SALib on their quantile (0..1) and turned
into values with their inverse distribution function (scipy), so every family of
the scenario language can be an uncertainty.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import arguments as A
from .scenario.errors import InputError, Mark, Problem, suggest
from .scenario.values import Dist, whole_range

LEVER = "lever:"
"""How a study names a lever switched across its parameter sets (``lever:armenia.freeze_csto``)."""


def parse_levers(scn: Any, levers: list[str] | None, argument: str = "levers") -> list[tuple[str, str]]:
    """``["armenia.freeze_csto", ...]`` -> ``[("armenia", "freeze_csto"), ...]``, checked."""
    wrong = A.levers(levers)
    if wrong:
        raise InputError([Problem(Mark("<options>", option=argument), "", wrong)])
    out: list[tuple[str, str]] = []
    problems: list[Problem] = []
    declared = scn.spec.levers
    for item in levers or []:
        actor, _, name = str(item).partition(".")
        where = Mark("<options>", option=argument)
        if actor not in declared:
            hint = suggest(actor, declared) or (f"; actors with levers are {', '.join(declared)}" if declared else
                                                 "; this scenario declares no levers")
            problems.append(Problem(where, "", f"'{item}': no levers for '{actor}'{hint}"))
        elif name not in declared[actor]:
            hint = suggest(name, declared[actor]) or f"; {actor}'s levers are {', '.join(declared[actor])}"
            problems.append(Problem(where, "", f"'{item}': {actor} has no lever '{name}'{hint}"))
        elif (actor, name) not in out:
            out.append((actor, name))
    if problems:
        raise InputError(problems)
    return out



@dataclass(frozen=True)
class Input:
    """One input of a study.

    Attributes:
        name: The parameter's path (``alliances.csto.credibility``) or
            ``lever:actor.lever`` for a lever switched across sets.
        dist: Its distribution (:class:`sim.scenario.values.Dist`); a lever is uniform
            on [0, 1], on where the draw is 0.5 or more.
        integer: The parameter takes whole values (draws are rounded by the model).
        source: Where the range comes from (the scenario's ``source:``), if said.
        from_design: Its values come from a design of the user's own (:func:`sim.evaluate`);
            ``dist`` is then its uncertainty's, or its allowed range.
    """

    name: str
    dist: Any
    integer: bool = False
    source: Any = None
    from_design: bool = False

    @property
    def lever(self) -> bool:
        return self.name.startswith(LEVER)

    def salib(self) -> tuple[str, list[float]]:
        """SALib's ``dists`` entry and ``bounds`` for this input."""
        f, a = self.dist.family, self.dist.args
        if f == "uniform":
            return "unif", [a[0], a[1]]
        if f == "triangular":
            return "triang", [a[0], a[2], (a[1] - a[0]) / (a[2] - a[0])]
        if f == "normal":
            return "norm", [a[0], a[1]]
        if f == "lognormal":
            return "lognorm", [a[0], a[1]]
        return "unif", [0.0, 1.0]  # beta, choice: sampled on the quantile

    def values(self, x: np.ndarray) -> np.ndarray:
        """The model's values for SALib's draws of this input."""
        f, a = self.dist.family, self.dist.args
        if self.lever:
            return (x >= 0.5).astype(float)
        if f == "beta":
            from scipy.stats import beta  # lazy: scipy.stats takes a second to import

            return beta.ppf(np.clip(x, 0, 1), a[0], a[1])
        if f == "choice":
            w = np.asarray(self.dist.p if self.dist.p else [1 / len(a)] * len(a), dtype=float)
            cum = np.cumsum(w) / w.sum()
            return np.asarray(a, dtype=float)[np.minimum(np.searchsorted(cum, x, side="right"), len(a) - 1)]
        return np.rint(x) if self.integer else np.asarray(x, dtype=float)

    def grid(self, levels: int) -> np.ndarray:
        """``levels`` values spread over the input (ends included for bounded ranges)."""
        f, a = self.dist.family, self.dist.args
        if self.lever:
            return np.array([0.0, 1.0])
        if f == "choice":
            return np.asarray(sorted(set(a)), dtype=float)
        if f == "uniform":
            v = np.linspace(a[0], a[1], levels)
        elif f == "triangular":
            v = np.linspace(a[0], a[2], levels)
        else:
            from scipy import stats  # lazy: scipy.stats takes a second to import

            q = (np.arange(levels) + 0.5) / levels
            v = {"normal": lambda: stats.norm.ppf(q, a[0], a[1]),
                 "lognormal": lambda: np.exp(stats.norm.ppf(q, a[0], a[1])),
                 "beta": lambda: stats.beta.ppf(q, a[0], a[1])}[f]()
        return np.unique(np.rint(v)) if self.integer else v

    def describe(self) -> str:
        if self.lever:
            return f"lever {self.name[len(LEVER):]} (on in half the sets)"
        if self.from_design:
            return f"{self.name}: values from the design"
        f, a = self.dist.family, self.dist.args
        return f"{self.name} ~ {f}[{', '.join(f'{x:g}' for x in a)}]"


def parse_ranges(items: list[str] | dict[str, Any] | None, argument: str = "params") -> dict[str, tuple[float, float]]:
    """``["PATH=lo:hi", ...]`` (or ``{path: (lo, hi)}``) -> ``{path: (lo, hi)}``, checked."""
    if not items:
        return {}
    out: dict[str, tuple[float, float]] = {}
    problems = []
    pairs = items.items() if isinstance(items, dict) else [(s.partition("=")[0], s.partition("=")[2]) for s in items]
    for path, rng in pairs:
        path = str(path).strip()
        try:
            lo, hi = (float(x) for x in (rng.split(":") if isinstance(rng, str) else rng))
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise ValueError
        except (ValueError, TypeError):
            problems.append(Problem(Mark("<options>", option=argument), "",
                                    f"'{path}={rng}': give a range as PATH=LO:HI with LO < HI, e.g. alliances.csto.credibility=0.1:0.5"))
            continue
        out[path] = (lo, hi)
    if problems:
        raise InputError(problems)
    return out


def inputs_for(scn: Any, params: dict[str, tuple[float, float]] | None = None, levers: list[str] | None = None,
               *, argument: str = "params") -> list[Input]:
    """The inputs of a study: ``params`` ranges if given, else the scenario's
    ``uncertainties:``; then the levers switched across sets."""
    plan = scn.compiled()
    out: list[Input] = []
    problems = []
    if params:
        for path, (lo, hi) in params.items():
            ad = plan.address(path)
            if ad is None or ad.kind not in ("num", "int"):
                known = [e.path for e in plan.entries]
                problems.append(Problem(Mark("<options>", option=argument), "",
                                        f"'{path}' is not a numeric parameter of {scn.name}{suggest(path, known)}"))
                continue
            b = ad.bounds
            if lo < b.lo or hi > b.hi:
                problems.append(Problem(Mark("<options>", option=argument), "",
                                        f"'{path}={lo:g}:{hi:g}' is outside the parameter's range [{b.lo:g}, {b.hi:g}]"))
                continue
            if ad.kind == "int":  # its whole numbers, equally likely (as {choice: [...]} in a file)
                if lo != int(lo) or hi != int(hi):
                    a, z = whole_range(lo, hi)
                    problems.append(Problem(Mark("<options>", option=argument), "",
                                            f"'{path}={lo:g}:{hi:g}': this parameter is a whole number; use {a}:{z}"))
                    continue
                out.append(Input(path, Dist("choice", tuple(float(x) for x in range(int(lo), int(hi) + 1))), True))
                continue
            out.append(Input(path, Dist("uniform", (lo, hi))))
    else:
        for u in scn.uncertainties():
            out.append(Input(u.path, u.dist, u.kind == "int", u.source))
    if problems:
        raise InputError(problems)
    for actor, lever in parse_levers(scn, levers, "levers"):
        out.append(Input(f"{LEVER}{actor}.{lever}", Dist("uniform", (0.0, 1.0))))
    return out


def problem(inputs: list[Input], outputs: list[str] | None = None) -> Any:
    """A SALib ``ProblemSpec`` of the inputs (names are the parameter paths), with the
    names of its ``outputs`` (the outcomes) when given."""
    from SALib import ProblemSpec  # lazy: SALib imports scipy and pandas

    dists, bounds = zip(*(i.salib() for i in inputs), strict=True) if inputs else ((), ())
    spec = {"num_vars": len(inputs), "names": [i.name for i in inputs], "bounds": [list(b) for b in bounds],
            "dists": list(dists)}
    if outputs:
        spec["outputs"] = list(outputs)
    return ProblemSpec(spec)
