"""Outcome definitions -> detectors.

Each outcome in a scenario becomes a :class:`Detector`: a condition evaluated on the
world after every month (a boolean per replicate) and, where it has one, the quantity
behind it (its final value is recorded). What each *kind* of outcome means is declared
by its own module in :mod:`sim.outcomes.kinds` and registered in :mod:`sim.parts`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import model_validator

from ..parts import OutcomeSpec, registry
from ..scenario.values import MAX_MAGNITUDE

if TYPE_CHECKING:
    from ..world.compile import Plan
    from ..world.model import World


@dataclass
class Detector:
    """A compiled outcome.

    Attributes:
        cond: ``cond(world) -> bool (R,)``, or ``cond(world, start)`` when ``start``
            is given; None for outcomes combined from others.
        value: The quantity whose final value is recorded, if any.
        start: ``start(world)`` captured when recording begins (e.g. who was not yet a
            member), passed to ``cond``.
        of: For combined outcomes: indices of the parts.
        combine: For combined outcomes: ``combine(first_hits (P, R)) -> first_hit (R,)``,
            months 1.. or 0 for never.
    """

    name: str
    kind: str
    description: str
    cond: Callable[..., np.ndarray] | None
    value: Callable[[World], np.ndarray] | None = None
    value_label: str = ""
    start: Callable[[World], Any] | None = None
    of: list[int] = field(default_factory=list)
    combine: Callable[[np.ndarray], np.ndarray] | None = None

    def bind(self, world: World) -> Callable[[World], np.ndarray] | None:
        """The condition as a function of the world alone (start state captured now)."""
        if self.cond is None or self.start is None:
            return self.cond
        s0 = self.start(world)
        cond = self.cond
        return lambda w: cond(w, s0)


@dataclass
class Detection:
    """What an outcome kind's ``build`` returns."""

    cond: Callable[..., np.ndarray] | None
    value: Callable[[World], np.ndarray] | None = None
    value_label: str = ""
    start: Callable[[World], Any] | None = None
    of: list[str] = field(default_factory=list)
    combine: Callable[[np.ndarray], np.ndarray] | None = None


def label(plan: Plan, section: str, key: str) -> str:
    """An actor's display name (its key if it has none)."""
    return getattr(getattr(plan.scenario, section).get(key), "name", "") or key


class ThresholdSpec(OutcomeSpec):
    """Base of outcomes that cross a threshold: exactly one of ``above`` or ``below``.

    A kind whose quantity stays within a range the mechanisms keep (a share between 0 and
    1) says so in ``value_range``; a threshold outside it can never be crossed
    (:meth:`cannot_happen`, which ``sim validate`` warns about).
    """

    value_range: ClassVar[tuple[float, float] | None] = None
    value_words: ClassVar[str] = "its value"

    above: float | None = None
    below: float | None = None

    @model_validator(mode="after")
    def _one(self) -> ThresholdSpec:
        if (self.above is None) == (self.below is None):
            raise ValueError("give exactly one of 'above' or 'below'")
        x = self.above if self.above is not None else self.below
        word = "above" if self.above is not None else "below"
        if not math.isfinite(x):
            raise ValueError(f"{word} must be a finite number, got {x}")
        if abs(x) > MAX_MAGNITUDE:
            raise ValueError(f"{word} {x:g} is too large; numbers in a scenario are at most 1e15 in size")
        return self

    def crossed(self, value: Callable[[World], np.ndarray]) -> Callable[[World], np.ndarray]:
        if self.above is not None:
            a = self.above
            return lambda w: value(w) > a
        b = self.below
        return lambda w: value(w) < b

    def threshold_words(self) -> str:
        return f"above {self.above:g}" if self.above is not None else f"below {self.below:g}"

    def cannot_happen(self) -> str | None:
        """Why the threshold can never be crossed (None if it can, or the range is not known)."""
        if self.value_range is None:
            return None
        lo, hi = self.value_range
        span = f"between {lo:g} and {hi:g}" if math.isfinite(hi) else f"at least {lo:g}"
        if self.above is not None and self.above >= hi:
            return f"{self.value_words} stays {span}, so it is never above {self.above:g}"
        if self.below is not None and self.below <= lo:
            return f"{self.value_words} stays {span}, so it is never below {self.below:g}"
        return None


def compile_outcomes(plan: Plan) -> list[Detector]:
    """Detectors for the scenario's outcomes, as their kinds build them."""
    reg = registry()
    scn = plan.scenario
    names = list(scn.outcomes)
    pos = {n: i for i, n in enumerate(names)}
    out: list[Detector] = []
    for name in names:
        spec = scn.outcomes[name]
        ok = reg.outcomes[spec.kind]
        desc = spec.description or ok.describe(spec, plan, name)
        d = ok.build(spec, plan)
        out.append(Detector(name, spec.kind, desc, d.cond, d.value, d.value_label, d.start,
                            [pos[x] for x in d.of], d.combine))
    return out


def combine_order(dets: list[Detector]) -> list[int]:
    """Indices of combined outcomes, each after the outcomes it is built from."""
    done: set[int] = {i for i, d in enumerate(dets) if d.cond is not None}
    order: list[int] = []
    pending = [i for i, d in enumerate(dets) if d.cond is None]
    while pending:
        progress = False
        for i in list(pending):
            if all(j in done for j in dets[i].of):
                order.append(i)
                done.add(i)
                pending.remove(i)
                progress = True
        if not progress:  # pragma: no cover - references check rejects cycles
            raise ValueError("cycle among combined outcomes")
    return order
