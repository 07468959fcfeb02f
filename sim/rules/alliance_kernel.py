"""Alliance responses (:mod:`sim.rules.alliance`) and membership changes
(:mod:`sim.rules.membership`), compiled (numba): one pass per replicate.

The uniform draws come from the world's streams, drawn for every replicate outside this
module. Compiled on first use and cached on disk. Symbols are those of docs/MODEL.md §D4
and §D6.
"""

from __future__ import annotations

import numpy as np

from .formulas import kernel, revert

NONE, ACTIVE, FROZEN, EXITED = 0, 1, 2, 3  # sim.world.compile's codes (this module stays a leaf)
WAIT_CAP = 10_000


@kernel
def respond(sides, leader, peak, free, ordered, settled, trigger, q, eligible, abstain, u, trust, request_wait, cooldown,
            gain, refusal_cost, abstain_cost, refused_now, answered_now, requests, responses, support,
            capability, capacity, share, decay,
            asking_out, respond_out, refuse_out, abstained_out):  # pragma: no cover - compiled
    """Requests, responses and their consequences for one month, in place; returns
    whether anyone asked.

    Args:
        sides: (F, 2); leader: (A,); peak: (R, F); settled: (R, F); trigger: (R, A).
        free: (R, F, 2) the side is nobody's to play (the model asks for it); ordered:
        (R, F, 2, A) its team ordered a request (made whatever the rung and cooldown).
        q, eligible, abstain: (R, F, 2, A) (:func:`sim.rules.common.response_probability`);
        u: (R, F, 2, A) uniforms. trust: (R, S, A); request_wait: (R, F, 2, A).
        cooldown, gain, refusal_cost, abstain_cost, share, decay: (R,) parameters.
        refused_now, answered_now: (R, S, A) set; requests, responses: (R, S, A) added to;
        support: (R, F, 2); capability, capacity: (R, S).
        asking_out ... abstained_out: (R, F, 2, A) bool, this month's requests and answers.
    """
    R, F = peak.shape
    S = trust.shape[1]
    A = leader.size
    any_ask = False
    delta = np.zeros((S, A))
    for r in range(R):
        for s in range(S):
            for a in range(A):
                delta[s, a] = 0.0
                refused_now[r, s, a] = 0.0
                answered_now[r, s, a] = 0.0
        for f in range(F):
            for sg in range(2):
                s = sides[f, sg]
                committed = 0.0
                for a in range(A):
                    by_model = (free[r, f, sg] and peak[r, f] >= trigger[r, a]
                                and request_wait[r, f, sg, a] >= cooldown[r])
                    ask = eligible[r, f, sg, a] and (by_model or ordered[r, f, sg, a]) and not settled[r, f]
                    yes = ask and u[r, f, sg, a] < q[r, f, sg, a]
                    no = ask and not yes and not abstain[r, f, sg, a]
                    out = ask and abstain[r, f, sg, a]
                    asking_out[r, f, sg, a] = ask
                    respond_out[r, f, sg, a] = yes
                    refuse_out[r, f, sg, a] = no
                    abstained_out[r, f, sg, a] = out
                    if ask:
                        any_ask = True
                        request_wait[r, f, sg, a] = 0
                        requests[r, s, a] += 1
                        if yes:
                            delta[s, a] += gain[r] * (1.0 - trust[r, s, a])
                            answered_now[r, s, a] += 1.0
                            responses[r, s, a] += 1
                            la = leader[a]
                            committed += capability[r, la] * capacity[r, la]
                        elif no:
                            delta[s, a] -= refusal_cost[r]
                            refused_now[r, s, a] += 1.0
                        else:
                            delta[s, a] -= abstain_cost[r]
                            refused_now[r, s, a] += 1.0
                    else:
                        request_wait[r, f, sg, a] = min(request_wait[r, f, sg, a] + 1, WAIT_CAP)
                support[r, f, sg] = max(support[r, f, sg] * decay[r], committed * share[r])
        for s in range(S):
            for a in range(A):
                if delta[s, a] != 0.0:
                    trust[r, s, a] = min(max(trust[r, s, a] + delta[s, a], 0.0), 1.0)
    return any_ask


@kernel
def transitions(status, trust, trust_base, u, not_leader, cand, free, order_freeze, order_leave, order_back,
                order_join, rho, freeze_below, freeze_hazard, exit_below,
                exit_hazard, back_above, back_hazard, join_above, join_hazard,
                freeze_out, leave_out, back_out, join_out, trust_out):  # pragma: no cover - compiled
    """Trust reversion and the month's freezes, exits, re-engagements and accessions, in place.

    Args:
        status, trust, trust_base: (R, S, A); u: (R, S, A) uniforms; not_leader, cand: (S, A);
        free: (R, S) the state is nobody's to play (the model decides for it); order_freeze,
        order_leave, order_back, order_join: (R, S, A) its team's orders, carried out
        whatever the trust (leave also from active);
        rho ... join_hazard: (R,) parameters. freeze_out ... join_out: (R, S, A) bool, the
        month's changes; trust_out: (R, S, A) trust when judged.
    """
    R, S, A = status.shape
    for r in range(R):
        for s in range(S):
            for a in range(A):
                t = revert(trust[r, s, a], trust_base[r, s, a], rho[r])
                trust[r, s, a] = t
                t = trust[r, s, a]  # in the state's own precision, as the thresholds see it
                trust_out[r, s, a] = t
                st = status[r, s, a]
                x = u[r, s, a]
                m = free[r, s]
                fr = st == ACTIVE and not_leader[s, a] and (
                    (m and t < freeze_below[r] and x < freeze_hazard[r]) or order_freeze[r, s, a])
                lv = not_leader[s, a] and (
                    (m and st == FROZEN and t < exit_below[r] and x < exit_hazard[r])
                    or ((st == FROZEN or st == ACTIVE) and order_leave[r, s, a]))
                bk = st == FROZEN and ((m and t >= back_above[r] and x < back_hazard[r]) or order_back[r, s, a])
                jn = (st == NONE or st == EXITED) and cand[s, a] and (
                    (m and t >= join_above[r] and x < join_hazard[r]) or order_join[r, s, a])
                freeze_out[r, s, a] = fr
                leave_out[r, s, a] = lv
                back_out[r, s, a] = bk
                join_out[r, s, a] = jn
                if lv:
                    fr = False  # an order to leave an active membership: it leaves, not freezes
                    freeze_out[r, s, a] = False
                if bk or jn:
                    status[r, s, a] = ACTIVE
                elif lv:
                    status[r, s, a] = EXITED
                elif fr:
                    status[r, s, a] = FROZEN
