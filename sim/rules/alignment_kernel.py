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

from .. import seeding_kernel
from ..seeding_kernel import bits16_at, uniform_at
from .formulas import kernel, revert, source_hash

ACTIVE = 1  # sim.world.compile.ACTIVE (not imported: this module stays a leaf)
_SEEDING = source_hash(seeding_kernel.__file__)  # the draws are inlined: their file is part of the cache stamp


@kernel(also=(_SEEDING,))
def drift(aff, base, pf, terms, lead_pos,
          buyers, sup, adv_w, budget, share_change, excess_slip, refused_demand,
          leader, refused_now, answered_now, coll, status, trust, key_ex, key_noise, ids, rate,
          k, rho, gs, gx, gr, gt, gf, ga, gex, ct, n_ex, keep, ex_out):  # pragma: no cover - compiled
    """Advance the read pairs of every replicate by one month, in place.

    Args:
        aff: (R, S*S) affinities now (a flat view); base: (R, P) the read pairs' affinities
            at the start (their baseline).
        pf: (P,) flat index (row * S + column) of the read pairs.
        terms: (n, 4) int: the pairs the structured terms move, as (kind, pair, index,
            state): kind 0 a buyer's row (index: the buyer, state: the column), 1 a
            supplier state towards a buyer (index: the buyer, state: the row), 2 and 3
            an adversary of buyers, its row and column (index: the adversary), 4 and 5
            support towards a leader and from it (index: the alliance, state: the member).
        lead_pos: (S, A) position among the read pairs of each state towards each
            leader (-1 on the diagonal).
        buyers: (B,) states that buy; sup: (K,) each supplier's state; adv_w: (J, B) 1 where
            adversary j faces buyer b.
        budget: (R, S) annual budgets; share_change, excess_slip, refused_demand: (R, S, K).
        leader: (A,) each alliance's leader; refused_now, answered_now: (R, S, A).
        coll: (A,) collective defence.
        status: (R, S, A) membership; trust: (R, S, A), updated in place (trust coupling).
        key_ex, key_noise, ids: the stream's two calls and the replicates' global indices
            (R,): collective alliance a exercises if ``uniform_at(key_ex, ids[r], A, a)`` <
            rate / 12 (as ``stream.random((R, A))``); pair p's noise is uniform on a grid
            of 2^16 points, ``bits16_at(key_noise, ids[r], P, p)`` (as ``stream.bits16((R, P))``).
        rate: (R,) exercises a year (r_ex); k: (R,) noise range sigma * sqrt(12); rho, gs,
            gx, gr, gt, gf, ga, gex, ct: (R,) the rule's parameters (MODEL.md §D5).
        n_ex: (R,) the count of ``alignment.exercise`` (``world.counts``), raised by the
            month's exercises unless ``keep``.
        keep: instead of counting, write the month's exercises to ex_out (R, A) (for
            ``world.emit`` when a log narrates); otherwise ex_out is not touched (an empty
            array will do).
    """
    R = aff.shape[0]
    P = pf.size
    B = buyers.size
    K = sup.size
    S = budget.shape[1]
    J = adv_w.shape[0]
    A = leader.size
    n_terms = terms.shape[0]
    ds = np.zeros((B, S))
    ys = np.zeros((B, S))
    zs = np.zeros((B, S))
    hit = np.zeros((J, S))
    sp = np.zeros((S, A))
    part = np.zeros((S, A))
    old = np.empty(P)
    new = np.empty(P)
    row = np.empty(P, dtype=np.intp)
    col = np.empty(P, dtype=np.intp)
    held_by = np.zeros(A, dtype=np.bool_)
    for p in range(P):
        row[p] = pf[p] // S
        col[p] = pf[p] - row[p] * S
    # the arms terms move affinities towards (and from) supplier states only
    is_sup = np.zeros(S, dtype=np.bool_)
    for q in range(K):
        is_sup[sup[q]] = True
    ss = np.flatnonzero(is_sup)
    for r in range(R):
        rid = ids[r]
        # the alliances' exercises
        any_ex = False
        held = 0
        for a in range(A):
            on = coll[a] and uniform_at(key_ex, rid, A, a) < rate[r] / 12.0
            held_by[a] = on
            any_ex = any_ex or on
            held += on
            if keep:
                ex_out[r, a] = on
        if not keep:
            n_ex[r] += held
        if P == 0:
            continue
        # reversion and noise, every read pair
        kr = k[r]
        rr = rho[r]
        for p in range(P):
            q = pf[p]
            a = np.float64(aff[r, q])
            old[p] = a
            new[p] = revert(a, base[r, p], rr) + kr * ((bits16_at(key_noise, rid, P, p) + 0.5) * (1.0 / 65536.0) - 0.5)
        # arms flows by supplier state
        for b in range(B):
            i = buyers[b]
            m = budget[r, i] / 12.0
            inv = 1.0 / m if m > 0 else 0.0
            for s in ss:
                ds[b, s] = 0.0
                ys[b, s] = 0.0
                zs[b, s] = 0.0
            for q in range(K):
                s = sup[q]
                ds[b, s] += share_change[r, i, q]
                ys[b, s] += excess_slip[r, i, q] * inv
                zs[b, s] += refused_demand[r, i, q]
        for jj in range(J):
            for s in ss:
                h = 0.0
                for b in range(B):
                    h += adv_w[jj, b] * ds[b, s]
                hit[jj, s] = h
        # support: refused or answered requests move members and leaders together
        for a in range(A):
            on = held_by[a]
            for s in range(S):
                p = lead_pos[s, a]
                to_lead = old[p] if p >= 0 else 0.0
                f = gf[r] * refused_now[r, s, a] - ga[r] * answered_now[r, s, a]
                sp[s, a] = -f * (1.0 + to_lead) if f > 0 else -f * (1.0 - to_lead)
                part[s, a] = trust[r, s, a] if (on and status[r, s, a] == ACTIVE) else 0.0
        for t in range(n_terms):
            kind = terms[t, 0]
            p = terms[t, 1]
            x = terms[t, 2]
            s = terms[t, 3]
            a = old[p]
            if kind == 0:  # the buyer's own row: share shifts, slips, refusals
                d = ds[x, s]
                new[p] += gs[r] * d * ((1.0 - a) if d > 0 else (1.0 + a)) - gx[r] * ys[x, s] - gr[r] * zs[x, s] * (1.0 + a)
            elif kind == 1:  # a supplier state towards the buyer
                d = ds[x, s]
                new[p] += gs[r] * d * ((1.0 - a) if d > 0 else (1.0 + a))
            elif kind <= 3:  # third-party deals: the adversary's row and column
                h = hit[x, s]
                new[p] -= gt[r] * h * ((1.0 + a) if h > 0 else (1.0 - a))
            else:  # support, towards the leader (4) and from it (5)
                new[p] += sp[s, x]
        if any_ex:
            for p in range(P):
                i = row[p]
                j = col[p]
                x = 0.0
                for al in range(A):
                    x += part[i, al] * part[j, al]
                new[p] += gex[r] * min(x, 1.0) * (1.0 - old[p])
        for p in range(P):
            aff[r, pf[p]] = min(max(new[p], -1.0), 1.0)
        # trust follows the change of each state's affinity towards the leader (less support)
        for a in range(A):
            for s in range(S):
                p = lead_pos[s, a]
                d = (np.float64(aff[r, pf[p]]) - old[p]) if p >= 0 else 0.0
                t = trust[r, s, a] + ct[r] * (d - sp[s, a])
                trust[r, s, a] = min(max(t, 0.0), 1.0)
