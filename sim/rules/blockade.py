"""Blockade: one side cuts the other's supply lines; the blockaded side wears down.

Model ``siege`` (docs/MODEL.md §D8), a slot of its own in the escalation phase, run
before the ladder each month. A flashpoint's ``blockade`` is +1 when its first side
blockades the second, -1 for the reverse, 0 for none (scenario input, levers and events
set it). While a blockade is in place:

* the blockaded state's supplies fall by a share ``wear_rate`` a month
  (``supply <- supply * (1 - wear_rate)``); without a blockade they recover
  (``supply <- supply + recovery_rate * (1 - supply)``);
* supplies scale the state's capability wherever the balance is reckoned (the ladder's
  initiation and shift terms, wars, limited offensives: ``log_balance`` in
  :mod:`sim.rules.escalation`), so the blockader's edge grows month by month;
* the flashpoint cannot step below rung 2 (a blockade is a militarized act, MID
  hostility level 4, action 13), so it does not decay like a standoff.

It ends when the dispute is settled (an agreement, a territory changing hands), by a
lever or event setting ``blockade`` to 0, or on its own at ``lift_rate`` a month.
"""

from __future__ import annotations

import numpy as np

from ..parts import declare_attr, declare_event, declare_reading, declare_state
from ..scenario.values import P, default
from ..world.compile import Plan
from .formulas import chance
from .reads import declare_affinity_reads
from .registry import RuleParams, register

HOLD_RUNG = 2  # a blockade is rung 2 (display/blockade) by the ladder's definition


def _blockade_changed(w, mask: np.ndarray, index: tuple, old: np.ndarray) -> None:
    """A blockade imposed by an effect holds the flashpoint at rung 2 from now on."""
    f = index[0]
    on = mask & (w.st.blockade[:, f] != 0)
    w.st.rung_floor[:, f] = np.where(w.st.blockade[:, f] != 0, HOLD_RUNG, 0)
    w.st.level[on, f] = np.maximum(w.st.level[on, f], HOLD_RUNG)
    w.st.settled[on, f] = False


declare_attr(
    "flashpoints", "blockade", P(-1, 1, integer=True), 0, "no blockade unless the scenario says so",
    doc="Blockade: +1 the first side blockades the second, -1 the second the first, 0 none.",
    array="blockade0", state="blockade", on_change=_blockade_changed,
)
declare_attr(
    "states", "supplies", P(0, 1), 1.0, "no shortage at the start unless the scenario says so",
    doc="Supplies at the start, 0..1 of normal (a blockade wears them down; they scale capability in contests).",
    array="supply0", state="supply", label="{state's} supplies at the start",
)
declare_state("blockade", ("F",), "int8", lambda ctx: np.rint(ctx.par.blockade0),
              doc="+1 first side blockades the second, -1 the reverse, 0 none")
declare_state("supply", ("S",), init=lambda ctx: ctx.par.supply0.copy(),
              doc="supplies 0..1 of normal; scale capability in contests")

declare_event("blockade.lifted", ("flashpoint",), "the blockade at {flashpoint} is lifted",
              doc="a blockade ends (settlement, or lifted at its own rate)")


declare_reading("blockaded", "blockade", ("flashpoint",), "bool", "blockaded(lachin)", test=lambda v: v != 0,
                doc="a blockade is in place")
declare_reading("supply", "supply", ("state",), "num", "supply(karabakh_armenians)", doc="supplies 0..1 of normal")


