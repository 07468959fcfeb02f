"""Events: scheduled (``at``), conditional (``when``) and triggered (``{event: NAME}``).

Model ``scheduled`` (MODEL.md §D1). Each month, in the order they are listed:

* a scheduled event is eligible in its month; a conditional event whenever its
  predicate holds; a triggered-only event when another event's effect names it;
* an eligible event fires with its probability ``p_e`` (one uniform draw per
  replicate and event every month, drawn for everyone and then masked), at most once
  per replicate if ``once``, and in any case at most once a month: an event that is
  eligible and also triggered by another event in the same month fires once, on the
  month's one draw;
* its effect is applied to the replicates where it fired, and the events it names are
  triggered there (each with its own probability);
* events triggered from outside the month's events — by a lever pulled or an inject
  (``world.apply_effect``) — fire at the start of the next month, before the others.
"""

from __future__ import annotations

import numpy as np

from ..parts import declare_event
from ..scenario.expr import month_index
from ..world.compile import Plan
from ..world.effects import compile_effect
from ..world.predicates import compile_predicate
from .reads import declare_affinity_reads
from .registry import RuleParams, register

declare_event("events.fired", ("event",), "{event}", doc="a scenario event fires")


class EventParams(RuleParams):
    """The events mechanism has no parameters of its own; each event carries its probability."""


declare_affinity_reads("events", "scheduled", None)


@register("events", "scheduled", EventParams)
def build(plan: Plan):
    """Scheduled, conditional and triggered events with per-month probabilities."""
    scn = plan.scenario
    ev_index = plan.index_of("event")
    table = []
    for e, ev in enumerate(scn.events):
        ops, triggers = compile_effect(ev.effect, plan)
        table.append(
            {
                "e": e,
                "at": month_index(ev.at) if ev.at else None,
                "when": compile_predicate(ev.when, plan) if ev.when else None,
                "once": ev.once,
                "ops": ops,
                "triggers": [ev_index[t] for t in triggers],
            }
        )
    n_events = len(table)

    def fire(w, e: int, mask: np.ndarray, u: np.ndarray, done: np.ndarray, depth: int = 0) -> None:
        row = table[e]
        mask = mask & (u[:, e] < w.par.event_p[:, e]) & ~done[:, e]  # at most once a month
        if row["once"]:
            mask &= ~w.st.fired[:, e]
        if not mask.any():
            return
        for op in row["ops"]:
            op(w, mask)
        w.st.fired[:, e] |= mask
        done[:, e] |= mask
        w.emit("events.fired", _column(mask, e, n_events))
        if depth < 16:
            for t in row["triggers"]:
                fire(w, t, mask, u, done, depth + 1)

    def step(w) -> None:
        if not n_events:
            return
        u = w.stream("events").random((w.n, n_events))
        done = np.zeros((w.n, n_events), dtype=bool)  # fired this month
        pending = w.st.triggered
        if pending.any():  # triggered by a lever or an inject since the last month
            for e in np.flatnonzero(pending.any(axis=0)):
                fire(w, int(e), pending[:, e].copy(), u, done)
            pending[:] = False
        for row in table:
            if row["at"] is not None:
                if row["at"] != w.month:
                    continue
                eligible = np.ones(w.n, dtype=bool)
            elif row["when"] is not None:
                eligible = row["when"](w)
            else:
                continue  # triggered only
            fire(w, row["e"], eligible, u, done)

    return step


def _column(mask: np.ndarray, e: int, n: int) -> np.ndarray:
    """(R,) -> (R, E) with the mask in column e (an event's place among the scenario's)."""
    out = np.zeros((mask.shape[0], n), dtype=bool)
    out[:, e] = mask
    return out
