"""The alignment rule's monthly update, compiled (numba): one pass over the read pairs.

:mod:`sim.rules.alignment` draws the month's random numbers from the world's stream and
calls :func:`drift` with them; this module holds no randomness. Numpy spent most of the
rule's time on temporaries (a dozen passes over an (R, P) array per month); the loop
below touches each replicate's pairs once, in registers. Compiled on first use and
cached on disk (``cache=True``), one specialization per float type of the world.

Symbols are those of docs/MODEL.md §D5.
"""

from __future__ import annotations

import numpy as np
from numba import njit

ACTIVE = 1  # sim.world.compile.ACTIVE (not imported: this module stays a leaf)


@njit(cache=True, nogil=True)
def drift(aff, base, pf, pi, pj, bi, bj, ai, aj,
          buyers, sup, adv_w, budget, share_change, excess_slip, refused_demand,
          leader, refused_now, answered_now, ex, coll, status, trust, noise,
          k, rho, gs, gx, gr, gt, gf, ga, gex, ct):  # pragma: no cover - compiled
    """Advance the read pairs of every replicate by one month, in place.

    Args:
        aff, base: (R, S*S) affinities now and at the start (flat views).
        pf, pi, pj: (P,) the read pairs: flat index, row state, column state.
        bi, bj: (P,) index among ``buyers`` of the pair's row / column state (-1: not a buyer).
        ai, aj: (P,) index among the buyers' adversaries (rows of ``adv_w``) of the
            pair's row / column state (-1: none).
        buyers: (B,) states that buy; sup: (K,) each supplier's state; adv_w: (J, B) 1 where
            adversary j faces buyer b.
        budget: (R, S) annual budgets; share_change, excess_slip, refused_demand: (R, S, K).
        leader: (A,) each alliance's leader; refused_now, answered_now: (R, S, A).
        ex: (R, A) the alliance exercises this month; coll: (A,) collective defence.
        status: (R, S, A) membership; trust: (R, S, A), updated in place (trust coupling).
        noise: (R, P) uint16 uniform draws (the noise, at a resolution of 2^-16).
        k: (R,) noise range sigma * sqrt(12); rho, gs, gx, gr, gt, gf, ga, gex, ct: (R,)
            the rule's parameters (MODEL.md §D5).
    """
    R = aff.shape[0]
    P = pf.size
    B = buyers.size
    K = sup.size
    S = budget.shape[1]
    J = adv_w.shape[0]
    A = leader.size
    ds = np.zeros((B, S))
    ys = np.zeros((B, S))
    zs = np.zeros((B, S))
    hit = np.zeros((J, S))
    sp = np.zeros((S, A))
    part = np.zeros((S, A))
    old_lead = np.zeros((S, A))
    for r in range(R):
        # arms flows by supplier state
        for b in range(B):
            i = buyers[b]
            m = budget[r, i] / 12.0
            inv = 1.0 / m if m > 0 else 0.0
            for s in range(S):
                ds[b, s] = 0.0
                ys[b, s] = 0.0
                zs[b, s] = 0.0
            for q in range(K):
                s = sup[q]
                ds[b, s] += share_change[r, i, q]
                ys[b, s] += excess_slip[r, i, q] * inv
                zs[b, s] += refused_demand[r, i, q]
        for jj in range(J):
            for s in range(S):
                h = 0.0
                for b in range(B):
                    h += adv_w[jj, b] * ds[b, s]
                hit[jj, s] = h
        # support: refused or answered requests move members and leaders together
        any_ex = False
        for a in range(A):
            la = leader[a]
            if ex[r, a] and coll[a]:
                any_ex = True
            for s in range(S):
                to_lead = aff[r, s * S + la] if s != la else 0.0
                old_lead[s, a] = to_lead
                f = gf[r] * refused_now[r, s, a] - ga[r] * answered_now[r, s, a]
                sp[s, a] = -f * (1.0 + to_lead) if f > 0 else -f * (1.0 - to_lead)
                part[s, a] = trust[r, s, a] if (ex[r, a] and coll[a] and status[r, s, a] == ACTIVE) else 0.0
        for p in range(P):
            q = pf[p]
            i = pi[p]
            j = pj[p]
            a = aff[r, q]
            v = a + rho[r] * (base[r, q] - a) + k[r] * ((noise[r, p] + 0.5) / 65536.0 - 0.5)
            b = bi[p]
            if b >= 0:  # the buyer's own row: share shifts, slips, refusals
                d = ds[b, j]
                v += gs[r] * d * ((1.0 - a) if d > 0 else (1.0 + a))
                v -= gx[r] * ys[b, j] + gr[r] * zs[b, j] * (1.0 + a)
            b = bj[p]
            if b >= 0:  # a supplier state towards the buyer
                d = ds[b, i]
                v += gs[r] * d * ((1.0 - a) if d > 0 else (1.0 + a))
            jj = ai[p]
            if jj >= 0:  # third-party deals: the adversary's row
                h = hit[jj, j]
                v -= gt[r] * h * ((1.0 + a) if h > 0 else (1.0 - a))
            jj = aj[p]
            if jj >= 0:  # ... and its column
                h = hit[jj, i]
                v -= gt[r] * h * ((1.0 + a) if h > 0 else (1.0 - a))
            for al in range(A):
                if leader[al] == j:
                    v += sp[i, al]
                if leader[al] == i:
                    v += sp[j, al]
            if any_ex:
                x = 0.0
                for al in range(A):
                    x += part[i, al] * part[j, al]
                v += gex[r] * min(x, 1.0) * (1.0 - a)
            aff[r, q] = min(max(v, -1.0), 1.0)
        # trust follows the change of each state's affinity towards the leader (less support)
        for a in range(A):
            la = leader[a]
            for s in range(S):
                new_lead = aff[r, s * S + la] if s != la else 0.0
                t = trust[r, s, a] + ct[r] * (new_lead - old_lead[s, a] - sp[s, a])
                trust[r, s, a] = min(max(t, 0.0), 1.0)
