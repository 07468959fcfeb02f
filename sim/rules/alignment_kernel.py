"""The alignment rule's monthly update, compiled (numba): one pass over the replicates.

:mod:`sim.rules.alignment` hands :func:`drift` the keys of the month's two calls of the
rule's stream; the kernel draws each replicate's exercises and noise itself, at the
addresses the whole calls would give them (:func:`sim.seeding_kernel.uniform_at`,
:func:`sim.seeding_kernel.bits16_at`), and counts the exercises (``alignment.exercise``).
Numpy spent most of the rule's time on temporaries (a dozen passes over an (R, P) array
per month); the loop below touches each replicate's pairs in a few short passes, in
registers, with what does not depend on the replicate (where each term's numbers are)
worked out once a call. Compiled on first use and cached on disk (``cache=True``), one
specialization per float type of the world.

Symbols are those of docs/MODEL.md §D5.
"""

from __future__ import annotations

import math

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
          k, rho, gs, gx, gr, gt, gf, ga, gex, ct, n_ex, keep, ex_out, latest):  # pragma: no cover - compiled
    """Advance the read pairs of every replicate by one month, in place.

    Args:
        aff: (R, S*S) affinities now (a flat view); base: (R, P) the read pairs' affinities
            at the start (their baseline); latest: (R, P), of aff's float type: the read
            pairs' new affinities are written there too, contiguous (the recorder sums
            them from there: :attr:`sim.world.model.World.latest`).
        pf: (P,) flat index (row * S + column) of the read pairs.
        terms: (n, 4) int: the pairs the structured terms move, as (kind, pair, index,
            state): kind 0 a buyer's row (index: the buyer, state: the column), 1 a
            supplier state towards a buyer (index: the buyer, state: the row), 2 and 3
            an adversary of buyers, its row and column (index: the adversary), 4 and 5
            support towards a leader and from it (index: the alliance, state: the member).
            A pair's terms are added in their order here.
        lead_pos: (S, A) position among the read pairs of each state towards each
            leader (-1 on the diagonal).
        buyers: (B,) states that buy; sup: (K,) each supplier's state; adv_w: (J, B) 1 where
            adversary j faces buyer b.
        budget: (R, S) annual budgets; share_change, excess_slip, refused_demand: (S, R, K),
            state by state (:func:`sim.rules.procurement.state_major`).
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
    ds = np.zeros(B * S)  # (B, S), flat: each buyer's share shifts, slips and refusals by supplier state
    ys = np.zeros(B * S)
    zs = np.zeros(B * S)
    hit = np.zeros(J * S)  # (J, S): the shifts of the buyers each adversary faces
    sp = np.zeros(S * A)  # (S, A): support
    part = np.zeros((S, A))
    old = np.empty(P)
    new = np.empty(P)
    row = np.empty(P, dtype=np.intp)
    col = np.empty(P, dtype=np.intp)
    held_by = np.zeros(A, dtype=np.bool_)
    for p in range(P):
        row[p] = pf[p] // S
        col[p] = pf[p] - row[p] * S
    lead_q = np.zeros((S, A), dtype=np.intp)  # (S, A) the flat index of each state's pair towards each leader
    for s in range(S):
        for a in range(A):
            if lead_pos[s, a] >= 0:
                lead_q[s, a] = pf[lead_pos[s, a]]
    # the arms terms move affinities towards (and from) supplier states only
    is_sup = np.zeros(S, dtype=np.bool_)
    for q in range(K):
        is_sup[sup[q]] = True
    n_ss = 0
    for s in range(S):
        n_ss += is_sup[s]
    ss = np.empty(n_ss, dtype=np.intp)  # the supplier states, in order (a loop: np.flatnonzero's code would load numba's arraymath)
    n_ss = 0
    for s in range(S):
        if is_sup[s]:
            ss[n_ss] = s
            n_ss += 1
    # The terms laid out for the month's loops, once a call: in groups of one class (kind 0,
    # kind 1, kinds 2 and 3, kinds 4 and 5), a loop each with no test of the kind. A pair's
    # first term goes in round 0, its second in round 1, and so on; within a round a pair
    # comes at most once, so the rounds add each pair's terms up in their order. Each term:
    # its pair (tp) and its place in its class's table (tq).
    rank = np.empty(n_terms, dtype=np.intp)
    seen = np.zeros(P, dtype=np.intp)
    rounds = 0
    for t in range(n_terms):
        p = terms[t, 1]
        rank[t] = seen[p]
        seen[p] += 1
        rounds = max(rounds, seen[p])
    grp = np.zeros(4 * rounds + 1, dtype=np.intp)  # group g (round g // 4, class g % 4): terms grp[g] .. grp[g + 1] - 1
    tp = np.empty(n_terms, dtype=np.intp)
    tq = np.empty(n_terms, dtype=np.intp)
    u = 0
    for g in range(4 * rounds):
        for t in range(n_terms):
            kind = terms[t, 0]
            if rank[t] == g // 4 and min(kind, 2 + (kind >= 4)) == g % 4:
                tp[u] = terms[t, 1]
                tq[u] = terms[t, 3] * A + terms[t, 2] if kind >= 4 else terms[t, 2] * S + terms[t, 3]
                u += 1
        grp[g + 1] = u
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
            old[p] = aff[r, pf[p]]
        for p in range(P):
            new[p] = revert(old[p], base[r, p], rr) + kr * ((bits16_at(key_noise, rid, P, p) + 0.5) * (1.0 / 65536.0) - 0.5)
        # arms flows by supplier state
        for b in range(B):
            i = buyers[b]
            m = budget[r, i] / 12.0
            inv = 1.0 / m if m > 0 else 0.0
            for s in ss:
                ds[b * S + s] = 0.0
                ys[b * S + s] = 0.0
                zs[b * S + s] = 0.0
            for q in range(K):
                x = b * S + sup[q]
                ds[x] += share_change[i, r, q]
                ys[x] += excess_slip[i, r, q] * inv
                zs[x] += refused_demand[i, r, q]
        for jj in range(J):
            for s in ss:
                h = 0.0
                for b in range(B):
                    h += adv_w[jj, b] * ds[b * S + s]
                hit[jj * S + s] = h
        # support: refused or answered requests move members and leaders together
        g_f = gf[r]
        g_a = ga[r]
        moved = False  # a support term that is not -0.0 (adding -0.0 leaves any number as it is, to the bit)
        for a in range(A):
            for s in range(S):
                p = lead_pos[s, a]
                to_lead = old[p] if p >= 0 else 0.0
                f = g_f * refused_now[r, s, a] - g_a * answered_now[r, s, a]
                v = -f * (1.0 + to_lead) if f > 0 else -f * (1.0 - to_lead)
                sp[s * A + a] = v
                moved |= (v != 0.0) | (math.copysign(1.0, v) > 0.0)
            if any_ex:
                on = held_by[a]
                for s in range(S):
                    part[s, a] = trust[r, s, a] if (on and status[r, s, a] == ACTIVE) else 0.0
        g_s = gs[r]
        g_x = gx[r]
        g_r = gr[r]
        g_t = gt[r]
        for rd in range(rounds):
            o = 4 * rd
            for t in range(grp[o], grp[o + 1]):  # the buyer's own row: share shifts, slips, refusals
                p = tp[t]
                q = tq[t]
                a = old[p]
                d = ds[q]
                new[p] += g_s * d * ((1.0 - a) if d > 0 else (1.0 + a)) - g_x * ys[q] - g_r * zs[q] * (1.0 + a)
            for t in range(grp[o + 1], grp[o + 2]):  # a supplier state towards the buyer
                p = tp[t]
                a = old[p]
                d = ds[tq[t]]
                new[p] += g_s * d * ((1.0 - a) if d > 0 else (1.0 + a))
            for t in range(grp[o + 2], grp[o + 3]):  # third-party deals: the adversary's row and column
                p = tp[t]
                a = old[p]
                h = hit[tq[t]]
                new[p] -= g_t * h * ((1.0 + a) if h > 0 else (1.0 - a))
            if moved:  # else every support term is -0.0, which changes nothing
                for t in range(grp[o + 3], grp[o + 4]):  # support, towards the leader (4) and from it (5)
                    new[tp[t]] += sp[tq[t]]
        if any_ex:
            g_ex = gex[r]
            for p in range(P):
                i = row[p]
                j = col[p]
                x = 0.0
                for al in range(A):
                    x += part[i, al] * part[j, al]
                new[p] += g_ex * min(x, 1.0) * (1.0 - old[p])
        for p in range(P):
            v = min(max(new[p], -1.0), 1.0)
            aff[r, pf[p]] = v
            latest[r, p] = v  # the same conversion to aff's float type: the same bits
        # trust follows the change of each state's affinity towards the leader (less support)
        c_t = ct[r]
        for a in range(A):
            for s in range(S):
                p = lead_pos[s, a]
                d = (np.float64(aff[r, lead_q[s, a]]) - old[p]) if p >= 0 else 0.0
                t = trust[r, s, a] + c_t * (d - sp[s * A + a])
                trust[r, s, a] = min(max(t, 0.0), 1.0)
