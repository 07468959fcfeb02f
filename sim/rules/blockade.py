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
    # numba: imported (and the kernel compiled, or loaded from its cache) when a run uses the rule
    from .blockade_kernel import siege

    sides = plan.sides
    cols = np.unique(sides)  # the states a blockade can wear down (the flashpoints' sides)
    at = np.searchsorted(cols, sides).astype(np.intp)  # (F, 2): each side's place among them
    side_a, side_b = np.ascontiguousarray(at[:, 0]), np.ascontiguousarray(at[:, 1])
    col_state = cols.astype(np.intp)
    none_b = np.empty((0, 0), dtype=bool)

    def step(w) -> None:
        st = w.st
        R = w.n
        g = w.stream("blockade")  # one uniform per flashpoint: is a blockade lifted? (drawn in the kernel)
        c = np.ascontiguousarray
        if not st.blockade.flags.c_contiguous:  # updated in place by the kernel
            st.blockade = c(st.blockade)
        supply = c(st.supply)
        rec, kept = w.per_parameters(("blockade", "rates"), _rates)
        keep = w.log is not None  # a log narrates: the kernel marks the lifts, emit counts and logs them
        lifted = np.zeros((R, plan.F), dtype=bool) if keep else none_b
        new = np.empty_like(supply)
        floor = np.empty(st.blockade.shape, dtype=np.int8)
        level = np.empty(st.blockade.shape, dtype=np.int8)
        any_lifted = siege(key=g.keys(1)[0], ids=g.ids, blockade=st.blockade, settled=c(st.settled),
                           lift=w.per_parameters(("blockade", "lift"), _lift_chance), supply=supply, rec=rec,
                           kept=kept, one=supply.dtype.type(1.0), side_a=side_a, side_b=side_b, col_state=col_state,
                           level=c(st.level), supply_out=new, floor_out=floor, level_out=level,
                           n_lifted=w.counts["blockade.lifted"], keep=keep, lifted_out=lifted)
        if keep and any_lifted:
            w.emit("blockade.lifted", lifted)
        st.supply = new
        st.rung_floor = floor
        st.level = level

    return step


def _rates(w) -> tuple[np.ndarray, np.ndarray]:
    """Each replicate's monthly recovery rate and the share of supplies a blockaded side
    keeps, 1 - wear, (R,) each in the world's precision; kept while the parameters stay
    as they are (:meth:`sim.world.model.World.per_parameters`)."""
    return (np.ascontiguousarray(w.rp("blockade", "recovery_rate", w.dtype)),
            np.ascontiguousarray(1.0 - w.rp("blockade", "wear_rate", w.dtype)))


def _lift_chance(w) -> np.ndarray:
    """Each replicate's monthly chance that a blockade is lifted, (R,) in the world's
    precision; kept while the parameters stay as they are (:meth:`sim.world.model.World.per_parameters`)."""
    return np.ascontiguousarray(chance(w.rp("blockade", "lift_rate", w.dtype)))
