"""Patronage's monthly step (:mod:`sim.rules.patronage`), compiled (numba).

One pass per replicate over flashpoints, sides, possible patrons and alliances: who
judges its alliance this month, whether the alliance stands by the protégé (the uniform
draws come from the world's stream, drawn for every replicate outside this module), and
the trust that follows. Compiled on first use and cached on disk. Symbols are those of
docs/MODEL.md §D4a.
"""

from __future__ import annotations

import numpy as np

from .formulas import kernel

ACTIVE = 1  # sim.world.compile.ACTIVE (not imported: this module stays a leaf)
WAIT_CAP = 10_000


@kernel
def judge(P, C, sides, stake, not_side, lead, aff, status, trust, patron_wait, held_before, controller, peak,
          trigger, u, q, th, cooldown, gain, cost, refused_now, answered_now,
          letdown_out, backed_out, before_out, after_out):  # pragma: no cover - compiled
    """Advance every replicate's patrons by one month, in place; return whether anyone judged.

    Args:
        P: (p,) possible patrons; C: (c,) collective-defence alliances; sides: (F, 2);
            stake: (F,) territory at stake (-1: none); not_side: (F, 2, p); lead: (p, c)
            the patron leads the alliance.
        aff: (R, S, S); status: (R, S, A); trust: (R, S, A) updated in place;
            patron_wait: (R, F, S, A) months since the patron last judged, updated in place;
            held_before, controller: (R, T); peak: (R, F); trigger: (R, A).
        u: (R, F, p, c) uniforms; q: (R, c) P(the alliance stands by a protégé);
            th, cooldown, gain, cost: (R,) the rule's parameters.
        refused_now, answered_now: (R, S, A) this month's refusals and answers, added to.
        letdown_out, backed_out: (R, F, p, c) bool; before_out, after_out: (R, p, c) trust.
    """
    R, F = peak.shape
    np_ = P.size
    nc = C.size
    S = patron_wait.shape[2]
    A = patron_wait.shape[3]
    judged_any = False
    delta = np.zeros((np_, nc))
    judged_at = np.zeros((F, np_, nc), dtype=np.bool_)
    for r in range(R):
        for i in range(np_):
            for c in range(nc):
                delta[i, c] = 0.0
                before_out[r, i, c] = trust[r, P[i], C[c]]
        for f in range(F):
            lost0 = False
            lost1 = False
            t = stake[f]
            if t >= 0:
                lost0 = held_before[r, t] == sides[f, 0] and controller[r, t] != sides[f, 0]
                lost1 = held_before[r, t] == sides[f, 1] and controller[r, t] != sides[f, 1]
            for i in range(np_):
                pi = P[i]
                for c in range(nc):
                    ac = C[c]
                    letdown_out[r, f, i, c] = False
                    backed_out[r, f, i, c] = False
                    judged_at[f, i, c] = False
                    if lead[i, c] or status[r, pi, ac] != ACTIVE:
                        continue
                    hot = peak[r, f] >= trigger[r, ac] and patron_wait[r, f, pi, ac] >= cooldown[r]
                    judged = False
                    for sg in range(2):
                        side = sides[f, sg]
                        a_ = aff[r, pi, side]
                        if not (a_ >= th[r] and not_side[f, sg, i]) or status[r, side, ac] == ACTIVE:
                            continue
                        if not (hot or (lost0 if sg == 0 else lost1)):
                            continue
                        judged = True
                        ac_ = min(max(a_, 0.0), 1.0)
                        if u[r, f, i, c] < q[r, c]:
                            backed_out[r, f, i, c] = True
                            delta[i, c] += gain[r] * ac_ * (1.0 - trust[r, pi, ac])
                            answered_now[r, pi, ac] += 1.0
                        else:
                            letdown_out[r, f, i, c] = True
                            delta[i, c] -= cost[r] * ac_
                            refused_now[r, pi, ac] += 1.0
                    if judged:
                        judged_any = True
                        judged_at[f, i, c] = True
        for f in range(F):  # months since each patron last judged: a month more, or 0 if it judged now
            for s in range(S):
                for a in range(A):
                    patron_wait[r, f, s, a] = min(patron_wait[r, f, s, a] + 1, WAIT_CAP)
            for i in range(np_):
                for c in range(nc):
                    if judged_at[f, i, c]:
                        patron_wait[r, f, P[i], C[c]] = 0
        for i in range(np_):
            for c in range(nc):
                x = trust[r, P[i], C[c]] + delta[i, c]
                x = min(max(x, 0.0), 1.0)
                if delta[i, c] != 0.0:
                    trust[r, P[i], C[c]] = x
                after_out[r, i, c] = trust[r, P[i], C[c]]
        for t in range(held_before.shape[1]):
            held_before[r, t] = controller[r, t]
    return judged_any
