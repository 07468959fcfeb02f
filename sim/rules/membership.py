"""Membership: freeze, exit, re-engage and accession driven by trust.

Model ``thresholds`` (docs/MODEL.md §D6). Each month, for every state i and alliance
A (the leader excepted), with one uniform draw per pair:

* active member, trust < ``freeze_below``: freezes its participation w.p. ``freeze_hazard``;
* frozen member, trust < ``exit_below``: leaves w.p. ``exit_hazard``;
* frozen member, trust >= ``reengage_above``: takes part again w.p. ``reengage_hazard``;
* candidate (listed in ``candidates``, not a member), trust >= ``accede_above``:
  joins w.p. ``accede_hazard``.

Trust reverts towards its starting value at ``trust_reversion`` a month (0: it only
moves with responses, refusals, events and, with the alignment rule, affinity).

Each of the four is a decision of the state (``freeze``, ``leave``, ``reengage``, ``join``,
:func:`sim.parts.declare_decision`): for a state a person plays the hazards are zero and
only its team's order (``order_freeze``...) changes its membership, at the next step,
whatever its trust: an active member (not the leader) may freeze or leave, a frozen one
leave or take part again, a candidate or former member join. In the game's forecast the
hazards apply to it again (:func:`sim.parts.model_decides`).
"""

from __future__ import annotations

import numpy as np

from ..parts import declare_decision, declare_event, declare_state, model_decides
from ..scenario.values import P, default
from ..world.compile import ACTIVE, EXITED, FROZEN, NONE, Plan
from .reads import declare_affinity_reads
from .registry import RuleParams, register

declare_state("trust_base", ("S", "A"), init=lambda ctx: ctx.st["trust"].copy(),
              doc="starting trust, which membership reverts towards")


declare_event("membership.freeze", ("state", "alliance"),
              "{state} freezes its participation in {alliance} (its trust in it {trust:.2f})", ("trust",),
              doc="an active member freezes its participation")
declare_event("membership.exit", ("state", "alliance"), "{state} leaves {alliance} (its trust in it {trust:.2f})",
              ("trust",), doc="a frozen member leaves")
declare_event("membership.reengage", ("state", "alliance"),
              "{state} takes part in {alliance} again (its trust in it {trust:.2f})", ("trust",),
              doc="a frozen member re-engages")
declare_event("membership.accession", ("state", "alliance"), "{state} joins {alliance} (its trust in it {trust:.2f})",
              ("trust",), doc="a candidate joins")


def _not_leader(plan) -> np.ndarray:
    out = np.ones((plan.S, plan.A), dtype=bool)
    out[plan.leader, np.arange(plan.A)] = False
    return out


def _membership_decision(name: str, title: str, may, would, doc: str) -> None:
    """A membership change as the state's decision: ``may(w, status, trust)`` where an
    order is carried out, ``would(w, status, trust)`` the model's hazard (R, S, A)."""

    def odds(w) -> np.ndarray:
        st = w.st
        if w.plan.A == 0:
            return np.zeros((w.n, w.plan.S, 0))
        return np.where(may(w, st.status), would(w, st.status, st.trust), 0.0)

    def open_(w) -> np.ndarray:
        return may(w, w.st.status) if w.plan.A else np.zeros((w.n, w.plan.S, 0), dtype=bool)

    declare_decision(name, "membership", ("state", "alliance"), title, odds=odds, open=open_,
                     event=f"membership.{ {'leave': 'exit', 'join': 'accession'}.get(name, name)}", doc=doc)


def _rp(w, name: str) -> np.ndarray:
    return w.rp("membership", name)[:, None, None]


_membership_decision(
    "freeze", "freeze its participation in {alliance}",
    lambda w, s: (s == ACTIVE) & _not_leader(w.plan)[None],
    lambda w, s, t: np.where(t < _rp(w, "freeze_below"), _rp(w, "freeze_hazard"), 0.0),
    "an active member freezes its participation (the model: at h_freeze while trust < θ_freeze)")
_membership_decision(
    "leave", "leave {alliance}",
    lambda w, s: ((s == ACTIVE) | (s == FROZEN)) & _not_leader(w.plan)[None],
    lambda w, s, t: np.where((s == FROZEN) & (t < _rp(w, "exit_below")), _rp(w, "exit_hazard"), 0.0),
    "a member leaves (the model: a frozen member, at h_exit while trust < θ_exit; a team may leave from active)")
_membership_decision(
    "reengage", "take part in {alliance} again",
    lambda w, s: s == FROZEN,
    lambda w, s, t: np.where(t >= _rp(w, "reengage_above"), _rp(w, "reengage_hazard"), 0.0),
    "a frozen member takes part again (the model: at h_back once trust >= θ_back)")
