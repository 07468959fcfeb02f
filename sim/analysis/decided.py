"""Outcomes decided at the start: true in every run from the first month, or never possible.

An outcome that already holds at month 1 in every run has probability 1 whatever the
model does afterwards; one whose threshold lies outside the range its quantity can take
has probability 0. Either way its number in the outcome table says nothing about the
future. ``sim validate`` prints one warning line for each (exit status stays 0), and the
scenario guide lists them per scenario.

Two checks:

* **A short run** (:data:`RUNS` replicates, one month, the scenario's own seed; fewer for a
  scenario whose replicates hold much state, none above :data:`MAX_BYTES` for
  :data:`MIN_RUNS` of them: :func:`check_runs`) finds the outcomes that hold at month 1 in
  every run. A run is used rather than a static reading
  because it covers every outcome kind alike, conditions, combinations and kinds a
  plugin registers included, with the starting state as the mechanisms build it
  (distributions drawn, start shares coupled, events of the first month applied); a
  few hundred one-month runs cost well under a second once the kernels are compiled.
  An outcome that starts true in only some runs is not flagged: then where it starts is
  uncertain, and the probability reflects that uncertainty.
* **A static check** finds the threshold outcomes that can never happen: a kind whose
  quantity stays within a known range (:attr:`sim.outcomes.base.ThresholdSpec.value_range`:
  a share or a trust between 0 and 1, an affinity between -1 and 1, a capability at least
  0) with its threshold outside that range, and combinations (``all``, ``any``) left with
  too few parts that can happen. No run can show that something will never happen, so
  this is static; it cannot judge a ``condition``.

    from sim.analysis.decided import decided_outcomes
    for d in decided_outcomes(scn):
        print(d.line())
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

RUNS = 400
"""Replicates of the one-month check: an outcome true with probability 0.99 at month 1 is
flagged by chance with probability 0.99**400 < 2%."""
MIN_RUNS = 100
"""Fewest replicates the check runs: a scenario so large that even these would hold more
than :data:`MAX_BYTES` of state is not run (the static check still is)."""
MAX_BYTES = 512 * 2**20
"""State the one-month check may hold (a scenario of thousands of states holds hundreds
of megabytes per replicate in its affinities alone)."""


def bytes_per_run(scn: Any) -> int:
    """Bytes of state one replicate of ``scn`` holds (the declared state arrays, float64)."""
    from ..parts import registry

    spec = scn.spec
    sizes = {"S": len(spec.states), "A": len(spec.alliances), "K": len(spec.suppliers), "T": len(spec.territories),
             "F": len(spec.flashpoints), "E": len(spec.events), "L": sum(len(v) for v in spec.levers.values())}
    return sum(int(np.prod(v.shape(sizes, 1))) * 8 for v in registry().state.values())


def check_runs(scn: Any, runs: int = RUNS) -> int:
    """Replicates of the one-month check for ``scn``: ``runs``, fewer for a large scenario,
    0 when not even :data:`MIN_RUNS` fit in :data:`MAX_BYTES`."""
    fit = MAX_BYTES // max(bytes_per_run(scn), 1)
    return min(runs, fit) if fit >= MIN_RUNS else 0


@dataclass(frozen=True)
class Decided:
    """An outcome whose value is settled before the model runs.

    Attributes:
        outcome: Its name in the scenario.
        verdict: ``always`` (holds at month 1 in every run of the check) or ``never``
            (cannot happen).
        why: What shows it, in words.
        advice: What to do about it.
    """

    outcome: str
    verdict: str
    why: str
    advice: str

    def message(self) -> str:
        """What is wrong and what to do, in one line (``sim validate`` puts the file, line and
        outcome before it)."""
        head = "starts true in every run" if self.verdict == "always" else "cannot happen in any run"
        return f"{head}: {self.why}; {self.advice}"

    def line(self) -> str:
        """One warning line naming the outcome, what is wrong and what to do."""
        return f"outcome '{self.outcome}' {self.message()}"


def cannot_happen(spec: Any) -> dict[str, str]:
    """``{outcome: why}`` for the outcomes of a validated scenario spec that can never happen."""
    out: dict[str, str] = {}
    outcomes = spec.outcomes
    for name, o in outcomes.items():
        why = o.cannot_happen() if hasattr(o, "cannot_happen") else None
        if why:
            out[name] = why
    changed = True
    while changed:  # combinations, in dependency order
        changed = False
        for name, o in outcomes.items():
            if name in out or getattr(o, "kind", None) not in ("all", "any"):
                continue
            dead = [p for p in o.of if p in out]
            need = len(o.of) if o.kind == "all" else (o.at_least or 1)
            if len(o.of) - len(dead) < need:
                out[name] = (f"it needs {'all' if o.kind == 'all' else need} of {', '.join(o.of)}, and "
                             f"{', '.join(dead)} cannot happen")
                changed = True
    return out


def _values(res: Any, i: int) -> tuple[float, float] | None:
    if res.value_sample is None or i >= res.value_sample.shape[0]:
        return None
    v = res.value_sample[i]
    v = v[~np.isnan(v)]
    return (float(v.min()), float(v.max())) if v.size else None


def _always(name: str, o: Any, runs: int, values: tuple[float, float] | None) -> Decided:
    what = f"it already holds at month 1 in all {runs} runs of a one-month check"
    words = getattr(o, "threshold_words", None)
    if words is None or values is None:
        return Decided(name, "always", what, "its probability says nothing about what happens later: change what it "
                       "asks so that it does not hold at the start, or remove it")
    lo, hi = values
    shown = f"{lo:.3g}" if abs(hi - lo) < 5e-4 else f"{lo:.3g} to {hi:.3g}"
    side = "below" if o.above is not None else "above"
    return Decided(name, "always", f"{what} (its value then: {shown}, threshold {words()}): the threshold sits at "
                   f"or {side} the starting value",
                   "its probability says nothing about what happens later: move the threshold past the starting "
                   "value, or, if the data cannot place the starting value, declare it as a distribution over the "
                   "range they support")


def _never(name: str, o: Any, why: str) -> Decided:
    if getattr(o, "kind", None) in ("all", "any"):
        advice = "its probability is 0 whatever happens: fix or replace the parts that cannot happen, or remove it"
    else:
        advice = "its probability is 0 whatever happens: move the threshold inside that range, or remove the outcome"
    return Decided(name, "never", why, advice)


def decided_outcomes(scn: Any, *, runs: int | None = None, seed: int | None = None) -> list[Decided]:
    """The outcomes of loaded scenario ``scn`` decided at the start, in the file's order.

    Args:
        scn: A :class:`sim.api.LoadedScenario` (overrides and plugins already applied).
        runs: Replicates of the one-month check (default :func:`check_runs`: :data:`RUNS`,
            fewer for a large scenario, none for a huge one; 0 skips the run).
        seed: Its seed (default: the scenario's ``meta.seed``, so the answer is the same
            every time).
    """
    from ..api import run

    never = cannot_happen(scn.spec)
    runs = check_runs(scn) if runs is None else runs
    rows: dict[str, dict] = {}
    res = None
    if runs > 0:
        res = run(scn, runs=runs, seed=scn.spec.meta.seed if seed is None else seed, months=1, workers=1,
                  backend="local", dtype="float64")
        rows = {r["outcome"]: r for r in res.outcome_rows()}
    out = []
    for i, (name, o) in enumerate(scn.spec.outcomes.items()):
        if name in never:
            out.append(_never(name, o, never[name]))
        elif res is not None and rows[name]["hits"] == res.runs:
            out.append(_always(name, o, res.runs, _values(res, i)))
    return out
