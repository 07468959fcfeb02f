"""Alliance responses (:mod:`sim.rules.alliance`) and membership changes
(:mod:`sim.rules.membership`), compiled (numba): one pass per replicate each.

Each draws the uniforms it uses itself, as the world's stream would draw them
(:func:`sim.seeding_kernel.uniform_at` at the addresses of a whole-array draw), and counts
the month's events into ``world.counts`` unless a log narrates them (then it says where each
happened, for ``world.emit``). Compiled on first use and cached on disk. Symbols are those
of docs/MODEL.md §D4 and §D6.
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

from .. import seeding_kernel
from ..seeding_kernel import uniform_at
from .formulas import kernel, revert, source_hash

_SEEDING = source_hash(seeding_kernel.__file__)  # uniform_at is inlined: its file is part of the cache stamp

NONE, ACTIVE, FROZEN, EXITED = 0, 1, 2, 3  # sim.world.compile's codes (this module stays a leaf)
WAIT_CAP = 10_000


@register_jitable  # compiled into the kernels that call it (not a kernel of its own)
def _clip(trust, r):
    """np.clip(trust[r], 0, 1) of a (R, n) array, in place (a NaN stays); without a branch,
    so that the compiler vectorizes it (a value within bounds is written back as it is)."""
    for e in range(trust.shape[1]):
        x = trust[r, e]
        trust[r, e] = 0.0 if x < 0.0 else (1.0 if x > 1.0 else x)


@kernel(also=(_SEEDING,))
def respond(sides, leader, peak, free, ordered, settled, trigger, q, eligible, abstain, key, ids, trust, request_wait,
            cooldown, gain, refusal_cost, abstain_cost, refused_now, answered_now, requests, responses, support,
            capability, capacity, share, decay, n_request, n_response, n_refusal, n_abstention, keep,
            asking_out, respond_out, refuse_out, abstained_out):  # pragma: no cover - compiled
    """Requests, responses and their consequences for one month, in place; returns
    whether anyone asked (then every trust is clipped to [0, 1]).

    Args:
        sides: (F, 2); leader: (A,); peak: (R, F); settled: (R, F); trigger: (R, A).
        free: (R, S) the state is nobody's to play (the model asks for it); ordered:
        (R, F, 2, A) its team ordered a request (made whatever the rung and cooldown).
        q, eligible, abstain: (R, F, 2, A) (:func:`sim.rules.common.response_probability`).
        key, ids: the stream's call and the replicates' global indices (R,): a request is
        answered if ``uniform_at(key, ids[r], F * 2 * A, (f * 2 + sg) * A + a)`` < q (one
        draw per flashpoint, side and alliance, as ``stream.random((R, F, 2, A))``).
        trust: (R, S, A); request_wait: (R, F, 2, A).
        cooldown, gain, refusal_cost, abstain_cost, share, decay: (R,) parameters.
        refused_now, answered_now: (R, S, A) set; requests, responses: (R, S, A) added to;
        support: (R, F, 2); capability, capacity: (R, S).
        n_request, n_response, n_refusal, n_abstention: (R,) the events' counts
        (``world.counts``), raised by the month's requests and their outcomes; left alone
        if ``keep``.
        keep: instead of counting, write where each happened (for ``world.emit`` when a
        log narrates): asking_out ... abstained_out (R, F, 2, A) bool; otherwise they are
        not touched (empty arrays will do).
    """
    R, F = peak.shape
    S = trust.shape[1]
    A = leader.size
    per = F * 2 * A
    any_ask = False
    first = -1  # the first replicate in which anyone asked
    delta = np.zeros((S, A))
    rn = refused_now.reshape(R, S * A)  # (R, S * A) views (the rule passes C-contiguous arrays)
    an = answered_now.reshape(R, S * A)
    tr = trust.reshape(R, S * A)
    for r in range(R):
        rid = ids[r]
        cool = cooldown[r]  # the replicate's parameters, read once
        g_r = gain[r]
        c_r = refusal_cost[r]
        c_a = abstain_cost[r]
        asks = yeses = nos = outs = 0
        for e in range(S * A):  # flat loops of their own, which the compiler vectorizes
            rn[r, e] = 0.0
        for e in range(S * A):
            an[r, e] = 0.0
        for f in range(F):
            pk = peak[r, f]
            unsettled = not settled[r, f]
            for sg in range(2):
                s = sides[f, sg]
                m = free[r, s]
                committed = 0.0
                for a in range(A):
                    # an eligible side asks if the model does (the rung reaches the trigger, the cooldown
                    # is over) or its team ordered it; tested in the order of what is most often false
                    ask = (eligible[r, f, sg, a] and unsettled
                           and ((m and pk >= trigger[r, a] and request_wait[r, f, sg, a] >= cool)
                                or ordered[r, f, sg, a]))
                    yes = ask and uniform_at(key, rid, per, (f * 2 + sg) * A + a) < q[r, f, sg, a]
                    no = ask and not yes and not abstain[r, f, sg, a]
                    out = ask and abstain[r, f, sg, a]
                    if keep:
                        asking_out[r, f, sg, a] = ask
                        respond_out[r, f, sg, a] = yes
                        refuse_out[r, f, sg, a] = no
                        abstained_out[r, f, sg, a] = out
                    if ask:
                        if asks == 0:  # the replicate's first request: its changes of trust start from zero
                            for s2 in range(S):
                                for a2 in range(A):
                                    delta[s2, a2] = 0.0
                        any_ask = True
                        asks += 1
                        request_wait[r, f, sg, a] = 0
                        requests[r, s, a] += 1
                        if yes:
                            yeses += 1
                            delta[s, a] += g_r * (1.0 - trust[r, s, a])
                            answered_now[r, s, a] += 1.0
                            responses[r, s, a] += 1
                            la = leader[a]
                            committed += capability[r, la] * capacity[r, la]
                        elif no:
                            nos += 1
                            delta[s, a] -= c_r
                            refused_now[r, s, a] += 1.0
                        else:
                            outs += 1
                            delta[s, a] -= c_a
                            refused_now[r, s, a] += 1.0
                    else:
                        request_wait[r, f, sg, a] = min(request_wait[r, f, sg, a] + 1, WAIT_CAP)
                support[r, f, sg] = max(support[r, f, sg] * decay[r], committed * share[r])
        if any_ask and first < 0:
            first = r
        if asks:
            for s in range(S):
                for a in range(A):
                    if delta[s, a] != 0.0:
                        trust[r, s, a] = min(max(trust[r, s, a] + delta[s, a], 0.0), 1.0)
                    else:  # np.clip(trust, 0, 1) once anyone asked: also a trust an effect took out of bounds
                        x = trust[r, s, a]
                        if x < 0.0:
                            trust[r, s, a] = 0.0
                        elif x > 1.0:
                            trust[r, s, a] = 1.0
        elif any_ask:
            _clip(tr, r)
        if not keep and asks:
            n_request[r] += asks
            n_response[r] += yeses
            n_refusal[r] += nos
            n_abstention[r] += outs
    for r in range(max(first, 0)):  # and in the replicates before the first that asked
        _clip(tr, r)
    return any_ask


@kernel(also=(_SEEDING,))
def transitions(status, trust, trust_base, key, ids, not_leader, cand, free, order_freeze, order_leave, order_back,
                order_join, rho, freeze_below, freeze_hazard, exit_below,
                exit_hazard, back_above, back_hazard, join_above, join_hazard,
                n_freeze, n_exit, n_back, n_join, keep,
                freeze_out, leave_out, back_out, join_out, trust_out):  # pragma: no cover - compiled
    """Trust reversion and the month's freezes, exits, re-engagements and accessions, in place.

    Args:
        status, trust, trust_base: (R, S, A); not_leader, cand: (S, A).
        key, ids: the stream's call and the replicates' global indices (R,): state s's
        uniform for alliance a is ``uniform_at(key, ids[r], S * A, s * A + a)`` (one draw
        per state and alliance, as ``stream.random((R, S, A))``), drawn where a hazard
        may apply.
        free: (R, S) the state is nobody's to play (the model decides for it); order_freeze,
        order_leave, order_back, order_join: (R, S, A) its team's orders, carried out
        whatever the trust (leave also from active);
        rho ... join_hazard: (R,) parameters.
        n_freeze, n_exit, n_back, n_join: (R,) the events' counts (``world.counts``),
        raised by the month's changes; left alone if ``keep``.
        keep: instead of counting, write where each happened (for ``world.emit`` when a
        log narrates): freeze_out ... join_out (R, S, A) bool, the month's changes;
        trust_out (R, S, A) trust when judged; otherwise they are not touched (empty
        arrays will do).
    """
    R, S, A = status.shape
    per = S * A
    for r in range(R):
        rid = ids[r]
        rr = rho[r]  # the replicate's parameters, read once
        f_below, f_hazard = freeze_below[r], freeze_hazard[r]
        e_below, e_hazard = exit_below[r], exit_hazard[r]
        b_above, b_hazard = back_above[r], back_hazard[r]
        j_above, j_hazard = join_above[r], join_hazard[r]
        freezes = exits = backs = joins = 0
        for s in range(S):
            m = free[r, s]
            for a in range(A):
                t = revert(trust[r, s, a], trust_base[r, s, a], rr)
                trust[r, s, a] = t
                t = trust[r, s, a]  # in the state's own precision, as the thresholds see it
                st = status[r, s, a]
                x = 1.0  # the uniform, drawn only where a hazard may apply (the model decides, a member or candidate)
                if m and (cand[s, a] or (st != NONE and st != EXITED)):
                    x = uniform_at(key, rid, per, s * A + a)
                # what may happen to a membership of each status (a state's status is the same in
                # most replicates: these branches are well predicted, and each tests only its own)
                fr = lv = bk = jn = False
                if st == ACTIVE:
                    lv = not_leader[s, a] and order_leave[r, s, a]  # an order to leave: it leaves, not freezes
                    fr = (not lv and not_leader[s, a]
                          and ((m and t < f_below and x < f_hazard) or order_freeze[r, s, a]))
                elif st == FROZEN:
                    lv = not_leader[s, a] and ((m and t < e_below and x < e_hazard) or order_leave[r, s, a])
                    bk = (m and t >= b_above and x < b_hazard) or order_back[r, s, a]
                elif st == NONE or st == EXITED:
                    jn = cand[s, a] and ((m and t >= j_above and x < j_hazard) or order_join[r, s, a])
                if keep:
                    trust_out[r, s, a] = t
                    freeze_out[r, s, a] = fr
                    leave_out[r, s, a] = lv
                    back_out[r, s, a] = bk
                    join_out[r, s, a] = jn
                else:
                    freezes += fr
                    exits += lv
                    backs += bk
                    joins += jn
                if bk or jn:
                    status[r, s, a] = ACTIVE
                elif lv:
                    status[r, s, a] = EXITED
                elif fr:
                    status[r, s, a] = FROZEN
        if not keep:
            n_freeze[r] += freezes
            n_exit[r] += exits
            n_back[r] += backs
            n_join[r] += joins