class BlockadeParams(RuleParams):
    """Wear and recovery of supplies, and how long blockades last (monthly rates)."""

    wear_rate: P(0, 1) = default(
        0.05,
        "a blockade that lets little through halves the blockaded side's effective strength in "
        "about a year (1 - 0.95^12 = 46%); no verified figure on siege duration or attrition "
        "was found (LITERATURE.md C1)", symbol="w_b", unit="1/month", label="blockade: monthly wear on the blockaded side's supplies")
    recovery_rate: P(0, 1) = default(
        0.25, "once the road is open, supplies close a quarter of the gap a month (about three months)",
        symbol="ρ_b", unit="1/month", label="blockade: monthly recovery of supplies once lifted")
    lift_rate: P(0, 1) = default(
        1 / 18,
        "a blockade already months old ends on its own after a year and a half on average; MID "
        "disputes whose highest action is a blockade are too few to say (5 in COW-MID 1946-2014)",
        symbol="h_lift", unit="1/month", label="blockade: rate at which it is lifted")


declare_affinity_reads("blockade", "siege", None)


@register("blockade", "siege", BlockadeParams, phase="escalation", order=-1)
def build(plan: Plan):
    """Blockades wear the blockaded side's supplies down and hold the ladder at rung 2."""
    if plan.F == 0:
        return lambda w: None
    sides = plan.sides
    cols = np.unique(sides)  # the states a blockade can wear down (the flashpoints' sides)
    col_of = {int(x): j for j, x in enumerate(cols)}
    sides_at = [(f, col_of[int(sides[f, 0])], col_of[int(sides[f, 1])]) for f in range(plan.F)]  # their columns

    def step(w) -> None:
        st = w.st
        R = w.n
        u = w.stream("blockade").random((R, plan.F))
        on = st.blockade != 0
        lift = on & (st.settled | (u < w.per_parameters(("blockade", "lift"), _lift_chance)))
        if lift.any():
            st.blockade[lift] = 0
            w.emit("blockade.lifted", lift)
        # every state's supplies recover, except the blockaded sides', which wear (element by
        # element the numbers of np.where(victim, worn, recovered) over all states)
        supply = st.supply
        rec, kept = w.per_parameters(("blockade", "rates"), lambda w: _rates(w, plan.S, cols.size))
        new = supply + rec * (1.0 - supply)
        if st.blockade.any():
            victim = np.zeros((R, cols.size), dtype=bool)  # (R, sides)
            for f, a, b in sides_at:  # few flashpoints, never replicates
                victim[:, b] |= st.blockade[:, f] > 0
                victim[:, a] |= st.blockade[:, f] < 0
            for j, c in enumerate(cols):  # a column at a time (a gather and a scatter of columns cost more)
                np.copyto(new[:, c], supply[:, c] * kept[:, j], where=victim[:, j])
        st.supply = new.astype(supply.dtype, copy=False)  # (a copy only where the dtype differs)
        held = st.blockade != 0
        st.rung_floor = np.where(held, np.int8(HOLD_RUNG), np.int8(0))
        st.level = np.where(held, np.maximum(st.level, HOLD_RUNG), st.level).astype(np.int8, copy=False)

    return step


def _rates(w, S: int, V: int) -> tuple[np.ndarray, np.ndarray]:
    """The monthly recovery rate over every state, (R, S), and the share of supplies a
    blockaded side keeps, 1 - wear, over the sides, (R, V), each replicate's value repeated
    along the row (numpy multiplies arrays of one shape faster than it broadcasts a column
    over a short row: the same numbers); in the world's precision, kept while the parameters
    stay as they are (:meth:`sim.world.model.World.per_parameters`)."""
    rec = w.rp("blockade", "recovery_rate", w.dtype)[:, None]
    wear = w.rp("blockade", "wear_rate", w.dtype)[:, None]
    return (np.ascontiguousarray(np.broadcast_to(rec, (w.n, S))),
            np.ascontiguousarray(np.broadcast_to(1.0 - wear, (w.n, V))))


def _lift_chance(w) -> np.ndarray:
    """Each replicate's monthly chance that a blockade is lifted, (R, 1) in the world's
    precision; kept while the parameters stay as they are (:meth:`sim.world.model.World.per_parameters`)."""
    return chance(w.rp("blockade", "lift_rate", w.dtype)[:, None])
