"""Alliance response: members at a fatal clash ask for help; the alliance answers or not.

Model ``response`` (docs/MODEL.md §D4). Each month, for every flashpoint side sigma
that is an active member of a collective-defence alliance A (other than its
leader), a request is made when the flashpoint reached A's trigger level that month
(its peak: a clash that subsided within the month counts) and
at least ``cooldown_months`` have passed since that side's last request to A. The request
is a decision of the side (``ask_for_help``, :func:`sim.parts.declare_decision`): a side a
person plays asks only when its team orders it (``order_ask_for_help``), at any rung, the
dispute not settled, in the next month (in the game's forecast the model asks for it again:
:func:`sim.parts.model_decides`).

* With probability q (:func:`sim.rules.common.response_probability`: credibility x
  the change in the leader's available capacity since the start x zone of
  responsibility x member-vs-member rule)
  A responds: the member's trust rises by ``response_gain * (1 - trust)``, and the
  leader commits ``support_share`` of its capability (times its available capacity)
  to sigma's side, which deters the opponent and counts in a war's outcome; committed
  support decays by ``support_decay`` a month.
* Otherwise A refuses and the member's trust falls by ``refusal_cost`` (or by
  ``abstain_cost`` when A abstains because the opponent is a member too).
"""

from __future__ import annotations

import numpy as np

from ..parts import (
    declare_attr,
    declare_decision,
    declare_event,
    declare_predicate,
    declare_reading,
    declare_state,
    declare_target,
    model_decides,
)
from ..scenario.values import P, default
from ..world.compile import ACTIVE, EXITED, FROZEN, NONE, Plan
from .common import Dyads, response_probability
from .reads import declare_affinity_reads
from .registry import RuleParams, register

# ------------------------------------------------------------------ declarations

declare_attr("alliances", "credibility", P(0, 1),
             doc="P(the alliance answers a member's request for help), as things stand at the start.",
             label="{alliance} credibility")
declare_attr("alliances", "outside_zone", P(0, 1), 0.0,
             "collective defence covers members' own territory only (treaty zone of responsibility)",
             doc="Factor on the response probability when the fighting is outside the member's own territory.")
declare_attr("alliances", "trigger_level", P(1, 5, integer=True), 3,
             "members ask for help once a clash is fatal (rung 3)",
             doc="The rung at which a member asks the alliance for help.", array="trigger")
declare_attr("alliances", "trust", P(0, 1), keyed_by="states",
             doc="Each member's trust in the alliance, 0..1.", array="trust0", state="trust", key_first=True,
             label="{state's} trust in the {alliance}")
declare_attr("alliances", "default_trust", P(0, 1), 0.6,
             "a member whose trust is not stated trusts its alliance moderately",
             doc="Trust of a member whose trust the file does not state.")


def _status(ctx) -> np.ndarray:
    plan = ctx.plan
    si = plan.index_of("state")
    out = np.zeros((ctx.n, plan.S, plan.A), dtype=np.int8)
    for j, a in enumerate(plan.alliances):
        spec = plan.scenario.alliances[a]
        for m in spec.members:
            out[:, si[m], j] = ACTIVE
        for m in spec.frozen:
            out[:, si[m], j] = FROZEN
    return out


def _trust(ctx) -> np.ndarray:
    """Stated trust; members without a stated trust take the alliance's default_trust."""
    plan = ctx.plan
    si = plan.index_of("state")
    given = np.zeros((plan.S, plan.A), dtype=bool)
    for j, a in enumerate(plan.alliances):
        for m in plan.scenario.alliances[a].trust:
            given[si[m], j] = True
    fill = (ctx.st["status"] > 0) & ~given[None]
    return np.where(fill, ctx.par.default_trust[:, None, :], ctx.par.trust0)


# trust first: the timeseries gives a member's trust before its status (columns in declaration order)
declare_state("trust", ("S", "A"), init=_trust, doc="member's trust in the alliance, 0..1",
              record="mean", label="{state} in the {alliance}", chart="relations", trajectories=True, track=True,
              screen="members", column="{alliance}.{state}.trust")
declare_state("status", ("S", "A"), "int8", _status, doc="membership: 0 none, 1 active, 2 frozen, 3 exited",
              record="counts", levels=("not a member", "active member", "frozen", "has left"),
              level_columns=(None, "active", "frozen", "exited"), label="{state} in the {alliance}",
              trajectories=True, track=True, screen="members", column="{alliance}.{state}.{level}", sparse="rows")
declare_state("support", ("F", 2), init=0.0, doc="capability committed by alliances to each side")
declare_state("capacity_ref", ("S",), init=lambda ctx: ctx.par.capacity.copy(),
              doc="available capacity at the start (responses scale with its change since)")
