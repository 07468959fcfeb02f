"""Alliance response: members at a fatal clash ask for help; the alliance answers or not.

Model ``response`` (docs/MODEL.md §D4). Each month, for every flashpoint side sigma
that is an active member of a collective-defence alliance A (other than its
leader), a request is made when the flashpoint is at or above A's trigger level and
at least ``cooldown_months`` have passed since that side's last request to A.

* With probability q (:func:`sim.rules.common.response_probability`: credibility x
  the leader's available capacity x zone of responsibility x member-vs-member rule)
  A responds: the member's trust rises by ``response_gain * (1 - trust)``, and the
  leader commits ``support_share`` of its capability (times its available capacity)
  to sigma's side, which deters the opponent and counts in a war's outcome; committed
  support decays by ``support_decay`` a month.
* Otherwise A refuses and the member's trust falls by ``refusal_cost`` (or by
  ``abstain_cost`` when A abstains because the opponent is a member too).
"""

from __future__ import annotations

import numpy as np

from ..scenario.values import P, default
from ..world.compile import Plan
from .common import Dyads, response_probability
from .registry import RuleParams, register


class ResponseParams(RuleParams):
    """Parameters of alliance response to members' requests for help."""

    refusal_cost: P(0, 1) = default(
        0.15,
        "a refused request costs a member a large part of its trust (Armenia after 2020 and 2022: "
        "two refusals took it to open talk of leaving)",
    )
    abstain_cost: P(0, 1) = default(
        0.05, "abstaining between two members disappoints less than refusing against an outsider"
    )
    response_gain: P(0, 1) = default(0.3, "a response restores a third of the missing trust")
    cooldown_months: P(1, 120, integer=True) = default(
        6, "a member asks again at most every six months about the same dispute"
    )
    support_share: P(0, 1) = default(
        0.05, "a response commits a small slice of the leader's forces (an expeditionary contingent)"
    )
    support_decay: P(0, 1) = default(0.8, "committed support fades over a few months")


@register("alliance", "response", ResponseParams)
def build(plan: Plan):
    """Requests for help at the trigger level; response or refusal moves trust."""
    if plan.F == 0 or plan.A == 0:
        return lambda w: None
    d = Dyads.for_plan(plan)
    S, A, F = plan.S, plan.A, plan.F
    slots = [(f, sg, int(d.sides[f, sg])) for f in range(F) for sg in range(2)]  # side slots -> state

    def per_state(x: np.ndarray, R: int) -> np.ndarray:
        """(R, F, 2, A) per side slot -> (R, S, A) per state (a state may have several slots)."""
        out = np.zeros((R, S, A))
        for f, sg, s in slots:  # few actors' slots, not replicates
            out[:, s, :] += x[:, f, sg, :]
        return out

    def step(w) -> None:
        st = w.st
        R = w.n
        wait = st.request_wait
        trigger = w.par.trigger  # (R, A)
        L = st.level[:, :, None, None]
        q, eligible, abstain = response_probability(w, d)
        cool = w.rp("alliance", "cooldown_months")[:, None, None, None]
        asking = eligible & (L >= trigger[:, None, None, :]) & (wait >= cool)
        asking &= ~st.settled[:, :, None, None]
        u = w.stream("alliance").random((R, F, 2, A))
        respond = asking & (u < q)
        refuse = asking & ~respond & ~abstain
        abstained = asking & abstain
        trust_side = st.trust[:, d.sides, :]  # (R, F, 2, A)
        gain = w.rp("alliance", "response_gain")[:, None, None, None]
        delta = (
            respond * gain * (1.0 - trust_side)
            - refuse * w.rp("alliance", "refusal_cost")[:, None, None, None]
            - abstained * w.rp("alliance", "abstain_cost")[:, None, None, None]
        )
        if asking.any():
            st.trust = np.clip(st.trust + per_state(delta, R), 0.0, 1.0).astype(st.trust.dtype)
            # this month's refusals and answers per (state, alliance), for the alignment rule
            st.refused_now = per_state(refuse | abstained, R)
            st.answered_now = per_state(respond, R)
            st.requests += per_state(asking, R).astype(np.int16)
            st.responses += np.rint(st.answered_now).astype(np.int16)
        else:
            st.refused_now[:] = 0.0
            st.answered_now[:] = 0.0
        lead_cap = st.capability[:, d.leader] * w.par.capacity[:, d.leader]  # (R, A)
        committed = (respond * lead_cap[:, None, None, :]).sum(axis=3)
        share = w.rp("alliance", "support_share")[:, None, None]
        st.support = np.maximum(st.support * w.rp("alliance", "support_decay")[:, None, None], committed * share)
        st.request_wait = np.where(asking, 0, np.minimum(wait + 1, 10_000)).astype(np.int32)

    return step
