"""Procurement's monthly step (:mod:`sim.rules.procurement`), compiled (numba).

One pass per replicate over its buyers and their suppliers: the logit choice, orders, the
month's deliveries (each replicate's uniforms drawn here, as the world's stream would draw
them: :func:`sim.seeding_kernel.uniform_at`), equipment, capability and import shares,
and the month's counts of the rule's events. Compiled on first use and cached on disk.
Symbols are those of docs/MODEL.md §D2.
"""

from __future__ import annotations

import numpy as np

from .. import seeding_kernel
from ..seeding_kernel import uniform_at
from .formulas import kernel, source_hash

_SEEDING = source_hash(seeding_kernel.__file__)  # uniform_at is inlined: its file is part of the cache stamp


@kernel(also=(_SEEDING,))
def procure(buyers, sup, own, key, ids, aff, at, price_quality, reliability, budget, lag, refuses, refused_start,
            reliability0, shares, backlog, delivered, slipped, refused_demand, share_change, excess_slip,
            equipment, capability, flow, flow_other,
            b_pq, b_rel, b_aff, b_dep, refuse_below, memory, conv, dep,
            n_delivery, n_slip, n_refusal, keep, got_out, due_out, refusal_out):  # pragma: no cover - compiled
    """Advance every buyer of every replicate by one month, in place.

    Args:
        buyers: (B,) buying states; sup: (K,) each supplier's state; own: (B, K) the
            supplier is the buyer's own.
        key, ids: the stream's call and the replicates' global indices (R,): a due delivery
            arrives if ``uniform_at(key, ids[r], B * K, b * K + k)`` < reliability (one draw
            per buyer and supplier, as ``stream.random((R, B, K))``).
        aff: (R, M) affinities, each replicate's in a row (the (S, S) matrix flat, or the read
            pairs' contiguous copy: :func:`sim.rules.common.affinity_rows`); at: (B, K, 2)
            where in a row is buyer b's affinity towards supplier k's state, and back (any
            place for the buyer's own supplier: not read);
        price_quality, reliability, lag: (R, K); budget: (R, S);
            refuses: (R, K, S); refused_start: (S, R, K); reliability0: (R, K).
        shares ... flow_other: the procurement state (MODEL.md §D2), updated in place on
            the buyers' rows: shares (R, S, K), equipment and capability (R, S); the rule's
            own arrays state by state (:data:`sim.rules.procurement.STATE_MAJOR`): backlog,
            delivered, slipped, refused_demand, share_change, excess_slip, flow (S, R, K),
            flow_other (S, R).
        b_pq ... dep: (R,) the rule's parameters.
        n_delivery, n_slip, n_refusal: (R,) the events' counts (``world.counts``), each
            raised by the places its event happened at (a delivery arrives, a due one
            slips, a new refusal of a buyer with a budget); left alone unless ``keep`` is
            false.
        keep: instead of counting, write where each happened (for ``world.emit`` when a
            log narrates): got_out, due_out (R, B, K) this month's deliveries and amounts
            due (USD), refusal_out (R, B, K) a new refusal; otherwise they are not touched
            (empty arrays will do).
    """
    R = ids.size
    B = buyers.size
    K = sup.size
    per = B * K
    V = np.empty(K)
    ew = np.empty(K)
    pr = np.empty(K)  # (K,) the price-quality and reliability terms of the utility, the same for every buyer
    u = np.empty(per)  # the replicate's uniforms, (B, K) flat
    refused = np.zeros(K, dtype=np.bool_)
    for r in range(R):
        rid = ids[r]
        # what every buyer of the replicate shares, read once
        bq = b_pq[r]
        bl = b_rel[r]
        ba = b_aff[r]
        bd = b_dep[r]
        below = refuse_below[r]
        for k in range(K):
            pr[k] = bq * price_quality[r, k] + bl * reliability[r, k]
        for e in range(per):  # a loop of its own, which the compiler vectorizes
            u[e] = uniform_at(key, rid, per, e)
        a = 1.0 / memory[r]
        cv = conv[r]
        dm = dep[r] / 12.0
        delivery = slip = refusal = 0
        for b in range(B):
            i = buyers[b]
            monthly = budget[r, i] / 12.0
            wmax = -np.inf
            for k in range(K):
                if own[b, k]:
                    V[k] = -np.inf
                    refused[k] = False
                    continue
                V[k] = pr[k] + ba * aff[r, at[b, k, 0]] + bd * shares[r, i, k]
                wmax = max(wmax, V[k])
                refused[k] = refuses[r, k, i] or aff[r, at[b, k, 1]] < below
            shift = wmax if np.isfinite(wmax) else 0.0
            wt = 0.0
            tot = 0.0
            for k in range(K):
                # exp(-inf) is 0; the most attractive supplier's is exp(0) = 1, without the call
                ew[k] = 0.0 if own[b, k] else (1.0 if V[k] == shift else np.exp(V[k] - shift))
                wt += ew[k]
                if not refused[k]:
                    tot += ew[k]
            got = 0.0
            total = 0.0
            for k in range(K):
                p = 0.0 if refused[k] or tot <= 0 else ew[k] / tot
                new_refusal = refused[k] and not refused_start[i, r, k] and monthly > 0
                # the share it would have had, where a new refusal denies it
                refused_demand[i, r, k] = (ew[k] / wt if wt > 0 else 0.0) if new_refusal else 0.0
                owed = backlog[i, r, k] + p * monthly
                due = owed / max(lag[r, k], 1.0)
                d = due if u[b * K + k] < reliability[r, k] else 0.0
                backlog[i, r, k] = owed - d
                delivered[i, r, k] = d
                slipped[i, r, k] = due - d
                # slippage beyond what the supplier's reliability at the start led buyers to expect
                excess_slip[i, r, k] = (due - d) - (1.0 - reliability0[r, k]) * due
                if keep:
                    got_out[r, b, k] = d
                    due_out[r, b, k] = due
                    refusal_out[r, b, k] = new_refusal
                else:
                    delivery += d > 0
                    slip += due > d
                    refusal += new_refusal
                got += d
                flow[i, r, k] = (1.0 - a) * flow[i, r, k] + a * delivered[i, r, k]
                total += flow[i, r, k]
            eq = equipment[r, i]
            dE = cv * got / 1e9 - dm * eq
            equipment[r, i] = eq + dE
            capability[r, i] = max(capability[r, i] + dE, 0.0)
            other = (1.0 - a) * flow_other[i, r]
            flow_other[i, r] = other
            total += other
            for k in range(K):
                new = flow[i, r, k] / total if total > 0 else shares[r, i, k]
                share_change[i, r, k] = new - shares[r, i, k]
                shares[r, i, k] = new
        if not keep:
            n_delivery[r] += delivery
            n_slip[r] += slip
            n_refusal[r] += refusal