declare_state("request_wait", ("F", 2, "A"), "int32", 10_000, doc="months since side asked the alliance")
declare_state("requests", ("S", "A"), "int16", 0, doc="requests for help made so far")
declare_state("responses", ("S", "A"), "int16", 0, doc="requests answered so far")
declare_state("refused_now", ("S", "A"), init=0.0, doc="requests refused this month")
declare_state("answered_now", ("S", "A"), init=0.0, doc="requests answered this month")


_OVER = ("flashpoint", "side", "alliance")
declare_event("alliance.request", _OVER, "{state} asks {alliance} for help against {opponent}",
              doc="a member at or above the trigger rung asks its alliance for help")
declare_event("alliance.response", _OVER, "{alliance} answers {state}'s request for help ({state}'s trust {before:.2f} → {after:.2f})",
              ("before", "after"), doc="the alliance responds: trust rises, support is committed")
declare_event("alliance.refusal", _OVER, "{alliance} declines to help {state} against {opponent} ({state}'s trust {before:.2f} → {after:.2f})",
              ("before", "after"), doc="the alliance refuses: trust falls")
declare_event("alliance.abstention", _OVER,
              "{alliance} stays out of {state}'s clash with {opponent}, a member too ({state}'s trust {before:.2f} → {after:.2f})",
              ("before", "after"), doc="the alliance abstains between two members")


def _membership_target(frozen_list: bool):
    def compile(op: str, plan, j: int, names: np.ndarray):
        listed = np.zeros(plan.S, dtype=bool)
        listed[names] = True

        def apply(w, mask: np.ndarray) -> None:
            st = w.st.status[:, :, j]
            rows = mask[:, None]
            if frozen_list:
                member = (st == ACTIVE) | (st == FROZEN)
                if op in ("add", "set"):
                    st[rows & member & listed[None]] = FROZEN
                if op == "remove":
                    st[rows & (st == FROZEN) & listed[None]] = ACTIVE
                if op == "set":
                    st[rows & (st == FROZEN) & ~listed[None]] = ACTIVE
            else:
                if op in ("add", "set"):
                    st[rows & listed[None] & (st != FROZEN)] = ACTIVE
                if op == "remove":
                    st[rows & listed[None] & ((st == ACTIVE) | (st == FROZEN))] = EXITED
                if op == "set":
                    st[rows & ~listed[None] & ((st == ACTIVE) | (st == FROZEN))] = EXITED

        return apply

    return compile


declare_target("alliances", "members", "names", _membership_target(False),
               doc="add: join (or stay); remove: leave; set: exactly these are members")
declare_target("alliances", "frozen", "names", _membership_target(True),
               doc="add: freeze participation; remove: take part again")


def _sa(plan, a) -> tuple[int, int]:
    return plan.index_of("state")[a[0]], plan.index_of("alliance")[a[1]]


def _member(plan, a):
    s, al = _sa(plan, a)
    status = a[2] if len(a) > 2 else "member"
    if status == "member":
        return lambda w: (w.st.status[:, s, al] == ACTIVE) | (w.st.status[:, s, al] == FROZEN)
    code = {"active": ACTIVE, "frozen": FROZEN, "exited": EXITED, "none": NONE}[status]
    return lambda w: w.st.status[:, s, al] == code


declare_reading("trust", "trust", ("state", "alliance"), "num", "trust(armenia, csto)", doc="0-1")
declare_predicate("member", ("state", "alliance", "status"), "bool", "member(armenia, csto, frozen)", _member,
                  min_args=2, doc="member (active or frozen) / active / frozen / exited / none")
declare_reading("requests", "requests", ("state", "alliance"), "num", "requests(tajikistan, csto)",
                doc="requests for help made so far")
declare_reading("responses", "responses", ("state", "alliance"), "num", "responses(tajikistan, csto)",
                doc="requests answered so far")


def _ask_now(w) -> tuple[np.ndarray, np.ndarray]:
    """(R, F, 2, A): the side may ask (an active member, the dispute not settled), and the
    model would ask in the coming month as things stand (the last month's peak at the
    alliance's trigger, the cooldown over)."""
    plan = w.plan
    if plan.F == 0 or plan.A == 0:
        z = np.zeros((w.n, plan.F, 2, plan.A), dtype=bool)
        return z, z
    d = Dyads.for_plan(plan)
    st = w.st
    _, eligible, _ = response_probability(w, d)
    may = eligible & ~st.settled[:, :, None, None]
    would = (may & (st.peak[:, :, None, None] >= w.par.trigger[:, None, None, :])
             & (st.request_wait >= w.rp("alliance", "cooldown_months")[:, None, None, None]))
    return may, would


