"""What several mechanisms share (:mod:`sim.rules.common`), compiled (numba): the
response probabilities of alliances and deterrence.

Numpy built (R, F, 2, S) temporaries for the patrons' term and multiplied them out; the
loops below run over each flashpoint's helpers once, both sides together. Compiled on
first use and cached on disk.
Symbols are those of docs/MODEL.md §D3 (deterrence) and §D4 (responses).
"""

from __future__ import annotations

import numpy as np

from .formulas import kernel, weight

ACTIVE, FROZEN = 1, 2  # sim.world.compile's codes (not imported: this module stays a leaf)


@kernel
def respond(status, sides, in_zone, outside_zone, answer, collective, is_leader, between):  # pragma: no cover
    """q, eligible, abstain (R, F, 2, A): see :func:`sim.rules.common._response_probability`.

    Args:
        status: (R, S, A); sides: (F, 2); in_zone: (F, 2); outside_zone: (R, A);
        answer: (R, A) P(the alliance answers a request it may answer); collective: (A,);
        is_leader: (F, 2, A); between: (A,) the alliance responds between members.
    """
    R = status.shape[0]
    F = sides.shape[0]
    A = status.shape[2]
    q = np.zeros((R, F, 2, A))
    eligible = np.zeros((R, F, 2, A), dtype=np.bool_)
    abstain = np.zeros((R, F, 2, A), dtype=np.bool_)
    for r in range(R):
        for f in range(F):
            for sg in range(2):
                me = sides[f, sg]
                opp = sides[f, 1 - sg]
                for a in range(A):
                    if status[r, me, a] != ACTIVE or not collective[a] or is_leader[f, sg, a]:
                        continue
                    eligible[r, f, sg, a] = True
                    so = status[r, opp, a]
                    if (so == ACTIVE or so == FROZEN) and not between[a]:
                        abstain[r, f, sg, a] = True
                        continue
                    q[r, f, sg, a] = answer[r, a] * (1.0 if in_zone[f, sg] else outside_zone[r, a])
    return q, eligible, abstain


@kernel
def deter(cap, aff, at, capacity, support, q, pw, sides, leader, not_side):  # pragma: no cover - compiled
    """D[r, f, sigma] = 1 - prod_A (1 - q[r, f, opp, A] w_A) prod_p (1 - k_p w_p) (1 - s_opp / (s_opp + c_sigma)).

    Args:
        cap: (R, S) capability; aff: (R, M) affinities, each replicate's in a row: the
            (S, S) matrix flat, or the read pairs' contiguous copy
            (:attr:`sim.world.model.World.latest`); at: (F, 2, S) where in a row is state
            p's affinity towards side sigma's opponent (any place where p is a side: its
            factor is not used); capacity: (R, S) available capacity;
        support: (R, F, 2) capability committed to each side; q: (R, F, 2, A) response
        probabilities; pw: (R,) patron weight kappa; sides: (F, 2); leader: (A,);
        not_side: (F, 2, S) state p is neither side of f.
    """
    R, S = cap.shape
    F = sides.shape[0]
    A = leader.size
    out = np.empty((R, F, 2))
    for r in range(R):
        pwr = pw[r]
        for f in range(F):
            a0 = sides[f, 0]
            a1 = sides[f, 1]
            c0 = cap[r, a0]  # each side's capability (c_sigma), in the world's precision as weight() reads it
            c1 = cap[r, a1]
            k0 = 1.0  # side 0's product: help for side 1 (its opponent) that does not come
            k1 = 1.0
            for a in range(A):
                cl = cap[r, leader[a]]
                k0 *= 1.0 - q[r, f, 1, a] * weight(cl, c0)
                k1 *= 1.0 - q[r, f, 0, a] * weight(cl, c1)
            # the patrons of both sides in one pass over the states (each side's product in the
            # order of the states, as before), without a branch: whether a patron is willing is
            # as good as a coin toss (the affinities have noise), and a mispredicted branch cost
            # more than the factor; a factor of 1.0 leaves a product as it is, to the bit
            for p in range(S):
                cp = cap[r, p]
                cy = capacity[r, p]
                af = aff[r, at[f, 0, p]]  # towards side 0's opponent
                g = 1.0 - pwr * min(af, 1.0) * cy * weight(cp, c0)
                k0 *= g if (af > 0.0) & not_side[f, 0, p] else 1.0
                af = aff[r, at[f, 1, p]]
                g = 1.0 - pwr * min(af, 1.0) * cy * weight(cp, c1)
                k1 *= g if (af > 0.0) & not_side[f, 1, p] else 1.0
            k0 *= 1.0 - weight(support[r, f, 1], c0)
            k1 *= 1.0 - weight(support[r, f, 0], c1)
            out[r, f, 0] = 1.0 - k0
            out[r, f, 1] = 1.0 - k1
    return out
