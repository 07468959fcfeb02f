"""Patronage: a member's trust in its alliance moves with the fate of the side it backs.

Model ``protege`` (docs/MODEL.md §D4a), a slot of its own in the alliance phase, run
after requests and responses. A state i that is an active member (not the leader) of a
collective-defence alliance A, and not a side of flashpoint f, is the *patron* of side
sigma of f when its affinity towards sigma is at least ``patron_threshold`` and sigma is
not itself an active member of A (a member asks for itself, D4). Whenever f reaches A's
trigger rung in a month (at most every ``cooldown_months``), or sigma loses the
territory at stake there, the patron watches whether the alliance stands by its protégé:
with probability

    q_p = min(1, credibility_A * capacity_ratio_A) * outside_zone_A

(:func:`sim.rules.common.answer_probability`; the protégé's land is outside the
patron's treaty zone) it does, and trust rises by ``patron_gain * a * (1 - trust)``;
otherwise trust falls by ``patron_cost * a``, with a = affinity(i, sigma). These count
as answers and refusals for the alignment rule (D5). The CSTO, say, need not defend
Karabakh, but Armenia's trust in it still moves with what happens there.
"""

from __future__ import annotations

import numpy as np

from ..parts import declare_event, declare_state
from ..scenario.values import P, default
from ..world.compile import ACTIVE, Plan
from .common import Dyads, answer_probability
from .registry import RuleParams, register

declare_state("patron_wait", ("F", "S", "A"), "int32", 10_000, doc="months since the patron last judged its alliance here")
declare_state("held_before", ("T",), "int16", lambda ctx: ctx.st["controller"].copy(),
              doc="controller of each territory at the end of the previous month")

declare_event("patronage.letdown", ("flashpoint", "state", "alliance"),
              "{alliance} stands by as {state}'s protégé at {flashpoint} is attacked (trust {before:.2f} -> {after:.2f})",
              ("before", "after"), doc="a member's protégé is attacked and the alliance does nothing")
declare_event("patronage.backing", ("flashpoint", "state", "alliance"),
              "{alliance} stands up for {state}'s protégé at {flashpoint} (trust {before:.2f} -> {after:.2f})",
              ("before", "after"), doc="the alliance backs a member's protégé")


class PatronageParams(RuleParams):
    """How a member's trust follows the fate of the side it backs."""

    patron_threshold: P(0, 1) = default(
        0.5, "a state backs a side it is clearly aligned with (affinity at least 0.5: kin-state, protector)",
        symbol="θ_p")
    patron_cost: P(0, 1) = default(
        0.075, "standing by while a protégé is attacked costs half a refused request (0.15) per unit of "
        "affinity: the member was not attacked itself", symbol="c_p")
    patron_gain: P(0, 1) = default(0.15, "backing a protégé restores half as much as answering a request",
                                   symbol="g_p")
    cooldown_months: P(1, 120, integer=True) = default(
        6, "a member judges its alliance over the same protégé at most every six months, as for requests",
        unit="months")


@register("patronage", "protege", PatronageParams, phase="alliance", order=10)
def build(plan: Plan):
    """Members' trust follows clashes and losses of the sides they back."""
    if plan.F == 0 or plan.A == 0:
        return lambda w: None
    d = Dyads.for_plan(plan)
    S, A, F = plan.S, plan.A, plan.F
    not_side = d.not_side  # (F, 2, S)
    stake = plan.stakes  # (F,)

    responses_on = "alliance" in plan.rules  # it resets the month's answers and refusals

    def step(w) -> None:
        st = w.st
        R = w.n
        if not responses_on:
            st.refused_now[:] = 0.0
            st.answered_now[:] = 0.0
        aff = w.st.affinity[:, :, d.sides]  # (R, S, F, 2): affinity of i towards side sigma
        aff = np.moveaxis(aff, 1, 3)  # (R, F, 2, S)
        member = st.status == ACTIVE  # (R, S, A)
        prot_member = member[:, d.sides, :]  # (R, F, 2, A): the protégé is an active member itself
        lead = np.zeros((S, A), dtype=bool)
        lead[plan.leader, np.arange(A)] = True
        patron_ok = member & ~lead[None] & d.collective[None, None, :]  # (R, S, A)
        th = w.rp("patronage", "patron_threshold")[:, None, None, None]
        backs = (aff >= th) & not_side[None]  # (R, F, 2, S)
        # (R, F, 2, S, A)
        pair = backs[..., None] & patron_ok[:, None, None, :, :] & ~prot_member[:, :, :, None, :]
        if not pair.any():
            st.patron_wait = np.minimum(st.patron_wait + 1, 10_000).astype(np.int32)
            st.held_before = st.controller.copy()
            return
        lost = np.zeros((R, F, 2), dtype=bool)
        for f in range(F):
            t = stake[f]
            if t >= 0:
                for sg in range(2):
                    s = d.sides[f, sg]
                    lost[:, f, sg] = (st.held_before[:, t] == s) & (st.controller[:, t] != s)
        hot = st.peak[:, :, None] >= w.par.trigger[:, None, :]  # (R, F, A)
        cool = st.patron_wait >= w.rp("patronage", "cooldown_months")[:, None, None, None]  # (R, F, S, A)
        test = pair & ((hot[:, :, None, None, :] & cool[:, :, None, :, :]) | lost[..., None, None])
        q = answer_probability(w, d) * w.par.outside_zone  # (R, A)
        u = w.stream("patronage").random((R, F, 2, S, A))
        backed = test & (u < q[:, None, None, None, :])
        letdown = test & ~backed
        a = np.clip(aff, 0.0, 1.0)[..., None]  # (R, F, 2, S, 1)
        trust = st.trust  # (R, S, A)
        before = trust.copy()
        gain = w.rp("patronage", "patron_gain")[:, None, None, None, None]
        cost = w.rp("patronage", "patron_cost")[:, None, None, None, None]
        delta = (backed * gain * a * (1.0 - trust[:, None, None, :, :]) - letdown * cost * a).sum(axis=(1, 2))
        st.trust = np.clip(trust + delta, 0.0, 1.0).astype(trust.dtype)
        judged = test.any(axis=2)  # (R, F, S, A)
        st.patron_wait = np.where(judged, 0, np.minimum(st.patron_wait + 1, 10_000)).astype(np.int32)
        st.refused_now = st.refused_now + letdown.sum(axis=(1, 2))
        st.answered_now = st.answered_now + backed.sum(axis=(1, 2))
        st.held_before = st.controller.copy()
        after = np.broadcast_to(st.trust[:, None], (R, F, S, A))
        w.emit("patronage.letdown", letdown.any(axis=2), before=np.broadcast_to(before[:, None], (R, F, S, A)), after=after)
        w.emit("patronage.backing", backed.any(axis=2), before=np.broadcast_to(before[:, None], (R, F, S, A)), after=after)

    return step