declare_decision(
    "ask_for_help", "alliance", ("flashpoint", "side", "alliance"),
    "ask {alliance} for help against {opponent} at {flashpoint}",
    odds=lambda w: _ask_now(w)[1].astype(float), open=lambda w: _ask_now(w)[0], event="alliance.request",
    doc="a member's request for help: the model makes it for a side nobody plays when the clash reaches the "
        "alliance's trigger rung (the cooldown over); a played side asks only when its team orders it (at any rung)")


class ResponseParams(RuleParams):
    """Parameters of alliance response to members' requests for help."""

    refusal_cost: P(0, 1) = default(
        0.15,
        "a refused request costs a member a large part of its trust (Armenia after 2020 and 2022: "
        "two refusals took it to open talk of leaving)", symbol="c_refuse")
    abstain_cost: P(0, 1) = default(
        0.05, "abstaining between two members disappoints less than refusing against an outsider", symbol="c_abstain")
    response_gain: P(0, 1) = default(0.3, "a response restores a third of the missing trust", symbol="g")
    cooldown_months: P(1, 120, integer=True) = default(
        6, "a member asks again at most every six months about the same dispute", unit="months")
    support_share: P(0, 1) = default(
        0.05, "a response commits a small slice of the leader's forces (an expeditionary contingent)", symbol="share")
    support_decay: P(0, 1) = default(0.8, "committed support fades over a few months", symbol="decay", unit="per month")


declare_affinity_reads("alliance", "response", None)


@register("alliance", "response", ResponseParams)
def build(plan: Plan):
    """Requests for help at the trigger level; response or refusal moves trust."""
    if plan.F == 0 or plan.A == 0:
        return lambda w: None
    d = Dyads.for_plan(plan)
    A, F = plan.A, plan.F

    # numba: imported (and the kernel compiled, or loaded from its cache) when a run uses the rule
    from .alliance_kernel import respond as respond_all

    names = ("trust", "request_wait", "refused_now", "answered_now", "requests", "responses", "support")
    sides = np.ascontiguousarray(d.sides, dtype=np.intp)
    leader = np.ascontiguousarray(d.leader, dtype=np.intp)
    none_b = np.empty((0, 0, 0, 0), dtype=bool)

    def step(w) -> None:
        st = w.st
        R = w.n
        c = np.ascontiguousarray

        q, eligible, abstain = response_probability(w, d)
        g = w.stream("alliance")  # one draw per flashpoint, side and alliance: is a request answered? (in the kernel)
        for name in names:  # updated in place by the kernel
            if not st[name].flags.c_contiguous:
                st[name] = c(st[name])
        keep = w.log is not None  # a log narrates: the kernel says where each event happened, emit counts and logs
        if keep:
            trust_side = st.trust[:, d.sides, :]  # (R, F, 2, A) before
            asking, respond, refuse, abstained = (np.empty((R, F, 2, A), dtype=bool) for _ in range(4))
        else:
            asking = respond = refuse = abstained = none_b
        asked = respond_all(sides=sides, leader=leader, peak=c(st.peak),
                            free=c(model_decides(st)),  # a played side asks only when its team orders it (in the game)
                            ordered=c(st.order_ask_for_help), settled=c(st.settled), trigger=c(w.par.trigger), q=q,
                            eligible=eligible, abstain=abstain, key=g.keys(1)[0], ids=g.ids, trust=st.trust,
                            request_wait=st.request_wait, cooldown=w.rp("alliance", "cooldown_months"),
                            gain=w.rp("alliance", "response_gain"), refusal_cost=w.rp("alliance", "refusal_cost"),
                            abstain_cost=w.rp("alliance", "abstain_cost"), refused_now=st.refused_now,
                            answered_now=st.answered_now, requests=st.requests, responses=st.responses,
                            support=st.support, capability=c(st.capability), capacity=c(w.par.capacity),
                            share=w.rp("alliance", "support_share"), decay=w.rp("alliance", "support_decay"),
                            n_request=w.counts["alliance.request"], n_response=w.counts["alliance.response"],
                            n_refusal=w.counts["alliance.refusal"], n_abstention=w.counts["alliance.abstention"],
                            keep=keep, asking_out=asking, respond_out=respond, refuse_out=refuse,
                            abstained_out=abstained)
        st.order_ask_for_help[:] = False
        if keep and asked:
            after = st.trust[:, d.sides, :]
            w.emit("alliance.request", asking)
            w.emit("alliance.response", respond, before=trust_side, after=after)
            w.emit("alliance.refusal", refuse, before=trust_side, after=after)
            w.emit("alliance.abstention", abstained, before=trust_side, after=after)

    return step