_membership_decision(
    "join", "join {alliance}",
    lambda w, s: ((s == NONE) | (s == EXITED)) & w.plan.candidates[None],
    lambda w, s, t: np.where(t >= _rp(w, "accede_above"), _rp(w, "accede_hazard"), 0.0),
    "a candidate joins (the model: at h_join once trust >= θ_join)")


class MembershipParams(RuleParams):
    """Trust thresholds and monthly hazards of membership changes."""

    freeze_below: P(0, 1) = default(0.3, "participation is frozen once trust is well below half", symbol="θ_freeze")
    freeze_hazard: P(0, 1) = default(
        0.05, "a government takes about a year and a half on average to act on low trust", symbol="h_freeze", unit="1/month")
    exit_below: P(0, 1) = default(0.2, "leaving takes lower trust than freezing", symbol="θ_exit")
    exit_hazard: P(0, 1) = default(0.03, "formal exit is slower than a freeze (treaty procedures, costs)", symbol="h_exit", unit="1/month")
    reengage_above: P(0, 1) = default(0.5, "a frozen member returns once trust is restored to half", symbol="θ_back")
    reengage_hazard: P(0, 1) = default(0.1, "re-engagement is quicker than exit", symbol="h_back", unit="1/month")
    accede_above: P(0, 1) = default(0.7, "accession needs high trust", symbol="θ_join")
    accede_hazard: P(0, 1) = default(0.02, "accession takes years", symbol="h_join", unit="1/month")
    trust_reversion: P(0, 1) = default(0.0, "trust has memory: it moves only with what happens", symbol="ρ", unit="1/month")


declare_affinity_reads("membership", "thresholds", None)


@register("membership", "thresholds", MembershipParams)
def build(plan: Plan):
    """Trust-threshold transitions between active, frozen, exited and non-member."""
    if plan.A == 0:
        return lambda w: None
    not_leader = _not_leader(plan)
    cand = plan.candidates

    # numba: imported (and the kernel compiled, or loaded from its cache) when a run uses the rule
    from .alliance_kernel import transitions

    not_leader = np.ascontiguousarray(not_leader)
    cand = np.ascontiguousarray(cand, dtype=bool)
    orders = tuple(f"order_{n}" for n in ("freeze", "leave", "reengage", "join"))
    none_b, none_f = np.empty((0, 0, 0), dtype=bool), np.empty((0, 0, 0))

    def step(w) -> None:
        st = w.st
        c = np.ascontiguousarray

        for name in ("trust", "status"):  # updated in place by the kernel
            if not st[name].flags.c_contiguous:
                st[name] = c(st[name])
        g = w.stream("membership")  # one draw per state and alliance (drawn in the kernel)
        keep = w.log is not None  # a log narrates: the kernel says where each event happened, emit counts and logs
        if keep:
            freeze, leave, back, join = (np.empty(st.trust.shape, dtype=bool) for _ in range(4))
            t = np.empty(st.trust.shape)
        else:
            freeze = leave = back = join = none_b
            t = none_f
        transitions(status=st.status, trust=st.trust, trust_base=c(st.trust_base), key=g.keys(1)[0], ids=g.ids,
                    not_leader=not_leader, cand=cand, free=c(model_decides(st)), order_freeze=c(st[orders[0]]),
                    order_leave=c(st[orders[1]]), order_back=c(st[orders[2]]), order_join=c(st[orders[3]]),
                    rho=w.rp("membership", "trust_reversion"), freeze_below=w.rp("membership", "freeze_below"),
                    freeze_hazard=w.rp("membership", "freeze_hazard"), exit_below=w.rp("membership", "exit_below"),
                    exit_hazard=w.rp("membership", "exit_hazard"), back_above=w.rp("membership", "reengage_above"),
                    back_hazard=w.rp("membership", "reengage_hazard"),
                    join_above=w.rp("membership", "accede_above"), join_hazard=w.rp("membership", "accede_hazard"),
                    n_freeze=w.counts["membership.freeze"], n_exit=w.counts["membership.exit"],
                    n_back=w.counts["membership.reengage"], n_join=w.counts["membership.accession"], keep=keep,
                    freeze_out=freeze, leave_out=leave, back_out=back, join_out=join, trust_out=t)
        for name in orders:
            st[name][:] = False  # carried out
        if keep:
            w.emit("membership.freeze", freeze, trust=t)
            w.emit("membership.exit", leave, trust=t)
            w.emit("membership.reengage", back, trust=t)
            w.emit("membership.accession", join, trust=t)

    return step
