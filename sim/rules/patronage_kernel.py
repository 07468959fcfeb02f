"""Patronage's monthly step (:mod:`sim.rules.patronage`), compiled (numba).

One pass per replicate over flashpoints, sides, possible patrons and alliances: who
judges its alliance this month, whether
the alliance stands by the protégé (each replicate's uniforms drawn here, as the world's
stream would draw them: :func:`sim.seeding_kernel.uniform_at`), the trust that follows,
and the month's counts of the rule's events. Compiled on first use and cached on disk.
Symbols are those of docs/MODEL.md §D4a.
"""

from __future__ import annotations

import numpy as np

from .. import seeding_kernel
from ..seeding_kernel import uniform_at
from .formulas import kernel, source_hash

_SEEDING = source_hash(seeding_kernel.__file__)  # uniform_at is inlined: its file is part of the cache stamp

ACTIVE = 1  # sim.world.compile.ACTIVE (not imported: this module stays a leaf)
WAIT_CAP = 10_000


@kernel(also=(_SEEDING,))
def judge(P, C, sides, stake, not_side, lead, key, ids, q,
          aff, status, trust, patron_wait, held_before, controller, peak, trigger, th, cooldown, gain, cost,
          refused_now, answered_now, n_letdown, n_backing, keep,
          letdown_out, backed_out, before_out, after_out):  # pragma: no cover - compiled
    """Advance every replicate's patrons by one month, in place; return whether anyone judged.

    Args:
        P: (p,) possible patrons; C: (c,) collective-defence alliances; sides: (F, 2); stake: (F,) territory at stake (-1: none); not_side:
            (F, 2, p); lead: (p, c) the patron leads the alliance.
        key, ids: the stream's call and the replicates' global indices (R,): the alliance
            stands by patron i's protégé at f if ``uniform_at(key, ids[r], F * p * c,
            (f * p + i) * c + c_)`` < q (one draw per flashpoint, patron and alliance, as
            ``stream.random((R, F, p, c))``).
        q: (R, c) the probability that each alliance stands by a protégé
            (:func:`sim.rules.common.answer_probability` times ``outside_zone``).
        aff: (R, S, S); status: (R, S, A); trust: (R, S, A) updated in place;
            patron_wait: (R, F, S, A) months since the patron last judged, updated in place
            for the possible patrons and alliances (the others stay at WAIT_CAP, where
            they start: :mod:`sim.rules.patronage` declares it so);
            held_before, controller: (R, T); peak: (R, F); trigger: (R, A).
        th, cooldown, gain, cost: (R,) the rule's parameters.
        refused_now, answered_now: (R, S, A) this month's refusals and answers, added to.
        n_letdown, n_backing: (R,) the events' counts (``world.counts``), raised by the
            (flashpoint, patron, alliance) places where the alliance let the protégé down
            or backed it; left alone if ``keep``.
        keep: instead of counting, write where each happened (for ``world.emit`` when a
            log narrates): letdown_out, backed_out (R, F, p, c) bool; before_out,
            after_out (R, p, c) trust; otherwise they are not touched (empty arrays will do).
    """
    R, F = peak.shape
    np_ = P.size
    nc = C.size
    per = F * np_ * nc
    judged_any = False
    delta = np.zeros((np_, nc))
    judged_at = np.zeros((F, np_, nc), dtype=np.bool_)
    S, A = patron_wait.shape[2], patron_wait.shape[3]
    wait = patron_wait.reshape(R, F * S * A)  # a (R, F * S * A) view (the rule passes a C-contiguous array)
    at = np.empty((F, np_, nc), dtype=np.intp)  # where each (flashpoint, patron, alliance) waits in it
    for f in range(F):
        for i in range(np_):
            for c in range(nc):
                at[f, i, c] = (f * S + P[i]) * A + C[c]
    for r in range(R):
        rid = ids[r]
        judged_r = False  # anyone judged in this replicate
        for i in range(np_):
            for c in range(nc):
                delta[i, c] = 0.0
                if keep:
                    before_out[r, i, c] = trust[r, P[i], C[c]]
        letdowns = backings = 0
        for f in range(F):
            lost0 = False
            lost1 = False
            t = stake[f]
            if t >= 0:
                lost0 = held_before[r, t] == sides[f, 0] and controller[r, t] != sides[f, 0]
                lost1 = held_before[r, t] == sides[f, 1] and controller[r, t] != sides[f, 1]
            for c in range(nc):
                ac = C[c]
                trig = peak[r, f] >= trigger[r, ac]  # the clash reached the alliance's trigger rung
                nobody = not (trig or lost0 or lost1)  # most months: nobody judges
                for i in range(np_):
                    judged_at[f, i, c] = False
                    if keep:
                        letdown_out[r, f, i, c] = False
                        backed_out[r, f, i, c] = False
                if nobody:
                    continue
                for i in range(np_):
                    pi = P[i]
                    if lead[i, c] or status[r, pi, ac] != ACTIVE:
                        continue
                    hot = trig and patron_wait[r, f, pi, ac] >= cooldown[r]
                    letdown = False
                    backed = False
                    for sg in range(2):
                        if not (hot or (lost0 if sg == 0 else lost1)) or not not_side[f, sg, i]:
                            continue
                        side = sides[f, sg]
                        a_ = aff[r, pi, side]
                        if not a_ >= th[r] or status[r, side, ac] == ACTIVE:
                            continue
                        judged_at[f, i, c] = True
                        ac_ = min(max(a_, 0.0), 1.0)
                        if uniform_at(key, rid, per, (f * np_ + i) * nc + c) < q[r, c]:
                            backed = True
                            delta[i, c] += gain[r] * ac_ * (1.0 - trust[r, pi, ac])
                            answered_now[r, pi, ac] += 1.0
                        else:
                            letdown = True
                            delta[i, c] -= cost[r] * ac_
                            refused_now[r, pi, ac] += 1.0
                    if judged_at[f, i, c]:
                        judged_any = True
                        judged_r = True
                    if keep:
                        letdown_out[r, f, i, c] = letdown
                        backed_out[r, f, i, c] = backed
                    else:
                        letdowns += letdown
                        backings += backed
        if not keep:
            n_letdown[r] += letdowns
            n_backing[r] += backings
        # months since each patron last judged: a month more (at most WAIT_CAP), or 0 if it judged now. Only
        # the possible patrons' pairs: the others start at WAIT_CAP (the state's start) and would stay there
        for f in range(F):
            for i in range(np_):
                for c in range(nc):
                    e = at[f, i, c]
                    v = wait[r, e]
                    wait[r, e] = 0 if judged_at[f, i, c] else (v + 1 if v < WAIT_CAP else WAIT_CAP)
        if not (judged_r or keep):  # no change of trust to make (delta is all zero) nor to say
            for t in range(held_before.shape[1]):
                held_before[r, t] = controller[r, t]
            continue
        for i in range(np_):
            for c in range(nc):
                x = trust[r, P[i], C[c]] + delta[i, c]
                x = min(max(x, 0.0), 1.0)
                if delta[i, c] != 0.0:
                    trust[r, P[i], C[c]] = x
                if keep:
                    after_out[r, i, c] = trust[r, P[i], C[c]]
        for t in range(held_before.shape[1]):
            held_before[r, t] = controller[r, t]
    return judged_any
