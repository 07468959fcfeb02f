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
from ..world.compile import Plan
from .common import Dyads, answer_probability, towards_sides
from .reads import declare_affinity_reads
from .registry import RuleParams, register

declare_state("patron_wait", ("F", "S", "A"), "int32", 10_000,  # the kernel's WAIT_CAP: pairs it never judges stay there
              doc="months since the patron last judged its alliance here")
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
        "affinity: the member was not attacked itself", symbol="c_p", label="patronage: trust a member loses when its alliance lets its protégé down")
    patron_gain: P(0, 1) = default(0.15, "backing a protégé restores half as much as answering a request",
                                   symbol="g_p", label="patronage: trust a member gains when its alliance backs its protégé")
    cooldown_months: P(1, 120, integer=True) = default(
        6, "a member judges its alliance over the same protégé at most every six months, as for requests",
        unit="months")


def _possible_patrons(plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    """Static subsets the step works on: states that are, or may become, members of a
    collective-defence alliance (members, frozen members, candidates, and any state an
    event or lever adds to one), and those alliances."""
    si = plan.index_of("state")
    coll = [j for j, k in enumerate(plan.alliance_kind) if k == "collective_defence"]
    names: set[str] = set()
    scn = plan.scenario
    for j in coll:
        spec = scn.alliances[plan.alliances[j]]
        names |= set(spec.members) | set(spec.frozen) | set(spec.candidates)
    effects = [ev.effect for ev in scn.events] + [lv.effect for acts in scn.levers.values() for lv in acts.values()]
    for eff in effects:
        for op in (eff.set, eff.add):
            for path, value in op.items():
                parts = path.split(".")
                if parts[0] == "alliances" and len(parts) == 3 and parts[2] in ("members", "frozen"):
                    names |= set(value if isinstance(value, list) else [value])
    return np.array(sorted(si[n] for n in names if n in si), dtype=np.intp), np.array(coll, dtype=np.intp)


declare_affinity_reads("patronage", "protege", towards_sides)  # patrons towards the sides they back


@register("patronage", "protege", PatronageParams, phase="alliance", order=10)
def build(plan: Plan):
    """Members' trust follows clashes and losses of the sides they back."""
    P, C = _possible_patrons(plan)
    responses_on = "alliance" in plan.rules  # it resets the month's answers and refusals

    def reset(w) -> None:
        if not responses_on:
            w.st.refused_now[:] = 0.0
            w.st.answered_now[:] = 0.0

    if plan.F == 0 or P.size == 0 or C.size == 0:
        def idle(w) -> None:
            reset(w)
            w.st.held_before = w.st.controller.copy()
        return idle
    d = Dyads.for_plan(plan)
    F = plan.F
    not_side = d.not_side[:, :, P]  # (F, 2, p)
    stake = plan.stakes  # (F,)
    lead = plan.leader[C][None, :] == P[:, None]  # (p, c): the patron leads the alliance

    # numba: imported (and the kernel compiled, or loaded from its cache) when a run uses the rule
    from .patronage_kernel import judge

    Pc, Cc = P.astype(np.intp), C.astype(np.intp)
    sides = np.ascontiguousarray(d.sides, dtype=np.intp)
    stake = np.ascontiguousarray(stake, dtype=np.intp)
    not_side = np.ascontiguousarray(not_side)
    lead = np.ascontiguousarray(lead)
    none_b, none_f = np.empty((0, 0, 0, 0), dtype=bool), np.empty((0, 0, 0))
    names = ("trust", "patron_wait", "held_before", "refused_now", "answered_now")

    def step(w) -> None:
        st, par = w.st, w.par
        R = w.n
        c = np.ascontiguousarray
        reset(w)
        # one judgement per flashpoint, patron and alliance: does the alliance stand by the protégé? (drawn in the kernel)
        g = w.stream("patronage")
        for name in names:  # updated in place by the kernel
            if not st[name].flags.c_contiguous:
                st[name] = c(st[name])
        keep = w.log is not None  # a log narrates: the kernel says where each event happened, emit counts and logs
        if keep:
            letdown, backed = (np.empty((R, F, P.size, C.size), dtype=bool) for _ in range(2))
            before, after = np.empty((R, P.size, C.size)), np.empty((R, P.size, C.size))
        else:
            letdown = backed = none_b
            before = after = none_f
        q = c((answer_probability(w, d) * par.outside_zone)[:, C], dtype=np.float64)  # (R, c)
        judged = judge(P=Pc, C=Cc, sides=sides, stake=stake, not_side=not_side, lead=lead,
                       key=g.keys(1)[0], ids=g.ids, q=q, aff=c(st.affinity),
                       status=c(st.status), trust=st.trust, patron_wait=st.patron_wait, held_before=st.held_before,
                       controller=c(st.controller), peak=c(st.peak), trigger=c(par.trigger),
                       th=w.rp("patronage", "patron_threshold"), cooldown=w.rp("patronage", "cooldown_months"),
                       gain=w.rp("patronage", "patron_gain"), cost=w.rp("patronage", "patron_cost"),
                       refused_now=st.refused_now, answered_now=st.answered_now,
                       n_letdown=w.counts["patronage.letdown"], n_backing=w.counts["patronage.backing"], keep=keep,
                       letdown_out=letdown, backed_out=backed, before_out=before, after_out=after)
        if keep and judged:
            shape = (R, F, P.size, C.size)
            b4, af = np.broadcast_to(before[:, None], shape), np.broadcast_to(after[:, None], shape)
            w.emit("patronage.letdown", letdown, where=(None, P, C), before=b4, after=af)
            w.emit("patronage.backing", backed, where=(None, P, C), before=b4, after=af)

    return step
