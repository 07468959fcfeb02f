"""The common ground every mechanism shares: capability, affinity, control of territory,
and which scenario events have fired. Declared here once (no rule runs from this module).

See docs/MODEL.md §State variables.
"""

from __future__ import annotations

import numpy as np

from ..parts import declare_attr, declare_predicate, declare_reading, declare_state, declare_target
from ..scenario.values import P
from .reads import affinity_moves

declare_attr(
    "states", "capability", P(0), doc="Relative military capability (index; only ratios matter).",
    array="capability0", state="capability", label="{state's} capability",
)
declare_attr(
    "states", "available_capacity", P(0, 1), 1.0,
    "no commitments elsewhere unless the scenario says otherwise",
    doc="Share of its forces a state can commit here (the rest is tied elsewhere), 0..1.",
    array="capacity", label="{state's} available capacity",
)
declare_attr(
    "states", "affinity", P(-1, 1), keyed_by="states",
    doc="Affinity towards other actors, -1 (hostile) .. 1 (aligned).",
    array="affinity0", state="affinity", label="{a's} attitude to {b}",
)


def _affinity(ctx) -> np.ndarray:
    """Directed affinity; a direction the file does not give takes the other direction's value."""
    plan, p = ctx.plan, ctx.par
    si = plan.index_of("state")
    S = plan.S
    given = np.zeros((S, S), dtype=bool)
    for s, spec in plan.scenario.states.items():
        for t in spec.affinity:
            given[si[s], si[t]] = True
    aff = p.affinity0.copy()
    mirror = ~given & given.T
    aff[:, mirror] = np.swapaxes(p.affinity0, 1, 2)[:, mirror]
    return aff


def _controller(ctx) -> np.ndarray:
    plan = ctx.plan
    si = plan.index_of("state")
    out = np.empty((ctx.n, plan.T), dtype=np.int16)
    for j, t in enumerate(plan.territories):
        out[:, j] = si[plan.scenario.territories[t].controller]
    return out


declare_state("capability", ("S",), init=lambda ctx: ctx.par.capability0.copy(), doc="capability index",
              record="mean", label="{state's} capability", trajectories=True, track=True, screen="capability")
declare_state("affinity", ("S", "S"), init=_affinity, doc="affinity of row state towards column state, -1..1",
              record="mean", label="{a} towards {b}", chart="relations", trajectories=True, track=True,
              screen="affinity", moves=affinity_moves)
declare_state("controller", ("T",), "int16", _controller, doc="index of the state controlling each territory",
              record="counts", levels="states", label="who holds {territory}", track=True, screen="territories",
              column="{territory}.held_by.{level}", sparse="columns")
declare_state("fired", ("E",), "bool", False, doc="scenario event has fired")
declare_state(
    "triggered", ("E",), "bool", False,
    doc="scenario event triggered from outside the monthly events (a lever, an inject); fired at the next step",
)


def _set_controller(op: str, plan, j: int, names: np.ndarray):
    idx = int(names[0])

    def apply(w, mask: np.ndarray) -> None:
        w.st.controller[mask, j] = idx

    return apply


declare_target("territories", "controller", "name", _set_controller, doc="who holds the territory")


declare_reading("capability", "capability", ("state",), "num", "capability(armenia)")
declare_reading("affinity", "affinity", ("state", "state"), "num", "affinity(armenia, russia)", doc="-1..1")
declare_reading("controller", "controller", ("territory",), "actor", "controller(karabakh)")
declare_reading("fired", "fired", ("event",), "bool", "fired(eu_monitors_arrive)", doc="event has fired")


def _value(plan, a):
    ad = plan.address(a[0])
    key = (slice(None), *ad.index)
    space, arr = ad.space, ad.array
    return lambda w: getattr(w, space)[arr][key]


declare_predicate(
    "value", ("path",), "num", "value(suppliers.russia_arms.reliability)", _value, doc="any parameter"
)
